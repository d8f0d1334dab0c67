//! The SHA-256 hash chain over audit records.
//!
//! `hash(n) = SHA-256(hash(n-1) || seq || fields…)`, each field length-prefixed so no two
//! records share an encoding. Altering a record breaks its own hash; removing or reordering
//! records breaks the sequence or the link to the previous hash. The chain head is also kept
//! apart from the records so that cutting records off the end is detected too.

use sha2::{Digest, Sha256};

use super::event::{AuditEvent, TagFields, Tags};

/// The previous hash of the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// A stored record: the event plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedRecord {
    pub seq: i64,
    pub event: StoredEvent,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// An event as read back from storage: kind and outcome as their stored strings, so that a
/// record with an unknown value can still be verified. `tags` is `None` for records
/// written before events carried tags (format 1), whose hash does not cover them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub time_micros: i64,
    pub kind: String,
    pub actor: String,
    pub operation: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    pub tags: Option<Tags>,
}

impl From<&AuditEvent> for StoredEvent {
    fn from(e: &AuditEvent) -> Self {
        Self {
            time_micros: e.time_micros,
            kind: e.kind.as_str().to_string(),
            actor: e.actor.clone(),
            operation: e.operation.clone(),
            target: e.target.clone(),
            outcome: e.outcome.as_str().to_string(),
            detail: e.detail.clone(),
            tags: Some(e.tags.clone()),
        }
    }
}

/// The fields a record's hash covers, borrowed from an event about to be stored or from one
/// read back, so that neither has to be copied into the other's form to be hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFields<'a> {
    pub time_micros: i64,
    pub kind: &'a str,
    pub actor: &'a str,
    pub operation: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    /// `None` only for format-1 records, read back.
    pub tags: Option<TagFields<'a>>,
}

impl StoredEvent {
    #[must_use]
    pub fn fields(&self) -> EventFields<'_> {
        EventFields {
            time_micros: self.time_micros,
            kind: &self.kind,
            actor: &self.actor,
            operation: &self.operation,
            target: &self.target,
            outcome: &self.outcome,
            detail: &self.detail,
            tags: self.tags.as_ref().map(Tags::fields),
        }
    }
}

impl AuditEvent {
    #[must_use]
    pub fn fields(&self) -> EventFields<'_> {
        EventFields {
            time_micros: self.time_micros,
            kind: self.kind.as_str(),
            actor: &self.actor,
            operation: &self.operation,
            target: &self.target,
            outcome: self.outcome.as_str(),
            detail: &self.detail,
            tags: Some(self.tags.fields()),
        }
    }
}

/// The hash of the record `seq` holding `event`, chained to `prev`.
#[must_use]
pub fn record_hash(prev: &[u8], seq: i64, event: EventFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(event.time_micros.to_be_bytes());
    for field in [
        event.kind,
        event.actor,
        event.operation,
        event.target,
        event.outcome,
        event.detail,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    // Format 2 appends the tags; a format-1 record's hash stays what it was written as.
    if let Some(tags) = event.tags {
        h.update(b"tags");
        match tags.admin_id {
            Some(id) => {
                h.update([1]);
                h.update(id.to_be_bytes());
            }
            None => h.update([0]),
        }
        for tag in tags.texts() {
            match tag {
                Some(t) => {
                    h.update([1]);
                    h.update((t.len() as u64).to_be_bytes());
                    h.update(t.as_bytes());
                }
                None => h.update([0]),
            }
        }
    }
    h.finalize().into()
}

/// Where and why verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {seq}: its hash does not match its contents (altered)")]
    Altered { seq: i64 },
    #[error("record {seq}: does not link to the record before it (removed or reordered)")]
    BrokenLink { seq: i64 },
    #[error("record {seq}: expected sequence number {expected} (records removed or reordered)")]
    Gap { seq: i64, expected: i64 },
    #[error(
        "the chain ends at record {last} but the recorded head is record {head} (records cut off the end)"
    )]
    Truncated { last: i64, head: i64 },
    #[error("the chain head does not match the last record")]
    HeadMismatch,
}

/// Incremental verifier, so that a long log streams through without being held in memory.
#[derive(Debug)]
pub struct Verifier {
    prev: Vec<u8>,
    next_seq: i64,
    count: u64,
}

impl Verifier {
    /// Starts at the genesis, or after an archived prefix whose last hash and seq are known.
    #[must_use]
    pub fn new(prev_hash: &[u8], first_seq: i64) -> Self {
        Self {
            prev: prev_hash.to_vec(),
            next_seq: first_seq,
            count: 0,
        }
    }

