//! Provisioning sagas against the simulated host, on SQLite and PostgreSQL:
//! the pool fills, a failure at any step leaves nothing behind (also when a
//! crash cuts its undo short), decommission mirrors provisioning, and a saga
//! interrupted mid-way resumes.

mod common;

use std::time::Duration;

use common::world::{shape, World};
use common::T0;
use herd_core::clock::{Clock, SharedClock};
use herd_core::domain::{GuestName, GuestState, ItemStatus, JobKind, JobStatus};
use herd_core::store::guests::{self, Assignment};
use herd_core::store::test_db::{self, TestDb};
use herd_core::store::{catalog, jobs, lans, Store};
use herd_provisioner::backend::sim::{Fault, SimBackend, SimOp};
use herd_provisioner::backend::{CopyMethod, Directory, DiskId, Network, Runtime, Storage, Tags};
use herd_provisioner::pool::{self, CloneFor, PoolSettings};
use herd_provisioner::steps::ProvisionStep;
use herd_provisioner::worker::{Worker, WorkerSettings};

fn world(db: TestDb) -> World {
    World::new(db)
}

fn worker(w: &World, target_size: u32) -> Worker {
    let settings = WorkerSettings {
        concurrency: 4,
        stale_after: Duration::from_secs(30),
        idle_wait: Duration::from_millis(10),
        pool_defaults: PoolSettings {
            target_size,
            copy_method: CopyMethod::FlashCopy,
        },
        pool_shape: shape(),
        guest_lifetime: Duration::from_secs(86_400),
        expiry_grace: Duration::from_secs(7 * 86_400),
        monitor: herd_provisioner::monitor::MonitorSettings::default(),
    };
    let clock: SharedClock = w.clock.clone();
    Worker::new(w.db.store.clone(), w.zvm.clone(), clock, settings).unwrap()
}

fn name(s: &str) -> GuestName {
    s.parse().unwrap()
}

fn state_of(store: &Store, guest: &str) -> GuestState {
    guests::find_by_name(&mut store.conn().unwrap(), guest)
        .unwrap()
        .unwrap()
        .state()
}

/// Nothing of the guest is left on the hypervisor.
fn assert_gone(zvm: &SimBackend, guest: &str) {
    let g = name(guest);
    assert!(
        !zvm.list_users().unwrap().iter().any(|u| u.name == g),
        "{guest} still in the directory"
    );
    assert!(
        zvm.disk_info(&DiskId::segment_of(&g)).is_err(),
        "{guest} still has a disk"
    );
    let lans = zvm.lans().unwrap();
    assert!(
        !lans.iter().any(|l| l.granted.contains(&g)),
        "{guest} still granted"
    );
}

#[test]
fn the_pool_fills_with_cloned_granted_tagged_guests() {
    for db in test_db::all() {
        let w = world(db);
        let n = worker(&w, 3).tick().unwrap();
        assert_eq!(n, 3, "{}", w.db.label);
        let status = pool::status(&mut w.db.store.conn().unwrap()).unwrap();
        assert_eq!((status.available, status.provisioning), (3, 0));
        for g in ["LX000001", "LX000002", "LX000003"] {
            assert_eq!(state_of(&w.db.store, g), GuestState::Pooled);
            let disk = w.zvm.disk_info(&DiskId::segment_of(&name(g))).unwrap();
            assert!(matches!(
                disk.kind,
                herd_provisioner::backend::DiskKind::FlashCopy { .. }
            ));
            let tags = w.zvm.tags(&name(g)).unwrap();
            assert_eq!(
                tags["HOSTNAME"],
                format!("{}.example.edu", g.to_lowercase())
            );
            assert!(tags["IPADDR"].starts_with("10.10.0."));
        }
        assert!(w.zvm.lans().unwrap()[0].granted.len() == 3);
        // Already full: nothing more is made.
        assert_eq!(worker(&w, 3).tick().unwrap(), 0);
    }
}

/// Reserves one guest (for `owner`, or for the pool) and queues its
/// provisioning; answers the guest and the job.
fn queue(w: &World, owner: Option<i64>, method: CopyMethod) -> (String, i64) {
    let purpose = CloneFor {
        owner_id: owner,
        ..CloneFor::default()
    };
    let mut conn = w.db.store.conn().unwrap();
    pool::queue_clone(&mut conn, &shape(), method, purpose, w.clock.now_ms()).unwrap()
}

fn row(w: &World, guest: &str) -> guests::Guest {
    guests::find_by_name(&mut w.db.store.conn().unwrap(), guest)
        .unwrap()
        .unwrap()
}

fn job(w: &World, id: i64) -> jobs::Job {
    jobs::find(&mut w.db.store.conn().unwrap(), id)
        .unwrap()
        .unwrap()
}

/// The provisioning events of `guest`, oldest first, as (outcome, detail).
fn provisioning_events(w: &World, guest: &guests::Guest) -> Vec<(String, String)> {
    use herd_core::store::events::{self, EventFilter};
    let f = EventFilter {
        guest_id: Some(guest.row.id),
        kind: Some(herd_core::domain::EventKind::Provisioning),
        limit: 100,
        ..Default::default()
    };
    let (rows, _) = events::list(&mut w.db.store.conn().unwrap(), &f).unwrap();
    rows.into_iter()
        .rev()
        .filter(|e| e.action == "guest.provision")
        .map(|e| (e.outcome.as_str().to_owned(), e.detail.unwrap_or_default()))
        .collect()
}

