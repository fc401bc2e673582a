//! The reset saga (SPEC §8) cut at every step, on both databases: a
//! failure leaves the guest with the segment it had, running again; a
//! crash after any step is resumed by another worker and ends as an
//! uninterrupted reset does, no step done twice.

mod common;

use std::time::Duration;

use common::world::{World, STALE_AFTER};
use herd_core::domain::{GuestName, GuestState, JobStatus};
use herd_core::store::test_db;
use herd_provisioner::backend::{CopyMethod, DiskId, PowerState, Runtime, Storage};
use herd_provisioner::reset::{self, Ask};
use herd_provisioner::saga::Injection;
use herd_provisioner::worker::Worker;

const MARK_AT: u64 = 8192;
const MARK: &[u8] = b"the student's work";

/// A running guest of a student, with work of theirs in its segment, and
/// its reset queued: the guest and the job.
fn reset_queued(w: &World) -> (GuestName, i64) {
    let owner = w.student("ann");
    let (guest, job) = w.queue_clone(Some(owner), CopyMethod::FlashCopy);
    let name: GuestName = guest.parse().unwrap();
    let worker = w.worker();
    until(w, &worker, "the guest runs", || {
        w.guest(&guest).state() == GuestState::Running
    });
    assert_eq!(w.job(job).status, JobStatus::Succeeded);
    w.zvm
        .write_disk(&DiskId::segment_of(&name), MARK_AT, MARK)
        .unwrap();
    let ask = Ask {
        new_host_key: false,
        method: CopyMethod::FlashCopy,
        halt_timeout_ms: 120_000,
        keep_ms: 7 * 86_400_000,
    };
    let mut conn = w.db.store.conn().unwrap();
    let job = reset::queue(&mut conn, &w.guest(&guest), ask, owner, w.now()).unwrap();
    (name, job)
}

/// A world with a reset queued (see [`reset_queued`]) and a worker that
/// will run it as `injection` says; the guest's host key region too.
fn cut(db: test_db::TestDb, injection: Injection) -> (World, GuestName, i64, Worker, Vec<u8>) {
    let w = World::new(db);
    let (name, job) = reset_queued(&w);
    let key = host_key_region(&w, &DiskId::segment_of(&name));
    let mut worker = w.worker();
    worker.inject(injection);
    (w, name, job, worker, key)
}

/// Ticks `worker` (a few simulated seconds apart) until `done`.
fn until(w: &World, worker: &Worker, what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        let _ = worker.tick();
        if done() {
            return;
        }
        w.advance(Duration::from_secs(5));
    }
    panic!("never: {what}");
}

/// A reset's steps, in order, when it keeps the host key.
const STEPS: [&str; 5] = [
    "halt",
    "drop_kept_segment",
    "keep_segment",
    "fresh_segment",
    "carry_host_key",
];

fn read(w: &World, disk: &DiskId) -> Option<Vec<u8>> {
    w.zvm.read_disk(disk, MARK_AT, MARK.len()).ok()
}

fn host_key_region(w: &World, disk: &DiskId) -> Vec<u8> {
    let size = w.zvm.disk_info(disk).unwrap().size;
    w.zvm.read_disk(disk, size - 4096, 4096).unwrap()
}

/// What a finished reset must leave: the fresh segment without the
/// student's work and with the guest's key, the old one kept, the guest
/// running again.
fn assert_reset(w: &World, name: &GuestName, key: &[u8], label: &str) {
    let (segment, kept) = (DiskId::segment_of(name), DiskId::kept_segment_of(name));
    assert_ne!(
        read(w, &segment).as_deref(),
        Some(MARK),
        "{label}: old bytes"
    );
    assert_eq!(read(w, &kept).as_deref(), Some(MARK), "{label}: not kept");
    assert_eq!(
        host_key_region(w, &segment),
        key,
        "{label}: key not carried"
    );
    let g = w.guest(name.as_str());
    assert!(g.row.reset_undo_until.is_some(), "{label}");
    assert_eq!(g.state(), GuestState::Running, "{label}");
}

#[test]
fn a_reset_failing_at_any_step_leaves_the_guest_as_it_was() {
    for step in STEPS {
        for db in test_db::all() {
            let injection = Injection {
                fail_at: Some(step),
                stop_after: None,
            };
            let (w, name, job, failing, key) = cut(db, injection);
            let label = format!("{step} / {}", w.db.label);
            until(&w, &failing, "the reset ends", || {
                w.job(job).status.is_finished()
            });
            assert_eq!(w.job(job).status, JobStatus::Failed, "{label}");
            let segment = DiskId::segment_of(&name);
            assert_eq!(read(&w, &segment).as_deref(), Some(MARK), "{label}");
            assert_eq!(host_key_region(&w, &segment), key, "{label}");
            let kept = w.zvm.disk_info(&DiskId::kept_segment_of(&name));
            assert!(kept.is_err(), "{label}: a kept segment is left");
            assert_eq!(w.guest(name.as_str()).row.reset_undo_until, None);
            let worker = w.worker();
            until(&w, &worker, "the guest runs again", || {
                w.guest(name.as_str()).state() == GuestState::Running
            });
            let power = w.zvm.status(&name).unwrap().power;
            assert!(matches!(power, PowerState::Running { .. }), "{label}");
        }
    }
}

#[test]
fn a_reset_cut_after_any_step_resumes_and_ends_as_an_uninterrupted_one() {
    for step in STEPS {
        for db in test_db::all() {
            let injection = Injection {
                fail_at: None,
                stop_after: Some(step),
            };
            let (w, name, job, dying, key) = cut(db, injection);
            let label = format!("{step} / {}", w.db.label);
            until(&w, &dying, "the step is done", || {
                w.steps(job, name.as_str())
                    .iter()
                    .any(|(s, status)| s == step && *status == "done")
            });
            // As a crash leaves it: nothing after the step ran.
            let steps = w.steps(job, name.as_str());
            assert_eq!(steps.last().map(|(s, _)| s.as_str()), Some(step), "{label}");
            assert_eq!(w.job(job).status, JobStatus::Running, "{label}");
            let first_starts = w.step_starts(job, name.as_str());

            w.advance(STALE_AFTER * 2);
            let resumed = w.worker();
            until(&w, &resumed, "the resumed reset ends", || {
                w.job(job).status.is_finished()
            });
            assert_eq!(w.job(job).status, JobStatus::Succeeded, "{label}");
            let starts = w.step_starts(job, name.as_str());
            for (done, at) in &first_starts {
                let again = starts.iter().find(|(s, _)| s == done).map(|(_, t)| *t);
                assert_eq!(again, Some(*at), "{label}: {done} ran again");
            }
            until(&w, &resumed, "the guest runs again", || {
                w.guest(name.as_str()).state() == GuestState::Running
            });
            assert_reset(&w, &name, &key, &label);
            let names: Vec<_> = starts.iter().map(|(s, _)| s.as_str()).collect();
            assert_eq!(names, STEPS, "{label}");
        }
    }
}
