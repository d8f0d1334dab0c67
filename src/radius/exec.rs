//! Where a request runs: the execution policy every transport shares.
//!
//! Password hashes (sha512-crypt, argon2id) cost milliseconds of pure CPU. Running them
//! on the reactor threads would stall every other request, so they run on long-lived CPU
//! threads fed by a bounded queue. A transport hands each request to [`Exec::start`],
//! which polls it once in place: most requests (Status-Server, salted-SHA logins,
//! duplicates, accounting that waits for its commit) finish there or wait for I/O and are
//! spawned. A request that stops at CPU work ([`Exec::cpu`]) moves to a CPU thread
//! *whole*: the thread polls it again, the hash runs right there, and so does the rest
//! of the request (audit record, reply, send) without waking a reactor thread. At a few
//! thousand requests a second that wake-up, not the work, was most of the cost around
//! each hash. A request that must wait for something else on a CPU thread goes to the
//! runtime.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

/// Requests waiting for a CPU thread; senders wait (asynchronously) beyond it.
const QUEUE: usize = 4096;

/// A request as a transport hands it over: the whole work of one datagram or frame,
/// reply included.
pub type Request = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

enum Job {
    /// Work asked for from code that cannot move (a spawned task), answered by the
    /// closure itself over its channel.
    Run(Box<dyn FnOnce() + Send>),
    Request(Request),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job(<redacted>)")
    }
}

#[derive(Debug)]
pub struct Exec {
    tx: mpsc::Sender<Job>,
    /// Requests can move here only when the CPU threads can hand them on to a runtime.
    accepts_requests: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handoff {
    /// The code polling here cannot move the request.
    Unavailable,
    /// [`Exec::start`] is polling a request and can move it to a CPU thread.
    Offered,
    /// The request stopped at CPU work and asks to be moved.
    Wanted,
}

thread_local! {
    static ON_CPU_THREAD: Cell<bool> = const { Cell::new(false) };
    static HANDOFF: Cell<Handoff> = const { Cell::new(Handoff::Unavailable) };
}

/// Polls `request` once on this thread, offering to move it to a CPU thread. Returns the
/// request when it is still pending, and whether it asked to move.
///
/// A request that panics is dropped (with whatever it holds, such as its in-flight
/// permit) and logged: the caller is a transport's receive loop, which must outlive any
/// one request.
fn poll_offering_handoff(mut request: Request) -> Option<(Request, bool)> {
    HANDOFF.with(|h| h.set(Handoff::Offered));
    let mut cx = Context::from_waker(Waker::noop());
    let polled = catch_unwind(AssertUnwindSafe(|| request.as_mut().poll(&mut cx)));
    // Reset whatever happened, so no later poll on this thread believes it can move.
    let wanted = HANDOFF.with(|h| h.replace(Handoff::Unavailable)) == Handoff::Wanted;
    match polled {
        Ok(Poll::Ready(())) => None,
        Ok(Poll::Pending) => Some((request, wanted)),
        Err(_) => {
            tracing::error!("a request panicked; it was dropped");
            None
        }
    }
}

/// Pending once if the poller can move the request (and asks it to), ready otherwise.
struct MoveToCpuThread {
    asked: bool,
}

impl Future for MoveToCpuThread {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.asked {
            return Poll::Ready(());
        }
        let offered = HANDOFF.with(|h| {
            let offered = h.get() == Handoff::Offered;
            if offered {
                h.set(Handoff::Wanted);
            }
            offered
        });
        if offered {
            // No waker is kept: the poller moves the request and polls it again.
            self.asked = true;
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

fn cpu_thread(rx: &Mutex<mpsc::Receiver<Job>>, runtime: Option<&Handle>) {
    ON_CPU_THREAD.with(|t| t.set(true));
    // Requests polled here may touch the runtime's timers and sockets.
    let _entered = runtime.map(Handle::enter);
    loop {
        // The lock is held only while waiting for a job, never while working.
        let job = match rx.lock() {
            Ok(mut r) => r.blocking_recv(),
            Err(_) => None,
        };
        match job {
            None => break,
            Some(Job::Run(work)) => {
                if catch_unwind(AssertUnwindSafe(work)).is_err() {
                    tracing::error!("work on a CPU thread panicked");
                }
            }
            Some(Job::Request(mut request)) => {
                let mut cx = Context::from_waker(Waker::noop());
                match catch_unwind(AssertUnwindSafe(|| request.as_mut().poll(&mut cx))) {
                    Ok(Poll::Ready(())) => {}
                    // Waiting for something else: the runtime takes it from here (its
                    // first poll registers a real waker).
                    Ok(Poll::Pending) => match runtime {
                        Some(handle) => drop(handle.spawn(request)),
                        None => tracing::error!("a moved request could not be resumed"),
                    },
                    Err(_) => tracing::error!("a request panicked on a CPU thread"),
                }
            }
        }
    }
}

impl Exec {
    /// `workers == 0` means one per available CPU. Made inside a tokio runtime, the
    /// threads also take whole requests (see the module documentation).
    #[must_use]
    pub fn new(workers: usize) -> Self {
        let n = if workers == 0 {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        } else {
            workers
        };
        let runtime = Handle::try_current().ok();
        let (tx, rx) = mpsc::channel::<Job>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..n {
            let rx = Arc::clone(&rx);
            let runtime = runtime.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cpu-{i}"))
                .spawn(move || cpu_thread(&rx, runtime.as_ref()));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a CPU thread"),
            }
        }
        Self {
            tx,
            accepts_requests: runtime.is_some() && started > 0,
        }
    }

    /// Runs a request a transport received: polled once here, then moved to a CPU thread
    /// when it stopped at CPU work, or spawned on the runtime when it waits for anything
    /// else. Must be called from within the runtime.
    pub fn start(&self, request: Request) {
        let Some((request, wants_cpu_thread)) = poll_offering_handoff(request) else {
            return;
        };
        let request = if wants_cpu_thread && self.accepts_requests {
            match self.tx.try_send(Job::Request(request)) {
                Ok(()) => return,
                Err(
                    mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job),
                ) => match job {
                    Job::Request(r) => r,
                    // Only requests are sent here.
                    Job::Run(_) => return,
                },
            }
        } else {
            request
        };
        // Spawned tasks are polled at once with a real waker; one that now runs CPU work
        // queues it as a job (see `cpu`).
        tokio::spawn(request);
    }

