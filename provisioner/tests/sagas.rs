//! Every saga, every step, on SQLite and PostgreSQL: a failure at any step
//! is undone (provisioning) or finished by running the saga again
//! (decommissioning, which only goes forward), and a saga stopped right
//! after any step (as by a crash) resumes without running a done step
//! again and ends as an uninterrupted run does. The steps come from the
//! sagas' own lists: a new step (or saga kind) is covered without a case
//! of its own. Also: steps are found by name, so a saga in flight from a
//! release with fewer steps resumes correctly; and a saga runs on the
//! parameters frozen when it was queued, or, for a job an older release
//! queued, on the rows.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use common::world::{World, STALE_AFTER};
use herd_core::domain::{GuestName, GuestState, JobKind, JobStatus, StepStatus};
use herd_core::store::guests::{self, GuestUpdate};
use herd_core::store::jobs;
use herd_core::store::test_db;
use herd_provisioner::backend::{CopyMethod, Directory, DiskId, Network, Runtime, Storage, Tags};
use herd_provisioner::saga::Injection;
use herd_provisioner::sagas;
use herd_provisioner::steps::{DecommissionStep, ProvisionStep};

/// One kind of saga as the harness drives it.
struct Kind {
    label: &'static str,
    /// Sets up the world and queues one saga of this kind: its guest and
    /// its job.
    queue: fn(&World) -> (String, i64),
    /// The saga's steps in order, as it runs them for its job.
    steps: fn(&World, &str, i64) -> Vec<&'static str>,
    /// A failure is undone; else the saga only goes forward and a failed
    /// one is finished by running it again.
    undoes: bool,
}

const KINDS: [Kind; 3] = [
    Kind {
        label: "provision (a student's guest, booted)",
        queue: |w| {
            let owner = w.student("ann");
            w.queue_clone(Some(owner), CopyMethod::FlashCopy)
        },
        steps: provision_steps,
        undoes: true,
    },
    Kind {
        label: "provision (a pool guest)",
        queue: |w| w.queue_clone(None, CopyMethod::Ddr),
        steps: provision_steps,
        undoes: true,
    },
    Kind {
        label: "decommission",
        queue: |w| {
            let owner = w.student("ann");
            let (guest, job) = w.queue_clone(Some(owner), CopyMethod::FlashCopy);
            w.worker().drain().unwrap();
            assert_eq!(w.job(job).status, JobStatus::Succeeded);
            let mut conn = w.db.store.conn().unwrap();
            let job = sagas::queue_decommission(&mut conn, &w.guest(&guest), None, w.now());
            (guest, job.unwrap())
        },
        steps: |_, _, _| DecommissionStep::ORDER.map(|s| s.name()).to_vec(),
        undoes: false,
    },
];

/// The provisioning steps that apply to the job's (frozen) plan.
fn provision_steps(w: &World, guest: &str, job: i64) -> Vec<&'static str> {
    let mut conn = w.db.store.conn().unwrap();
    let plan = sagas::frozen_plan(&mut conn, &w.job(job), &w.guest(guest)).unwrap();
    ProvisionStep::ORDER
        .into_iter()
        .filter(|s| s.applies_to(&plan))
        .map(|s| s.name())
        .collect()
}

