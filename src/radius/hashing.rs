//! Password verification on dedicated threads, one per CPU.
//!
//! sha512-crypt and argon2id cost milliseconds of pure CPU. Running them on the reactor
//! threads would stall every other request, so they run on long-lived hash threads fed by
//! a bounded queue. Cheap salted-SHA checks skip the queue entirely.
//!
//! A request that needs a slow hash moves to a hash thread whole: the receive loop polls
//! each request once in place, and when the request stops at a slow hash (see
//! [`HashPool::check`]) it is queued here as a future instead of being spawned. The hash
//! thread polls it again: the hash runs right there, and so does the rest of the request
//! (audit record, reply, send), without waking a reactor thread. At a few thousand
//! requests a second that wake-up, not the work, was most of the cost around each hash.
//! A request that must wait for something else on a hash thread goes to the runtime.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use crate::auth::password::{self, HashKind, Verification};

/// Requests waiting for a hash thread; senders wait (asynchronously) beyond it.
const QUEUE: usize = 4096;

/// A request moved to a hash thread, to be polled there.
pub type Request = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

enum Job {
    /// A verification asked for from elsewhere, answered over `reply`.
    Check {
        stored: String,
        password: Vec<u8>,
        rehash_legacy: bool,
        reply: oneshot::Sender<Checked>,
    },
    Request(Request),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job(<redacted>)")
    }
}

#[derive(Debug)]
pub struct HashPool {
    tx: mpsc::Sender<Job>,
    /// Requests can move here only when the hash threads can hand them on to a runtime.
    accepts_requests: bool,
}

/// A verification and, for a legacy hash that matched, its argon2id replacement.
#[derive(Debug)]
pub struct Checked {
    pub verification: Verification,
    pub rehash: Option<String>,
}

