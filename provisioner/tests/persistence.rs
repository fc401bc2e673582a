//! The hypervisor outlives herd: its state survives restarts and kills, and
//! several processes of one machine share it.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::{add_guest, guest, Host, T0};
use herd_provisioner::backend::sim::{Fault, SimBackend};
use herd_provisioner::backend::{
    BackendError, CopyMethod, Directory, DiskId, LanName, Network, PowerState, Runtime,
    ServiceState, Storage, Tags, UserSpec,
};

#[test]
fn everything_survives_a_restart() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    let disk = DiskId::segment_of(&g);
    host.zvm.write_disk(&disk, 5, b"persisted").unwrap();
    let students: LanName = "STUDENTS".parse().unwrap();
    host.zvm.define_lan(&students, 10).unwrap();
    host.zvm.grant(&students, &g).unwrap();
    host.zvm.couple(&students, &g).unwrap();
    let tags = BTreeMap::from([("OWNER".to_string(), "alice".to_string())]);
    host.zvm.set_tags(&g, &tags).unwrap();
    host.zvm.set_service_enabled(&g, "mysql", false).unwrap();
    let booting = host.add_guest("BOOTING");
    host.zvm
        .clone_disk(&image, &DiskId::segment_of(&booting), CopyMethod::Ddr)
        .unwrap();
    host.zvm
        .inject(Fault::IplFails {
            guest: Some(booting.clone()),
        })
        .unwrap();
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_500);
    let ready = host.zvm.ipl(&booting).unwrap();
    let status_before = host.zvm.status(&g).unwrap();
    let users_before = host.zvm.list_users().unwrap();
    let disks_before = host.zvm.list_disks().unwrap();

    let restarted = host.reopen();
    drop(host.zvm);

    assert_eq!(restarted.list_users().unwrap(), users_before);
    assert_eq!(restarted.list_disks().unwrap(), disks_before);
    assert_eq!(restarted.read_disk(&disk, 5, 9).unwrap(), b"persisted");
    assert_eq!(
        restarted.lans().unwrap()[0].coupled,
        std::slice::from_ref(&g)
    );
    assert_eq!(restarted.tags(&g).unwrap(), tags);
    assert_eq!(restarted.status(&g).unwrap(), status_before);
    // Time goes on where it left off: the boot begun before the restart
    // completes, with the fault armed before it.
    host.clock.set(ready);
    assert!(matches!(
        restarted.status(&booting).unwrap().power,
        PowerState::DisabledWait { .. }
    ));
    let s = restarted.status(&g).unwrap();
    assert_eq!(s.last_heartbeat, Some(T0 + 2_000 + 2_000));
    let mysql = s.services.iter().find(|s| s.name == "mysql").unwrap();
    assert_eq!(mysql.state, ServiceState::Down);
}

#[test]
fn a_kill_mid_write_leaves_a_loadable_state() {
    let host = Host::new();
    host.add_guest("LX000001");
    let reader = host.reopen();
    host.add_guest("LX000002");
    let zvm_dir = host.dir.path().join("zvm");
    let journal = journals(&zvm_dir).pop().expect("a journal");
    let text = fs::read(&journal).unwrap();
    // A writer killed in the middle of its line leaves it without newline.
    let last_line = text[..text.len() - 1]
        .rsplit(|&b| b == b'\n')
        .next()
        .unwrap();
    let mut torn = text.clone();
    torn.extend_from_slice(&last_line[..last_line.len() / 2]);
    fs::write(&journal, &torn).unwrap();
    // One killed while compacting leaves a partial temp snapshot behind.
    fs::write(zvm_dir.join("state.json.tmp-4242"), &text[..text.len() / 3]).unwrap();
    fs::write(zvm_dir.join("state.json.tmp-4243"), b"").unwrap();

    assert_eq!(reader.list_users().unwrap().len(), 2);
    add_guest(&reader, "LX000003");
    assert_eq!(host.zvm.list_users().unwrap().len(), 3);
    let restarted = host.reopen();
    assert_eq!(restarted.list_users().unwrap().len(), 3);
    let leftovers: Vec<_> = fs::read_dir(&zvm_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    add_guest(&restarted, "LX000004");
    assert_eq!(host.reopen().list_users().unwrap().len(), 4);
}

#[test]
fn readers_follow_the_journal_across_compactions() {
    let host = Host::new();
    let reader = host.reopen();
    const GUESTS: usize = 3_000;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..GUESTS {
                host.add_guest(&format!("G{i:05}"));
            }
        });
        let mut seen = 0;
        while seen < GUESTS {
            let now = reader.list_users().unwrap().len();
            assert!(now >= seen, "went back from {seen} to {now} guests");
            seen = now;
        }
    });
    let zvm_dir = host.dir.path().join("zvm");
    let generation = snapshot_generation(&zvm_dir);
    assert!(
        generation > GUESTS / 2,
        "not compacted while writing: {generation}"
    );
    assert_eq!(journals(&zvm_dir).len(), 1, "old journals stay behind");
    assert_eq!(host.reopen().list_users().unwrap().len(), GUESTS);
}

