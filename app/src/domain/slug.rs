//! A clinic's short name in URLs (`/c/{slug}`): lowercase letters, digits and hyphens.

use super::InvalidInput;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Paths that a clinic's slug must never shadow.
const RESERVED: &[&str] = &[
    "admin", "api", "c", "clinic", "desk", "login", "logout", "pkg", "t",
];

impl Slug {
    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let s = input.trim().to_ascii_lowercase();
        let err = |m: &str| Err(InvalidInput::new("slug", m));
        if s.len() < 2 || s.len() > 40 {
            return err("A clinic's short name must be 2 to 40 characters long.");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err("A clinic's short name may use only letters a-z, digits and hyphens.");
        }
        if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return err("A clinic's short name cannot start or end with a hyphen or repeat one.");
        }
        if RESERVED.contains(&s.as_str()) {
            return err("That short name is reserved; please choose another.");
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_slugs_and_lowercases() {
        assert_eq!(
            Slug::parse(" Sunrise-Clinic ").unwrap().as_str(),
            "sunrise-clinic"
        );
    }

    #[test]
    fn refuses_what_would_break_a_url() {
        for bad in [
            "a",
            "has space",
            "-lead",
            "trail-",
            "dou--ble",
            "admin",
            "ünï",
            &"x".repeat(41),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
