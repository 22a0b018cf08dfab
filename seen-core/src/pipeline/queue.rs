//! The work queue of the CPU workers: bounded, prioritised (thumbnails of
//! new files before previews), cancellable per scan.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::tracker::Tracker;
use super::{DerivedJob, FileJob};

/// A unit of CPU work.
pub(crate) enum Job {
    /// Read, hash, describe and thumbnail a file.
    Ingest(FileJob),
    /// Make (or finish) the derived images of a file.
    Derived(DerivedJob),
}

struct State {
    ingest: VecDeque<FileJob>,
    /// Previews with their pixels already decoded (memory-bounded).
    parked: VecDeque<DerivedJob>,
    /// Derived work that re-reads its file.
    deferred: VecDeque<DerivedJob>,
    closed: bool,
}

/// The queue shared by discovery, the watcher and the workers.
pub(crate) struct Scheduler {
    state: Mutex<State>,
    has_work: Condvar,
    has_room: Condvar,
    ingest_capacity: usize,
    /// Bytes the pictures of parked previews may hold.
    parking_budget: usize,
    parked_bytes: AtomicUsize,
}

impl Scheduler {
    pub(crate) fn new(ingest_capacity: usize, parking_budget: usize) -> Scheduler {
        Scheduler {
            state: Mutex::new(State {
                ingest: VecDeque::new(),
                parked: VecDeque::new(),
                deferred: VecDeque::new(),
                closed: false,
            }),
            has_work: Condvar::new(),
            has_room: Condvar::new(),
            ingest_capacity: ingest_capacity.max(1),
            parking_budget,
            parked_bytes: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue a file, waiting while the queue is full (backpressure on the
    /// walker). When the queue is closed or the scan was cancelled meanwhile
    /// the job is dropped (its unit ended) and `false` returned.
    pub(crate) fn push_ingest(&self, job: FileJob) -> bool {
        let mut s = self.lock();
        while s.ingest.len() >= self.ingest_capacity && !s.closed && !job.tracker.is_cancelled() {
            s = self.has_room.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if s.closed || job.tracker.is_cancelled() {
            drop(s);
            job.tracker.end();
            return false;
        }
        s.ingest.push_back(job);
        drop(s);
        self.has_work.notify_one();
        true
    }

    /// Queue derived work (never blocks: its memory is bounded by
    /// [`Scheduler::reserve_parking`]). When closed, the job is dropped (its
    /// parked picture released, its unit ended).
    pub(crate) fn push_derived(&self, job: DerivedJob) {
        let mut s = self.lock();
        if s.closed {
            drop(s);
            self.release_parking(job.parked_bytes());
            job.tracker.end();
            return;
        }
        if job.parked.is_some() {
            s.parked.push_back(job);
        } else {
            s.deferred.push_back(job);
        }
        drop(s);
        self.has_work.notify_one();
    }

    /// Reserve `bytes` for a decoded preview waiting in memory; `false`
    /// when the budget has no room (the preview will be made later from
    /// the file).
    pub(crate) fn reserve_parking(&self, bytes: usize) -> bool {
        self.parked_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n + bytes <= self.parking_budget).then_some(n + bytes)
            })
            .is_ok()
    }

    /// Give back `bytes` reserved with [`Scheduler::reserve_parking`].
    pub(crate) fn release_parking(&self, bytes: usize) {
        if bytes > 0 {
            self.parked_bytes.fetch_sub(bytes, Ordering::AcqRel);
        }
    }

    /// The next job, in priority order; `None` once closed.
    pub(crate) fn pop(&self) -> Option<Job> {
        let mut s = self.lock();
        loop {
            if s.closed {
                return None;
            }
            if let Some(j) = s.ingest.pop_front() {
                drop(s);
                self.has_room.notify_one();
                return Some(Job::Ingest(j));
            }
            if let Some(j) = s.parked.pop_front() {
                return Some(Job::Derived(j));
            }
            if let Some(j) = s.deferred.pop_front() {
                return Some(Job::Derived(j));
            }
            s = self.has_work.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Drop every queued job of `tracker` (a paused or cancelled scan).
    pub(crate) fn cancel(&self, tracker: &Arc<Tracker>) {
        let mut s = self.lock();
        let mut dropped = 0;
        s.ingest.retain(|j| {
            let keep = !Arc::ptr_eq(&j.tracker, tracker);
            dropped += usize::from(!keep);
            keep
        });
        let mut released = 0;
        let st = &mut *s;
        for q in [&mut st.parked, &mut st.deferred] {
            q.retain(|j| {
                let keep = !Arc::ptr_eq(&j.tracker, tracker);
                if !keep {
                    dropped += 1;
                    released += j.parked_bytes();
                }
                keep
            });
        }
        drop(s);
        self.release_parking(released);
        for _ in 0..dropped {
            tracker.end();
        }
        self.has_room.notify_all();
    }

    /// Queue depths: (ingest, previews waiting in memory, deferred derived work).
    pub(crate) fn depths(&self) -> (usize, usize, usize) {
        let s = self.lock();
        (s.ingest.len(), s.parked.len(), s.deferred.len())
    }

    /// Stop handing out work; queued jobs are dropped.
    pub(crate) fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        let st = &mut *s;
        let mut jobs: Vec<Arc<Tracker>> = st.ingest.drain(..).map(|j| j.tracker).collect();
        let mut released = 0;
        for j in st.parked.drain(..).chain(st.deferred.drain(..)) {
            released += j.parked_bytes();
            jobs.push(j.tracker);
        }
        drop(s);
        self.release_parking(released);
        for t in jobs {
            t.end();
        }
        self.has_work.notify_all();
        self.has_room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::Scheduler;

    #[test]
    fn parking_holds_to_its_byte_budget() {
        let sched = Scheduler::new(1, 100);
        assert!(sched.reserve_parking(60));
        assert!(!sched.reserve_parking(50), "60 + 50 is over 100");
        assert!(sched.reserve_parking(40), "60 + 40 fits exactly");
        sched.release_parking(60);
        assert!(sched.reserve_parking(50));
        assert!(!sched.reserve_parking(11));
        sched.release_parking(90);
        assert!(sched.reserve_parking(100));
    }
}
