//! Pending users: imported from CSV, reviewed, then approved (active) or deleted.

use serde_json::{Value, json};

use super::{AdminError, HandlerResult};
use crate::admin::command::{PendingUpdateArgs, parse_user};
use crate::admin::context::Call;
use crate::model::names;
use crate::model::user_ref::is_domain_syntax;
use crate::model::{NewUser, UserRecord, UserStatus};

const MAX_ROWS: usize = 100_000;

fn view(u: &UserRecord) -> Value {
    json!({"domain": u.domain, "name": u.name, "email": u.email, "display_name": u.display_name, "ou_path": u.ou_path, "status": u.status.as_str(), "created_by": u.created_by})
}

/// Splits one CSV line (RFC 4180 quoting).
fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut cur).trim().to_string()),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    out.push(cur.trim().to_string());
    Ok(out)
}

/// Parses the import: a header row naming `username` and optionally `email`,
/// `display_name`, `domain`, `ou`; every problem names its line.
pub(crate) fn parse_csv(text: &str) -> Result<Vec<NewUser>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err("line 1: the file is empty (expected a header row: username,email,display_name[,domain,ou])".into());
    };
    let header: Vec<String> = fields(header)
        .map_err(|e| format!("line 1: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let Some(user_col) = col("username") else {
        return Err(format!(
            "line 1: the header has no `username` column (found: {})",
            header.join(", ")
        ));
    };
    for h in &header {
        if !["username", "email", "display_name", "domain", "ou"].contains(&h.as_str()) {
            return Err(format!("line 1: unknown column `{h}`"));
        }
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines {
        let n = i + 1;
        let f = fields(line).map_err(|e| format!("line {n}: {e}"))?;
        if f.len() != header.len() {
            return Err(format!(
                "line {n}: {} fields, the header has {}",
                f.len(),
                header.len()
            ));
        }
        let get = |c: Option<usize>| c.and_then(|c| f.get(c)).filter(|v| !v.is_empty()).cloned();
        let name = get(Some(user_col)).ok_or_else(|| format!("line {n}: empty username"))?;
        let name = names::normalise("user", &name, 253, &['\\', '@', ':'])
            .map_err(|e| format!("line {n}: {e}"))?;
        let domain = get(col("domain")).unwrap_or_else(|| crate::model::LOCAL_DOMAIN.into());
        if !is_domain_syntax(&domain) {
            return Err(format!(
                "line {n}: `{domain}` is not a domain (letters, digits, `-`, `_` or `.`)"
            ));
        }
        if let Some(ou) = get(col("ou"))
            && crate::model::scope::canonical_dn(&ou).is_none()
        {
            return Err(format!(
                "line {n}: `{ou}` is not an OU DN such as ou=Sales,dc=corp"
            ));
        }
        if let Some(email) = get(col("email"))
            && !email.contains('@')
        {
            return Err(format!("line {n}: `{email}` is not an e-mail address"));
        }
        if !seen.insert((domain.to_lowercase(), names::key(&name))) {
            return Err(format!("line {n}: {domain}\\{name} appears twice"));
        }
        out.push(NewUser {
            domain,
            name,
            display_name: get(col("display_name")),
            email: get(col("email")),
            status: UserStatus::Pending,
            password_hash: None,
            ou_path: get(col("ou")),
        });
        if out.len() > MAX_ROWS {
            return Err(format!(
                "line {n}: more than {MAX_ROWS} users in one import"
            ));
        }
    }
    if out.is_empty() {
        return Err("the file has a header but no users".into());
    }
    Ok(out)
}

/// Every place the users go was decided from the facts (parsed the same way).
pub(super) async fn import(call: &Call<'_>, csv: &str) -> HandlerResult {
    let users = parse_csv(csv).map_err(AdminError::invalid)?;
    super::user::commit_imported(call, users).await
}

pub(super) fn list(call: &Call<'_>) -> HandlerResult {
    let users: Vec<Value> = call.read().pending()?.iter().map(view).collect();
    Ok(json!({"users": users}))
}

fn find_pending(call: &Call<'_>, user: &str) -> Result<UserRecord, AdminError> {
    let (d, n) = parse_user(user);
    match call.read().user(&d, &n)? {
        Some(u) if u.status == UserStatus::Pending => Ok(u),
        Some(_) => Err(AdminError::invalid(format!("user {d}\\{n} is not pending"))),
        None => Err(AdminError::not_found(format!("user {d}\\{n}"))),
    }
}

pub(super) async fn update(call: &Call<'_>, a: PendingUpdateArgs) -> HandlerResult {
    let u = find_pending(call, &a.user)?;
    super::user::update_fields(call, &u, a.display_name, a.email).await?;
    Ok(json!({"user": view(&find_pending(call, &a.user)?)}))
}

pub(super) async fn delete(call: &Call<'_>, user: &str) -> HandlerResult {
    super::user::delete_record(call, &find_pending(call, user)?).await
}

pub(super) async fn approve(call: &Call<'_>, user: &str) -> HandlerResult {
    let u = find_pending(call, user)?;
    super::user::set_user_status(call, &u, UserStatus::Active).await?;
    Ok(json!({"approved": format!("{}\\{}", u.domain, u.name)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_errors_name_the_line() {
        let ok = parse_csv("username,email,display_name\nann,ann@ex.org,\"Ann, A.\"\nbob,,Bob\n")
            .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].display_name.as_deref(), Some("Ann, A."));
        assert!(parse_csv("").unwrap_err().starts_with("line 1"));
        assert!(parse_csv("user,email\n").unwrap_err().contains("username"));
        assert!(
            parse_csv("username,email\nann,notmail\n")
                .unwrap_err()
                .starts_with("line 2")
        );
        assert!(
            parse_csv("username,email\nann,a@b\nann,a@b\n")
                .unwrap_err()
                .starts_with("line 3")
        );
        assert!(
            parse_csv("username,email\nann\n")
                .unwrap_err()
                .starts_with("line 2")
        );
        assert!(
            parse_csv("username\n\"ann\n")
                .unwrap_err()
                .contains("quote")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[a-z,\"@\\n ]{0,200}") {
            let _ = parse_csv(&s);
        }
    }
}