/// Every (database, kind, step) case, each in a fresh world: the world,
/// the kind, the saga's steps, the index of the step under test, and the
/// saga's guest and job.
fn for_every_step(check: impl Fn(&World, &Kind, &[&'static str], usize, &str, i64)) {
    for kind in &KINDS {
        for at in 0.. {
            let mut more = false;
            for db in test_db::all() {
                let w = World::new(db);
                let (guest, job) = (kind.queue)(&w);
                let steps = (kind.steps)(&w, &guest, job);
                assert!(steps.len() > 1, "{}: {steps:?}", kind.label);
                check(&w, kind, &steps, at, &guest, job);
                more = at + 1 < steps.len();
            }
            if !more {
                break;
            }
        }
    }
}

fn name(s: &str) -> GuestName {
    s.parse().unwrap()
}

/// Nothing of the guest is left on the hypervisor.
fn assert_gone(w: &World, guest: &str, label: &str) {
    let g = name(guest);
    let users = w.zvm.list_users().unwrap();
    assert!(!users.iter().any(|u| u.name == g), "{label}: entry left");
    let disk = w.zvm.disk_info(&DiskId::segment_of(&g));
    assert!(disk.is_err(), "{label}: disk left");
    let lans = w.zvm.lans().unwrap();
    let granted = lans.iter().any(|l| l.granted.contains(&g));
    assert!(!granted, "{label}: grant left");
}

#[test]
fn a_failure_at_any_step_is_undone_or_finished_by_running_again() {
    for_every_step(|w, kind, steps, at, guest, job| {
        let step = steps[at];
        let label = format!("{} / {step} / {}", kind.label, w.db.label);
        let mut worker = w.worker();
        worker.inject(Injection {
            fail_at: Some(step),
            stop_after: None,
        });
        worker.drain().unwrap();
        let failed = w.job(job);
        assert_eq!(failed.status, JobStatus::Failed, "{label}");
        let error = failed.error.unwrap_or_default();
        assert!(
            error.contains(&format!("step {step} failed")),
            "{label}: {error}"
        );
        let recorded = w.steps(job, guest);
        if kind.undoes {
            // Every step up to the failed one undone, none after it run.
            let undone: Vec<_> = steps[..=at]
                .iter()
                .map(|s| (s.to_string(), "undone"))
                .collect();
            assert_eq!(recorded, undone, "{label}");
            assert_gone(w, guest, &label);
            let row = w.guest(guest);
            assert_eq!(row.state(), GuestState::Decommissioned, "{label}");
            assert_eq!(row.row.ip_address, None, "{label}");
        } else {
            let mut expected: Vec<_> = steps[..at]
                .iter()
                .map(|s| (s.to_string(), "done"))
                .collect();
            expected.push((step.to_string(), "failed"));
            assert_eq!(recorded, expected, "{label}");
            // Running it again finishes the removal.
            let row = w.guest(guest);
            let mut conn = w.db.store.conn().unwrap();
            let again = sagas::queue_decommission(&mut conn, &row, None, w.now()).unwrap();
            w.worker().drain().unwrap();
            assert_eq!(w.job(again).status, JobStatus::Succeeded, "{label}");
            assert_gone(w, guest, &label);
            assert_eq!(w.guest(guest).state(), GuestState::Decommissioned);
        }
    });
}

#[test]
fn a_saga_stopped_after_any_step_resumes_and_ends_as_an_uninterrupted_one() {
    let calm = RefCell::new(BTreeMap::new());
    for_every_step(|w, kind, steps, at, guest, job| {
        let step = steps[at];
        let label = format!("{} / {step} / {}", kind.label, w.db.label);
        let mut dying = w.worker();
        dying.inject(Injection {
            fail_at: None,
            stop_after: Some(step),
        });
        let first = w.now();
        dying.drain().unwrap();
        // As a crash leaves it: the step done, nothing after it run.
        assert_eq!(w.job(job).status, JobStatus::Running, "{label}");
        let done: Vec<_> = steps[..=at]
            .iter()
            .map(|s| (s.to_string(), "done"))
            .collect();
        assert_eq!(w.steps(job, guest), done, "{label}");

        w.advance(STALE_AFTER * 2);
        let resumed = w.now();
        w.worker().drain().unwrap();
        let starts = w.step_starts(job, guest);
        let expected: Vec<_> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), Some(if i <= at { first } else { resumed })))
            .collect();
        assert_eq!(starts, expected, "{label}: a done step ran again");
        let interrupted = outcome(w, guest, job);
        let key = (kind.label, w.db.label);
        let mut calm = calm.borrow_mut();
        let uninterrupted = calm.entry(key).or_insert_with(|| calm_outcome(kind, key.1));
        assert_eq!(&interrupted, uninterrupted, "{label}");
    });
}

/// What the saga of `kind` leaves in a world of its own (on the database
/// labelled `db`) when nothing interrupts it; its clock moves as an
/// interrupted one's does.
fn calm_outcome(kind: &Kind, db: &str) -> BTreeMap<&'static str, String> {
    let db = test_db::all().into_iter().find(|d| d.label == db).unwrap();
    let w = World::new(db);
    let (guest, job) = (kind.queue)(&w);
    w.advance(STALE_AFTER * 2);
    w.worker().drain().unwrap();
    outcome(&w, &guest, job)
}

