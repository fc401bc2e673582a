//! Guests boot, run, shut down and contend for the host, on a manual clock.

mod common;

use common::{Host, T0};
use herd_core::domain::GuestName;
use herd_provisioner::backend::{
    BackendError, ConsoleReply, GuestStatus, HostLoad, PowerState, Runtime, ServiceState,
};

fn service_states(status: &GuestStatus) -> Vec<(&str, ServiceState)> {
    let mut s: Vec<_> = status
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.state))
        .collect();
    s.sort_by_key(|&(name, _)| name);
    s
}

fn up_since(status: &GuestStatus, name: &str) -> Option<i64> {
    status
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap()
        .up_since
}

/// A guest booted and with all services up, at `T0 + 2300`.
fn running_guest(host: &Host) -> GuestName {
    let image = host.image("golden", 64 << 10);
    running_guest_named(host, &image, "LX000001")
}

#[test]
fn ipl_takes_the_boot_time_then_services_start_by_priority() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    assert_eq!(host.zvm.status(&g).unwrap().power, PowerState::LoggedOff);

    let ready = host.zvm.ipl(&g).unwrap();
    assert_eq!(ready, T0 + 2_000);
    host.advance_ms(1_999);
    let booting = host.zvm.status(&g).unwrap();
    assert_eq!(booting.power, PowerState::Booting { ready_at: ready });
    assert_eq!(booting.last_heartbeat, None);
    assert!(booting
        .services
        .iter()
        .all(|s| s.state == ServiceState::Down));

    host.advance_ms(1);
    assert_eq!(
        host.zvm.status(&g).unwrap().power,
        PowerState::Running { since: ready }
    );
    host.advance_ms(300);
    let up = host.zvm.status(&g).unwrap();
    assert!(up.services.iter().all(|s| s.state == ServiceState::Up));
    assert_eq!(up_since(&up, "apache"), Some(ready + 100));
    assert_eq!(up_since(&up, "jakarta"), Some(ready + 200));
    assert_eq!(up_since(&up, "mysql"), Some(ready + 300));
}

#[test]
fn running_guests_heartbeat() {
    let host = Host::new();
    let g = running_guest(&host);
    assert_eq!(
        host.zvm.status(&g).unwrap().last_heartbeat,
        Some(T0 + 2_000)
    );
    host.advance_ms(2_200);
    assert_eq!(
        host.zvm.status(&g).unwrap().last_heartbeat,
        Some(T0 + 4_000)
    );
}

#[test]
fn halt_stops_services_in_reverse_order_then_logs_off() {
    let host = Host::new();
    let g = running_guest(&host);
    let t = host.now();

    let done = host.zvm.halt(&g).unwrap();
    assert_eq!(done, Some(t + 1_000 + 3 * 100));
    host.advance_ms(100);
    let s = host.zvm.status(&g).unwrap();
    assert_eq!(s.power, PowerState::Stopping { done_at: t + 1_300 });
    use ServiceState::{Down, Up};
    assert_eq!(
        service_states(&s),
        [("apache", Up), ("jakarta", Up), ("mysql", Down)]
    );
    host.advance_ms(100);
    let s = host.zvm.status(&g).unwrap();
    assert_eq!(
        service_states(&s),
        [("apache", Up), ("jakarta", Down), ("mysql", Down)]
    );
    host.advance_ms(1_099);
    assert!(matches!(
        host.zvm.status(&g).unwrap().power,
        PowerState::Stopping { .. }
    ));
    host.advance_ms(1);
    let s = host.zvm.status(&g).unwrap();
    assert_eq!(s.power, PowerState::LoggedOff);
    assert_eq!(
        service_states(&s),
        [("apache", Down), ("jakarta", Down), ("mysql", Down)]
    );
    // HALT of a logged-off guest is a harmless no-op.
    assert_eq!(host.zvm.halt(&g).unwrap(), None);
}

#[test]
fn force_logs_off_at_once_whatever_the_state() {
    let host = Host::new();
    let g = running_guest(&host);
    host.zvm.force(&g).unwrap();
    assert_eq!(host.zvm.status(&g).unwrap().power, PowerState::LoggedOff);
    host.zvm.ipl(&g).unwrap();
    host.zvm.force(&g).unwrap();
    assert_eq!(host.zvm.status(&g).unwrap().power, PowerState::LoggedOff);
}

#[test]
fn runtime_refuses_what_cp_would_refuse() {
    let host = Host::new();
    let bare = host.add_guest("BARE");
    let err = host.zvm.ipl(&bare).unwrap_err();
    assert!(
        matches!(err, BackendError::InvalidState { .. }),
        "no disk: {err}"
    );
    let err = host.zvm.ipl(&common::guest("NOBODY")).unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)), "{err}");

    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm.ipl(&g).unwrap();
    for err in [host.zvm.ipl(&g).map(drop), host.zvm.halt(&g).map(drop)] {
        assert!(
            matches!(err, Err(BackendError::InvalidState { .. })),
            "while booting"
        );
    }
}

