//! The user directory, LAN grants and tags.

mod common;

use std::collections::BTreeMap;

use common::{guest, Host};
use herd_provisioner::backend::{
    BackendError, CopyMethod, Directory, DiskId, LanName, Network, Runtime, ServiceSpec, Storage,
    Tags, UserSpec,
};

fn lan(name: &str) -> LanName {
    name.parse().unwrap()
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn user_ids_are_zvm_ids_and_unique() {
    let host = Host::new();
    host.add_guest("LX000001");
    let again = UserSpec {
        name: guest("lx000001"),
        memory_mb: 64,
        services: vec![],
    };
    assert!(matches!(
        host.zvm.add_user(&again),
        Err(BackendError::AlreadyExists(_))
    ));
    // Names are checked where they enter: a spec with a bad id cannot be built.
    let bad = r#"{"name":"LX-00001","memory_mb":64,"services":[]}"#;
    assert!(serde_json::from_str::<UserSpec>(bad).is_err());
    let users = host.zvm.list_users().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].services, common::catalog());
}

#[test]
fn service_names_must_be_single_unique_words() {
    let host = Host::new();
    let svc = |name: &str| ServiceSpec {
        name: name.into(),
        priority: 1,
        command: "/bin/true".into(),
        enabled: true,
    };
    for services in [
        vec![svc("a b")],
        vec![svc("web"), svc("WEB")],
        vec![svc("")],
    ] {
        let spec = UserSpec {
            name: guest("X"),
            memory_mb: 64,
            services,
        };
        assert!(matches!(
            host.zvm.add_user(&spec),
            Err(BackendError::InvalidArgument(_))
        ));
    }
}

#[test]
fn delete_purges_disks_grants_and_tags_of_a_logged_off_guest() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm
        .write_disk(&DiskId::segment_of(&g), 0, b"mine")
        .unwrap();
    host.zvm.define_lan(&lan("STUDENTS"), 10).unwrap();
    host.zvm.grant(&lan("STUDENTS"), &g).unwrap();
    host.zvm.set_tags(&g, &tags(&[("owner", "alice")])).unwrap();
    host.zvm.ipl(&g).unwrap();
    assert!(matches!(
        host.zvm.delete_user(&g),
        Err(BackendError::InvalidState { .. })
    ));

    host.zvm.force(&g).unwrap();
    host.zvm.delete_user(&g).unwrap();
    assert!(host.zvm.list_users().unwrap().is_empty());
    assert!(host.zvm.disk_info(&DiskId::segment_of(&g)).is_err());
    assert_eq!(host.disk_files(), 1, "only the image is left");
    assert!(host.zvm.lans().unwrap()[0].granted.is_empty());
    assert!(matches!(host.zvm.tags(&g), Err(BackendError::NotFound(_))));
    // The image has no targets left and can go.
    host.zvm.delete_disk(&image).unwrap();
}

#[test]
fn change_id_keeps_disks_grants_tags_and_services() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let old = host.bootable_guest("POOL0001", &image);
    host.zvm
        .write_disk(&DiskId::segment_of(&old), 10, b"kept")
        .unwrap();
    host.zvm.define_lan(&lan("STUDENTS"), 10).unwrap();
    host.zvm.grant(&lan("STUDENTS"), &old).unwrap();
    host.zvm.couple(&lan("STUDENTS"), &old).unwrap();
    host.zvm
        .set_tags(&old, &tags(&[("HOSTNAME", "pool0001.example.edu")]))
        .unwrap();
    host.zvm.set_service_enabled(&old, "mysql", false).unwrap();
    let new = guest("LX000042");

    host.zvm.change_user_id(&old, &new).unwrap();

    let disk = DiskId::segment_of(&new);
    assert_eq!(host.zvm.read_disk(&disk, 10, 4).unwrap(), b"kept");
    assert!(host.zvm.disk_info(&DiskId::segment_of(&old)).is_err());
    let lans = host.zvm.lans().unwrap();
    assert_eq!(lans[0].granted, std::slice::from_ref(&new));
    assert_eq!(lans[0].coupled, std::slice::from_ref(&new));
    assert_eq!(
        host.zvm.tags(&new).unwrap()["HOSTNAME"],
        "pool0001.example.edu"
    );
    let users = host.zvm.list_users().unwrap();
    assert_eq!(users.len(), 1);
    assert!(
        !users[0]
            .services
            .iter()
            .find(|s| s.name == "mysql")
            .unwrap()
            .enabled
    );
    // The renamed guest boots from its disk.
    host.zvm.ipl(&new).unwrap();
}

