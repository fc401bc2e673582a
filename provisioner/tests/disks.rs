//! Disks as files: DDR copies every byte, FlashCopy copies nothing and
//! keeps the source unchanged.

mod common;

use common::Host;
use herd_provisioner::backend::{
    BackendError, CopyMethod, DiskId, DiskKind, DiskStatus, Storage, Vdev,
};

const SIZE: u64 = 256 << 10;

#[test]
fn import_records_size_and_checksum() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let info = host.zvm.disk_info(&image).unwrap();
    assert_eq!(info.size, SIZE);
    assert_eq!(info.status, DiskStatus::Ready);
    assert_eq!(info.kind, DiskKind::Full);
    let src = std::fs::read(host.dir.path().join("golden.src")).unwrap();
    assert_eq!(host.zvm.read_disk(&image, 0, SIZE as usize).unwrap(), src);
    assert_eq!(
        host.zvm.verify_disk(&image).unwrap(),
        info.checksum.unwrap()
    );
}

#[test]
fn ddr_copies_every_byte_into_a_file_of_its_own() {
    let host = Host::new();
    let image = host.image("golden", SIZE + 123);
    let g = host.add_guest("LX000001");
    let target = DiskId::segment_of(&g);
    let files = host.disk_files();

    let info = host
        .zvm
        .clone_disk(&image, &target, CopyMethod::Ddr)
        .unwrap();

    assert_eq!(info.kind, DiskKind::Full);
    assert_eq!(host.disk_files(), files + 1);
    let whole = (SIZE + 123) as usize;
    assert_eq!(
        host.zvm.read_disk(&target, 0, whole).unwrap(),
        host.zvm.read_disk(&image, 0, whole).unwrap()
    );
    let image_sum = host.zvm.disk_info(&image).unwrap().checksum;
    assert_eq!(info.checksum, image_sum);
    assert_eq!(Some(host.zvm.verify_disk(&target).unwrap()), image_sum);
    // A full copy is independent: the image may take writes afterwards.
    host.zvm.write_disk(&image, 0, b"changed").unwrap();
    assert_ne!(host.zvm.read_disk(&target, 0, 7).unwrap(), b"changed");
}

#[test]
fn flashcopy_creates_no_data_and_reads_the_source() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let g = host.add_guest("LX000001");
    let clone = DiskId::segment_of(&g);
    let files = host.disk_files();

    let info = host
        .zvm
        .clone_disk(&image, &clone, CopyMethod::FlashCopy)
        .unwrap();

    assert_eq!(host.disk_files(), files, "a FlashCopy must not copy data");
    assert_eq!(
        info.kind,
        DiskKind::FlashCopy {
            source: image.clone()
        }
    );
    assert_eq!(info.size, SIZE);
    assert_eq!(host.zvm.disk_info(&image).unwrap().flashcopy_targets, 1);
    assert_eq!(
        host.zvm.read_disk(&clone, 0, SIZE as usize).unwrap(),
        host.zvm.read_disk(&image, 0, SIZE as usize).unwrap()
    );
    assert_eq!(
        host.zvm.verify_disk(&clone).unwrap(),
        info.checksum.unwrap()
    );
}

#[test]
fn writes_to_a_flashcopy_stay_in_the_clone() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let g = host.add_guest("LX000001");
    let clone = DiskId::segment_of(&g);
    host.zvm
        .clone_disk(&image, &clone, CopyMethod::FlashCopy)
        .unwrap();
    let source_before = host.zvm.read_disk(&image, 0, SIZE as usize).unwrap();
    let sum_before = host.zvm.verify_disk(&image).unwrap();

    // Straddles blocks 0 and 1 (4 KiB), partly: both must be copied up.
    let offset = 4096 - 3;
    host.zvm
        .write_disk(&clone, offset, b"student data")
        .unwrap();
    // A whole block further on.
    host.zvm.write_disk(&clone, 8 * 4096, &[7u8; 4096]).unwrap();

    let mut expected = source_before.clone();
    expected[offset as usize..offset as usize + 12].copy_from_slice(b"student data");
    expected[8 * 4096..9 * 4096].fill(7);
    assert_eq!(
        host.zvm.read_disk(&clone, 0, SIZE as usize).unwrap(),
        expected
    );
    // Untouched blocks still come from the source, byte for byte.
    assert_eq!(
        host.zvm.read_disk(&clone, 2 * 4096, 4096).unwrap(),
        &source_before[2 * 4096..3 * 4096]
    );
    assert_eq!(
        host.zvm.read_disk(&image, 0, SIZE as usize).unwrap(),
        source_before
    );
    assert_eq!(host.zvm.verify_disk(&image).unwrap(), sum_before);
    assert_eq!(host.zvm.disk_info(&clone).unwrap().checksum, None);
    // Rewriting a block the clone already owns keeps the other bytes.
    host.zvm.write_disk(&clone, offset, b"S").unwrap();
    assert_eq!(
        host.zvm.read_disk(&clone, offset, 12).unwrap(),
        b"Student data"
    );
}

