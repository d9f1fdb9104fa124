//! Text one person types and others read (a patient's name on the desk and the board, a
//! clinic's or a queue's name on the join page and the poster) must show as it was typed.
//! Direction controls can reverse what others read, and invisible characters can make
//! two names look alike; both are refused, usually having come in with pasted text.

use super::InvalidInput;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// A character that would not show as typed, and what kind it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Reorders the text around it: the embeddings and overrides U+202A–U+202E, the
    /// isolates U+2066–U+2069, the marks U+200E, U+200F and U+061C.
    Direction(char),
    /// Shows nothing: a control or format character (zero-width space U+200B, word joiner
    /// U+2060, byte-order mark U+FEFF, soft hyphen…), a joiner out of place, a filler or a
    /// variation selector, a private-use or unassigned code point.
    Invisible(char),
}

impl Hidden {
    /// Refuses `field` with a message naming the character (`subject`: "The name").
    pub fn refusal(self, field: &str, subject: &str) -> InvalidInput {
        let message = match self {
            Hidden::Direction(c) => format!(
                "{subject} contains a text-direction control ({}) that changes how it reads \
                 to others. Please type it in yourself rather than pasting it.",
                code_point(c)
            ),
            Hidden::Invisible(c) => format!(
                "{subject} contains an invisible character ({}). Please type it in yourself \
                 rather than pasting it.",
                code_point(c)
            ),
        };
        InvalidInput::new(field, message)
    }
}

fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The first character of `text` that would not show to others as typed, if any.
///
/// Line breaks and tabs are whitespace, not hidden: callers that want one line collapse
/// whitespace first. The zero-width joiner and non-joiner are how Devanagari writes a half
/// form or an explicit virama (क्‍ष, क्‌ष) and how Persian and Arabic keep two letters
/// apart (می‌خواهم), so they are allowed inside a word: after a letter or a combining mark
/// and before a letter or mark. Leading, trailing, doubled, next to a space or between
/// emoji they do nothing a name needs and are refused. A variation selector is allowed right after a symbol
/// (❤️ as phones type it), nowhere else.
pub fn hidden_character(text: &str) -> Option<Hidden> {
    let chars: Vec<char> = text.chars().collect();
    let in_word = |c: Option<&char>| {
        c.is_some_and(|&c| {
            matches!(
                c.general_category_group(),
                GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark
            )
        })
    };
    chars.iter().enumerate().find_map(|(i, &c)| {
        let before = i.checked_sub(1).and_then(|b| chars.get(b));
        let after = chars.get(i + 1);
        let hidden = match c {
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}' => return Some(Hidden::Direction(c)),
            ZWNJ | ZWJ => !(in_word(before) && in_word(after)),
            '\u{FE0E}' | '\u{FE0F}' => {
                before.map(|b| b.general_category()) != Some(GeneralCategory::OtherSymbol)
            }
            _ if c.is_whitespace() => false,
            // Default-ignorable characters that are not format characters: the combining
            // grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian and other
            // variation selectors.
            '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0100}'..='\u{E01EF}' => true,
            // Controls, format characters, private use and unassigned code points.
            _ => c.general_category_group() == GeneralCategoryGroup::Other,
        };
        hidden.then_some(Hidden::Invisible(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> bool {
        hidden_character(text).is_none()
    }

    #[test]
    fn names_in_every_script_show_as_typed() {
        for name in [
            "Asha Rao",
            "नमस्ते जी",
            "श्रीमती क्षमा",
            // A Devanagari half form and an explicit virama: joiners inside a word.
            "क्\u{200D}ष",
            "क्\u{200C}ष",
            // Persian keeps two letters apart with a non-joiner.
            "می\u{200C}خواهم",
            "عبد الله",
            "Jose\u{0301}", // with a combining acute accent
            "O'Brien-Smith",
            "Asha ❤\u{FE0F}",
            "line one\nline two",
        ] {
            assert_eq!(hidden_character(name), None, "{name:?}");
        }
    }

    #[test]
    fn direction_controls_are_refused() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            assert_eq!(
                hidden_character(&format!("As{c}ha")),
                Some(Hidden::Direction(c)),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        for c in [
            '\u{200B}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{180E}',
            '\u{2061}',
            '\u{E0041}',
            '\u{034F}',
            '\u{3164}',
            '\u{FE00}',
            '\u{E000}',
            '\u{0378}',
            '\u{0007}',
            '\u{007F}',
        ] {
            assert_eq!(
                hidden_character(&format!("As{c}ha")),
                Some(Hidden::Invisible(c)),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn joiners_are_refused_outside_a_word() {
        for text in [
            "\u{200D}Asha",
            "Asha\u{200D}",
            "क्\u{200D}\u{200D}ष",
            "क्\u{200C}\u{200D}ष",
            "Asha \u{200C}Rao",
            "Asha\u{200C} Rao",
            "1\u{200D}2",
            "\u{1F468}\u{200D}\u{1F469}",
        ] {
            assert!(!shown(text), "{text:?}");
        }
        // A variation selector needs a symbol before it.
        assert!(!shown("Asha\u{FE0F}"));
        assert!(!shown("\u{FE0F}"));
    }

    #[test]
    fn the_refusal_names_the_field_and_the_character() {
        let e = Hidden::Direction('\u{202E}').refusal("name", "The name");
        assert_eq!(e.field, "name");
        assert_eq!(
            e.message,
            "The name contains a text-direction control (U+202E) that changes how it reads to \
             others. Please type it in yourself rather than pasting it."
        );
        let e = Hidden::Invisible('\u{200B}').refusal("name", "The name");
        assert!(
            e.message.contains("an invisible character (U+200B)"),
            "{}",
            e.message
        );
    }
}
