//! Feeds arbitrary text to the reply-attribute dictionary. The input is a
//! dictionary file, a NUL, then `Name=value` lines. Loading must never panic
//! and must name the file in its errors; every line that encodes must fit
//! a RADIUS attribute, be described by name (not as `Attr-N`), and encode
//! back from that description to the same octets.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports, unreachable_pub)]
#[path = "../../src/radius/proto/mod.rs"]
mod proto;

use proto::Dictionary;

static BUILT_IN: LazyLock<Dictionary> = LazyLock::new(Dictionary::new);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (file, attrs) = text.split_once('\0').unwrap_or((&text, ""));
    let mut loaded;
    let dict = if file.is_empty() {
        &*BUILT_IN
    } else {
        loaded = BUILT_IN.clone();
        if let Err(e) = loaded.load("fuzz.dict", file) {
            assert!(e.to_string().starts_with("fuzz.dict:"), "{e}");
            assert!(e.line >= 1);
        }
        &loaded
    };
    for line in attrs.lines() {
        check(dict, line);
    }
});

fn check(dict: &Dictionary, text: &str) {
    let Ok(attr) = dict.encode(text) else {
        return;
    };
    assert!(
        !attr.value.is_empty() && attr.value.len() <= proto::attr::MAX_VALUE_LEN,
        "{text}: {} octets",
        attr.value.len()
    );
    let shown = dict.describe(attr.typ, &attr.value);
    assert!(!shown.starts_with("Attr-"), "{text} -> {shown}");
    let again = dict
        .encode(&shown)
        .unwrap_or_else(|e| panic!("{text} -> {shown} -> {e}"));
    assert_eq!(again, attr, "{text} -> {shown}");
    assert_eq!(again.key(), attr.key());
}
