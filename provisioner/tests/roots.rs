//! Shared roots: every guest boots a read-only root version linked beside
//! its own writable segment; operators publish new versions, and a broken
//! version breaks a service on the guests that boot it.

mod common;

use common::Host;
use herd_core::domain::GuestName;
use herd_provisioner::backend::sim::{write_synthetic_image, Fault, FaultSpec};
use herd_provisioner::backend::{
    BackendError, ConsoleReply, CopyMethod, Directory, DiskId, DiskKind, GuestStatus, ImageName,
    PowerState, Runtime, ServiceState, Storage,
};

const SIZE: u64 = 256 << 10;
/// The publication stamp lies within this many bytes from offset 0.
const STAMP_WINDOW: usize = 256;

fn golden() -> ImageName {
    "golden".parse().unwrap()
}

fn root(version: u32) -> DiskId {
    DiskId::root(&golden(), version)
}

/// Imports `SIZE` pseudo-random bytes (other than the template's) as root
/// version 1 of `golden`.
fn import_root_v1(host: &Host) -> DiskId {
    let file = host.dir.path().join("golden-root.src");
    write_synthetic_image(&file, SIZE, 7).unwrap();
    host.zvm.import_disk(&root(1), &file).unwrap();
    root(1)
}

/// The segment template, root version 1 and root version 2 (published from
/// version 1) of `golden`.
fn image_with_two_roots(host: &Host) -> (DiskId, DiskId, DiskId) {
    let template = host.image("golden", SIZE);
    let v1 = import_root_v1(host);
    host.zvm.publish_root(&golden(), 1, 2, "patch 2").unwrap();
    (template, v1, root(2))
}

fn whole(host: &Host, disk: &DiskId) -> Vec<u8> {
    host.zvm.read_disk(disk, 0, SIZE as usize).unwrap()
}

fn checksum(host: &Host, disk: &DiskId) -> String {
    host.zvm.disk_info(disk).unwrap().checksum.unwrap()
}

fn service_state(status: &GuestStatus, name: &str) -> ServiceState {
    status
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
        .state
}

/// Logs the guest off if it is on, links `root` and boots it until every
/// service had the time to start.
fn boot_on(host: &Host, g: &GuestName, root: &DiskId) -> GuestStatus {
    if let Some(done) = host.zvm.halt(g).unwrap() {
        host.advance_ms((done - host.now()) as u64);
    }
    assert_eq!(host.zvm.status(g).unwrap().power, PowerState::LoggedOff);
    host.zvm.link_root(g, root).unwrap();
    let ready = host.zvm.ipl(g).unwrap();
    host.advance_ms((ready - host.now()) as u64 + 1_000);
    let status = host.zvm.status(g).unwrap();
    assert!(
        matches!(status.power, PowerState::Running { .. }),
        "{status:?}"
    );
    status
}

fn logged_off(host: &Host, g: &GuestName) {
    if let Some(done) = host.zvm.halt(g).unwrap() {
        host.advance_ms((done - host.now()) as u64);
    }
    assert_eq!(host.zvm.status(g).unwrap().power, PowerState::LoggedOff);
}

#[test]
fn a_guests_writes_land_in_its_segment_only() {
    let host = Host::new();
    let template = host.image("golden", SIZE);
    let v1 = import_root_v1(&host);
    let a = host.bootable_guest("A", &template);
    let b = host.bootable_guest("B", &template);
    for g in [&a, &b] {
        host.zvm.link_root(g, &v1).unwrap();
    }
    let (seg_a, seg_b) = (DiskId::segment_of(&a), DiskId::segment_of(&b));
    let template_before = whole(&host, &template);
    let root_before = whole(&host, &v1);
    let root_sum = checksum(&host, &v1);
    assert_ne!(template_before, root_before, "test data must differ");
    assert_eq!(host.zvm.disk_info(&template).unwrap().flashcopy_targets, 2);

    host.zvm.write_disk(&seg_a, 5_000, b"student data").unwrap();

    assert_eq!(
        host.zvm.read_disk(&seg_a, 5_000, 12).unwrap(),
        b"student data"
    );
    assert_eq!(whole(&host, &seg_b), template_before, "B's segment changed");
    assert_eq!(whole(&host, &template), template_before);
    assert_eq!(whole(&host, &v1), root_before, "the root changed");
    assert_eq!(host.zvm.verify_disk(&v1).unwrap(), root_sum);
    assert_eq!(checksum(&host, &v1), root_sum);

    // Roots are linked read-only.
    let err = host.zvm.write_disk(&v1, 0, b"overwrite").unwrap_err();
    assert!(matches!(err, BackendError::NotAuthorized(_)), "{err}");
    assert_eq!(whole(&host, &v1), root_before);
    assert_eq!(host.zvm.verify_disk(&v1).unwrap(), root_sum);
    assert_eq!(checksum(&host, &v1), root_sum, "checksum forgotten");

    // Both guests boot the same, unchanged root.
    for g in [&a, &b] {
        assert_eq!(boot_on(&host, g, &v1).root, Some(v1.clone()));
    }
    assert_eq!(host.zvm.verify_disk(&v1).unwrap(), root_sum);
}