/// What a saga leaves, once the guest had time to settle: the job, the
/// guest's row and steps, and what the hypervisor holds of the guest.
fn outcome(w: &World, guest: &str, job: i64) -> BTreeMap<&'static str, String> {
    w.advance(Duration::from_secs(600));
    let g = name(guest);
    let job_row = w.job(job);
    let row = w.guest(guest);
    let user = w
        .zvm
        .list_users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == g);
    let disk = w
        .zvm
        .disk_info(&DiskId::segment_of(&g))
        .map(|d| (d.kind, d.status, d.size));
    let grants: Vec<_> = w
        .zvm
        .lans()
        .unwrap()
        .into_iter()
        .filter(|l| l.granted.contains(&g))
        .map(|l| l.name)
        .collect();
    let power = w.zvm.status(&g).map(|s| {
        let power = format!("{:?}", s.power);
        power
            .split([' ', '{'])
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    BTreeMap::from([
        ("job", format!("{} {:?}", job_row.status, job_row.error)),
        (
            "guest",
            format!("{:?} {:?}", row.state(), row.row.ip_address),
        ),
        ("steps", format!("{:?}", w.steps(job, guest))),
        ("entry", format!("{user:?}")),
        ("disk", format!("{disk:?}")),
        ("grants", format!("{grants:?}")),
        ("tags", format!("{:?}", w.zvm.tags(&g).ok())),
        ("power", format!("{power:?}")),
    ])
}

/// A release that inserts a step in the middle of a saga's list must still
/// resume the sagas an older release left in flight: their steps were
/// recorded under the old numbering. Here the older release knew no
/// `lan_grant`: it made the directory entry, the disk and the tags,
/// recorded them as steps 1 to 3, and died.
#[test]
fn a_saga_in_flight_from_a_release_with_fewer_steps_resumes_by_step_name() {
    for db in test_db::all() {
        let w = World::new(db);
        let label = w.db.label;
        let owner = w.student("ann");
        let (guest, job) = w.queue_clone(Some(owner), CopyMethod::FlashCopy);
        let row = w.guest(&guest);
        let mut conn = w.db.store.conn().unwrap();
        let plan = sagas::frozen_plan(&mut conn, &w.job(job), &row).unwrap();
        let older = [
            ProvisionStep::DirectoryEntry,
            ProvisionStep::DiskCopy,
            ProvisionStep::Tags,
        ];
        let before = w.now();
        for (i, step) in older.into_iter().enumerate() {
            step.run(&*w.zvm, &plan).unwrap();
            let recorded = jobs::Step {
                seq: i as i32 + 1,
                name: step.name().into(),
                status: StepStatus::Done,
                detail: None,
            };
            jobs::record_step(&mut conn, job, row.row.id, &recorded, before).unwrap();
        }
        drop(conn);

        w.advance(STALE_AFTER * 2);
        let after = w.now();
        w.worker().drain().unwrap();
        assert_eq!(w.job(job).status, JobStatus::Succeeded, "{label}");
        let granted = w.zvm.lans().unwrap()[0].granted.contains(&name(&guest));
        assert!(
            granted,
            "{label}: lan_grant, unknown to the older release, ran"
        );
        let starts: BTreeMap<_, _> = w.step_starts(job, &guest).into_iter().collect();
        let expected = BTreeMap::from([
            ("directory_entry".to_owned(), Some(before)),
            ("disk_copy".to_owned(), Some(before)),
            ("lan_grant".to_owned(), Some(after)),
            ("tags".to_owned(), Some(before)),
            ("ipl".to_owned(), Some(after)),
        ]);
        assert_eq!(starts, expected, "{label}");
    }
}

/// A saga runs on what was asked when it was queued: a guest's rows
/// changed in the meantime change nothing.
#[test]
fn a_saga_runs_on_the_parameters_frozen_when_it_was_queued() {
    for db in test_db::all() {
        let w = World::new(db);
        let label = w.db.label;
        let owner = w.student("ann");
        let (guest, job) = w.queue_clone(Some(owner), CopyMethod::Ddr);
        let row = w.guest(&guest);
        let mut conn = w.db.store.conn().unwrap();
        let off = GuestUpdate {
            auto_boot: Some(false),
            description: None,
        };
        guests::update(&mut conn, row.row.id, &off, w.now()).unwrap();
        drop(conn);
        w.worker().drain().unwrap();
        assert_eq!(w.job(job).status, JobStatus::Succeeded, "{label}");
        // Booted, as asked when queued with `auto_boot`.
        assert_eq!(w.guest(&guest).state(), GuestState::Starting, "{label}");
        let steps = w.steps(job, &guest);
        assert_eq!(steps.last().map(|s| s.0.as_str()), Some("ipl"), "{label}");
        let disk = w.zvm.disk_info(&DiskId::segment_of(&name(&guest))).unwrap();
        assert_eq!(disk.kind, herd_provisioner::backend::DiskKind::Full);
    }
}

/// Jobs an older release queued hold no frozen parameters (`{"method":…}`
/// for provisioning, `{}` for decommissioning): they still run, on the
/// guest's rows.
#[test]
fn jobs_queued_by_an_older_release_run_on_the_rows() {
    for db in test_db::all() {
        let w = World::new(db);
        let label = w.db.label;
        let owner = w.student("ann");
        let (guest, job) = w.queue_clone(Some(owner), CopyMethod::FlashCopy);
        let mut conn = w.db.store.conn().unwrap();
        jobs::set_params(&mut conn, job, r#"{"method":"ddr"}"#).unwrap();
        w.worker().drain().unwrap();
        assert_eq!(w.job(job).status, JobStatus::Succeeded, "{label}");
        let g = name(&guest);
        let disk = w.zvm.disk_info(&DiskId::segment_of(&g)).unwrap();
        assert_eq!(
            disk.kind,
            herd_provisioner::backend::DiskKind::Full,
            "{label}: DDR"
        );
        let tags = w.zvm.tags(&g).unwrap();
        assert_eq!(tags["OWNER"], "ann", "{label}");
        assert_eq!(w.guest(&guest).state(), GuestState::Starting, "{label}");

        let old = jobs::NewJob {
            kind: JobKind::Decommission,
            requested_by: None,
            target: Some(&guest),
            params: "{}",
            total: 1,
        };
        let old = jobs::create(&mut conn, &old, w.now()).unwrap();
        w.worker().drain().unwrap();
        assert_eq!(w.job(old).status, JobStatus::Succeeded, "{label}");
        assert_gone(&w, &guest, label);
    }
}