/// One provisioning set up to fail at `step`.
struct Failing {
    /// A student's guest, whose saga ends with an IPL; else a pool guest.
    owned: bool,
    method: CopyMethod,
    /// The fault that makes `step` fail, for the guest being made.
    fault: fn(GuestName) -> Fault,
    step: &'static str,
    /// Part of the error the fault causes.
    cause: &'static str,
}

/// Runs the provisioning of `failing` on every database and checks what
/// users rely on when a step fails.
fn assert_failure_is_undone(failing: Failing) {
    for db in test_db::all() {
        let w = world(db);
        let owner = failing.owned.then(|| students(&w, &["ann"])[0].1.unwrap());
        let (guest, id) = queue(&w, owner, failing.method);
        let address = row(&w, &guest).row.ip_address.unwrap();
        w.zvm.inject((failing.fault)(name(&guest))).unwrap();
        worker(&w, 0).drain().unwrap();
        assert_undone(&w, &guest, &job(&w, id), failing.step, failing.cause);
        assert_address_reused(&w, &address);
    }
}

/// The job failed naming the step and its cause; every step up to the
/// failed one is undone, on the hypervisor and in the job's record (the
/// failed step keeping its error); the guest row is retired without an
/// address; the failure is an event.
fn assert_undone(w: &World, guest: &str, job: &jobs::Job, step: &str, cause: &str) {
    let label = w.db.label;
    assert_eq!(job.status, JobStatus::Failed, "{label}");
    let error = job.error.clone().unwrap_or_default();
    let named = format!("step {step} failed");
    assert!(
        error.contains(&named) && error.contains(cause),
        "{label}: {error}"
    );
    assert_gone(&w.zvm, guest);
    let row = row(w, guest);
    assert_eq!(row.state(), GuestState::Decommissioned, "{label}");
    assert_eq!(row.row.ip_address, None, "{label}: the address is released");
    let steps = jobs::steps(&mut w.db.store.conn().unwrap(), job.id, row.row.id).unwrap();
    let recorded: Vec<_> = steps
        .iter()
        .map(|s| (s.name.as_str(), s.status.as_str()))
        .collect();
    let reached = ProvisionStep::ORDER
        .iter()
        .position(|s| s.name() == step)
        .unwrap();
    let expected: Vec<_> = ProvisionStep::ORDER[..=reached]
        .iter()
        .map(|s| (s.name(), "undone"))
        .collect();
    assert_eq!(recorded, expected, "{label}");
    let detail = steps[reached].detail.as_deref().unwrap_or_default();
    assert!(detail.contains(cause), "{label}: {detail}");
    let events = provisioning_events(w, &row);
    assert!(
        matches!(&events[..], [(outcome, detail)] if outcome == "failure" && detail.contains(&named)),
        "{label}: {events:?}"
    );
}

/// The next guest gets the failed one's address, and provisioning works
/// again: the fault fired once.
fn assert_address_reused(w: &World, address: &str) {
    let (next, id) = queue(w, None, CopyMethod::FlashCopy);
    worker(w, 0).drain().unwrap();
    assert_eq!(job(w, id).status, JobStatus::Succeeded, "{}", w.db.label);
    assert_eq!(row(w, &next).row.ip_address.as_deref(), Some(address));
}

#[test]
fn a_failed_directory_entry_is_undone_and_releases_the_address() {
    assert_failure_is_undone(Failing {
        owned: false,
        method: CopyMethod::FlashCopy,
        fault: |g| Fault::Fails {
            op: SimOp::AddUser,
            guest: Some(g),
        },
        step: "directory_entry",
        cause: "DIRMAINT ADD",
    });
}

#[test]
fn a_failed_copy_is_undone_and_releases_the_address() {
    assert_failure_is_undone(Failing {
        owned: false,
        method: CopyMethod::Ddr,
        fault: |g| Fault::CopyFails {
            target: Some(g),
            at_fraction: 0.5,
        },
        step: "disk_copy",
        cause: "copy failed after",
    });
}

#[test]
fn a_failed_lan_grant_is_undone_and_releases_the_address() {
    assert_failure_is_undone(Failing {
        owned: false,
        method: CopyMethod::FlashCopy,
        fault: |g| Fault::Fails {
            op: SimOp::Grant,
            guest: Some(g),
        },
        step: "lan_grant",
        cause: "SET LAN GRANT",
    });
}

/// A student's guest: the IPL that was to follow is never tried.
#[test]
fn failed_tags_are_undone_and_release_the_address() {
    assert_failure_is_undone(Failing {
        owned: true,
        method: CopyMethod::FlashCopy,
        fault: |g| Fault::Fails {
            op: SimOp::SetTags,
            guest: Some(g),
        },
        step: "tags",
        cause: "TAG SET",
    });
}

