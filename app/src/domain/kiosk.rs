//! The code that opens a clinic's reception kiosk: digits only, so a receptionist can
//! type it on a tablet's number pad, and long enough that guessing it from outside takes
//! far more tries than the kiosk allows.

use super::InvalidInput;

/// A kiosk code: 6 to 10 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskCode(String);

impl KioskCode {
    pub const MIN_DIGITS: usize = 6;
    pub const MAX_DIGITS: usize = 10;

    pub fn parse(typed: &str) -> Result<Self, InvalidInput> {
        let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = code.chars().count();
        if !code.chars().all(|c| c.is_ascii_digit())
            || !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits)
        {
            return Err(InvalidInput::new(
                "kiosk_code",
                format!(
                    "A kiosk code is {} to {} digits.",
                    Self::MIN_DIGITS,
                    Self::MAX_DIGITS
                ),
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `typed` is this code, compared in constant time over the code's length.
    pub fn opens_with(&self, typed: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), typed.trim().as_bytes());
        let differ = a
            .iter()
            .zip(b.iter().chain(std::iter::repeat(&0)))
            .fold(0u8, |acc, (x, y)| acc | (x ^ y));
        differ == 0 && a.len() == b.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kiosk_code_is_six_to_ten_digits_and_opens_only_with_itself() {
        let code = KioskCode::parse(" 482 913 ").unwrap();
        assert_eq!(code.as_str(), "482913");
        assert!(code.opens_with("482913"));
        assert!(!code.opens_with("482914"));
        assert!(!code.opens_with("4829130"));
        assert!(!code.opens_with("48291"));
        assert!(!code.opens_with(""));
        for bad in ["12345", "12345678901", "12a456", ""] {
            assert_eq!(
                KioskCode::parse(bad).unwrap_err().field,
                "kiosk_code",
                "{bad}"
            );
        }
    }
}
