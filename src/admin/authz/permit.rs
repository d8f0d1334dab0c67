//! Unforgeable proof that a command was authorized. Fields are private and there is no
//! public constructor: only `authz::decide` makes these. The proof carries who was
//! authorized (for `created_by` and scoped reads); what the command then commits, and
//! the audit record that goes with it, are the admin context's business.

use super::Actor;

#[derive(Debug)]
pub struct Permit {
    actor: Actor,
}

impl Permit {
    pub(super) fn new(actor: Actor) -> Self {
        Self { actor }
    }

    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
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
    pub fn into_parts(self) -> (C, Permit) {
        (self.command, self.permit)
    }
}
