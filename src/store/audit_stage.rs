//! Audit records of authentication decisions, staged for the writer without allocating.
//!
//! Every RADIUS decision is audited. Sent to the writer one by one, each record cost four
//! strings, a job, a channel message, and their frees on another thread: about as much
//! as the rest of a salted-SHA login. Instead the request path appends the record's
//! fields to one shared buffer (a short lock and a copy) and the writer takes the whole
//! buffer when it commits, reading the records in place. A record staged on an empty
//! buffer rings the writer's doorbell (an empty job), so a staged record never waits for
//! unrelated traffic; under load the buffer is rarely empty and the doorbell rarely rings.

use std::fmt::Write as _;
use std::sync::Mutex;

use crate::audit::chain::EventFields;
use crate::audit::{EventKind, Outcome, TagFields};

/// Beyond this many staged bytes the request path falls back to the writer's queue, whose
/// bounded capacity pushes back on a writer that cannot keep up.
pub(crate) const STAGE_LIMIT: usize = 8 << 20;

/// Staged bytes (a few hundred records) worth a commit without the writer lingering
/// longer: busy-time commits stay small (one of thousands of rows takes the writer long
/// enough to delay replies), and quiet-time commits gather many records.
pub(crate) const STAGED_ENOUGH: usize = 64 << 10;

/// An audit record about to be staged, borrowing everything but the detail, which is
/// formatted straight into the stage.
#[derive(Debug, Clone, Copy)]
pub struct StagedRecord<'a> {
    pub time_micros: i64,
    pub kind: EventKind,
    pub actor: &'a str,
    pub operation: &'a str,
    pub target: &'a str,
    pub outcome: Outcome,
    pub tags: TagFields<'a>,
}

impl StagedRecord<'_> {
    /// Sends the record to the log as structured fields, as [`AuditEvent::log`] does.
    ///
    /// [`AuditEvent::log`]: crate::audit::AuditEvent::log
    pub fn log(&self, detail: &dyn std::fmt::Display) {
        crate::audit::event::log_fields(
            self.kind,
            self.actor,
            self.operation,
            self.target,
            self.outcome,
            detail,
        );
    }
}

/// What [`AuditStage::stage`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Staged {
    /// Staged on an empty stage: the writer must be told.
    First,
    /// Staged behind records the writer has already been told about.
    Behind,
    /// Staged behind others, and now there are enough for a commit: the writer should
    /// stop lingering.
    Enough,
    /// Not staged: the stage is full.
    Full,
}

#[derive(Debug, Default)]
pub(crate) struct AuditStage {
    bytes: Mutex<Vec<u8>>,
    /// Set when records were put back after a failed commit: the next record staged
    /// rings the doorbell even though the stage is not empty.
    ring_next: std::sync::atomic::AtomicBool,
}

impl AuditStage {
    pub(crate) fn stage(&self, rec: &StagedRecord<'_>, detail: std::fmt::Arguments<'_>) -> Staged {
        let mut bytes = match self.bytes.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        if bytes.len() >= STAGE_LIMIT {
            return Staged::Full;
        }
        let before = bytes.len();
        encode(&mut bytes, rec, detail);
        if before == 0
            || self
                .ring_next
                .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            Staged::First
        } else if before < STAGED_ENOUGH && bytes.len() >= STAGED_ENOUGH {
            Staged::Enough
        } else {
            Staged::Behind
        }
    }

    pub(crate) fn staged_bytes(&self) -> usize {
        self.bytes.lock().map_or(0, |b| b.len())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.lock().map_or(true, |b| b.is_empty())
    }

    /// Puts records taken by [`take`](Self::take) back in front of any staged since.
    pub(crate) fn put_back(&self, mut taken: Vec<u8>) {
        if taken.is_empty() {
            return;
        }
        let mut bytes = match self.bytes.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        taken.extend_from_slice(&bytes);
        *bytes = taken;
        self.ring_next
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes everything staged, leaving `spare` (cleared) in its place.
    pub(crate) fn take(&self, mut spare: Vec<u8>) -> Vec<u8> {
        spare.clear();
        let mut bytes = match self.bytes.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        std::mem::replace(&mut *bytes, spare)
    }
}