#[test]
fn the_console_shell_runs_service_commands() {
    let host = Host::new();
    let g = running_guest(&host);
    let say = |line: &str| match host.zvm.console_write(&g, line).unwrap() {
        ConsoleReply::Completed { ok, output } => (ok, output),
        ConsoleReply::NoResponse => panic!("no response to {line}"),
    };
    let apache = |h: &Host| {
        let s = h.zvm.status(&g).unwrap();
        s.services
            .into_iter()
            .find(|s| s.name == "apache")
            .unwrap()
            .state
    };

    assert_eq!(
        say("SERVICE apache STOP"),
        (true, "/etc/rc.d/init.d/httpd stop: OK".into())
    );
    assert_eq!(apache(&host), ServiceState::Down);
    assert_eq!(
        say("service apache status"),
        (true, "/etc/rc.d/init.d/httpd status: stopped".into())
    );
    assert_eq!(
        say("SERVICE apache START"),
        (true, "/etc/rc.d/init.d/httpd start: OK".into())
    );
    assert_eq!(apache(&host), ServiceState::Up);
    host.advance_ms(10);
    assert!(say("SERVICE apache RESTART").0);
    let s = host.zvm.status(&g).unwrap();
    assert_eq!(up_since(&s, "apache"), Some(host.now()));

    assert_eq!(
        say("SERVICE sendmail START"),
        (false, "sendmail: unrecognized service".into())
    );
    assert!(!say("SERVICE apache").0);
    assert!(!say("rm -rf /").0);

    host.zvm.force(&g).unwrap();
    let err = host
        .zvm
        .console_write(&g, "SERVICE apache START")
        .unwrap_err();
    assert!(matches!(err, BackendError::InvalidState { .. }));
    host.zvm.ipl(&g).unwrap();
    assert_eq!(
        host.zvm.console_write(&g, "SERVICE apache START").unwrap(),
        ConsoleReply::NoResponse
    );
}

#[test]
fn only_enabled_services_start_at_boot() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let g = host.bootable_guest("LX000001", &image);
    host.zvm.set_service_enabled(&g, "jakarta", false).unwrap();
    let err = host
        .zvm
        .set_service_enabled(&g, "sendmail", true)
        .unwrap_err();
    assert!(matches!(err, BackendError::NotFound(_)));

    let ready = host.zvm.ipl(&g).unwrap();
    host.advance_ms(5_000);
    let s = host.zvm.status(&g).unwrap();
    use ServiceState::{Down, Up};
    assert_eq!(
        service_states(&s),
        [("apache", Up), ("jakarta", Down), ("mysql", Up)]
    );
    assert_eq!(
        up_since(&s, "mysql"),
        Some(ready + 200),
        "the disabled one takes no slot"
    );
}

#[test]
fn concurrent_boots_slow_each_other_down() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let guests: Vec<_> = ["A", "B", "C"]
        .iter()
        .map(|n| host.bootable_guest(n, &image))
        .collect();

    // 2 s × (1 + 0.5 × others in transition).
    let ready: Vec<_> = guests.iter().map(|g| host.zvm.ipl(g).unwrap()).collect();
    assert_eq!(ready, [T0 + 2_000, T0 + 3_000, T0 + 4_000]);
    let load = host.zvm.host_load().unwrap();
    assert_eq!(
        load,
        HostLoad {
            in_transition: 3,
            logged_on: 3,
            stall_threshold: 3,
            stalled_until: None
        }
    );

    host.advance_ms(2_300);
    assert_eq!(host.zvm.host_load().unwrap().in_transition, 2);
    // Log-offs contend too: B and C still boot, so A's HALT counts 3.
    let done = host.zvm.halt(&guests[0]).unwrap().unwrap();
    assert_eq!(done, host.now() + (1_000 + 3 * 100) * 2);
}

#[test]
fn too_many_transitions_stall_the_whole_host() {
    let host = Host::new();
    let image = host.image("golden", 64 << 10);
    let early = running_guest_named(&host, &image, "EARLY");
    let t = host.now();
    let guests: Vec<_> = ["A", "B", "C", "D"]
        .iter()
        .map(|n| host.bootable_guest(n, &image))
        .collect();
    let ready: Vec<_> = guests.iter().map(|g| host.zvm.ipl(g).unwrap()).collect();

    // The fourth exceeds the threshold of 3: everything waits 60 s more, and
    // the fourth boots after the stall with 4 in transition (2 s × 2.5).
    assert_eq!(ready[3], t + 60_000 + 5_000);
    assert_eq!(
        host.zvm.host_load().unwrap().stalled_until,
        Some(t + 60_000)
    );
    let shifted: Vec<_> = guests[..3]
        .iter()
        .map(|g| match host.zvm.status(g).unwrap().power {
            PowerState::Booting { ready_at } => ready_at,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(shifted, [t + 62_000, t + 63_000, t + 64_000]);

    // A frozen host neither beats nor answers.
    let beat_before = host.zvm.status(&early).unwrap().last_heartbeat;
    host.advance_ms(30_000);
    let frozen = host.zvm.status(&early).unwrap();
    assert_eq!(frozen.last_heartbeat, beat_before);
    assert!(frozen
        .services
        .iter()
        .all(|s| s.state == ServiceState::Unknown));
    assert_eq!(
        host.zvm
            .console_write(&early, "SERVICE apache STATUS")
            .unwrap(),
        ConsoleReply::NoResponse
    );

    host.advance_ms(35_000);
    assert_eq!(host.zvm.host_load().unwrap().stalled_until, None);
    assert!(guests.iter().all(|g| matches!(
        host.zvm.status(g).unwrap().power,
        PowerState::Running { .. }
    )));
    let beat = host.zvm.status(&early).unwrap().last_heartbeat.unwrap();
    assert!(beat >= t + 60_000, "heartbeats resume after the stall");
}

fn running_guest_named(
    host: &Host,
    image: &herd_provisioner::backend::DiskId,
    name: &str,
) -> GuestName {
    let g = host.bootable_guest(name, image);
    host.zvm.ipl(&g).unwrap();
    host.advance_ms(2_300);
    g
}