/// XAUTOLOG refused: the IPL step fails outright, so the guest is undone
/// like at any other step (its undo, a FORCE, finds it logged off).
#[test]
fn a_refused_ipl_of_an_assigned_guest_is_undone_and_releases_the_address() {
    assert_failure_is_undone(Failing {
        owned: true,
        method: CopyMethod::FlashCopy,
        fault: |g| Fault::Fails {
            op: SimOp::Ipl,
            guest: Some(g),
        },
        step: "ipl",
        cause: "IPL",
    });
}

/// A student's new guest, provisioned by `worker`, whose next `failures`
/// boots end in a disabled wait (the first has begun); with its job.
fn student_guest_whose_boots_fail(
    w: &World,
    worker: &Worker,
    failures: usize,
) -> (String, GuestName, i64) {
    let ann = students(w, &["ann"])[0].1;
    let (guest, id) = queue(w, ann, CopyMethod::FlashCopy);
    let g = name(&guest);
    for _ in 0..failures {
        let fault = Fault::IplFails {
            guest: Some(g.clone()),
        };
        w.zvm.inject(fault).unwrap();
    }
    worker.drain().unwrap();
    (guest, g, id)
}

/// The IPL step only starts the boot, so a boot that ends in a disabled
/// wait is no failed provisioning: the guest is complete and the student's,
/// nothing is undone. Like any guest that should run but is down, the
/// monitor FORCEs it and boots it again.
#[test]
fn an_assigned_guest_whose_first_boot_fails_is_kept_and_booted_again() {
    use herd_provisioner::backend::PowerState;
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let (guest, g, id) = student_guest_whose_boots_fail(&w, &worker, 1);
        assert_eq!(job(&w, id).status, JobStatus::Succeeded, "{}", w.db.label);
        assert_eq!(state_of(&w.db.store, &guest), GuestState::Starting);
        tick_after(&w, &worker, 5);
        let power = w.zvm.status(&g).unwrap().power;
        assert!(
            matches!(power, PowerState::Booting { .. }),
            "{}: {power:?}",
            w.db.label
        );
        assert_eq!(monitor_actions(&w.db.store), ["monitor.ipl"]);
        tick_after(&w, &worker, 5);
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Running,
            "{}",
            w.db.label
        );
        assert!(row(&w, &guest).row.ip_address.is_some());
        let events = provisioning_events(&w, &row(&w, &guest));
        assert_eq!(events, [("success".to_owned(), String::new())]);
    }
}

/// A guest whose every boot fails is not booted on every sweep: the first
/// failure is answered at once, the next ones once per `service_retry`.
#[test]
fn a_guest_whose_boots_keep_failing_is_retried_at_the_retry_interval() {
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        student_guest_whose_boots_fail(&w, &worker, 4);
        let reboots = || {
            monitor_actions(&w.db.store)
                .iter()
                .filter(|a| *a == "monitor.ipl")
                .count()
        };
        tick_after(&w, &worker, 5);
        assert_eq!(reboots(), 1, "{}: the first failure at once", w.db.label);
        for _ in 0..10 {
            tick_after(&w, &worker, 5);
        }
        assert_eq!(reboots(), 1, "{}: 50 s later, still waiting", w.db.label);
        tick_after(&w, &worker, 15);
        assert_eq!(reboots(), 2, "{}: a minute after it failed", w.db.label);
    }
}

/// A guest without `auto_boot` whose boot failed is logged off (FORCE) and
/// left `stopped`, so that its owner can start it again.
#[test]
fn a_failed_boot_of_a_guest_without_auto_boot_is_logged_off() {
    use herd_provisioner::backend::PowerState;
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let (guest, g, _) = student_guest_whose_boots_fail(&w, &worker, 1);
        let no_auto_boot = guests::GuestUpdate {
            auto_boot: Some(false),
            ..Default::default()
        };
        let id = row(&w, &guest).row.id;
        guests::update(&mut w.db.store.conn().unwrap(), id, &no_auto_boot, T0).unwrap();
        tick_after(&w, &worker, 5);
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Stopped,
            "{}",
            w.db.label
        );
        assert_eq!(w.zvm.status(&g).unwrap().power, PowerState::LoggedOff);
        assert_eq!(monitor_actions(&w.db.store), ["monitor.down"]);
        w.zvm.ipl(&g).expect("the owner can start it again");
    }
}

/// An undo that fails in turn stops there: the job fails (its error names
/// the step whose undo failed, not the tags that failed first), the guest
/// row is retired all the same, and what the undo left on the hypervisor is
/// an orphan that reconciliation (at every start) removes.
#[test]
fn what_a_failed_undo_leaves_is_removed_by_reconciliation() {
    for db in test_db::all() {
        let w = world(db);
        let (guest, id) = queue(&w, None, CopyMethod::FlashCopy);
        arm_failing_undo(&w, &name(&guest));
        worker(&w, 0).drain().unwrap();
        let job = job(&w, id);
        assert_eq!(job.status, JobStatus::Failed, "{}", w.db.label);
        assert!(job.error.unwrap().contains("step lan_grant failed"));
        assert_eq!(row(&w, &guest).state(), GuestState::Decommissioned);
        assert!(w.zvm.lans().unwrap()[0].granted.contains(&name(&guest)));
        let mut conn = w.db.store.conn().unwrap();
        let found = herd_provisioner::reconcile::run(&mut conn, &*w.zvm, T0).unwrap();
        assert_eq!(
            found,
            [herd_provisioner::reconcile::Difference::OrphanedGuest(
                name(&guest)
            )],
            "{}",
            w.db.label
        );
        assert_gone(&w.zvm, &guest);
    }
}

