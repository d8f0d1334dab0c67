//! A [`Dictionary`]: the built-in tables plus definitions loaded from
//! FreeRADIUS-format files (see `dictfile`), looked up by name (ASCII
//! case-insensitively, as FreeRADIUS does) and by number.
//!
//! Invariants it owns:
//! - A name means one definition. Defining it again is allowed only with the
//!   same number and type, and then changes nothing, so a copy of a
//!   FreeRADIUS file that matches the built-ins loads cleanly.
//! - A number has one type. A second name for it (FreeRADIUS keeps old names
//!   that way) must agree on the type; the newest name is the one displayed,
//!   as in FreeRADIUS.
//! - Named values belong to a number, so every name of it shares them; for a
//!   number with several value names the newest is displayed.
//! - Loaded definitions are counted, and refused beyond
//!   [`MAX_DEFINITIONS`], because the files are parsed at start-up.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::attr::{ARAP_PASSWORD, CHAP_PASSWORD, VENDOR_MICROSOFT};
use super::dict;
use super::error::DictErrorKind;
use super::kind::AttrKind;
use super::vendors::VENDORS;

/// Longest attribute, vendor or value name (FreeRADIUS's limit too).
pub const MAX_NAME_LEN: usize = 128;
/// Most definitions (ATTRIBUTE, VALUE and VENDOR lines) all loaded files may
/// add together.
pub const MAX_DEFINITIONS: usize = 100_000;

/// Which attribute: the vendor (0 for the standard space) and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttrKey {
    pub vendor: u32,
    pub typ: u32,
}

impl AttrKey {
    #[must_use]
    pub const fn standard(typ: u8) -> Self {
        Self {
            vendor: 0,
            typ: typ as u32,
        }
    }

    #[must_use]
    pub const fn vendor(vendor: u32, typ: u32) -> Self {
        Self { vendor, typ }
    }
}

/// How a vendor lays out the sub-attributes of a Vendor-Specific value
/// (FreeRADIUS `format=t,l`): octets of vendor type, then octets of vendor
/// length (0 = no length: the data runs to the end of the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorFormat {
    pub type_len: u8,
    pub length_len: u8,
}

impl VendorFormat {
    /// RFC 2865 §5.26's suggested layout, FreeRADIUS's default.
    pub const RFC: Self = Self {
        type_len: 1,
        length_len: 1,
    };

    /// The largest attribute number the type octets can carry.
    #[must_use]
    pub fn max_type(self) -> u32 {
        match self.type_len {
            1 => u32::from(u8::MAX),
            2 => u32::from(u16::MAX),
            _ => u32::MAX,
        }
    }
}

impl fmt::Display for VendorFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "format={},{}", self.type_len, self.length_len)
    }
}