/// Strings longer than this are cut (no staged field comes near it).
const MAX_FIELD: usize = (u32::MAX - 1) as usize;
/// The length that marks an absent optional string.
const ABSENT: u32 = u32::MAX;

fn put_str(out: &mut Vec<u8>, s: &str) {
    let s = s.as_bytes().get(..MAX_FIELD).unwrap_or(s.as_bytes());
    let len = u32::try_from(s.len()).unwrap_or(0);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s);
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.extend_from_slice(&ABSENT.to_le_bytes()),
    }
}

/// Layout: time (i64), kind (u8), outcome (u8), then actor, operation and target, each as
/// a u32 length and its bytes; the tags (admin id as a presence byte and an i64, the text
/// tags as lengths and bytes, `u32::MAX` for absent); then the detail (all little-endian).
fn encode(out: &mut Vec<u8>, rec: &StagedRecord<'_>, detail: std::fmt::Arguments<'_>) {
    out.extend_from_slice(&rec.time_micros.to_le_bytes());
    out.push(kind_code(rec.kind));
    out.push(outcome_code(rec.outcome));
    put_str(out, rec.actor);
    put_str(out, rec.operation);
    put_str(out, rec.target);
    match rec.tags.admin_id {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.to_le_bytes());
        }
        None => out.push(0),
    }
    for tag in rec.tags.texts() {
        put_opt(out, tag);
    }
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut text = Utf8Sink(out);
    let _ = text.write_fmt(detail);
    let len = u32::try_from(out.len() - at - 4).unwrap_or(u32::MAX);
    if let Some(slot) = out.get_mut(at..at + 4) {
        slot.copy_from_slice(&len.to_le_bytes());
    }
}

/// Lets `write!` append UTF-8 to a byte buffer.
struct Utf8Sink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Utf8Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn kind_code(kind: EventKind) -> u8 {
    match kind {
        EventKind::AdminRequest => 0,
        EventKind::AuthDecision => 1,
        EventKind::System => 2,
    }
}

fn kind_of(code: u8) -> Option<EventKind> {
    match code {
        0 => Some(EventKind::AdminRequest),
        1 => Some(EventKind::AuthDecision),
        2 => Some(EventKind::System),
        _ => None,
    }
}

fn outcome_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Allowed => 0,
        Outcome::Denied => 1,
        Outcome::Failed => 2,
        Outcome::Accept => 3,
        Outcome::Reject => 4,
        Outcome::Info => 5,
        Outcome::WouldDeny => 6,
    }
}

fn outcome_of(code: u8) -> Option<Outcome> {
    match code {
        0 => Some(Outcome::Allowed),
        1 => Some(Outcome::Denied),
        2 => Some(Outcome::Failed),
        3 => Some(Outcome::Accept),
        4 => Some(Outcome::Reject),
        5 => Some(Outcome::Info),
        6 => Some(Outcome::WouldDeny),
        _ => None,
    }
}

/// Reads staged records back in order, borrowing from the buffer. Stops at the first
/// record that does not decode (which only a bug could produce).
pub(crate) fn records(bytes: &[u8]) -> Vec<EventFields<'_>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match decode_one(rest) {
            Some((fields, tail)) => {
                out.push(fields);
                rest = tail;
            }
            None => {
                tracing::error!(
                    left = rest.len(),
                    "undecodable staged audit record; the rest of the stage is dropped"
                );
                break;
            }
        }
    }
    out
}

fn decode_one(b: &[u8]) -> Option<(EventFields<'_>, &[u8])> {
    let (time, b) = b.split_first_chunk::<8>()?;
    let (&[kind, outcome], b) = b.split_first_chunk::<2>()?;
    let (actor, b) = take_str(b)?;
    let (operation, b) = take_str(b)?;
    let (target, b) = take_str(b)?;
    let (&[has_admin], b) = b.split_first_chunk::<1>()?;
    let (admin_id, b) = match has_admin {
        0 => (None, b),
        1 => {
            let (id, b) = b.split_first_chunk::<8>()?;
            (Some(i64::from_le_bytes(*id)), b)
        }
        _ => return None,
    };
    let (target_kind, b) = take_opt(b)?;
    let (target_id, b) = take_opt(b)?;
    let (site, b) = take_opt(b)?;
    let (domain, b) = take_opt(b)?;
    let (ou, b) = take_opt(b)?;
    let (client, b) = take_opt(b)?;
    let (reason, b) = take_opt(b)?;
    let (detail, b) = take_str(b)?;
    let fields = EventFields {
        time_micros: i64::from_le_bytes(*time),
        kind: kind_of(kind)?.as_str(),
        actor,
        operation,
        target,
        outcome: outcome_of(outcome)?.as_str(),
        detail,
        tags: Some(TagFields {
            admin_id,
            target_kind,
            target_id,
            site,
            domain,
            ou,
            client,
            reason,
        }),
    };
    Some((fields, b))
}