#[test]
fn publish_root_makes_a_stamped_copy_once() {
    let host = Host::new();
    let v1 = import_root_v1(&host);
    let v1_bytes = whole(&host, &v1);
    let v1_sum = checksum(&host, &v1);

    let info = host
        .zvm
        .publish_root(&golden(), 1, 2, "openssl fix")
        .unwrap();

    let v2 = root(2);
    assert_eq!(info.id, v2);
    assert_eq!(info.size, SIZE);
    assert_eq!(info.kind, DiskKind::Full, "a full copy, not a FlashCopy");
    let v2_sum = info
        .checksum
        .clone()
        .expect("a published root has a checksum");
    assert_eq!(host.zvm.disk_info(&v2).unwrap(), info);
    assert_eq!(host.zvm.verify_disk(&v2).unwrap(), v2_sum);
    assert_ne!(v2_sum, v1_sum);

    let v2_bytes = whole(&host, &v2);
    assert_ne!(v2_bytes, v1_bytes);
    let stamp = &v2_bytes[..STAMP_WINDOW];
    assert!(
        stamp.windows(11).any(|w| w == b"openssl fix"),
        "no label at the start: {:?}",
        String::from_utf8_lossy(stamp)
    );
    assert_eq!(
        &v2_bytes[STAMP_WINDOW..],
        &v1_bytes[STAMP_WINDOW..],
        "beyond the stamp, a copy of version 1"
    );
    // The old version is untouched.
    assert_eq!(whole(&host, &v1), v1_bytes);
    assert_eq!(host.zvm.verify_disk(&v1).unwrap(), v1_sum);
    assert_eq!(checksum(&host, &v1), v1_sum);

    // Publishing again is a no-op, whatever the label.
    let files = host.disk_files();
    for label in ["openssl fix", "another label"] {
        let again = host.zvm.publish_root(&golden(), 1, 2, label).unwrap();
        assert_eq!(again.checksum.as_deref(), Some(v2_sum.as_str()));
        assert_eq!(again.created_at, info.created_at);
    }
    assert_eq!(whole(&host, &v2), v2_bytes);
    assert_eq!(host.disk_files(), files);

    // A version of a version: differs from both.
    let v3 = host.zvm.publish_root(&golden(), 2, 3, "third").unwrap();
    let v3_sum = v3.checksum.unwrap();
    assert!(v3_sum != v1_sum && v3_sum != v2_sum);
    assert_ne!(whole(&host, &root(3)), v2_bytes);
    assert_eq!(whole(&host, &v2), v2_bytes);

    let err = host
        .zvm
        .publish_root(&golden(), 9, 10, "from nothing")
        .unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)), "{err}");
    assert!(matches!(
        host.zvm.disk_info(&root(10)),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn a_guest_boots_the_root_linked_at_its_last_ipl() {
    let host = Host::new();
    let (template, v1, v2) = image_with_two_roots(&host);
    let g = host.bootable_guest("LX000001", &template);
    assert_eq!(host.zvm.status(&g).unwrap().root, None, "never booted");

    assert_eq!(boot_on(&host, &g, &v1).root, Some(v1.clone()));

    // Relinking a running guest takes effect at its next IPL only.
    host.zvm.link_root(&g, &v2).unwrap();
    host.advance_ms(5_000);
    assert_eq!(host.zvm.status(&g).unwrap().root, Some(v1.clone()));
    logged_off(&host, &g);
    assert_eq!(
        host.zvm.status(&g).unwrap().root,
        Some(v1.clone()),
        "the root of the last IPL"
    );
    host.zvm.ipl(&g).unwrap();
    assert_eq!(host.zvm.status(&g).unwrap().root, Some(v2.clone()));
    host.advance_ms(3_000);
    let s = host.zvm.status(&g).unwrap();
    assert!(matches!(s.power, PowerState::Running { .. }));
    assert_eq!(s.root, Some(v2.clone()));

    // Refused links change nothing.
    let err = host.zvm.link_root(&g, &root(9)).unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)), "{err}");
    for not_a_root in [template.clone(), DiskId::segment_of(&g)] {
        let err = host.zvm.link_root(&g, &not_a_root).unwrap_err();
        assert!(matches!(err, BackendError::InvalidArgument(_)), "{err}");
    }
    let err = host
        .zvm
        .link_root(&common::guest("NOBODY"), &v1)
        .unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)), "{err}");
    logged_off(&host, &g);
    host.zvm.ipl(&g).unwrap();
    assert_eq!(host.zvm.status(&g).unwrap().root, Some(v2));
}