#[test]
fn change_id_refuses_a_taken_name_or_a_running_guest() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let a = host.bootable_guest("A", &image);
    let b = host.add_guest("B");
    assert!(matches!(
        host.zvm.change_user_id(&a, &b),
        Err(BackendError::AlreadyExists(_))
    ));
    host.zvm.ipl(&a).unwrap();
    let err = host.zvm.change_user_id(&a, &guest("C")).unwrap_err();
    assert!(matches!(err, BackendError::InvalidState { .. }));
    let err = host
        .zvm
        .change_user_id(&guest("NOBODY"), &guest("C"))
        .unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)));
}

#[test]
fn coupling_needs_a_grant_and_grants_are_bounded_by_capacity() {
    let host = Host::new();
    let students = lan("STUDENTS");
    host.zvm.define_lan(&students, 2).unwrap();
    assert!(matches!(
        host.zvm.define_lan(&students, 5),
        Err(BackendError::AlreadyExists(_))
    ));
    let [a, b, c] = ["A", "B", "C"].map(|n| host.add_guest(n));

    let err = host.zvm.couple(&students, &a).unwrap_err();
    assert!(matches!(err, BackendError::NotAuthorized(_)), "{err}");
    host.zvm.grant(&students, &a).unwrap();
    host.zvm.grant(&students, &a).unwrap();
    host.zvm.couple(&students, &a).unwrap();
    host.zvm.grant(&students, &b).unwrap();
    let err = host.zvm.grant(&students, &c).unwrap_err();
    assert!(
        matches!(err, BackendError::CapacityExceeded { capacity: 2, .. }),
        "{err}"
    );

    host.zvm.revoke(&students, &a).unwrap();
    let info = &host.zvm.lans().unwrap()[0];
    assert_eq!(
        (info.granted.clone(), info.coupled.len()),
        (vec![b.clone()], 0)
    );
    host.zvm.grant(&students, &c).unwrap();
    assert!(matches!(
        host.zvm.grant(&lan("OTHER"), &c),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn lans_from_the_settings_exist_at_open() {
    let mut settings = common::test_settings();
    settings.lans.insert(lan("STUDENTS"), 500);
    let host = Host::with(settings);
    let lans = host.zvm.lans().unwrap();
    assert_eq!((lans[0].name.as_str(), lans[0].capacity), ("STUDENTS", 500));
    host.reopen();
}

#[test]
fn tags_are_per_guest_key_values() {
    let host = Host::new();
    let g = host.add_guest("LX000001");
    let other = host.add_guest("LX000002");
    host.zvm
        .set_tags(
            &g,
            &tags(&[
                ("hostname", "lx000001.example.edu"),
                ("IPADDR", "10.1.0.5"),
                ("LAN", "STUDENTS"),
            ]),
        )
        .unwrap();
    host.zvm
        .set_tags(&g, &tags(&[("IPADDR", "10.1.0.6")]))
        .unwrap();
    host.zvm.delete_tag(&g, "lan").unwrap();
    assert_eq!(
        host.zvm.tags(&g).unwrap(),
        tags(&[("HOSTNAME", "lx000001.example.edu"), ("IPADDR", "10.1.0.6")])
    );
    assert!(host.zvm.tags(&other).unwrap().is_empty());
    for bad in [
        tags(&[("1ST", "x")]),
        tags(&[("A B", "x")]),
        tags(&[("OK", "line\nbreak")]),
    ] {
        assert!(matches!(
            host.zvm.set_tags(&g, &bad),
            Err(BackendError::InvalidArgument(_))
        ));
    }
    assert!(matches!(
        host.zvm.set_tags(&guest("NOBODY"), &tags(&[])),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn flashcopy_sources_of_other_guests_block_a_delete() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let pool = host.bootable_guest("POOL0001", &image);
    let student = host.add_guest("LX000001");
    host.zvm
        .clone_disk(
            &DiskId::segment_of(&pool),
            &DiskId::segment_of(&student),
            CopyMethod::FlashCopy,
        )
        .unwrap();
    let err = host.zvm.delete_user(&pool).unwrap_err();
    assert!(
        matches!(err, BackendError::HasFlashCopyTargets { .. }),
        "{err}"
    );
    assert_eq!(
        host.zvm.list_users().unwrap().len(),
        2,
        "nothing was deleted"
    );
}
