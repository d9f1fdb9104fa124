//! Database ids as distinct types, so a queue id is never passed where a token id belongs,
//! and the random public id that makes a tracker link unguessable.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A clinic (the tenant).
    ClinicId
);
id_type!(
    /// A line within a clinic: a doctor or a service.
    QueueId
);
id_type!(
    /// One queue's local calendar day.
    QueueDayId
);
id_type!(
    /// A patient's place in a queue day.
    TokenId
);
id_type!(
    /// A staff login.
    UserId
);

/// The unguessable id in a tracker link (`/t/{public_id}`): 22 characters of base62,
/// about 131 bits of randomness.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PublicId(String);

const PUBLIC_ID_LEN: usize = 22;
#[cfg(feature = "ssr")]
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl PublicId {
    /// Reads a public id from a URL; anything that could not have been issued is refused.
    pub fn parse(input: &str) -> Option<Self> {
        let ok = input.len() == PUBLIC_ID_LEN && input.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| Self(input.to_owned()))
    }

    #[cfg(feature = "ssr")]
    pub fn random() -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        let id = (0..PUBLIC_ID_LEN)
            .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
            .collect();
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_long_random_and_parse_back() {
        let a = PublicId::random();
        let b = PublicId::random();
        assert_ne!(a, b);
        assert_eq!(PublicId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(PublicId::parse("short"), None);
        assert_eq!(PublicId::parse(&format!("{}!", &a.as_str()[1..])), None);
    }
}