#[test]
fn a_linked_root_cannot_be_deleted() {
    let host = Host::new();
    let (template, v1, v2) = image_with_two_roots(&host);
    let g = host.bootable_guest("LX000001", &template);
    boot_on(&host, &g, &v1);
    let refused = |disk: &DiskId| {
        let err = host.zvm.delete_disk(disk).unwrap_err();
        assert!(matches!(err, BackendError::InvalidState { .. }), "{err}");
        assert!(host.zvm.disk_info(disk).is_ok(), "{disk} gone");
    };

    refused(&v1);
    // Linked to v2 now, but still running on v1.
    host.zvm.link_root(&g, &v2).unwrap();
    refused(&v1);
    refused(&v2);

    logged_off(&host, &g);
    host.zvm.delete_disk(&v1).unwrap();
    assert!(matches!(
        host.zvm.disk_info(&v1),
        Err(BackendError::NotFound(_))
    ));
    refused(&v2);
    // The guest still boots the root it links.
    assert_eq!(boot_on(&host, &g, &v2).root, Some(v2));
}

#[test]
fn a_broken_root_breaks_its_service_on_its_guests_at_every_boot() {
    let host = Host::new();
    let (template, v1, v2) = image_with_two_roots(&host);
    let a = host.bootable_guest("A", &template);
    let b = host.bootable_guest("B", &template);
    let fault = Fault::RootBreaks {
        image: golden(),
        version: 2,
        service: "apache".into(),
        guests: Some(vec![a.clone()]),
    };
    let spec = FaultSpec::parse(
        r#"{"root_breaks": {"image": "golden", "version": 2, "service": "apache", "guests": ["A"]}}"#,
    )
    .unwrap();
    assert_eq!(spec.to_fault().unwrap(), fault);
    host.zvm.inject(spec.to_fault().unwrap()).unwrap();

    let broken = |s: &GuestStatus| {
        let apache = s.services.iter().find(|s| s.name == "apache").unwrap();
        assert!(apache.enabled, "still enabled");
        assert_eq!(apache.up_since, None);
        assert_eq!(apache.state, ServiceState::Down, "{s:?}");
        for other in ["mysql", "jakarta"] {
            assert_eq!(service_state(s, other), ServiceState::Up, "{other}: {s:?}");
        }
    };
    let healthy = |s: &GuestStatus| {
        assert!(
            s.services.iter().all(|s| s.state == ServiceState::Up),
            "{s:?}"
        );
    };
    let start_apache = |g: &GuestName| match host.zvm.console_write(g, "SERVICE apache START") {
        Ok(ConsoleReply::Completed { ok, output }) => (ok, output),
        other => panic!("{other:?}"),
    };

    broken(&boot_on(&host, &a, &v2));
    let (ok, output) = start_apache(&a);
    assert!(!ok, "{output}");
    assert!(output.contains("FAILED"), "{output}");
    broken(&host.zvm.status(&a).unwrap());

    // Another guest on the same version is not concerned.
    healthy(&boot_on(&host, &b, &v2));

    // The same guest on another version is fine.
    healthy(&boot_on(&host, &a, &v1));
    assert!(start_apache(&a).0, "already running is ok");

    // Back on v2: broken again, the fault was not consumed.
    for _ in 0..2 {
        broken(&boot_on(&host, &a, &v2));
        assert!(!start_apache(&a).0);
        assert_eq!(
            host.zvm.armed_faults().unwrap(),
            std::slice::from_ref(&fault)
        );
    }
    // FORCE and IPL is a boot like any other.
    host.zvm.force(&a).unwrap();
    let ready = host.zvm.ipl(&a).unwrap();
    host.advance_ms((ready - host.now()) as u64 + 1_000);
    broken(&host.zvm.status(&a).unwrap());
    healthy(&host.zvm.status(&b).unwrap());
}