/// The generation in the header of the host's snapshot.
fn snapshot_generation(zvm_dir: &std::path::Path) -> usize {
    let snapshot = fs::read_to_string(zvm_dir.join("state.json")).expect("a snapshot");
    snapshot
        .lines()
        .next()
        .and_then(|header| header.rsplit(' ').next()?.parse().ok())
        .expect("a header with the generation")
}

fn journals(zvm_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = fs::read_dir(zvm_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state.journal")
        })
        .collect();
    found.sort();
    found
}

#[test]
fn files_of_half_deleted_disks_are_cleared_at_open() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let disks = host.dir.path().join("zvm/disks");
    for orphan in ["0000000999.img", "0000000998.delta", "0000000001.map.tmp"] {
        fs::write(disks.join(orphan), b"x").unwrap();
    }
    let restarted = host.reopen();
    assert_eq!(host.disk_files(), 1);
    restarted.verify_disk(&image).unwrap();
}

#[test]
fn a_damaged_state_file_is_reported_not_replaced() {
    let host = Host::new();
    host.add_guest("LX000001");
    let path = host.dir.path().join("zvm/state.json");
    fs::write(&path, b"not a state").unwrap();
    let err =
        SimBackend::open(host.dir.path(), host.clock.clone(), common::test_settings()).unwrap_err();
    assert!(matches!(err, BackendError::Corrupt(_)), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"not a state");
}

#[test]
fn processes_sharing_the_data_dir_see_each_others_changes() {
    let host = Host::new();
    let other = host.reopen();
    host.add_guest("A");
    assert_eq!(other.list_users().unwrap().len(), 1);
    add_guest(&other, "B");
    assert_eq!(host.zvm.list_users().unwrap().len(), 2);
    // A change refused by one is refused by the other.
    let dup = UserSpec {
        name: guest("A"),
        memory_mb: 64,
        services: vec![],
    };
    assert!(matches!(
        other.add_user(&dup),
        Err(BackendError::AlreadyExists(_))
    ));
}

#[test]
fn concurrent_writers_lose_no_update() {
    let host = Host::new();
    let handles = [host.reopen(), host.reopen()];
    std::thread::scope(|s| {
        for (h, zvm) in handles.iter().enumerate() {
            for t in 0..2 {
                s.spawn(move || {
                    // enough for several compactions while both write
                    for i in 0..800 {
                        add_guest(zvm, &format!("G{h}{t}{i:04}"));
                    }
                });
            }
        }
    });
    assert_eq!(host.zvm.list_users().unwrap().len(), 3_200);
    let generation = snapshot_generation(&host.dir.path().join("zvm"));
    assert!(
        generation > 1_000,
        "not compacted while writing: {generation}"
    );
    assert_eq!(host.reopen().list_users().unwrap().len(), 3_200);
}
