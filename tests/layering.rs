//! Architecture rules that the compiler cannot see in a single crate:
//! - the top-level modules form floors: no import cycle between them, and none between the
//!   files of the RADIUS codec (`radius/proto`), which is to become a crate of its own;
//! - pure modules do no I/O and import only lower floors;
//! - `src/lib.rs`'s architecture map names every top-level module, with the label the
//!   rules give it;
//! - authorization permits are only constructed inside `admin/authz`.
//!
//! References are read from the source text (`crate::…` paths and `super::…` paths),
//! test modules excluded, so a `use` and a fully qualified call count alike.

use std::collections::{BTreeMap, BTreeSet};
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
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A library source file: its module path (`radius::proto::packet`) and its code, with
/// comments and `#[cfg(test)]` modules removed.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    code: String,
}

fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its test module(s).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<usize> = None;
    let mut depth = 0usize;
    let mut pending_test = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let code = line.split("//").next().unwrap_or_default();
        if skip_depth.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        let opens = code.matches('{').count();
        let closes = code.matches('}').count();
        if pending_test && skip_depth.is_none() && opens > 0 {
            skip_depth = Some(depth);
            pending_test = false;
        }
        depth = depth + opens - closes.min(depth + opens);
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn library() -> Vec<Source> {
    rust_files(&src())
        .into_iter()
        .filter(|f| !f.starts_with(src().join("bin")))
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            Source {
                module: module_of(&file),
                code: code_of(&text),
                file,
            }
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path following `prefix` (`crate::` or `super::`) in `code`, as segments, with
/// brace groups expanded one level (`crate::{a::b, c}`).
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let mut segs: Vec<String> = Vec::new();
        let mut r = rest;
        loop {
            let ident: String = r.chars().take_while(|c| is_ident(*c)).collect();
            if ident.is_empty() {
                break;
            }
            r = &r[ident.len()..];
            segs.push(ident);
            if let Some(next) = r.strip_prefix("::") {
                r = next;
            } else {
                break;
            }
        }
        if let Some(group) = r.strip_prefix('{') {
            let inner: String = group.chars().take_while(|c| *c != '}').collect();
            for part in inner.split(',') {
                let mut p = segs.clone();
                p.extend(
                    part.split("::")
                        .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
                        .filter(|s| !s.is_empty() && s.chars().all(is_ident)),
                );
                out.push(p);
            }
        } else if !segs.is_empty() {
            out.push(segs);
        }
    }
    out
}

