//! Reads cut to a scope in the query itself, so that a limit counts only what the reader
//! may see and nothing outside the scope is ever read. The admin side reaches these only
//! through its scoped reader (`admin::read`), which passes the permit's scope.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Row, params_from_iter};

use super::{
    AUDIT_SELECT, CLIENT_SELECT, Store, StoreError, USER_SELECT, audit_row, client_row, user_row,
};
use crate::audit::ChainedRecord;
use crate::model::scope::canonical_dn;
use crate::model::{ClientRecord, ComputerScope, SiteRecord, UserRecord, UserScope};
use crate::policy::stored::ComputerRecord;

/// A WHERE fragment and the values its placeholders take, built from a scope.
#[derive(Debug, Default)]
struct Condition {
    sql: String,
    args: Vec<SqlValue>,
}

impl Condition {
    fn always() -> Self {
        Self {
            sql: "1".into(),
            args: Vec::new(),
        }
    }

    fn never() -> Self {
        Self {
            sql: "0".into(),
            args: Vec::new(),
        }
    }

    /// Adds a value; returns its placeholder, numbered within the condition.
    fn text(&mut self, v: &str) -> String {
        self.args.push(SqlValue::Text(v.to_string()));
        format!("?{}", self.args.len())
    }
}

/// `column` names a site inside `scope` (sites compare case-insensitively).
fn site_condition(column: &str, scope: &ComputerScope) -> Condition {
    match scope {
        ComputerScope::Everything => Condition::always(),
        ComputerScope::Sites(sites) if sites.is_empty() => Condition::never(),
        ComputerScope::Sites(sites) => {
            let mut c = Condition::default();
            let marks: Vec<String> = sites.iter().map(|s| c.text(s)).collect();
            c.sql = format!("{column} COLLATE NOCASE IN ({})", marks.join(", "));
            c
        }
    }
}

/// (`domain`, `ou_key`) columns lie inside `scope`. With `whole_domains`, only entries
/// without an OU count (a directory belongs to a scope that covers its whole domain).
fn user_condition(domain: &str, ou_key: &str, scope: &UserScope, whole_domains: bool) -> Condition {
    let UserScope::Domains(list) = scope else {
        return Condition::always();
    };
    let mut c = Condition::default();
    let mut parts = Vec::new();
    for (d, ou) in list {
        match ou {
            None => {
                let d = c.text(d);
                parts.push(format!("{domain} COLLATE NOCASE = {d}"));
            }
            Some(_) if whole_domains => {}
            Some(ou) => {
                // A scope OU that is not a DN reaches nobody.
                let Some(key) = canonical_dn(ou) else {
                    continue;
                };
                let d = c.text(d);
                c.args.push(SqlValue::Text(key));
                let o = c.args.len();
                parts.push(format!(
                    "({domain} COLLATE NOCASE = {d} AND ({ou_key} = ?{o} OR substr({ou_key}, -length(?{o}) - 1) = ',' || ?{o}))"
                ));
            }
        }
    }
    if parts.is_empty() {
        return Condition::never();
    }
    c.sql = format!("({})", parts.join(" OR "));
    c
}

