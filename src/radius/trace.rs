//! Live decision traces (`gatehousectl radius trace`): the request path publishes the
//! steps of each Access-Request while somebody listens, and nothing otherwise (one atomic
//! load per request). Events carry no secret: no password, no shared secret, no
//! attribute values but the reply's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::policy::explain::Step;

/// Events a slow listener may fall behind by before it misses some.
const BACKLOG: usize = 1024;

/// One Access-Request's decision, step by step.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEvent {
    pub at: i64,
    pub client: String,
    pub site: String,
    /// The User-Name as sent (cut to 253 characters).
    pub user_name: String,
    /// The user it named: (domain, name, canonical OU).
    #[serde(skip)]
    pub user: Option<(String, String, Option<String>)>,
    pub steps: Vec<Step>,
    pub outcome: &'static str,
    pub reason: &'static str,
    pub reply: Vec<String>,
}

#[derive(Debug)]
pub struct Tracer {
    tx: broadcast::Sender<Arc<TraceEvent>>,
    listeners: Arc<AtomicUsize>,
}

impl Default for Tracer {
    fn default() -> Self {
        Tracer {
            tx: broadcast::channel(BACKLOG).0,
            listeners: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// A subscription; the tracer goes quiet when the last one is dropped.
#[derive(Debug)]
pub struct Listening {
    pub rx: broadcast::Receiver<Arc<TraceEvent>>,
    listeners: Arc<AtomicUsize>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.listeners.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Tracer {
    /// Whether anybody listens: the request path builds events only then.
    #[must_use]
    pub fn active(&self) -> bool {
        self.listeners.load(Ordering::Relaxed) > 0
    }

    #[must_use]
    pub fn listen(&self) -> Listening {
        self.listeners.fetch_add(1, Ordering::Relaxed);
        Listening {
            rx: self.tx.subscribe(),
            listeners: Arc::clone(&self.listeners),
        }
    }

    pub fn publish(&self, event: TraceEvent) {
        // No receiver (the last one just left) is not an error.
        let _ = self.tx.send(Arc::new(event));
    }
}
