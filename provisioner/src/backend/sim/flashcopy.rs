//! FlashCopy targets as copy-on-write overlays (ext4 has no reflink).
//!
//! A target owns two files, both made on its first write: `<n>.delta`, a
//! sparse file at the disk's own offsets holding only the blocks written to
//! the target, and `<n>.map`, a bitmap with one bit per block (set: the block
//! lives in the delta). Unset blocks are read from the source, which may
//! itself be a target. Establishing a target therefore copies nothing.
//!
//! A write stores the data, fsyncs the delta, and only then replaces the
//! bitmap atomically, so a crash leaves each block either old or new.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rustix::io::Errno;

use super::state::atomic_write;

/// Where a FlashCopy target keeps its own blocks.
#[derive(Debug, Clone)]
pub(super) struct Overlay {
    pub delta: PathBuf,
    pub map: PathBuf,
    pub block_size: u64,
}

#[derive(Debug, Default)]
struct Bitmap(Vec<u8>);

impl Bitmap {
    fn load(path: &Path) -> io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Self(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    fn get(&self, block: u64) -> bool {
        let byte = (block / 8) as usize;
        self.0
            .get(byte)
            .is_some_and(|b| b & (1 << (block % 8)) != 0)
    }

    fn set(&mut self, block: u64) {
        let byte = (block / 8) as usize;
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        self.0[byte] |= 1 << (block % 8);
    }
}

/// One overlay opened for reading; `None` until the target was written.
#[derive(Debug)]
struct OpenOverlay {
    written: Option<(File, Bitmap)>,
    block_size: u64,
}

impl OpenOverlay {
    fn open(overlay: &Overlay) -> io::Result<Self> {
        let written = match File::open(&overlay.delta) {
            Ok(delta) => Some((delta, Bitmap::load(&overlay.map)?)),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Self {
            written,
            block_size: overlay.block_size,
        })
    }

    fn delta_with(&self, block: u64) -> Option<&File> {
        self.written
            .as_ref()
            .filter(|(_, bitmap)| bitmap.get(block))
            .map(|(delta, _)| delta)
    }
}

/// Reads a disk's logical content through its chain of overlays.
#[derive(Debug)]
pub(super) struct DiskReader {
    overlays: Vec<OpenOverlay>,
    base: File,
}

impl DiskReader {
    /// `overlays` from the disk itself down to the full disk at `base`.
    pub fn open(overlays: &[Overlay], base: &Path) -> io::Result<Self> {
        Ok(Self {
            overlays: overlays
                .iter()
                .map(OpenOverlay::open)
                .collect::<Result<_, _>>()?,
            base: File::open(base)?,
        })
    }

    pub fn plain(base: File) -> Self {
        Self {
            overlays: Vec::new(),
            base,
        }
    }

    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let len = buf.len() as u64;
        for_each_run(
            &self.overlays,
            &self.base,
            offset,
            len,
            &mut |file, pos, n| {
                let start = (pos - offset) as usize;
                file.read_exact_at(&mut buf[start..start + n as usize], pos)
            },
        )
    }

    /// Copies `len` bytes at `offset` to the same offset of `out`. The
    /// bytes are really read and written, but by the kernel
    /// (`copy_file_range`), without a detour through user space.
    pub fn copy_range_to(&self, out: &File, offset: u64, len: u64) -> io::Result<()> {
        for_each_run(
            &self.overlays,
            &self.base,
            offset,
            len,
            &mut |file, pos, n| copy_exact(file, out, pos, n),
        )
    }
}

