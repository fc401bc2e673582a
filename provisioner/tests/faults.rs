//! Every injected fault, scripted and random.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Host;
use herd_core::domain::GuestName;
use herd_provisioner::backend::sim::{Fault, FaultRates, SimBackend, SimOp, SimSettings};
use herd_provisioner::backend::{
    BackendError, ConsoleReply, CopyMethod, Directory, DiskId, LanName, Network, PowerState,
    Runtime, ServiceState, Storage, Tags, UserSpec,
};

fn is_fault<T: std::fmt::Debug>(r: Result<T, BackendError>) -> bool {
    matches!(r, Err(BackendError::FaultInjected(_)))
}

#[test]
fn a_ddr_copy_fails_midway_and_leaves_nothing_behind() {
    let host = Host::new();
    let image = host.image("golden", 256 << 10);
    let g = host.add_guest("LX000001");
    let target = DiskId::segment_of(&g);
    let files = host.disk_files();
    host.zvm
        .inject(Fault::CopyFails {
            target: Some(g.clone()),
            at_fraction: 0.5,
        })
        .unwrap();

    let err = host
        .zvm
        .clone_disk(&image, &target, CopyMethod::Ddr)
        .unwrap_err();
    assert!(
        err.to_string().contains("after 131072 of 262144 bytes"),
        "{err}"
    );
    assert!(matches!(
        host.zvm.disk_info(&target),
        Err(BackendError::NotFound(_))
    ));
    assert_eq!(host.disk_files(), files);
    // Scripted faults fire once: the retry succeeds.
    host.zvm
        .clone_disk(&image, &target, CopyMethod::Ddr)
        .unwrap();
}

#[test]
fn a_flashcopy_fails_and_creates_no_disk() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let a = host.add_guest("A");
    let b = host.add_guest("B");
    host.zvm
        .inject(Fault::CopyFails {
            target: Some(b.clone()),
            at_fraction: 0.0,
        })
        .unwrap();

    // The fault waits for its own target.
    host.zvm
        .clone_disk(&image, &DiskId::segment_of(&a), CopyMethod::FlashCopy)
        .unwrap();
    assert!(is_fault(host.zvm.clone_disk(
        &image,
        &DiskId::segment_of(&b),
        CopyMethod::FlashCopy
    )));
    assert!(host.zvm.disk_info(&DiskId::segment_of(&b)).is_err());
    assert_eq!(host.zvm.disk_info(&image).unwrap().flashcopy_targets, 1);
}

#[test]
fn a_failed_ipl_ends_in_a_disabled_wait_until_forced() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm.inject(Fault::IplFails { guest: None }).unwrap();

    let ready = host.zvm.ipl(&g).unwrap();
    host.advance_ms(10_000);
    let s = host.zvm.status(&g).unwrap();
    assert_eq!(s.power, PowerState::DisabledWait { since: ready });
    assert_eq!(s.last_heartbeat, None);
    assert!(s.services.iter().all(|s| s.state == ServiceState::Unknown));
    assert_eq!(
        host.zvm.halt(&g).unwrap(),
        None,
        "a dead guest ignores HALT"
    );
    host.zvm.force(&g).unwrap();
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_000);
    assert!(matches!(
        host.zvm.status(&g).unwrap().power,
        PowerState::Running { .. }
    ));
}

#[test]
fn a_hung_guest_stops_heartbeating_and_only_force_helps() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_500);
    host.zvm
        .inject(Fault::Hang {
            guest: g.clone(),
            after: Duration::from_millis(1_000),
        })
        .unwrap();

    host.advance_ms(600);
    assert_eq!(
        host.zvm.status(&g).unwrap().last_heartbeat,
        Some(common::T0 + 3_000)
    );
    host.advance_ms(10 * 60_000);
    let s = host.zvm.status(&g).unwrap();
    assert!(
        matches!(s.power, PowerState::Running { .. }),
        "CP still sees it running"
    );
    assert_eq!(
        s.last_heartbeat,
        Some(common::T0 + 3_000),
        "hung at T0 + 3.5 s"
    );
    assert!(s.services.iter().all(|s| s.state == ServiceState::Unknown));
    assert_eq!(
        host.zvm.console_write(&g, "SERVICE apache STATUS").unwrap(),
        ConsoleReply::NoResponse
    );
    assert_eq!(host.zvm.halt(&g).unwrap(), None);
    host.zvm.force(&g).unwrap();
    assert_eq!(host.zvm.status(&g).unwrap().power, PowerState::LoggedOff);
}