/// Tags fail, and the undo, after undoing the failed step, fails at
/// revoking the grant: the undo stops half-way.
fn arm_failing_undo(w: &World, g: &GuestName) {
    for op in [SimOp::SetTags, SimOp::Revoke] {
        let guest = Some(g.clone());
        w.zvm.inject(Fault::Fails { op, guest }).unwrap();
    }
}

/// A process claims `job`, runs its saga and dies in the middle of the
/// undo: the refused REVOKE stops the undo where a crash would, and what
/// the worker does after a saga (retire the row, finish the job) never
/// happens.
fn die_mid_undo(w: &World, guest: &str, job: i64) {
    use herd_provisioner::steps::GuestPlan;
    let mut conn = w.db.store.conn().unwrap();
    let claimed = jobs::claim(
        &mut conn,
        &[JobKind::Provision],
        "dead",
        w.clock.now_ms(),
        0,
    )
    .unwrap();
    assert_eq!(claimed.map(|j| j.id), Some(job));
    let g = name(guest);
    arm_failing_undo(w, &g);
    let plan = GuestPlan {
        name: g.clone(),
        memory_mb: 64,
        services: vec![],
        image: "golden".parse().unwrap(),
        lan: "LNXLAN1".parse().unwrap(),
        lan_capacity: 0,
        method: CopyMethod::FlashCopy,
        tags: Default::default(),
        boot: false,
        root_version: 1,
    };
    let id = row(w, guest).row.id;
    let clock: &dyn Clock = &*w.clock;
    let run = herd_provisioner::saga::Run {
        store: &w.db.store,
        backend: &*w.zvm,
        clock,
        job_id: job,
        guest_id: id,
        injection: herd_provisioner::saga::Injection::NONE,
        heartbeat: herd_provisioner::saga::Heartbeat::every(Duration::from_secs(30)),
    };
    herd_provisioner::saga::provision(&run, &plan).unwrap_err();
    assert!(
        w.zvm.lans().unwrap()[0].granted.contains(&g),
        "the undo stopped before revoking the grant"
    );
}

/// The worker that takes over a job whose process died mid-undo finishes
/// the undo and fails the job, as if nothing had interrupted it.
#[test]
fn an_undo_cut_short_by_a_crash_is_finished_by_the_next_worker() {
    for db in test_db::all() {
        let w = world(db);
        let (guest, id) = queue(&w, None, CopyMethod::FlashCopy);
        let address = row(&w, &guest).row.ip_address.unwrap();
        die_mid_undo(&w, &guest, id);
        // The dead process's claim goes stale.
        w.clock.advance(Duration::from_secs(60));
        worker(&w, 0).drain().unwrap();
        assert_undone(&w, &guest, &job(&w, id), "tags", "TAG SET");
        assert_address_reused(&w, &address);
    }
}

#[test]
fn an_assigned_guest_boots_and_decommission_removes_everything() {
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 1);
        worker.tick().unwrap();
        let mut conn = w.db.store.conn().unwrap();
        let owner = herd_core::store::users::create_local(
            &mut conn,
            &herd_core::store::users::NewLocalUser {
                username: "ann",
                display_name: "Ann",
                role: herd_core::domain::Role::Student,
                password_hash: "x",
            },
            T0,
        )
        .unwrap();
        let lan = lans::find_by_name(&mut conn, "LNXLAN1").unwrap().unwrap();
        let image = catalog::images(&mut conn).unwrap().remove(0);
        let a = Assignment {
            owner_id: owner.id,
            max_guests: Some(2),
            lan_id: Some(lan.id),
            image_id: image.id,
            expires_at: T0 + 1,
            next_state: GuestState::Starting,
        };
        let guest = guests::assign_from_pool(&mut conn, &a, T0)
            .unwrap()
            .unwrap();
        worker.tick().unwrap();
        tick_after(&w, &worker, 10);
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Running,
            "{}",
            w.db.label
        );

        let job = jobs::NewJob {
            kind: JobKind::Decommission,
            requested_by: None,
            target: Some(&guest),
            params: "{}",
            total: 1,
        };
        let job = jobs::create(&mut conn, &job, T0).unwrap();
        worker.drain().unwrap();
        assert_eq!(
            jobs::find(&mut conn, job).unwrap().unwrap().status,
            JobStatus::Succeeded
        );
        assert_gone(&w.zvm, &guest);
        assert_eq!(state_of(&w.db.store, &guest), GuestState::Decommissioned);
    }
}