/// Calls `f(file, pos, n)` for each run of consecutive blocks of the range
/// that one file holds (at the disk's own offsets), in order. Runs keep
/// calls few, so that an untouched target reads its source at full speed.
fn for_each_run(
    overlays: &[OpenOverlay],
    base: &File,
    offset: u64,
    len: u64,
    f: &mut impl FnMut(&File, u64, u64) -> io::Result<()>,
) -> io::Result<()> {
    let Some((top, below)) = overlays.split_first() else {
        return f(base, offset, len);
    };
    let bs = top.block_size;
    let end = offset + len;
    let mut pos = offset;
    while pos < end {
        let delta = top.delta_with(pos / bs);
        let mut run_end = (pos / bs + 1) * bs;
        while run_end < end && top.delta_with(run_end / bs).is_some() == delta.is_some() {
            run_end += bs;
        }
        let run_end = run_end.min(end);
        match delta {
            Some(file) => f(file, pos, run_end - pos)?,
            None => for_each_run(below, base, pos, run_end - pos, f)?,
        }
        pos = run_end;
    }
    Ok(())
}

fn copy_exact(from: &File, to: &File, pos: u64, len: u64) -> io::Result<()> {
    let (mut off_in, mut off_out) = (pos, pos);
    let end = pos + len;
    while off_in < end {
        let left = (end - off_in) as usize;
        match rustix::fs::copy_file_range(from, Some(&mut off_in), to, Some(&mut off_out), left) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            // Across file systems, or where the kernel cannot: copy by hand.
            Err(Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
                return copy_through_buffer(from, to, off_in, end)
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn copy_through_buffer(from: &File, to: &File, mut pos: u64, end: u64) -> io::Result<()> {
    let mut buf = vec![0; (end - pos).min(1 << 20) as usize];
    while pos < end {
        let n = buf.len().min((end - pos) as usize);
        from.read_exact_at(&mut buf[..n], pos)?;
        to.write_all_at(&buf[..n], pos)?;
        pos += n as u64;
    }
    Ok(())
}

/// Writes `data` at `offset` into the target `overlay` of a disk of `size`
/// bytes, whose lower layers `below` supplies the rest of partly written
/// blocks. The caller serializes writers.
pub(super) fn write(
    overlay: &Overlay,
    below: &DiskReader,
    size: u64,
    offset: u64,
    data: &[u8],
) -> io::Result<()> {
    let delta = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&overlay.delta)?;
    let mut bitmap = Bitmap::load(&overlay.map)?;
    let bs = overlay.block_size;
    let end = offset + data.len() as u64;
    let mut new_blocks = Vec::new();
    let mut block_buf = Vec::new();
    let mut pos = offset;
    while pos < end {
        let block = pos / bs;
        let block_start = block * bs;
        let block_end = (block_start + bs).min(size);
        let piece_end = block_end.min(end);
        let piece = &data[(pos - offset) as usize..(piece_end - offset) as usize];
        let whole = pos == block_start && piece_end == block_end;
        if bitmap.get(block) || whole {
            delta.write_all_at(piece, pos)?;
        } else {
            // First partial write: the block's other bytes come from below.
            block_buf.resize((block_end - block_start) as usize, 0);
            below.read_at(&mut block_buf, block_start)?;
            block_buf[(pos - block_start) as usize..(piece_end - block_start) as usize]
                .copy_from_slice(piece);
            delta.write_all_at(&block_buf, block_start)?;
        }
        if !bitmap.get(block) {
            new_blocks.push(block);
        }
        pos = piece_end;
    }
    delta.sync_data()?;
    if new_blocks.is_empty() {
        return Ok(());
    }
    new_blocks.into_iter().for_each(|b| bitmap.set(b));
    atomic_write(
        &overlay.map.with_extension("map.tmp"),
        &overlay.map,
        &bitmap.0,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path taken when the kernel cannot copy between two files.
    #[test]
    fn copying_through_a_buffer_keeps_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &data).unwrap();
        let to = File::create(&b).unwrap();
        copy_through_buffer(&File::open(&a).unwrap(), &to, 10, 2_500_000).unwrap();
        let copied = std::fs::read(&b).unwrap();
        assert_eq!(copied.len(), 2_500_000);
        assert_eq!(&copied[10..], &data[10..2_500_000]);
        assert!(copied[..10].iter().all(|&x| x == 0));
    }
}