/// Placeholders are numbered in one sequence per statement: a condition's `?N` (numbered
/// within the condition) become `?(offset + N)`.
fn numbered(c: &Condition, offset: usize) -> String {
    let mut out = String::with_capacity(c.sql.len() + 8);
    let mut chars = c.sql.chars().peekable();
    while let Some(ch) = chars.next() {
        out.push(ch);
        if ch != '?' {
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let relative: usize = digits.parse().unwrap_or(0);
        out.push_str(&(offset + relative).to_string());
    }
    out
}

/// A statement assembled from fixed text and conditions, with its values in order.
#[derive(Default)]
struct Query {
    sql: String,
    args: Vec<SqlValue>,
}

impl Query {
    fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    fn condition(&mut self, c: &Condition) -> &mut Self {
        let text = numbered(c, self.args.len());
        self.sql.push_str(&text);
        self.args.extend(c.args.iter().cloned());
        self
    }

    fn value(&mut self, v: SqlValue) -> &mut Self {
        self.args.push(v);
        let n = self.args.len();
        self.sql.push_str(&format!("?{n}"));
        self
    }

    fn rows<T>(
        &self,
        store: &Store,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        store.with_reader(|c| {
            let mut stmt = c.prepare(&self.sql)?;
            let rows = stmt.query_map(params_from_iter(self.args.iter()), row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

/// Which audit records a reader wants.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub limit: u32,
    pub operation: Option<String>,
    /// (domain, name); a bare name matches that name in any domain.
    pub user: Option<(Option<String>, String)>,
    pub client: Option<String>,
    pub outcome: Option<String>,
    pub since_micros: Option<i64>,
    pub until_micros: Option<i64>,
}

/// What a scoped reader may see of the audit log.
#[derive(Debug, Clone, Copy)]
pub struct AuditScope<'a> {
    /// The reader's own administrator id: their own actions are always visible.
    pub admin_id: Option<i64>,
    pub users: &'a UserScope,
    pub sites: &'a ComputerScope,
}

/// Which computers a listing wants, besides the scope.
#[derive(Debug, Clone, Copy)]
pub struct ComputerFilter<'a> {
    pub site: Option<&'a str>,
    pub policy: Option<&'a str>,
    /// Only these ids.
    pub ids: Option<&'a [i64]>,
    pub limit: u32,
    pub offset: u32,
}

fn text(v: &str) -> SqlValue {
    SqlValue::Text(v.to_string())
}

impl Store {
    /// RADIUS clients at sites inside `sites`, by name.
    ///
    /// # Errors
    /// Database errors, or a secret that does not open.
    pub fn clients_in(&self, sites: &ComputerScope) -> Result<Vec<ClientRecord>, StoreError> {
        let mut q = Query::new(CLIENT_SELECT);
        q.push(" WHERE ")
            .condition(&site_condition("site", sites))
            .push(" ORDER BY name");
        q.rows(self, client_row)?
            .into_iter()
            .map(|r| self.unseal_client(r))
            .collect()
    }

    /// Sites inside `sites`, by name.
    ///
    /// # Errors
    /// Database errors.
    pub fn sites_in(&self, sites: &ComputerScope) -> Result<Vec<SiteRecord>, StoreError> {
        let mut q = Query::new(super::admin::SITE_SELECT);
        q.push(" WHERE ")
            .condition(&site_condition("name", sites))
            .push(" ORDER BY name");
        q.rows(self, super::admin::site_row)
    }

    /// Users inside `scope`, optionally of one domain, ordered by domain and name: one
    /// page of at most `limit` from `offset`, and how many there are in all.
    ///
    /// # Errors
    /// Database errors.
    pub fn users_in(
        &self,
        domain: Option<&str>,
        scope: &UserScope,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<UserRecord>, u64), StoreError> {
        let cond = user_condition("domain", "ou_key", scope, false);
        let domain_value = domain.map_or(SqlValue::Null, text);
        let mut count = Query::new("SELECT count(*) FROM user WHERE (");
        count
            .value(domain_value.clone())
            .push(" IS NULL OR domain = ");
        count
            .value(domain_value.clone())
            .push(") AND ")
            .condition(&cond);
        let total: i64 = count
            .rows(self, |r| r.get(0))?
            .first()
            .copied()
            .unwrap_or(0);
        let mut q = Query::new(USER_SELECT);
        q.push(" WHERE (")
            .value(domain_value.clone())
            .push(" IS NULL OR domain = ");
        q.value(domain_value).push(") AND ").condition(&cond);
        q.push(" ORDER BY domain, name LIMIT ")
            .value(SqlValue::Integer(i64::from(limit)))
            .push(" OFFSET ")
            .value(SqlValue::Integer(i64::from(offset)));
        Ok((q.rows(self, user_row)?, u64::try_from(total).unwrap_or(0)))
    }

    /// Pending users inside `scope`.
    ///
    /// # Errors
    /// Database errors.
    pub fn pending_in(&self, scope: &UserScope) -> Result<Vec<UserRecord>, StoreError> {
        let mut q = Query::new(USER_SELECT);
        q.push(" WHERE status = 'pending' AND ")
            .condition(&user_condition("domain", "ou_key", scope, false))
            .push(" ORDER BY domain, name");
        q.rows(self, user_row)
    }

    /// Counts of users inside `scope` by status.
    ///
    /// # Errors
    /// Database errors.
    pub fn user_counts_in(&self, scope: &UserScope) -> Result<Vec<(String, i64)>, StoreError> {
        let mut q = Query::new("SELECT status, count(*) FROM user WHERE ");
        q.condition(&user_condition("domain", "ou_key", scope, false))
            .push(" GROUP BY status ORDER BY status");
        q.rows(self, |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// Names of directories whose whole domain is inside `scope`.
    ///
    /// # Errors
    /// Database errors.
    pub fn directory_names_in(&self, scope: &UserScope) -> Result<Vec<String>, StoreError> {
        let mut q = Query::new("SELECT name FROM directory WHERE ");
        q.condition(&user_condition("name", "NULL", scope, true))
            .push(" ORDER BY name");
        q.rows(self, |r| r.get(0))
    }

    /// Computers at sites inside `sites`, optionally of one site and one policy, by id:
    /// one page, and how many there are in all.
    ///
    /// # Errors
    /// Database errors.
    pub fn computers_in(
        &self,
        sites: &ComputerScope,
        filter: &ComputerFilter<'_>,
    ) -> Result<(Vec<ComputerRecord>, u64), StoreError> {
        let cond = |q: &mut Query| {
            q.push(" WHERE ")
                .condition(&site_condition("c.site", sites));
            if let Some(site) = filter.site {
                q.push(" AND c.site = ")
                    .value(text(site))
                    .push(" COLLATE NOCASE");
            }
            if let Some(policy) = filter.policy {
                q.push(" AND p.name = ")
                    .value(text(policy))
                    .push(" COLLATE NOCASE");
            }
            if let Some(ids) = filter.ids {
                let marks: Vec<String> = ids
                    .iter()
                    .map(|id| {
                        q.args.push(SqlValue::Integer(*id));
                        format!("?{}", q.args.len())
                    })
                    .collect();
                q.push(&format!(" AND c.id IN ({})", marks.join(", ")));
            }
        };
        let mut count = Query::new(
            "SELECT count(*) FROM computer c JOIN computer_policy p ON p.id = c.policy_id",
        );
        cond(&mut count);
        let total: i64 = count
            .rows(self, |r| r.get(0))?
            .first()
            .copied()
            .unwrap_or(0);
        let mut q = Query::new(super::policy::COMPUTER_SELECT);
        cond(&mut q);
        q.push(" ORDER BY c.id LIMIT ")
            .value(SqlValue::Integer(i64::from(filter.limit)))
            .push(" OFFSET ")
            .value(SqlValue::Integer(i64::from(filter.offset)));
        Ok((
            q.rows(self, super::policy::computer_row)?,
            u64::try_from(total).unwrap_or(0),
        ))
    }

    /// Audit records, newest first, matching `filter` and, for a scoped reader, inside
    /// `scope`: the reader's own actions, authentication decisions at sites in scope, and
    /// events about clients and sites in scope, domains wholly in scope and users in
    /// scope.
    ///
    /// # Errors
    /// Database errors.
    pub fn audit_in(
        &self,
        filter: &AuditFilter,
        scope: Option<AuditScope<'_>>,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        let mut q = Query::new(AUDIT_SELECT);
        q.push(" WHERE 1");
        if let Some(op) = &filter.operation {
            q.push(" AND operation = ").value(text(op));
        }
        if let Some(outcome) = &filter.outcome {
            q.push(" AND outcome = ").value(text(outcome));
        }
        if let Some(t) = filter.since_micros {
            q.push(" AND time_micros >= ").value(SqlValue::Integer(t));
        }
        if let Some(t) = filter.until_micros {
            q.push(" AND time_micros < ").value(SqlValue::Integer(t));
        }
        if let Some((domain, name)) = &filter.user {
            q.push(" AND target_kind = 'user' AND target_id = ")
                .value(text(name))
                .push(" COLLATE NOCASE");
            if let Some(d) = domain {
                q.push(" AND domain = ").value(text(d));
            }
        }
        if let Some(client) = &filter.client {
            q.push(" AND (client = ").value(text(client));
            q.push(" OR (target_kind = 'client' AND target_id = ")
                .value(text(client))
                .push(" COLLATE NOCASE))");
        }
        if let Some(scope) = scope {
            q.push(" AND (");
            match scope.admin_id {
                Some(me) => q.push("admin_id = ").value(SqlValue::Integer(me)),
                None => q.push("0"),
            };
            let sites = site_condition("site", scope.sites);
            q.push(" OR ((kind = 'auth_decision' OR target_kind IN ('client', 'site')) AND ")
                .condition(&sites)
                .push(")");
            q.push(" OR (target_kind IN ('directory', 'domain') AND ")
                .condition(&user_condition("domain", "NULL", scope.users, true))
                .push(")");
            q.push(" OR (target_kind = 'user' AND kind <> 'auth_decision' AND ")
                .condition(&user_condition("domain", "ou_key", scope.users, false))
                .push("))");
        }
        q.push(" ORDER BY seq DESC LIMIT ")
            .value(SqlValue::Integer(i64::from(filter.limit)));
        q.rows(self, audit_row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_one_sequence() {
        let scope = UserScope::Domains(vec![
            ("CORP".into(), Some("ou=Sales,dc=corp".into())),
            ("local".into(), None),
        ]);
        let mut q = Query::new("SELECT 1 WHERE ");
        q.value(text("x")).push(" AND ");
        q.condition(&user_condition("domain", "ou_key", &scope, false));
        q.push(" AND ").condition(&site_condition(
            "site",
            &ComputerScope::Sites(vec!["HQ".into()]),
        ));
        assert_eq!(q.args.len(), 5);
        assert!(q.sql.contains("?1 AND"), "{}", q.sql);
        assert!(q.sql.contains("= ?2 AND (ou_key = ?3"), "{}", q.sql);
        assert!(q.sql.contains("= ?4)"), "{}", q.sql);
        assert!(q.sql.contains("IN (?5)"), "{}", q.sql);
    }
}