    /// Runs `work` on a CPU thread: the calling request moves there when its poller can
    /// move it, and otherwise the work is queued and awaited. `fresh` is asked just
    /// before the work starts; when it says the request has gone stale (waited beyond
    /// what its client waits for a reply) the work is skipped and `None` returned.
    pub async fn cpu<T, W, F>(&self, work: W, fresh: F) -> Option<T>
    where
        T: Send + 'static,
        W: FnOnce() -> T + Send + 'static,
        F: Fn() -> bool + Send + 'static,
    {
        if self.accepts_requests {
            MoveToCpuThread { asked: false }.await;
        }
        if ON_CPU_THREAD.with(Cell::get) {
            return fresh().then(work);
        }
        // Boxed: most requests never get here, and what a request awaits is part of the
        // future every request allocates.
        Box::pin(self.queue(work, fresh)).await
    }

    async fn queue<T, W, F>(&self, work: W, fresh: F) -> Option<T>
    where
        T: Send + 'static,
        W: FnOnce() -> T + Send + 'static,
        F: Fn() -> bool + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Job::Run(Box::new(move || {
            let _ = reply.send(fresh().then(work));
        }));
        if self.tx.send(job).await.is_err() {
            tracing::error!("the CPU threads are gone");
            return None;
        }
        rx.await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::password;

    const SHA512: &str = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

    fn check(pw: &'static [u8]) -> impl FnOnce() -> bool + Send + 'static {
        move || password::verify(SHA512, pw).is_match()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_that_stops_at_cpu_work_moves_to_a_cpu_thread_and_finishes_there() {
        let exec = Arc::new(Exec::new(1));
        let (done, finished) = oneshot::channel();
        let e = Arc::clone(&exec);
        let request: Request = Box::pin(async move {
            let ok = e.cpu(check(b"secret"), || true).await;
            let _ = done.send((ok, ON_CPU_THREAD.with(Cell::get)));
        });
        let (request, wanted) = poll_offering_handoff(request).expect("stops at the hash");
        assert!(wanted);
        assert!(exec.tx.try_send(Job::Request(request)).is_ok());
        assert_eq!(finished.await.unwrap(), (Some(true), true));
    }

    #[test]
    fn a_request_that_panics_is_dropped_and_leaves_no_offer_behind() {
        let request: Request = Box::pin(async { panic!("boom") });
        assert!(poll_offering_handoff(request).is_none());
        assert_eq!(HANDOFF.with(Cell::get), Handoff::Unavailable);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_an_offer_the_work_is_queued_and_awaited() {
        let exec = Exec::new(1);
        assert_eq!(exec.cpu(check(b"wrong"), || true).await, Some(false));
        assert_eq!(exec.cpu(check(b"secret"), || true).await, Some(true));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_work_is_skipped() {
        let exec = Exec::new(1);
        assert_eq!(exec.cpu(check(b"secret"), || false).await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_moved_request_that_waits_again_is_resumed_by_the_runtime() {
        let exec = Arc::new(Exec::new(1));
        let (go, wait) = oneshot::channel::<()>();
        let (done, finished) = oneshot::channel();
        let e = Arc::clone(&exec);
        let request: Request = Box::pin(async move {
            let ok = e.cpu(check(b"secret"), || true).await;
            let _ = wait.await;
            let _ = done.send(ok);
        });
        exec.start(request);
        go.send(()).unwrap();
        assert_eq!(finished.await.unwrap(), Some(true));
    }
}