#[test]
fn a_saga_interrupted_after_a_step_resumes_without_repeating_it() {
    for db in test_db::all() {
        let w = world(db);
        let mut conn = w.db.store.conn().unwrap();
        let (guest, job) = pool::queue_clone(
            &mut conn,
            &shape(),
            CopyMethod::FlashCopy,
            CloneFor::default(),
            T0,
        )
        .unwrap();
        // A previous process made the directory entry, recorded it, and died.
        let id = guests::find_by_name(&mut conn, &guest)
            .unwrap()
            .unwrap()
            .row
            .id;
        let spec = herd_provisioner::backend::UserSpec {
            name: name(&guest),
            memory_mb: 64,
            services: vec![],
        };
        w.zvm.add_user(&spec).unwrap();
        let step = jobs::Step {
            seq: 1,
            name: "directory_entry".into(),
            status: herd_core::domain::StepStatus::Done,
            detail: None,
        };
        jobs::record_step(&mut conn, job, id, &step, T0).unwrap();
        worker(&w, 0).drain().unwrap();
        assert_eq!(
            jobs::find(&mut conn, job).unwrap().unwrap().status,
            JobStatus::Succeeded,
            "{}",
            w.db.label
        );
        assert_eq!(state_of(&w.db.store, &guest), GuestState::Pooled);
        assert_eq!(w.zvm.list_users().unwrap().len(), 1);
    }
}

fn students(w: &World, names: &[&str]) -> Vec<(String, Option<i64>)> {
    let mut conn = w.db.store.conn().unwrap();
    names
        .iter()
        .map(|n| {
            let new = herd_core::store::users::NewLocalUser {
                username: n,
                display_name: n,
                role: herd_core::domain::Role::Student,
                password_hash: "x",
            };
            let u = herd_core::store::users::create_local(&mut conn, &new, T0).unwrap();
            (n.to_string(), Some(u.id))
        })
        .collect()
}

fn run_batch(w: &World, worker: &Worker, users: &[(String, Option<i64>)], per_user: i32) -> i64 {
    use herd_core::store::batches::{self, NewBatch};
    let mut conn = w.db.store.conn().unwrap();
    let image = catalog::images(&mut conn).unwrap().remove(0);
    let new = NewBatch {
        requested_by: None,
        ldap_group: None,
        guests_per_user: per_user,
        image_id: image.id,
        expires_at: None,
        users,
    };
    let batch = batches::create(&mut conn, &new, JobKind::Batch, w.clock.now_ms()).unwrap();
    for _ in 0..5 {
        worker.tick().unwrap();
    }
    batch.id
}

#[test]
fn a_batch_uses_the_pool_then_clones_and_a_repeat_skips_everyone() {
    use herd_core::store::batches;
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 2);
        worker.tick().unwrap();
        let users = students(&w, &["ann", "ben", "cy"]);
        // Later than the pool's creation, like a real batch.
        w.clock.advance(Duration::from_secs(1));
        let first = run_batch(&w, &worker, &users, 2);
        let mut conn = w.db.store.conn().unwrap();
        let items = batches::items(&mut conn, first).unwrap();
        assert!(
            items.iter().all(|i| i.guests().len() == 2),
            "{}: {items:?}",
            w.db.label
        );
        let statuses: Vec<_> = items.iter().map(|i| i.status.as_str()).collect();
        assert_eq!(statuses, ["assigned", "cloned", "cloned"], "{}", w.db.label);
        let job = batches::find(&mut conn, first).unwrap().unwrap().job_id;
        assert_eq!(
            jobs::find(&mut conn, job).unwrap().unwrap().status,
            JobStatus::Succeeded
        );
        let all: std::collections::HashSet<String> =
            items.iter().flat_map(|i| i.guests()).collect();
        assert_eq!(all.len(), 6, "six distinct guests");

        w.clock.advance(Duration::from_secs(1));
        let again = run_batch(&w, &worker, &users, 2);
        let items = batches::items(&mut conn, again).unwrap();
        assert!(
            items
                .iter()
                .all(|i| i.status == ItemStatus::Skipped && i.guests().is_empty()),
            "{items:?}"
        );
        assert_eq!(
            w.zvm.list_users().unwrap().len(),
            6 + 2,
            "six owned plus a refilled pool of two"
        );
    }
}

#[test]
fn placing_a_batch_twice_makes_nothing_twice() {
    use herd_core::store::batches::{self, NewBatch};
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let users = students(&w, &["ann", "ben"]);
        let mut conn = w.db.store.conn().unwrap();
        let image = catalog::images(&mut conn).unwrap().remove(0);
        let new = NewBatch {
            requested_by: None,
            ldap_group: None,
            guests_per_user: 2,
            image_id: image.id,
            expires_at: None,
            users: &users,
        };
        let batch = batches::create(&mut conn, &new, JobKind::Batch, T0).unwrap();
        let ctx = herd_provisioner::batch::BatchContext {
            shape: shape(),
            method: CopyMethod::FlashCopy,
            lifetime: Duration::from_secs(60),
        };
        // A process placed the batch and died; its successor places it again.
        herd_provisioner::batch::place(&mut conn, &batch, &ctx, T0).unwrap();
        herd_provisioner::batch::place(&mut conn, &batch, &ctx, T0).unwrap();
        worker.drain().unwrap();
        assert!(herd_provisioner::batch::follow(&mut conn, batch.job_id, T0).unwrap());
        let items = batches::items(&mut conn, batch.id).unwrap();
        assert!(
            items
                .iter()
                .all(|i| i.status == ItemStatus::Cloned && i.guests().len() == 2),
            "{}: {items:?}",
            w.db.label
        );
        assert_eq!(w.zvm.list_users().unwrap().len(), 4);
    }
}