/// Where a definition came from, for error messages naming both sides of a
/// conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    BuiltIn,
    File { file: Arc<str>, line: usize },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuiltIn => f.write_str("built-in"),
            Self::File { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Vendor {
    pub(super) name: Box<str>,
    pub(super) id: u32,
    pub(super) format: VendorFormat,
    pub(super) origin: Origin,
}

impl Vendor {
    fn definition(&self) -> String {
        format!("{} {} ({})", self.id, self.format, self.origin)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Attribute {
    pub(super) name: Box<str>,
    pub(super) key: AttrKey,
    pub(super) kind: AttrKind,
    /// FreeRADIUS's `secret` flag: never displayed, never set by a policy.
    pub(super) secret: bool,
    pub(super) origin: Origin,
}

#[derive(Debug, Clone, Default)]
struct Values {
    by_name: BTreeMap<String, u64>,
    by_number: BTreeMap<u64, Box<str>>,
}

/// The attributes Gatehouse can name: the built-in standard and vendor
/// tables plus whatever [`load`](Self::load) added. Build it once at
/// start-up and share it (it is `Send + Sync`; the daemon keeps it in an
/// `Arc`).
#[derive(Clone)]
pub struct Dictionary {
    vendors: Vec<Vendor>,
    vendor_by_name: BTreeMap<String, usize>,
    vendor_by_id: BTreeMap<u32, usize>,
    attrs: Vec<Attribute>,
    attr_by_name: BTreeMap<String, usize>,
    attr_by_key: BTreeMap<AttrKey, usize>,
    values: BTreeMap<AttrKey, Values>,
    loaded: usize,
}

/// FreeRADIUS 3.2 marks these `secret`: they carry credential material.
const BUILTIN_SECRETS: &[AttrKey] = &[
    AttrKey::standard(CHAP_PASSWORD),
    AttrKey::standard(ARAP_PASSWORD),
    AttrKey::vendor(VENDOR_MICROSOFT, 6),
    AttrKey::vendor(VENDOR_MICROSOFT, 11),
];

impl Default for Dictionary {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Dictionary {
    // Thousands of entries would drown any log line the dictionary ends up in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dictionary")
            .field("vendors", &self.vendors.len())
            .field("attributes", &self.attrs.len())
            .field(
                "values",
                &self.values.values().map(|v| v.by_name.len()).sum::<usize>(),
            )
            .field("loaded_definitions", &self.loaded)
            .finish()
    }
}

impl Dictionary {
    /// The built-in standard and vendor dictionaries.
    #[must_use]
    pub fn new() -> Self {
        Self::builtin().0
    }

    /// The built-ins, and any conflict among them (a test keeps it empty).
    fn builtin() -> (Self, Vec<DictErrorKind>) {
        let mut d = Self {
            vendors: Vec::new(),
            vendor_by_name: BTreeMap::new(),
            vendor_by_id: BTreeMap::new(),
            attrs: Vec::new(),
            attr_by_name: BTreeMap::new(),
            attr_by_key: BTreeMap::new(),
            values: BTreeMap::new(),
            loaded: 0,
        };
        let mut errors = Vec::new();
        let add_attr = |d: &mut Self, name: &str, key: AttrKey, kind: AttrKind| {
            let attr = Attribute {
                name: name.into(),
                key,
                kind,
                secret: BUILTIN_SECRETS.contains(&key),
                origin: Origin::BuiltIn,
            };
            d.add_attribute(attr).err()
        };
        for a in dict::ATTRIBUTES {
            errors.extend(add_attr(&mut d, a.name, AttrKey::standard(a.typ), a.kind));
        }
        for v in VENDORS {
            errors.extend(
                d.add_vendor(v.name, v.id, VendorFormat::RFC, Origin::BuiltIn)
                    .err(),
            );
            for a in v.attributes {
                let key = AttrKey::vendor(a.vendor_id, u32::from(a.typ));
                errors.extend(add_attr(&mut d, a.name, key, a.kind));
            }
        }
        let values = dict::VALUES
            .iter()
            .chain(VENDORS.iter().flat_map(|v| v.values));
        for v in values {
            let key = AttrKey::vendor(v.vendor_id, u32::from(v.typ));
            errors.extend(d.add_value_by_key(key, v.name, u64::from(v.value)).err());
        }
        (d, errors)
    }

    /// The key of the attribute called `name`, if there is one.
    #[must_use]
    pub fn key_of(&self, name: &str) -> Option<AttrKey> {
        self.attribute(name).map(|a| a.key)
    }

    pub(super) fn attribute(&self, name: &str) -> Option<&Attribute> {
        let i = self.attr_by_name.get(&name.to_ascii_lowercase())?;
        self.attrs.get(*i)
    }

    /// The attribute displayed for a number: the newest of its names.
    pub(super) fn attribute_by_key(&self, key: AttrKey) -> Option<&Attribute> {
        self.attrs.get(*self.attr_by_key.get(&key)?)
    }

    pub(super) fn vendor_named(&self, name: &str) -> Option<&Vendor> {
        let i = self.vendor_by_name.get(&name.to_ascii_lowercase())?;
        self.vendors.get(*i)
    }

    pub(super) fn vendor_by_id(&self, id: u32) -> Option<&Vendor> {
        self.vendors.get(*self.vendor_by_id.get(&id)?)
    }

    pub(super) fn value_number(&self, key: AttrKey, name: &str) -> Option<u64> {
        let values = self.values.get(&key)?;
        values.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub(super) fn value_name(&self, key: AttrKey, number: u64) -> Option<&str> {
        let values = self.values.get(&key)?;
        values.by_number.get(&number).map(AsRef::as_ref)
    }

    /// Counts one loaded definition against [`MAX_DEFINITIONS`].
    pub(super) fn count_definition(&mut self) -> Result<(), DictErrorKind> {
        self.loaded += 1;
        if self.loaded > MAX_DEFINITIONS {
            return Err(DictErrorKind::TooManyDefinitions {
                max: MAX_DEFINITIONS,
            });
        }
        Ok(())
    }

    /// How an attribute reads in a file, for naming both sides of a conflict.
    pub(super) fn definition(&self, attr: &Attribute) -> String {
        let vendor = match attr.key.vendor {
            0 => String::new(),
            id => match self.vendor_by_id(id) {
                Some(v) => format!("{} ", v.name),
                None => format!("vendor {id} "),
            },
        };
        format!(
            "{vendor}{} {} ({})",
            attr.key.typ,
            attr.kind.freeradius_type(),
            attr.origin
        )
    }

    pub(super) fn add_vendor(
        &mut self,
        name: &str,
        id: u32,
        format: VendorFormat,
        origin: Origin,
    ) -> Result<(), DictErrorKind> {
        let new = Vendor {
            name: name.into(),
            id,
            format,
            origin,
        };
        if let Some(old) = self.vendor_named(name) {
            if old.id == id && old.format == format {
                return Ok(());
            }
            return Err(DictErrorKind::DuplicateVendor {
                name: name.to_string(),
                new: new.definition(),
                old: old.definition(),
            });
        }
        // A second name for a vendor number is an alias, as in FreeRADIUS;
        // the layout is what decoding depends on, so it must agree.
        if let Some(old) = self.vendor_by_id(id)
            && old.format != format
        {
            return Err(DictErrorKind::DuplicateVendor {
                name: name.to_string(),
                new: new.definition(),
                old: format!("{} {}", old.name, old.definition()),
            });
        }
        let i = self.vendors.len();
        self.vendors.push(new);
        self.vendor_by_name.insert(name.to_ascii_lowercase(), i);
        self.vendor_by_id.entry(id).or_insert(i);
        Ok(())
    }

    pub(super) fn add_attribute(&mut self, mut new: Attribute) -> Result<(), DictErrorKind> {
        if let Some(old) = self.attribute(&new.name) {
            if old.key == new.key && old.kind == new.kind {
                return Ok(());
            }
            return Err(DictErrorKind::DuplicateAttribute {
                name: new.name.to_string(),
                new: self.definition(&new),
                old: self.definition(old),
            });
        }
        if let Some(old) = self.attribute_by_key(new.key) {
            if old.kind != new.kind {
                return Err(DictErrorKind::NumberClash {
                    name: new.name.to_string(),
                    new: self.definition(&new),
                    old: format!("{}, {}", old.name, self.definition(old)),
                });
            }
            new.secret |= old.secret;
        }
        let i = self.attrs.len();
        self.attr_by_name.insert(new.name.to_ascii_lowercase(), i);
        self.attr_by_key.insert(new.key, i);
        self.attrs.push(new);
        Ok(())
    }

    /// Adds `VALUE attr name number`; `ValueForUnknownAttribute` when the
    /// attribute is not (yet) defined.
    pub(super) fn add_value(
        &mut self,
        attr: &str,
        name: &str,
        number: u64,
    ) -> Result<(), DictErrorKind> {
        let Some(a) = self.attribute(attr) else {
            return Err(DictErrorKind::ValueForUnknownAttribute {
                attr: attr.to_string(),
            });
        };
        if !a.kind.takes_value_names() {
            return Err(DictErrorKind::ValueNotForType {
                attr: a.name.to_string(),
                typ: a.kind.freeradius_type(),
            });
        }
        let max = a.kind.max_number().unwrap_or(0);
        if number > max {
            return Err(DictErrorKind::OutOfRange {
                what: "VALUE",
                number,
                min: 0,
                max,
            });
        }
        let key = a.key;
        self.add_value_by_key(key, name, number)
    }

    fn add_value_by_key(
        &mut self,
        key: AttrKey,
        name: &str,
        number: u64,
    ) -> Result<(), DictErrorKind> {
        let attr_name = self
            .attribute_by_key(key)
            .map_or_else(|| format!("{key:?}"), |a| a.name.to_string());
        let values = self.values.entry(key).or_default();
        let lower = name.to_ascii_lowercase();
        if let Some(old) = values.by_name.get(&lower) {
            if *old == number {
                return Ok(());
            }
            return Err(DictErrorKind::DuplicateValue {
                attr: attr_name,
                name: name.to_string(),
                new: number,
                old: *old,
            });
        }
        values.by_name.insert(lower, number);
        values.by_number.insert(number, name.into());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_built_ins_agree_with_each_other() {
        let (d, errors) = Dictionary::builtin();
        assert!(errors.is_empty(), "{errors:?}");
        let expected =
            dict::ATTRIBUTES.len() + VENDORS.iter().map(|v| v.attributes.len()).sum::<usize>();
        assert_eq!(d.attrs.len(), expected);
        assert_eq!(d.vendors.len(), VENDORS.len());
    }

    #[test]
    fn lookups() {
        let d = Dictionary::new();
        assert_eq!(d.key_of("cisco-avpair"), Some(AttrKey::vendor(9, 1)));
        assert_eq!(d.key_of("SESSION-TIMEOUT"), Some(AttrKey::standard(27)));
        assert_eq!(d.key_of("No-Such"), None);
        let tt = AttrKey::standard(64);
        assert_eq!(d.value_number(tt, "vlan"), Some(13));
        assert_eq!(d.value_name(tt, 13), Some("VLAN"));
        // Two names for one value: the later FreeRADIUS one is displayed,
        // both are read.
        let medium = AttrKey::standard(65);
        assert_eq!(d.value_name(medium, 1), Some("IPv4"));
        assert_eq!(d.value_number(medium, "IP"), Some(1));
        let status = AttrKey::standard(40);
        assert_eq!(d.value_name(status, 3), Some("Interim-Update"));
        assert_eq!(d.value_number(status, "Alive"), Some(3));
        assert_eq!(
            d.attribute_by_key(AttrKey::vendor(311, 8))
                .unwrap()
                .name
                .as_ref(),
            "MS-MPPE-Encryption-Types"
        );
        assert!(d.attribute("CHAP-Password").unwrap().secret);
        assert_eq!(d.vendor_named("paloalto").unwrap().id, 25461);
    }

    #[test]
    fn shareable_across_threads() {
        fn is_send_sync<T: Send + Sync>() {}
        is_send_sync::<Dictionary>();
    }

    #[test]
    fn debug_is_a_summary() {
        let text = format!("{:?}", Dictionary::new());
        assert!(
            text.starts_with("Dictionary { vendors: 7, attributes: "),
            "{text}"
        );
        assert!(text.len() < 200, "{text}");
    }
}