/// The modules `s` refers to, as module paths known to the crate (the longest known
/// prefix of each reference).
fn references(s: &Source, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut refs = BTreeSet::new();
    let resolve = |path: Vec<String>, refs: &mut BTreeSet<Vec<String>>| {
        for n in (1..=path.len()).rev() {
            if let Some(prefix) = path.get(..n)
                && modules.contains(prefix)
            {
                refs.insert(prefix.to_vec());
                return;
            }
        }
    };
    for p in paths_after(&s.code, "crate::") {
        resolve(p, &mut refs);
    }
    // `super::` is relative to the file's module; `super::super::` climbs twice.
    for p in paths_after(&s.code, "super::") {
        let mut base = s.module.clone();
        base.pop();
        let mut p = p.as_slice();
        while p.first().is_some_and(|x| x == "super") {
            base.pop();
            p = &p[1..];
        }
        let mut full = base;
        full.extend(p.iter().cloned());
        resolve(full, &mut refs);
    }
    refs
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

fn known_modules(lib: &[Source]) -> BTreeSet<Vec<String>> {
    lib.iter().map(|s| s.module.clone()).collect()
}

#[test]
fn no_cycle_between_top_level_modules() {
    let lib = library();
    let modules = known_modules(&lib);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut why: BTreeMap<(String, String), String> = BTreeMap::new();
    for s in &lib {
        let Some(top) = s.module.first() else {
            continue;
        };
        graph.entry(top.clone()).or_default();
        for r in references(s, &modules) {
            let Some(to) = r.first() else { continue };
            if to != top {
                graph.entry(top.clone()).or_default().insert(to.clone());
                why.entry((top.clone(), to.clone()))
                    .or_insert_with(|| format!("{} → {}", s.file.display(), r.join("::")));
            }
        }
    }
    if let Some(c) = cycle(&graph) {
        let edges: Vec<String> = c
            .windows(2)
            .map(|w| why[&(w[0].clone(), w[1].clone())].clone())
            .collect();
        panic!(
            "import cycle between top-level modules: {}\n{}",
            c.join(" → "),
            edges.join("\n")
        );
    }
}

#[test]
fn no_cycle_inside_the_radius_codec() {
    let lib = library();
    let modules = known_modules(&lib);
    let proto = ["radius".to_string(), "proto".to_string()];
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in lib
        .iter()
        .filter(|s| s.module.starts_with(&proto) && s.module.len() > 2)
    {
        let me = s.module.join("::");
        graph.entry(me.clone()).or_default();
        for r in references(s, &modules) {
            if r.starts_with(&proto) && r.len() > 2 && r != s.module {
                graph.entry(me.clone()).or_default().insert(r.join("::"));
            }
        }
    }
    assert!(
        graph.len() >= 5,
        "the codec's files were not found: {graph:?}"
    );
    if let Some(c) = cycle(&graph) {
        panic!("import cycle inside radius/proto: {}", c.join(" → "));
    }
}

/// Pure modules (by path prefix) and what each may import besides itself.
const PURE: &[(&str, &[&str])] = &[
    ("time", &[]),
    ("model", &["time"]),
    ("audit", &["model", "time"]),
    ("policy", &["model", "time"]),
    ("auth", &["model", "policy", "time"]),
    ("radius::proto", &[]),
    ("directory::map", &["model", "time"]),
    ("directory::schedule", &["model", "time"]),
    (
        "directory::spec",
        &["directory::map", "directory::schedule", "model", "time"],
    ),
    ("directory::plan", &["directory::map", "model", "time"]),
    (
        "directory::groups",
        &["directory::map", "directory::plan", "model", "time"],
    ),
    ("tls::certs", &["model", "time"]),
    (
        "admin::command",
        &["directory::map", "model", "policy", "time"],
    ),
    (
        "admin::authz",
        &["admin::command", "model", "policy", "time"],
    ),
    ("cli::render", &["admin::command", "model", "time"]),
];

fn in_prefix(module: &[String], prefix: &str) -> bool {
    let p: Vec<&str> = prefix.split("::").collect();
    module.len() >= p.len() && module.iter().zip(&p).all(|(a, b)| a == b)
}

#[test]
fn pure_modules_do_no_io_and_import_only_lower_floors() {
    const FORBIDDEN: &[&str] = &[
        "tokio::",
        "std::net::UdpSocket",
        "std::net::TcpStream",
        "std::net::TcpListener",
        "std::fs",
        "std::process",
        "rusqlite",
        "ldap3",
        "SystemTime::now",
        "Instant::now",
    ];
    let lib = library();
    let modules = known_modules(&lib);
    let mut violations = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &lib {
        let Some((prefix, allowed)) = PURE.iter().find(|(p, _)| in_prefix(&s.module, p)) else {
            continue;
        };
        seen.insert(*prefix);
        // The one place that reads the system clocks.
        let is_clock = s.module == ["time"];
        for (n, line) in s.code.lines().enumerate() {
            for bad in FORBIDDEN {
                if line.contains(bad) && !is_clock {
                    violations.push(format!(
                        "{}:{}: I/O in a pure module: {}",
                        s.file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
        for r in references(s, &modules) {
            let ok = in_prefix(&r, prefix) || allowed.iter().any(|a| in_prefix(&r, a));
            if !ok {
                violations.push(format!(
                    "{}: pure module {prefix} imports {}",
                    s.file.display(),
                    r.join("::")
                ));
            }
        }
    }
    for (p, _) in PURE {
        assert!(seen.contains(p), "pure module {p} has no sources");
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_architecture_map_matches_the_tree() {
    let lib_rs = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let map: BTreeMap<String, String> = lib_rs
        .lines()
        .filter_map(|l| l.strip_prefix("//! "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let module = words.next()?.trim_end_matches('/').to_string();
            let label = words.next()?.to_string();
            ["pure", "io", "mixed"]
                .contains(&label.as_str())
                .then_some((module, label))
        })
        .collect();
    let declared: BTreeSet<String> = lib_rs
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    for m in &declared {
        let label = map
            .get(m)
            .unwrap_or_else(|| panic!("lib.rs's architecture map does not list `{m}`"));
        let pure = PURE.iter().any(|(p, _)| p == m);
        let partly_pure = PURE.iter().any(|(p, _)| p.starts_with(&format!("{m}::")));
        let expected = if pure {
            "pure"
        } else if partly_pure {
            "mixed"
        } else {
            "io"
        };
        assert_eq!(
            label, expected,
            "lib.rs labels `{m}` {label}; the layering rules make it {expected}"
        );
    }
    for m in map.keys().filter(|k| !k.contains('/')) {
        assert!(
            declared.contains(m),
            "lib.rs's map lists `{m}`, which is no module"
        );
    }
}

#[test]
fn permits_are_only_built_by_authz() {
    let authz = src().join("admin/authz");
    let mut violations = Vec::new();
    for f in rust_files(&src()) {
        if f.starts_with(&authz) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let literal = |name: &str| {
                line.match_indices(&format!("{name} {{")).any(|(i, _)| {
                    let before = line[..i].trim_end();
                    !(before.ends_with("->") || before.ends_with('&') || before.ends_with("struct"))
                })
            };
            if literal("Permit")
                || literal("Authorized")
                || line.contains("Permit::new")
                || line.contains("Authorized::new")
            {
                violations.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "permits constructed outside admin/authz:\n{}",
        violations.join("\n")
    );
}

/// Handlers read through the scoped reader and write through `Call::commit`: the store
/// (and the admin context that holds it) is out of their reach, so no handler can read
/// past the caller's scope or write without the audit record.
#[test]
fn handlers_never_reach_the_store() {
    let handlers = src().join("admin/handlers");
    let mut violations = Vec::new();
    for s in library().iter().filter(|s| s.file.starts_with(&handlers)) {
        for (n, line) in s.code.lines().enumerate() {
            let names_the_store = line.match_indices("store::Store").any(|(i, m)| {
                !line[i + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if names_the_store
                || line.contains(".store()")
                || line.contains("AdminContext")
                || line.contains(".ctx")
            {
                violations.push(format!("{}:{}: {}", s.file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "handlers reaching past the scoped reader:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_reference_reader_sees_what_it_must() {
    let s = Source {
        file: PathBuf::from("x.rs"),
        module: vec!["radius".into(), "access".into()],
        code: code_of(
            "use super::clients::Client;\nuse crate::{model::UserRef, store::WriteOp};\nfn f() { crate::auth::credential::check_for(x); }\n// crate::sync::x\n#[cfg(test)]\nmod tests {\n    use crate::service::run;\n}\n",
        ),
    };
    let modules: BTreeSet<Vec<String>> = [
        "radius::clients",
        "model",
        "store",
        "auth::credential",
        "auth",
        "sync",
        "service::run",
    ]
    .iter()
    .map(|m| m.split("::").map(String::from).collect())
    .collect();
    let refs: Vec<String> = references(&s, &modules)
        .iter()
        .map(|r| r.join("::"))
        .collect();
    assert_eq!(
        refs,
        ["auth::credential", "model", "radius::clients", "store"]
    );
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