#[test]
fn expired_guests_are_warned_then_decommissioned_after_the_grace_period() {
    use herd_core::store::batches;
    use herd_core::store::events::{self, EventFilter};
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let users = students(&w, &["ann"]);
        let batch = run_batch(&w, &worker, &users, 1);
        let mut conn = w.db.store.conn().unwrap();
        let guest = batches::items(&mut conn, batch).unwrap()[0].guests()[0].clone();
        // Lifetime one day, grace seven.
        w.clock.advance(Duration::from_secs(86_400 + 60));
        worker.tick().unwrap();
        let warned = || {
            let f = EventFilter {
                action: Some("guest.expiry_warning".into()),
                limit: 10,
                ..Default::default()
            };
            let (rows, _) = events::list(&mut w.db.store.conn().unwrap(), &f).unwrap();
            rows.into_iter()
                .filter_map(|e| e.target)
                .collect::<Vec<_>>()
        };
        assert_eq!(warned(), std::slice::from_ref(&guest), "{}", w.db.label);
        assert_ne!(state_of(&w.db.store, &guest), GuestState::Decommissioned);
        worker.tick().unwrap();
        assert_eq!(warned().len(), 1, "warned once");
        w.clock.advance(Duration::from_secs(7 * 86_400 + 60));
        worker.tick().unwrap();
        worker.tick().unwrap();
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Decommissioned,
            "{}",
            w.db.label
        );
        assert_gone(&w.zvm, &guest);
    }
}

#[test]
fn reconcile_removes_orphans_and_flags_lost_guests() {
    use herd_provisioner::reconcile::{self, Difference};
    for db in test_db::all() {
        let w = world(db);
        worker(&w, 1).tick().unwrap();
        // Left by a crash outside any saga: a directory entry with a disk
        // and a grant, which no guest row accounts for.
        let stray = name("ZZ000001");
        let spec = herd_provisioner::backend::UserSpec {
            name: stray.clone(),
            memory_mb: 64,
            services: vec![],
        };
        w.zvm.add_user(&spec).unwrap();
        let image = DiskId::image(&"golden".parse().unwrap());
        w.zvm
            .clone_disk(&image, &DiskId::segment_of(&stray), CopyMethod::FlashCopy)
            .unwrap();
        w.zvm.grant(&"LNXLAN1".parse().unwrap(), &stray).unwrap();
        // And a pooled guest the hypervisor lost.
        herd_provisioner::steps::remove_everything(&*w.zvm, &name("LX000001")).unwrap();

        let mut conn = w.db.store.conn().unwrap();
        let found = reconcile::run(&mut conn, &*w.zvm, T0).unwrap();
        assert!(
            found.contains(&Difference::OrphanedGuest(stray.clone())),
            "{}: {found:?}",
            w.db.label
        );
        assert!(
            found.contains(&Difference::MissingGuest("LX000001".into())),
            "{found:?}"
        );
        assert_gone(&w.zvm, "ZZ000001");
        assert_eq!(state_of(&w.db.store, "LX000001"), GuestState::Failed);
        assert!(
            reconcile::run(&mut conn, &*w.zvm, T0).unwrap().is_empty(),
            "a second run finds nothing"
        );
    }
}

/// A difference that no longer holds when its repair comes (a saga of
/// another process created or removed the guest since the scan) is left
/// alone: reconcile never destroys a guest being made, nor fails one that
/// has just appeared.
#[test]
fn reconcile_leaves_alone_what_changed_since_its_scan() {
    use herd_provisioner::reconcile::{self, Difference};
    for db in test_db::all() {
        let w = world(db);
        worker(&w, 1).tick().unwrap();
        let pooled = name("LX000001");
        assert_eq!(state_of(&w.db.store, "LX000001"), GuestState::Pooled);
        let mut conn = w.db.store.conn().unwrap();
        // Seen as an orphan by a scan that listed the directory just before
        // the guest's row was written, and as missing by one that read the
        // row just before its directory entry was made.
        for stale in [
            Difference::OrphanedGuest(pooled.clone()),
            Difference::OrphanedDisk(DiskId::segment_of(&pooled)),
            Difference::OrphanedGrant {
                lan: "LNXLAN1".into(),
                guest: pooled.clone(),
            },
            Difference::MissingGuest("LX000001".into()),
        ] {
            reconcile::repair(&mut conn, &*w.zvm, &stale, T0).unwrap();
        }
        assert!(w.zvm.list_users().unwrap().iter().any(|u| u.name == pooled));
        assert!(w.zvm.disk_info(&DiskId::segment_of(&pooled)).is_ok());
        assert!(w.zvm.lans().unwrap()[0].granted.contains(&pooled));
        assert_eq!(
            state_of(&w.db.store, "LX000001"),
            GuestState::Pooled,
            "{}",
            w.db.label
        );
    }
}