#[test]
fn flashcopies_of_flashcopies_read_through_the_chain() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let a = DiskId::segment_of(&host.add_guest("A"));
    let b = DiskId::segment_of(&host.add_guest("B"));
    host.zvm
        .clone_disk(&image, &a, CopyMethod::FlashCopy)
        .unwrap();
    host.zvm.write_disk(&a, 100, b"from a").unwrap();
    let a_content = host.zvm.read_disk(&a, 0, SIZE as usize).unwrap();
    // `a` is now a source: it must not change any more.
    host.zvm.clone_disk(&a, &b, CopyMethod::FlashCopy).unwrap();
    assert!(matches!(
        host.zvm.write_disk(&a, 0, b"x"),
        Err(BackendError::HasFlashCopyTargets { .. })
    ));
    host.zvm.write_disk(&b, SIZE - 2, b"bb").unwrap();

    let b_content = host.zvm.read_disk(&b, 0, SIZE as usize).unwrap();
    assert_eq!(&b_content[100..106], b"from a");
    assert_eq!(
        &b_content[..SIZE as usize - 2],
        &a_content[..SIZE as usize - 2]
    );
    assert_eq!(host.zvm.read_disk(&a, 0, SIZE as usize).unwrap(), a_content);
    // DDR of a clone copies its logical content.
    let c = DiskId::segment_of(&host.add_guest("C"));
    host.zvm.clone_disk(&b, &c, CopyMethod::Ddr).unwrap();
    assert_eq!(host.zvm.read_disk(&c, 0, SIZE as usize).unwrap(), b_content);
}

#[test]
fn a_source_with_live_targets_cannot_be_deleted() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let g = host.add_guest("LX000001");
    let clone = DiskId::segment_of(&g);
    host.zvm
        .clone_disk(&image, &clone, CopyMethod::FlashCopy)
        .unwrap();

    let err = host.zvm.delete_disk(&image).unwrap_err();
    assert!(
        matches!(err, BackendError::HasFlashCopyTargets { targets: 1, .. }),
        "{err}"
    );

    host.zvm.write_disk(&clone, 0, b"x").unwrap();
    host.zvm.delete_disk(&clone).unwrap();
    host.zvm.delete_disk(&image).unwrap();
    assert_eq!(
        host.disk_files(),
        0,
        "deleting removes the files, overlays included"
    );
    assert!(matches!(
        host.zvm.disk_info(&image),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn clones_need_a_free_target_of_an_existing_guest() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let nobody = DiskId::segment_of(&common::guest("NOBODY"));
    for method in [CopyMethod::FlashCopy, CopyMethod::Ddr] {
        let err = host.zvm.clone_disk(&image, &nobody, method).unwrap_err();
        assert!(matches!(err, BackendError::NotFound(_)), "{err}");
    }
    let g = host.add_guest("LX000001");
    let root = DiskId::segment_of(&g);
    host.zvm
        .clone_disk(&image, &root, CopyMethod::FlashCopy)
        .unwrap();
    let err = host
        .zvm
        .clone_disk(&image, &root, CopyMethod::Ddr)
        .unwrap_err();
    assert!(matches!(err, BackendError::AlreadyExists(_)), "{err}");
    // A second minidisk of the same guest is another device number.
    let user_disk = DiskId::Minidisk(g, Vdev(0x191));
    host.zvm
        .clone_disk(&image, &user_disk, CopyMethod::Ddr)
        .unwrap();
}

#[test]
fn reads_and_writes_outside_the_disk_are_refused() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    for result in [
        host.zvm.read_disk(&image, SIZE - 1, 2).map(drop),
        host.zvm.write_disk(&image, u64::MAX, b"x"),
    ] {
        assert!(matches!(result, Err(BackendError::InvalidArgument(_))));
    }
}

#[test]
fn verify_catches_a_corrupted_disk() {
    let host = Host::new();
    let image = host.image("golden", SIZE);
    let g = host.add_guest("LX000001");
    let target = DiskId::segment_of(&g);
    host.zvm
        .clone_disk(&image, &target, CopyMethod::Ddr)
        .unwrap();
    let newest_img = std::fs::read_dir(host.dir.path().join("zvm/disks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let mut bytes = std::fs::read(&newest_img).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&newest_img, bytes).unwrap();

    let err = host.zvm.verify_disk(&target).unwrap_err();
    assert!(
        matches!(err, BackendError::ChecksumMismatch { .. }),
        "{err}"
    );
}

#[test]
fn guests_clone_in_parallel_through_the_backend_trait() {
    use herd_provisioner::backend::Backend;
    use rayon::prelude::*;
    use std::sync::Arc;

    let host = Host::new();
    let image = host.image("golden", SIZE);
    let guests: Vec<_> = (0..40)
        .map(|i| host.add_guest(&format!("LX{i:06}")))
        .collect();
    let backend: Arc<dyn Backend> = Arc::new(host.reopen());

    guests.par_iter().enumerate().for_each(|(i, g)| {
        let method = if i % 4 == 0 {
            CopyMethod::Ddr
        } else {
            CopyMethod::FlashCopy
        };
        backend
            .clone_disk(&image, &DiskId::segment_of(g), method)
            .unwrap();
    });

    let sum = host.zvm.disk_info(&image).unwrap().checksum.unwrap();
    assert_eq!(host.zvm.disk_info(&image).unwrap().flashcopy_targets, 30);
    for g in &guests {
        assert_eq!(backend.verify_disk(&DiskId::segment_of(g)).unwrap(), sum);
    }
}
