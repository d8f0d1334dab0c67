//! The group side of a sync run: reading what [`crate::directory::groups`] resolves. With
//! a group base, every group under it is searched (paged, like the users) and indexed by
//! whom it lists; with nesting and `memberOf`, the users' groups are read by DN, level by
//! level, for their own `memberOf`. Values sent in ranges are asked for until complete.
//!
//! Nesting is always resolved here, as the closure over the groups the run reads, and not
//! with Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: the rule needs one search per
//! user and exists on AD only, while the closure costs one search (or one read per group)
//! and gives the same groups wherever the chain stays within what the sync account reads.

use std::collections::HashSet;

use super::service::{Source, SyncError};
use crate::directory::groups::{
    MAX_NESTING_DEPTH, Member, Memberships, RangedAttribute, has_range, member, sort_groups,
};
use crate::directory::ldap::LdapFailure;
use crate::directory::map::{DirectoryUser, RawEntry};
use crate::directory::spec::DirectorySpec;
use crate::model::scope::canonical_dn;

/// Groups read by DN to resolve nesting through `memberOf`; past this the run fails
/// rather than resolve some users' groups and not others'.
pub const MAX_NESTED_GROUPS: usize = 100_000;

/// Gives each fetched user its groups: those listing it under the group base, or its own
/// attribute's; with nesting, also the groups above. Returns the group index when groups
/// were searched (an incremental run regroups the users it did not fetch with it) and
/// how many users' nesting was cut at [`MAX_NESTING_DEPTH`].
///
/// # Errors
/// As [`search`] and [`read_nesting`].
pub(crate) async fn resolve(
    source: &mut impl Source,
    spec: &DirectorySpec,
    users: &mut [DirectoryUser],
) -> Result<(Option<Memberships>, usize), SyncError> {
    let depth = depth(spec);
    let mut cut = 0;
    if let Some(base) = &spec.group_base_dn {
        let memberships = search(source, spec, base).await?;
        tracing::info!(directory = %spec.name, %base, groups = memberships.group_count(), "groups fetched");
        for u in users.iter_mut() {
            let resolved = memberships.groups_of(&u.dn, &u.username, depth);
            cut += usize::from(resolved.truncated);
            u.groups = resolved.groups;
        }
        return Ok((Some(memberships), cut));
    }
    if spec.nested_groups {
        let memberships = read_nesting(source, &spec.attributes.groups, users).await?;
        for u in users.iter_mut() {
            let resolved = memberships.expand(&u.groups, depth);
            cut += usize::from(resolved.truncated);
            u.groups = resolved.groups;
        }
    }
    Ok((None, cut))
}

/// Levels of nesting the spec asks to follow.
#[must_use]
pub(crate) fn depth(spec: &DirectorySpec) -> usize {
    if spec.nested_groups {
        MAX_NESTING_DEPTH
    } else {
        0
    }
}

/// The user entry's own groups attribute when the server sent it in ranges, taken out of
/// the entry: what arrived, and what to ask for next unless that was all. `None` when it
/// came whole, or when the groups are searched instead.
///
/// # Errors
/// A range the server breaks.
pub(crate) fn take_ranged(
    spec: &DirectorySpec,
    entry: &mut RawEntry,
) -> Result<Option<(RangedAttribute, Option<String>)>, SyncError> {
    let name = &spec.attributes.groups;
    if spec.group_base_dn.is_some() || !has_range(&entry.attrs, name) {
        return Ok(None);
    }
    let mut ranged = RangedAttribute::new(name);
    match ranged.take(&mut entry.attrs) {
        Ok(next) => Ok(Some((ranged, next))),
        Err(error) => Err(SyncError::Range {
            dn: entry.dn.clone(),
            error,
        }),
    }
}

/// Completes the users' own groups attribute where the server sent it in ranges:
/// `unfinished` holds the user's position in `users`, what arrived and what to ask next.
///
/// # Errors
/// As [`complete`].
pub(crate) async fn complete_users(
    source: &mut impl Source,
    users: &mut [DirectoryUser],
    unfinished: Vec<(usize, RangedAttribute, String)>,
) -> Result<(), SyncError> {
    for (i, ranged, next) in unfinished {
        let Some(user) = users.get_mut(i) else {
            continue;
        };
        let mut groups = complete(source, &user.dn, ranged, Some(next)).await?;
        sort_groups(&mut groups);
        user.groups = groups;
    }
    Ok(())
}