#[test]
fn a_hang_armed_before_boot_strikes_after_the_boot() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm
        .inject(Fault::Hang {
            guest: g.clone(),
            after: Duration::from_millis(2_500),
        })
        .unwrap();
    let ready = host.zvm.ipl(&g).unwrap();
    host.advance_ms(60_000);
    assert_eq!(
        host.zvm.status(&g).unwrap().last_heartbeat,
        Some(ready + 2_000)
    );
}

#[test]
fn a_service_dies_and_a_restart_brings_it_back() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm
        .inject(Fault::ServiceDies {
            guest: g.clone(),
            service: "mysql".into(),
            after: Duration::from_secs(5),
        })
        .unwrap();
    host.zvm.ipl(&g).unwrap();
    let state = |host: &Host, name: &str| {
        let s = host.zvm.status(&g).unwrap();
        s.services
            .into_iter()
            .find(|s| s.name == name)
            .unwrap()
            .state
    };
    host.advance_ms(2_300 + 4_999);
    assert_eq!(state(&host, "mysql"), ServiceState::Up);
    host.advance_ms(1);
    assert_eq!(state(&host, "mysql"), ServiceState::Down);
    assert_eq!(state(&host, "apache"), ServiceState::Up);

    host.zvm.console_write(&g, "SERVICE mysql RESTART").unwrap();
    host.advance_ms(60_000);
    assert_eq!(state(&host, "mysql"), ServiceState::Up);

    // On a running guest the death is scheduled from now.
    host.zvm
        .inject(Fault::ServiceDies {
            guest: g.clone(),
            service: "apache".into(),
            after: Duration::ZERO,
        })
        .unwrap();
    assert_eq!(state(&host, "apache"), ServiceState::Down);
    let err = host.zvm.inject(Fault::ServiceDies {
        guest: g.clone(),
        service: "sendmail".into(),
        after: Duration::ZERO,
    });
    assert!(matches!(err, Err(BackendError::NotFound(_))));
}

#[test]
fn random_faults_follow_their_rates() {
    let settings = SimSettings {
        faults: FaultRates {
            copy_fails: 1.0,
            ipl_fails: 0.0,
            guest_hangs: 1.0,
            service_dies: 1.0,
            window_ms: 10_000,
            seed: Some(7),
        },
        ..common::test_settings()
    };
    let host = common::Host::with(settings);
    let image = host.image("golden", 64 << 10);
    let g = host.add_guest("LX000001");
    let root = DiskId::segment_of(&g);
    assert!(is_fault(host.zvm.clone_disk(
        &image,
        &root,
        CopyMethod::FlashCopy
    )));
    assert!(is_fault(host.zvm.clone_disk(
        &image,
        &root,
        CopyMethod::Ddr
    )));
    assert!(host.zvm.disk_info(&root).is_err());

    // Copies always fail here; give the guest a disk through a second host
    // on the same data directory without random faults.
    let calm = herd_provisioner::backend::sim::SimBackend::open(
        host.dir.path(),
        host.clock.clone(),
        common::test_settings(),
    )
    .unwrap();
    calm.clone_disk(&image, &root, CopyMethod::FlashCopy)
        .unwrap();
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_300 + 10_000 + 1);
    let s = host.zvm.status(&g).unwrap();
    let beat = s.last_heartbeat.unwrap();
    assert!(
        beat <= common::T0 + 12_000,
        "hung within the window, last beat {beat}"
    );
    assert!(s.services.iter().all(|s| s.state == ServiceState::Unknown));
}