    /// Checks the next record in order.
    ///
    /// # Errors
    /// The first [`ChainBreak`] found.
    pub fn push(&mut self, rec: &ChainedRecord) -> Result<(), ChainBreak> {
        if rec.seq != self.next_seq {
            return Err(ChainBreak::Gap {
                seq: rec.seq,
                expected: self.next_seq,
            });
        }
        if rec.prev_hash != self.prev {
            return Err(ChainBreak::BrokenLink { seq: rec.seq });
        }
        let h = record_hash(&rec.prev_hash, rec.seq, rec.event.fields());
        if h.as_slice() != rec.hash.as_slice() {
            return Err(ChainBreak::Altered { seq: rec.seq });
        }
        self.prev = rec.hash.clone();
        self.next_seq += 1;
        self.count += 1;
        Ok(())
    }

    /// Compares the end of the records with the separately kept head.
    ///
    /// # Errors
    /// [`ChainBreak::Truncated`] or [`ChainBreak::HeadMismatch`].
    pub fn finish(self, head: Option<(i64, Vec<u8>)>) -> Result<u64, ChainBreak> {
        if let Some((head_seq, head_hash)) = head {
            let last = self.next_seq - 1;
            if head_seq != last {
                return Err(ChainBreak::Truncated {
                    last,
                    head: head_seq,
                });
            }
            if head_hash != self.prev {
                return Err(ChainBreak::HeadMismatch);
            }
        }
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(i: u8) -> StoredEvent {
        StoredEvent {
            time_micros: i64::from(i),
            kind: "admin_request".into(),
            actor: format!("root{i}"),
            operation: "user.add".into(),
            target: format!("user{i}"),
            outcome: "allowed".into(),
            detail: "{}".into(),
            tags: i.is_multiple_of(2).then(|| Tags {
                admin_id: Some(i64::from(i)),
                site: Some("HQ".into()),
                ..Tags::default()
            }),
        }
    }

    fn build(n: u8) -> Vec<ChainedRecord> {
        let mut prev = GENESIS.to_vec();
        (0..n)
            .map(|i| {
                let seq = i64::from(i) + 1;
                let ev = event(i);
                let hash = record_hash(&prev, seq, ev.fields()).to_vec();
                let rec = ChainedRecord {
                    seq,
                    event: ev,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                rec
            })
            .collect()
    }

    fn verify(recs: &[ChainedRecord], head: Option<(i64, Vec<u8>)>) -> Result<u64, ChainBreak> {
        let mut v = Verifier::new(&GENESIS, 1);
        for r in recs {
            v.push(r)?;
        }
        v.finish(head)
    }

    fn head(recs: &[ChainedRecord]) -> Option<(i64, Vec<u8>)> {
        recs.last().map(|r| (r.seq, r.hash.clone()))
    }

    #[test]
    fn intact_chain_verifies() {
        let recs = build(5);
        assert_eq!(verify(&recs, head(&recs)), Ok(5));
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = event(1);
        let mut b = event(1);
        a.actor = "ab".into();
        a.operation = "c".into();
        b.actor = "a".into();
        b.operation = "bc".into();
        assert_ne!(
            record_hash(&GENESIS, 1, a.fields()),
            record_hash(&GENESIS, 1, b.fields())
        );
    }

    proptest! {
        #[test]
        fn any_edit_removal_or_reorder_is_detected(n in 2u8..20, victim in 0usize..20, how in 0u8..5, byte in 0usize..64) {
            let recs = build(n);
            let h = head(&recs);
            let victim = victim % recs.len();
            let mut bad = recs.clone();
            match how {
                0 => { // alter a field
                    let d = &mut bad[victim].event.detail;
                    d.push(char::from(b'a' + (byte % 26) as u8));
                }
                1 => { bad.remove(victim); }
                2 => { let other = (victim + 1) % bad.len(); bad.swap(victim, other); }
                _ if victim.is_multiple_of(2) => { // alter a tag (even records carry them)
                    if let Some(t) = bad[victim].event.tags.as_mut() {
                        t.site = Some(format!("Site{byte}"));
                    }
                }
                _ => { // alter the time
                    bad[victim].event.time_micros ^= 1 << (byte % 63);
                }
            }
            prop_assert!(verify(&bad, h).is_err());
        }
    }
}