fn take_opt(b: &[u8]) -> Option<(Option<&str>, &[u8])> {
    let (len, rest) = b.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*len) == ABSENT {
        return Some((None, rest));
    }
    let (s, rest) = take_str(b)?;
    Some((Some(s), rest))
}

fn take_str(b: &[u8]) -> Option<(&str, &[u8])> {
    let (len, b) = b.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    let (s, rest) = b.split_at_checked(len)?;
    Some((std::str::from_utf8(s).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(target: &str) -> StagedRecord<'_> {
        StagedRecord {
            time_micros: 1,
            kind: EventKind::AuthDecision,
            actor: "radius:sw1",
            operation: "radius.access",
            target,
            outcome: Outcome::Accept,
            tags: TagFields {
                site: Some("HQ"),
                client: Some("sw1"),
                ..TagFields::default()
            },
        }
    }

    #[test]
    fn records_put_back_stay_in_front_and_the_next_one_rings() {
        let stage = AuditStage::default();
        assert_eq!(stage.stage(&rec("a"), format_args!("{{}}")), Staged::First);
        let taken = stage.take(Vec::new());
        assert_eq!(stage.stage(&rec("b"), format_args!("{{}}")), Staged::First);
        stage.put_back(taken);
        assert_eq!(stage.stage(&rec("c"), format_args!("{{}}")), Staged::First);
        assert_eq!(stage.stage(&rec("d"), format_args!("{{}}")), Staged::Behind);
        let bytes = stage.take(Vec::new());
        let order: Vec<&str> = records(&bytes).iter().map(|r| r.target).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    proptest! {
        #[test]
        fn staged_records_read_back_exactly(
            recs in prop::collection::vec(
                (any::<i64>(), ".{0,40}", ".{0,20}", ".{0,60}", ".{0,200}", any::<bool>()),
                0..20,
            ),
        ) {
            let stage = AuditStage::default();
            for (i, (time, actor, operation, target, detail, accept)) in recs.iter().enumerate() {
                let staged = stage.stage(
                    &StagedRecord {
                        time_micros: *time,
                        kind: EventKind::AuthDecision,
                        actor,
                        operation,
                        target,
                        outcome: if *accept { Outcome::Accept } else { Outcome::Reject },
                        tags: TagFields {
                            admin_id: accept.then_some(*time),
                            site: (!accept).then_some(actor.as_str()),
                            reason: Some(operation.as_str()),
                            ..TagFields::default()
                        },
                    },
                    format_args!("{detail}"),
                );
                prop_assert_eq!(staged, if i == 0 { Staged::First } else { Staged::Behind });
            }
            let bytes = stage.take(Vec::new());
            prop_assert!(stage.is_empty());
            let back = records(&bytes);
            prop_assert_eq!(back.len(), recs.len());
            for (got, (time, actor, operation, target, detail, accept)) in back.iter().zip(&recs) {
                prop_assert_eq!(got.time_micros, *time);
                prop_assert_eq!(got.kind, "auth_decision");
                prop_assert_eq!(got.actor, actor.as_str());
                prop_assert_eq!(got.operation, operation.as_str());
                prop_assert_eq!(got.target, target.as_str());
                prop_assert_eq!(got.detail, detail.as_str());
                prop_assert_eq!(got.outcome, if *accept { "accept" } else { "reject" });
                let tags = got.tags.unwrap_or_default();
                prop_assert_eq!(tags.admin_id, accept.then_some(*time));
                prop_assert_eq!(tags.site, (!accept).then_some(actor.as_str()));
                prop_assert_eq!(tags.reason, Some(operation.as_str()));
                prop_assert_eq!(tags.domain, None);
            }
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = records(&bytes);
        }
    }
}