/// Asks `dn` for the rest of an attribute whose first part `ranged` took, `next` being
/// the first request to make.
///
/// # Errors
/// The source's, a range the server breaks, or the entry gone between two requests.
pub(crate) async fn complete(
    source: &mut impl Source,
    dn: &str,
    mut ranged: RangedAttribute,
    mut next: Option<String>,
) -> Result<Vec<String>, SyncError> {
    while let Some(request) = next {
        let Some(mut entry) = source.read_entry(dn, &[request]).await? else {
            // Keeping what arrived would give some members and not others: the next run
            // reads the entry whole.
            return Err(LdapFailure::Search {
                base: dn.into(),
                reason: "the entry went away while its values were read in ranges".into(),
            }
            .into());
        };
        next = ranged
            .take(&mut entry.attrs)
            .map_err(|error| SyncError::Range {
                dn: dn.into(),
                error,
            })?;
    }
    Ok(ranged.into_values())
}

/// Every group under `base` matching the spec's group filter, indexed by whom it lists.
///
/// # Errors
/// As [`complete`], and the search's own.
pub(crate) async fn search(
    source: &mut impl Source,
    spec: &DirectorySpec,
    base: &str,
) -> Result<Memberships, SyncError> {
    let attribute = spec.group_member_attribute;
    let mut memberships = Memberships::default();
    // Groups whose members come in ranges: finished once the search is over, as the
    // connection serves one operation at a time.
    let mut unfinished = Vec::new();
    let mut failed = None;
    source
        .fetch_each(
            base,
            &spec.group_filter,
            &[attribute.name().to_string()],
            spec.page_size,
            |mut e| {
                if failed.is_some() {
                    return;
                }
                let mut ranged = RangedAttribute::new(attribute.name());
                match ranged.take(&mut e.attrs) {
                    Ok(None) => {
                        for v in ranged.into_values() {
                            memberships.add(&e.dn, member(attribute, &v));
                        }
                    }
                    Ok(Some(next)) => unfinished.push((e.dn, ranged, next)),
                    Err(error) => failed = Some(SyncError::Range { dn: e.dn, error }),
                }
            },
            |_| {},
        )
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    for (dn, ranged, next) in unfinished {
        for v in complete(source, &dn, ranged, Some(next)).await? {
            memberships.add(&dn, member(attribute, &v));
        }
    }
    Ok(memberships)
}

/// The groups above the users' own, read by DN for their `attribute` (`memberOf`) up to
/// one level past [`MAX_NESTING_DEPTH`], so that a chain cut there is seen as cut. A
/// group this server does not hold has no groups the run can know.
///
/// # Errors
/// As [`complete`]; more than [`MAX_NESTED_GROUPS`] groups.
pub(crate) async fn read_nesting(
    source: &mut impl Source,
    attribute: &str,
    users: &[DirectoryUser],
) -> Result<Memberships, SyncError> {
    let key = |dn: &str| canonical_dn(dn).unwrap_or_else(|| dn.to_lowercase());
    let mut memberships = Memberships::default();
    let mut seen = HashSet::new();
    let mut level: Vec<String> = Vec::new();
    for g in users.iter().flat_map(|u| &u.groups) {
        if seen.insert(key(g)) {
            level.push(g.clone());
        }
    }
    let request = [attribute.to_string()];
    for _ in 0..=MAX_NESTING_DEPTH {
        if level.is_empty() {
            break;
        }
        if seen.len() > MAX_NESTED_GROUPS {
            return Err(SyncError::TooManyGroups {
                max: MAX_NESTED_GROUPS,
            });
        }
        let mut above = Vec::new();
        for group in level {
            let Some(mut entry) = source.read_entry(&group, &request).await? else {
                continue;
            };
            let mut ranged = RangedAttribute::new(attribute);
            let next = ranged
                .take(&mut entry.attrs)
                .map_err(|error| SyncError::Range {
                    dn: group.clone(),
                    error,
                })?;
            for parent in complete(source, &group, ranged, next).await? {
                memberships.add(&parent, Member::Dn(&group));
                if seen.insert(key(&parent)) {
                    above.push(parent);
                }
            }
        }
        level = above;
    }
    Ok(memberships)
}