/// One student's guest, booted and `running`.
fn running_guest(w: &World, worker: &Worker) -> String {
    use herd_core::store::batches;
    let users = students(w, &["ann"]);
    let batch = run_batch(w, worker, &users, 1);
    let guest =
        batches::items(&mut w.db.store.conn().unwrap(), batch).unwrap()[0].guests()[0].clone();
    tick_after(w, worker, 5);
    assert_eq!(
        state_of(&w.db.store, &guest),
        GuestState::Running,
        "{}",
        w.db.label
    );
    guest
}

/// The command channel's dispatcher, on the world's clock.
fn dispatcher(w: &World) -> herd_provisioner::dispatcher::Dispatcher {
    let clock: SharedClock = w.clock.clone();
    herd_provisioner::dispatcher::Dispatcher::new(w.db.store.clone(), w.zvm.clone(), clock).unwrap()
}

/// Moves the clock on by `secs` and lets the worker look.
fn tick_after(w: &World, worker: &Worker, secs: u64) {
    w.clock.advance(Duration::from_secs(secs));
    worker.tick().unwrap();
}

fn monitor_actions(store: &Store) -> Vec<String> {
    use herd_core::store::events::{self, EventFilter};
    let f = EventFilter {
        kind: Some(herd_core::domain::EventKind::Monitor),
        limit: 100,
        ..Default::default()
    };
    let (rows, _) = events::list(&mut store.conn().unwrap(), &f).unwrap();
    rows.into_iter().rev().map(|e| e.action).collect()
}

#[test]
fn a_hung_guest_is_halted_then_forced_then_booted_again() {
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let guest = running_guest(&w, &worker);
        w.zvm
            .inject(Fault::Hang {
                guest: name(&guest),
                after: Duration::ZERO,
            })
            .unwrap();
        w.clock.advance(Duration::from_secs(4 * 60));
        worker.tick().unwrap();
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Running,
            "4 minutes is not yet unresponsive"
        );
        tick_after(&w, &worker, 61);
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Unresponsive,
            "{}",
            w.db.label
        );
        assert_eq!(monitor_actions(&w.db.store), ["monitor.halt"]);
        tick_after(&w, &worker, 121);
        assert_eq!(
            monitor_actions(&w.db.store),
            ["monitor.halt", "monitor.force", "monitor.ipl"]
        );
        tick_after(&w, &worker, 5);
        assert_eq!(
            state_of(&w.db.store, &guest),
            GuestState::Running,
            "{}: booted again",
            w.db.label
        );
    }
}

#[test]
fn a_dead_enabled_service_is_restarted_through_the_command_channel() {
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let guest = running_guest(&w, &worker);
        w.zvm
            .inject(Fault::ServiceDies {
                guest: name(&guest),
                service: "apache".into(),
                after: Duration::ZERO,
            })
            .unwrap();
        tick_after(&w, &worker, 1);
        assert_eq!(
            monitor_actions(&w.db.store),
            ["monitor.service_restart"],
            "{}",
            w.db.label
        );
        let dispatcher = dispatcher(&w);
        assert_eq!(dispatcher.drain().unwrap(), 1);
        let id = guests::find_by_name(&mut w.db.store.conn().unwrap(), &guest)
            .unwrap()
            .unwrap()
            .row
            .id;
        let services = guests::services(&mut w.db.store.conn().unwrap(), id).unwrap();
        let apache = services
            .iter()
            .find(|(s, _, _)| s.name == "apache")
            .unwrap();
        assert_eq!(
            apache.2,
            herd_core::domain::ServiceState::Up,
            "{}",
            w.db.label
        );
        let status = w.zvm.status(&name(&guest)).unwrap();
        assert!(status
            .services
            .iter()
            .any(|s| s.name == "apache" && s.state == herd_provisioner::backend::ServiceState::Up));
    }
}

