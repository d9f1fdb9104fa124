//! A patient's phone number, always held in E.164 (`+919812345678`).
//! Parsing uses the libphonenumber metadata (server side only, it is large), reading
//! national numbers in the clinic's default country.

#[cfg(feature = "ssr")]
use super::{CountryCode, InvalidInput};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    #[cfg(feature = "ssr")]
    pub fn parse(input: &str, default_country: &CountryCode) -> Result<Self, InvalidInput> {
        use phonenumber::{country, Mode};
        let invalid = || {
            InvalidInput::new(
                "phone",
                format!(
                    "\"{}\" is not a valid phone number. Enter a mobile number, e.g. {}.",
                    input.trim(),
                    default_country.example_number()
                ),
            )
        };
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > 32 {
            return Err(invalid());
        }
        let country: country::Id = default_country.as_str().parse().map_err(|_| invalid())?;
        let number = phonenumber::parse(Some(country), trimmed).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    /// Trusts a value read back from our own database.
    pub fn from_stored(e164: String) -> Self {
        Self(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs and screens that must not expose the number: `+91••••••3210`.
    pub fn masked(&self) -> String {
        let keep_start = self.0.len().min(3);
        let keep_end = self.0.len().saturating_sub(keep_start).min(4);
        let hidden = self.0.len() - keep_start - keep_end;
        format!(
            "{}{}{}",
            &self.0[..keep_start],
            "•".repeat(hidden),
            &self.0[self.0.len() - keep_end..]
        )
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn india() -> CountryCode {
        CountryCode::parse("IN").unwrap()
    }

    #[test]
    fn national_numbers_take_the_clinic_country() {
        let p = Phone::parse("098123 45678", &india()).unwrap();
        assert_eq!(p.as_str(), "+919812345678");
        let uae = CountryCode::parse("AE").unwrap();
        assert_eq!(
            Phone::parse("050 123 4567", &uae).unwrap().as_str(),
            "+971501234567"
        );
    }

    #[test]
    fn international_numbers_keep_their_country() {
        let p = Phone::parse("+971 50 123 4567", &india()).unwrap();
        assert_eq!(p.as_str(), "+971501234567");
    }

    #[test]
    fn nonsense_is_refused_with_an_example() {
        let err = Phone::parse("12345", &india()).unwrap_err();
        assert_eq!(err.field, "phone");
        assert!(err.message.contains("98123 45678"), "{}", err.message);
        assert!(Phone::parse("call me", &india()).is_err());
    }

    #[test]
    fn masking_hides_the_middle() {
        assert_eq!(
            Phone::from_stored("+919812345678".into()).masked(),
            "+91••••••5678"
        );
    }
}
