//! Architecture rules that the compiler cannot see in a single crate: pure modules stay
//! free of I/O, and authorization permits are only constructed inside `admin/authz`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn src(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel)
}

#[test]
fn pure_modules_do_no_io() {
    const FORBIDDEN: &[&str] = &[
        "tokio::",
        "std::net::UdpSocket",
        "std::net::TcpStream",
        "std::fs",
        "rusqlite",
        "SystemTime::now",
    ];
    let pure = [
        "radius/proto",
        "audit",
        "auth",
        "cli/render.rs",
        "admin/ops.rs",
        "admin/command.rs",
        "admin/authz/mod.rs",
    ];
    let mut violations = Vec::new();
    for rel in pure {
        let path = src(rel);
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path]
        };
        assert!(!files.is_empty(), "{rel} has no sources");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for bad in FORBIDDEN {
                    if line.contains(bad) {
                        violations.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "I/O in pure modules:\n{}",
        violations.join("\n")
    );
}

#[test]
fn permits_are_only_built_by_authz() {
    let authz = src("admin/authz");
    let mut violations = Vec::new();
    for f in rust_files(&src("")) {
        if f.starts_with(&authz) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            for pat in ["Permit {", "Authorized {", "Permit::new", "Authorized::new"] {
                if line.contains(pat) {
                    violations.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "permits constructed outside admin/authz:\n{}",
        violations.join("\n")
    );
}