#[test]
fn random_ipl_failures() {
    let settings = SimSettings {
        faults: FaultRates {
            ipl_fails: 1.0,
            ..FaultRates::default()
        },
        ..common::test_settings()
    };
    let host = common::Host::with(settings);
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_000);
    assert!(matches!(
        host.zvm.status(&g).unwrap().power,
        PowerState::DisabledWait { .. }
    ));
}

#[test]
fn bad_faults_are_refused() {
    let host = Host::new();
    let err = host.zvm.inject(Fault::CopyFails {
        target: None,
        at_fraction: 1.5,
    });
    assert!(matches!(err, Err(BackendError::InvalidArgument(_))));
    let err = host.zvm.inject(Fault::Hang {
        guest: common::guest("NOBODY"),
        after: Duration::ZERO,
    });
    assert!(matches!(err, Err(BackendError::NotFound(_))));
}

#[test]
fn cleared_faults_do_not_fire() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm
        .inject(Fault::IplFails {
            guest: Some(g.clone()),
        })
        .unwrap();
    host.zvm.clear_faults().unwrap();
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_000);
    assert!(matches!(
        host.zvm.status(&g).unwrap().power,
        PowerState::Running { .. }
    ));
}

fn students_lan() -> LanName {
    "STUDENTS".parse().unwrap()
}

/// An operation on one guest.
type Op = fn(&SimBackend, &GuestName) -> Result<(), BackendError>;

/// Each operation a `Fails` fault can refuse.
const REFUSABLE: [(SimOp, Op); 5] = [
    (SimOp::AddUser, |zvm, g| {
        let spec = UserSpec {
            name: g.clone(),
            memory_mb: 64,
            services: common::catalog(),
        };
        zvm.add_user(&spec)
    }),
    (SimOp::Grant, |zvm, g| zvm.grant(&students_lan(), g)),
    (SimOp::Revoke, |zvm, g| zvm.revoke(&students_lan(), g)),
    (SimOp::SetTags, |zvm, g| {
        zvm.set_tags(g, &BTreeMap::from([("OWNER".into(), "ann".into())]))
    }),
    (SimOp::Ipl, |zvm, g| zvm.ipl(g).map(drop)),
];

/// What a refused operation must leave as it was.
fn visible_state(zvm: &SimBackend, g: &GuestName) -> String {
    let users = zvm.list_users().unwrap();
    let power = zvm.status(g).map(|s| s.power);
    format!("{users:?} {:?} {:?} {power:?}", zvm.lans(), zvm.tags(g))
}

#[test]
fn a_refused_operation_changes_nothing_and_fires_once_for_its_guest() {
    for (op, run) in REFUSABLE {
        let host = Host::new();
        let image = host.image("golden", 64 << 10);
        host.zvm.define_lan(&students_lan(), 10).unwrap();
        let (a, b) = (common::guest("A"), common::guest("B"));
        if op != SimOp::AddUser {
            host.bootable_guest("A", &image);
            host.bootable_guest("B", &image);
        }
        if op == SimOp::Revoke {
            // Something to revoke.
            for g in [&a, &b] {
                host.zvm.grant(&students_lan(), g).unwrap();
            }
        }
        let guest = Some(a.clone());
        host.zvm.inject(Fault::Fails { op, guest }).unwrap();

        run(&host.zvm, &b).unwrap_or_else(|e| panic!("{op}: another guest is not concerned: {e}"));
        let before = visible_state(&host.zvm, &a);
        let err = run(&host.zvm, &a).unwrap_err();
        assert!(
            matches!(&err, BackendError::FaultInjected(m) if m.contains(&op.to_string())),
            "{op}: {err}"
        );
        assert_eq!(
            visible_state(&host.zvm, &a),
            before,
            "{op} changed something"
        );
        // Consumed for every process sharing the host, not only this one.
        run(&host.reopen(), &a).unwrap_or_else(|e| panic!("{op} fired twice: {e}"));
    }
}
