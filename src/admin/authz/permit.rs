//! Unforgeable proof that a command was authorized, and the audit record that travels
//! with it. Fields are private and there is no public constructor: only `authz::decide`
//! makes these.

use std::sync::{Arc, Mutex};

use super::Actor;
use crate::audit::AuditEvent;
use crate::store::{Store, StoreError, WriteOp, WriteSummary};

/// The audit record of one admin request, filled in by the dispatcher. A handler's commit
/// takes it so that the change and its record are one transaction; whatever is left after
/// the handler returns, the dispatcher writes itself. Either way it is written once.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Option<AuditEvent>>>);

impl AuditSlot {
    #[must_use]
    pub fn new(event: AuditEvent) -> Self {
        Self(Arc::new(Mutex::new(Some(event))))
    }

    /// Takes the record if it has not been written yet.
    #[must_use]
    pub fn take(&self) -> Option<AuditEvent> {
        match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        }
    }

    fn annotate(&self, key: &str, value: serde_json::Value) {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(event) = guard.as_mut() {
            let mut detail: serde_json::Value =
                serde_json::from_str(&event.detail).unwrap_or_else(|_| serde_json::json!({}));
            if let Some(map) = detail.as_object_mut() {
                map.insert(key.to_string(), value);
            }
            event.detail = detail.to_string();
        }
    }

    fn put_back(&self, event: AuditEvent) {
        match self.0.lock() {
            Ok(mut g) => *g = Some(event),
            Err(p) => *p.into_inner() = Some(event),
        }
    }
}

#[derive(Debug)]
pub struct Permit {
    actor: Actor,
    audit: AuditSlot,
}

impl Permit {
    pub(super) fn new(actor: Actor, audit: AuditSlot) -> Self {
        Self { actor, audit }
    }

    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Adds a fact learned while handling (e.g. how many users a deletion removed) to the
    /// request's audit record, before it is written.
    pub fn annotate(&self, key: &str, value: serde_json::Value) {
        self.audit.annotate(key, value);
    }

    /// Commits `ops` together with this request's audit record, durably.
    ///
    /// # Errors
    /// The store's error; the audit record then stays with the dispatcher, which records
    /// the failure.
    pub async fn commit(
        &self,
        store: &Store,
        mut ops: Vec<WriteOp>,
    ) -> Result<WriteSummary, StoreError> {
        let event = self.audit.take();
        if let Some(e) = &event {
            ops.push(WriteOp::Audit(e.clone()));
        }
        match store.write(ops).await {
            Ok(s) => {
                if let Some(e) = &event {
                    e.log();
                }
                Ok(s)
            }
            Err(err) => {
                if let Some(e) = event {
                    self.audit.put_back(e);
                }
                Err(err)
            }
        }
    }
}

/// A command together with its permit.
#[derive(Debug)]
pub struct Authorized<C> {
    command: C,
    permit: Permit,
}

impl<C> Authorized<C> {
    pub(super) fn new(command: C, permit: Permit) -> Self {
        Self { command, permit }
    }

    #[must_use]
    pub fn command(&self) -> &C {
        &self.command
    }

    #[must_use]
    pub fn permit(&self) -> &Permit {
        &self.permit
    }

    /// Narrows the command (e.g. to its argument struct) while keeping the permit.
    pub fn map<D>(self, f: impl FnOnce(C) -> D) -> Authorized<D> {
        Authorized {
            command: f(self.command),
            permit: self.permit,
        }
    }

    #[must_use]
    pub fn into_parts(self) -> (C, Permit) {
        (self.command, self.permit)
    }
}
