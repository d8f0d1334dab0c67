//! Anti-escalation, decided with everything else in `decide`: an administrator puts roles
//! only under their own role or below it, grants only what they hold (at the level they
//! hold it, within their scope), assigns only roles strictly below their own (the Super
//! Administrator assigns any), and nobody changes the Super Administrator role. Pure: the
//! role map is a parameter.

use super::role::{self, RoleLookup};
use super::{Denied, Rights};
use crate::model::role::{RoleDef, SUPER_ADMINISTRATOR};
use crate::model::scope::AccessLevel;

fn denied(why: impl Into<String>) -> Denied {
    Denied::Escalation(why.into())
}

/// Nobody creates another role of that name, or edits or deletes the one there is.
///
/// # Errors
/// [`Denied::Escalation`].
pub fn check_not_super(name: &str) -> Result<(), Denied> {
    if name.eq_ignore_ascii_case(SUPER_ADMINISTRATOR) {
        return Err(denied(
            "the Super Administrator role is unique and cannot be changed",
        ));
    }
    Ok(())
}

/// Whether an actor of role `mine` may put a role under `parent`: their own role or one
/// below it.
///
/// # Errors
/// [`Denied::Escalation`].
pub fn check_parent(mine: &str, parent: &str, roles: &impl RoleLookup) -> Result<(), Denied> {
    if parent.eq_ignore_ascii_case(mine) || role::is_strictly_below(roles, parent, mine) {
        Ok(())
    } else {
        Err(denied(format!("{parent} is not your role or below it")))
    }
}

/// Refuses restrictions that ask for more than the actor holds.
///
/// # Errors
/// [`Denied::Escalation`] naming what was asked for.
pub fn check_grants(mine: &Rights, granted: &RoleDef) -> Result<(), Denied> {
    if let Some(ops) = &granted.ops {
        for (op, level) in ops {
            match mine.ops.get(op) {
                None => {
                    return Err(denied(format!(
                        "you cannot grant {} (you do not hold it)",
                        op.id()
                    )));
                }
                Some(AccessLevel::Own) if *level == AccessLevel::All => {
                    return Err(denied(format!(
                        "you hold {} only for your own objects",
                        op.id()
                    )));
                }
                _ => {}
            }
        }
    }
    if let Some(s) = &granted.user_scope
        && !role::user_scope_within(s, &mine.user_scope)
    {
        return Err(denied("the user scope is wider than yours"));
    }
    if let Some(s) = &granted.computer_scope
        && !role::computer_scope_within(s, &mine.computer_scope)
    {
        return Err(denied("the computer scope is wider than yours"));
    }
    Ok(())
}

/// Whether an actor of role `mine` may give an administrator `role`.
///
/// # Errors
/// [`Denied::Escalation`].
pub fn check_assign(mine: &str, role: &str, roles: &impl RoleLookup) -> Result<(), Denied> {
    if role::manages(roles, mine, role) {
        Ok(())
    } else {
        Err(denied(format!("you can only assign roles below {mine}")))
    }
}