/// A click right after a start is meant for the guest about to run: it
/// waits for the boot instead of failing, but not past a bound.
#[test]
fn a_service_command_waits_for_its_guest_to_boot() {
    use herd_core::store::commands;
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let guest = running_guest(&w, &worker);
        let id = row(&w, &guest).row.id;
        let dispatcher = dispatcher(&w);
        let record = |text: &str, made_at: i64| {
            let text = format!("{guest} {text}");
            commands::insert(&mut w.db.store.conn().unwrap(), id, None, &text, made_at)
                .unwrap()
                .id
        };
        let command = |id| {
            commands::find(&mut w.db.store.conn().unwrap(), id)
                .unwrap()
                .unwrap()
        };
        let now = w.clock.now_ms();
        let (force, ipl) = (record("FORCE", now), record("IPL", now));
        let restart = record("SERVICE apache RESTART", now);
        let stop = record("SERVICE mysql STOP", now);

        assert_eq!(dispatcher.drain().unwrap(), 2, "{}", w.db.label);
        assert_eq!(
            command(force).status.as_str(),
            "succeeded",
            "{}",
            w.db.label
        );
        assert_eq!(command(ipl).status.as_str(), "succeeded", "{}", w.db.label);
        for held in [restart, stop] {
            let held = command(held);
            assert_eq!(held.status.as_str(), "queued", "{}: {held:?}", w.db.label);
        }
        w.clock.advance(Duration::from_secs(1));
        assert_eq!(
            dispatcher.drain().unwrap(),
            0,
            "{}: still booting",
            w.db.label
        );

        w.clock.advance(Duration::from_secs(2));
        assert_eq!(dispatcher.drain().unwrap(), 2, "{}", w.db.label);
        let (restart, stop) = (command(restart), command(stop));
        assert_eq!(
            restart.status.as_str(),
            "succeeded",
            "{}: {restart:?}",
            w.db.label
        );
        assert_eq!(
            stop.status.as_str(),
            "succeeded",
            "{}: {stop:?}",
            w.db.label
        );
        assert!(restart.id < stop.id && restart.finished_at <= stop.finished_at);

        // a guest that has been booting for longer than a command may wait
        record("FORCE", w.clock.now_ms());
        record("IPL", w.clock.now_ms());
        let late = record("SERVICE apache START", w.clock.now_ms() - 61_000);
        assert_eq!(dispatcher.drain().unwrap(), 3, "{}", w.db.label);
        let late = command(late);
        assert_eq!(late.status.as_str(), "failed", "{}: {late:?}", w.db.label);
        assert!(
            late.result
                .as_deref()
                .is_some_and(|r| r.contains("still booting")),
            "{}: {late:?}",
            w.db.label
        );
    }
}

/// Runs a staged operation to the end on the simulated clock, one tick per
/// simulated second; returns the simulated time it took and the most guests
/// seen in transition at once.
fn run_staged(
    w: &World,
    worker: &Worker,
    kind: JobKind,
    batch: u32,
    pace: herd_provisioner::staged::Pace,
) -> (u64, usize) {
    use herd_provisioner::staged::{self, Plan};
    let mut conn = w.db.store.conn().unwrap();
    let targets = staged::targets(&mut conn, kind).unwrap();
    let plan = Plan::new(targets.clone(), batch, 30_000, pace, w.clock.now_ms());
    let params = serde_json::to_string(&plan).unwrap();
    let job = jobs::NewJob {
        kind,
        requested_by: None,
        target: None,
        params: &params,
        total: 0,
    };
    let job = jobs::create(&mut conn, &job, w.clock.now_ms()).unwrap();
    let (mut seconds, mut most) = (0, 0);
    while jobs::find(&mut conn, job).unwrap().unwrap().status != JobStatus::Succeeded {
        worker.tick().unwrap();
        let moving = targets
            .iter()
            .filter(|g| {
                let power = w.zvm.status(&name(g)).unwrap().power;
                matches!(
                    power,
                    herd_provisioner::backend::PowerState::Booting { .. }
                        | herd_provisioner::backend::PowerState::Stopping { .. }
                )
            })
            .count();
        most = most.max(moving);
        w.clock.advance(Duration::from_secs(1));
        seconds += 1;
        assert!(seconds < 3600, "staged operation did not finish");
    }
    (seconds, most)
}

#[test]
fn staged_stop_and_start_keep_to_the_batch_size_and_adaptive_is_sooner() {
    use herd_provisioner::staged::Pace;
    for db in test_db::all() {
        let w = world(db);
        let worker = worker(&w, 0);
        let names: Vec<String> = (0..10).map(|i| format!("u{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let users = students(&w, &refs);
        run_batch(&w, &worker, &users, 1);
        // This small host (stall threshold 3) boots two at a time.
        for _ in 0..60 {
            tick_after(&w, &worker, 10);
        }
        let running =
            guests::in_states(&mut w.db.store.conn().unwrap(), &[GuestState::Running]).unwrap();
        assert_eq!(running.len(), 10, "{}", w.db.label);

        let (_, most) = run_staged(&w, &worker, JobKind::StagedStop, 3, Pace::Fixed);
        assert!(
            most <= 3,
            "{}: {most} guests logging off at once",
            w.db.label
        );
        let stopped =
            guests::in_states(&mut w.db.store.conn().unwrap(), &[GuestState::Stopped]).unwrap();
        assert_eq!(stopped.len(), 10, "{}", w.db.label);

        let (fixed, most) = run_staged(&w, &worker, JobKind::StagedStart, 3, Pace::Fixed);
        assert!(most <= 3, "{}: {most} guests booting at once", w.db.label);
        assert!(
            fixed >= 90,
            "four batches 30 s apart take at least 90 s, took {fixed}"
        );
        run_staged(&w, &worker, JobKind::StagedStop, 10, Pace::Fixed);
        let (adaptive, most) = run_staged(&w, &worker, JobKind::StagedStart, 3, Pace::Adaptive);
        assert!(
            most <= 3,
            "{}: adaptive let {most} boot at once",
            w.db.label
        );
        assert!(
            adaptive < fixed,
            "{}: adaptive {adaptive} s, fixed {fixed} s",
            w.db.label
        );
        let running = guests::in_states(
            &mut w.db.store.conn().unwrap(),
            &[GuestState::Running, GuestState::Starting],
        )
        .unwrap();
        assert_eq!(running.len(), 10);
    }
}