fn work(stored: &str, password: &[u8], rehash_legacy: bool) -> Checked {
    let verification = password::verify(stored, password);
    let rehash = match verification {
        Verification::Match { kind } if rehash_legacy && kind != HashKind::Argon2id => {
            password::hash_password(password).ok()
        }
        _ => None,
    };
    Checked {
        verification,
        rehash,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handoff {
    /// The code polling here cannot move the request.
    Unavailable,
    /// The receive loop is polling a request and can move it to a hash thread.
    Offered,
    /// The request stopped at a slow hash and asks to be moved.
    Wanted,
}

thread_local! {
    static ON_HASH_THREAD: Cell<bool> = const { Cell::new(false) };
    static HANDOFF: Cell<Handoff> = const { Cell::new(Handoff::Unavailable) };
}

/// Polls `request` once on this thread, offering to move it to a hash thread. Returns
/// the request when it is still pending, and whether it asked to move.
///
/// A request that panics is dropped (with its in-flight permit) and logged: the caller is
/// a socket's receive loop, which must outlive any one request.
pub fn poll_offering_handoff(mut request: Request) -> Option<(Request, bool)> {
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
struct MoveToHashThread {
    asked: bool,
}

impl Future for MoveToHashThread {
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

fn hash_thread(rx: &Mutex<mpsc::Receiver<Job>>, runtime: Option<&Handle>) {
    ON_HASH_THREAD.with(|t| t.set(true));
    // Requests polled here may touch the runtime's timers and sockets.
    let _entered = runtime.map(Handle::enter);
    loop {
        // The lock is held only while waiting for a job, never while hashing.
        let job = match rx.lock() {
            Ok(mut r) => r.blocking_recv(),
            Err(_) => None,
        };
        match job {
            None => break,
            Some(Job::Check {
                stored,
                password,
                rehash_legacy,
                reply,
            }) => {
                let _ = reply.send(work(&stored, &password, rehash_legacy));
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
                    Err(_) => tracing::error!("a request panicked on a hash thread"),
                }
            }
        }
    }
}

impl HashPool {
    /// `workers == 0` means one per available CPU. Made inside a tokio runtime, the pool
    /// also takes whole requests (see the module documentation).
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
                .name(format!("hash-{i}"))
                .spawn(move || hash_thread(&rx, runtime.as_ref()));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a password hashing thread"),
            }
        }
        Self {
            tx,
            accepts_requests: runtime.is_some() && started > 0,
        }
    }

    /// Queues a request that asked to move here; gives it back when it cannot be taken
    /// (queue full, or no runtime to resume it in), for the caller to spawn.
    ///
    /// # Errors
    /// The request, untouched.
    pub fn submit(&self, request: Request) -> Result<(), Request> {
        if !self.accepts_requests {
            return Err(request);
        }
        self.tx
            .try_send(Job::Request(request))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(Job::Request(r))
                | mpsc::error::TrySendError::Closed(Job::Request(r)) => r,
                // Only requests are sent here.
                mpsc::error::TrySendError::Full(Job::Check { .. })
                | mpsc::error::TrySendError::Closed(Job::Check { .. }) => {
                    Box::pin(std::future::ready(()))
                }
            })
    }

    /// Verifies `password` against `stored`; computes the argon2id rehash in the same job
    /// when asked and the stored hash is a legacy kind.
    pub async fn check(&self, stored: String, password: Vec<u8>, rehash_legacy: bool) -> Checked {
        // Salted SHA costs about a microsecond: queueing it would cost more than the hash.
        // (A rehash to argon2id is slow, so it still goes to the threads.)
        if password::is_cheap(&stored) && !rehash_legacy {
            return work(&stored, &password, false);
        }
        if self.accepts_requests {
            MoveToHashThread { asked: false }.await;
        }
        if ON_HASH_THREAD.with(Cell::get) {
            return work(&stored, &password, rehash_legacy);
        }
        // Boxed: most requests never get here, and what a request awaits is part of the
        // future every request allocates.
        Box::pin(self.queue_check(stored, password, rehash_legacy)).await
    }

    async fn queue_check(&self, stored: String, password: Vec<u8>, rehash_legacy: bool) -> Checked {
        let (reply, rx) = oneshot::channel();
        let job = Job::Check {
            stored,
            password,
            rehash_legacy,
            reply,
        };
        if self.tx.send(job).await.is_err() {
            tracing::error!("password hashing threads are gone");
            return Checked {
                verification: Verification::Mismatch,
                rehash: None,
            };
        }
        rx.await.unwrap_or(Checked {
            verification: Verification::Mismatch,
            rehash: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512: &str = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_that_stops_at_a_slow_hash_moves_to_a_hash_thread_and_finishes_there() {
        let pool = Arc::new(HashPool::new(1));
        let (done, finished) = oneshot::channel();
        let p = Arc::clone(&pool);
        let request: Request = Box::pin(async move {
            let checked = p.check(SHA512.into(), b"secret".to_vec(), false).await;
            let _ = done.send((
                checked.verification.is_match(),
                ON_HASH_THREAD.with(Cell::get),
            ));
        });
        let (request, wanted) = poll_offering_handoff(request).expect("stops at the hash");
        assert!(wanted);
        assert!(pool.submit(request).is_ok());
        assert_eq!(finished.await.unwrap(), (true, true));
    }

    #[test]
    fn a_request_that_panics_is_dropped_and_leaves_no_offer_behind() {
        let request: Request = Box::pin(async { panic!("boom") });
        assert!(poll_offering_handoff(request).is_none());
        assert_eq!(HANDOFF.with(Cell::get), Handoff::Unavailable);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_an_offer_the_hash_is_queued_and_awaited() {
        let pool = HashPool::new(1);
        let checked = pool.check(SHA512.into(), b"wrong".to_vec(), false).await;
        assert!(!checked.verification.is_match());
        let checked = pool.check(SHA512.into(), b"secret".to_vec(), false).await;
        assert!(checked.verification.is_match());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_moved_request_that_waits_again_is_resumed_by_the_runtime() {
        let pool = Arc::new(HashPool::new(1));
        let (go, wait) = oneshot::channel::<()>();
        let (done, finished) = oneshot::channel();
        let p = Arc::clone(&pool);
        let request: Request = Box::pin(async move {
            let checked = p.check(SHA512.into(), b"secret".to_vec(), false).await;
            let _ = wait.await;
            let _ = done.send(checked.verification.is_match());
        });
        let (request, wanted) = poll_offering_handoff(request).expect("stops at the hash");
        assert!(wanted);
        assert!(pool.submit(request).is_ok());
        go.send(()).unwrap();
        assert!(finished.await.unwrap());
    }
}