#[test]
fn a_root_broken_for_every_guest() {
    let host = Host::new();
    let (template, v1, v2) = image_with_two_roots(&host);
    host.zvm
        .inject(Fault::RootBreaks {
            image: golden(),
            version: 2,
            service: "mysql".into(),
            guests: None,
        })
        .unwrap();
    for name in ["A", "B"] {
        let g = host.bootable_guest(name, &template);
        let s = boot_on(&host, &g, &v2);
        assert_eq!(service_state(&s, "mysql"), ServiceState::Down, "{name}");
        assert_eq!(service_state(&s, "apache"), ServiceState::Up, "{name}");
        let s = boot_on(&host, &g, &v1);
        assert_eq!(service_state(&s, "mysql"), ServiceState::Up, "{name}");
    }
    // Clearing the fault mends the root for the next boots.
    assert_eq!(host.zvm.clear_faults().unwrap(), 1);
    let s = boot_on(&host, &common::guest("A"), &v2);
    assert_eq!(service_state(&s, "mysql"), ServiceState::Up);
}

#[test]
fn rename_keeps_the_bytes_and_refuses_an_existing_target() {
    let host = Host::new();
    let template = host.image("golden", SIZE);
    let g = host.bootable_guest("LX000001", &template);
    host.zvm
        .write_disk(&DiskId::segment_of(&g), 0, b"home")
        .unwrap();
    let segment_bytes = whole(&host, &DiskId::segment_of(&g));
    let bytes = whole(&host, &template);
    let sum = checksum(&host, &template);
    let files = host.disk_files();

    // The upgrade to shared roots: the old golden image becomes root 1.
    let v1 = root(1);
    host.zvm.rename_disk(&template, &v1).unwrap();

    assert!(matches!(
        host.zvm.disk_info(&template),
        Err(BackendError::NotFound(_))
    ));
    assert_eq!(whole(&host, &v1), bytes);
    assert_eq!(checksum(&host, &v1), sum);
    assert_eq!(host.zvm.verify_disk(&v1).unwrap(), sum);
    assert_eq!(host.disk_files(), files, "no bytes copied");
    // Its FlashCopy targets read through the new name.
    let segment = host.zvm.disk_info(&DiskId::segment_of(&g)).unwrap();
    assert_eq!(segment.kind, DiskKind::FlashCopy { source: v1.clone() });
    assert_eq!(whole(&host, &DiskId::segment_of(&g)), segment_bytes);
    // It is a root now, in every respect.
    assert!(matches!(
        host.zvm.write_disk(&v1, 0, b"x"),
        Err(BackendError::NotAuthorized(_))
    ));
    assert_eq!(boot_on(&host, &g, &v1).root, Some(v1.clone()));

    // A target that exists is refused, and both disks stay as they were.
    let new_template = host.image("golden", 2 * SIZE);
    let new_bytes = host
        .zvm
        .read_disk(&new_template, 0, 2 * SIZE as usize)
        .unwrap();
    let err = host.zvm.rename_disk(&new_template, &v1).unwrap_err();
    assert!(matches!(err, BackendError::AlreadyExists(_)), "{err}");
    assert_eq!(
        host.zvm
            .read_disk(&new_template, 0, 2 * SIZE as usize)
            .unwrap(),
        new_bytes
    );
    assert_eq!(host.zvm.disk_info(&v1).unwrap().size, SIZE);
    assert_eq!(whole(&host, &v1), bytes);
    assert_eq!(host.zvm.verify_disk(&v1).unwrap(), sum);

    let err = host.zvm.rename_disk(&root(7), &root(8)).unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)), "{err}");
    assert!(host.zvm.disk_info(&root(8)).is_err());

    // A DDR copy of the renamed root is byte for byte the same.
    let other = host.add_guest("LX000002");
    host.zvm
        .clone_disk(&v1, &DiskId::segment_of(&other), CopyMethod::Ddr)
        .unwrap();
    assert_eq!(whole(&host, &DiskId::segment_of(&other)), bytes);
}
