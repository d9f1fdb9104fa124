//! The console's forms read into valid values: pure functions that accept what a person
//! types (trimmed, case-forgiving where it is safe) or refuse it naming the field and
//! saying what to type instead.

use super::queues::QueueInput;
use crate::console::{ConsoleError, SettingsInput};
use crate::domain::*;

/// A clinic's name: trimmed, 1 to 80 characters, shown to patients as typed.
pub(super) fn clinic_name(input: &str) -> Result<String, InvalidInput> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(InvalidInput::new(
            "name",
            "Give the clinic a name of 1 to 80 characters.",
        ));
    }
    shown_as_typed("name", "The clinic's name", name)?;
    Ok(name.to_owned())
}

/// Refuses text others will read that holds a direction control or an invisible
/// character (`domain::hidden_character`).
pub(super) fn shown_as_typed(field: &str, subject: &str, text: &str) -> Result<(), InvalidInput> {
    match hidden_character(text) {
        Some(hidden) => Err(hidden.refusal(field, subject)),
        None => Ok(()),
    }
}

/// An IANA timezone name, as typed (trimmed).
pub(super) fn timezone(input: &str) -> Result<TimeZone, InvalidInput> {
    TimeZone::parse(input)
}

/// A whole number within `range`, or a message naming the setting.
fn number(
    field: &str,
    label: &str,
    input: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, InvalidInput> {
    input
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            InvalidInput::new(
                field,
                format!(
                    "{label} must be a whole number from {} to {} (you gave \"{}\").",
                    range.start(),
                    range.end(),
                    input.trim()
                ),
            )
        })
}

/// On or off, as the forms send it (`on`/`off`, `true`/`false`, `yes`/`no`).
fn switch(field: &str, input: &str) -> Result<bool, InvalidInput> {
    match input.trim() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(InvalidInput::new(
            field,
            format!("Choose on or off (you gave \"{other}\")."),
        )),
    }
}

/// The languages offered to patients, comma-separated, in the order given, each once.
fn languages(input: &str) -> Result<Vec<Language>, InvalidInput> {
    let mut langs = Vec::new();
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lang = Language::from_stored(&part.to_ascii_uppercase())
            .or_else(|| Language::from_stored(part))
            .ok_or_else(|| {
                InvalidInput::new(
                    "languages",
                    format!("\"{part}\" is not a language Qline speaks (en, hi)."),
                )
            })?;
        if !langs.contains(&lang) {
            langs.push(lang);
        }
    }
    if langs.is_empty() {
        return Err(InvalidInput::new(
            "languages",
            "Offer patients at least one language.",
        ));
    }
    Ok(langs)
}

/// Applies the settings form to a clinic. Owners may change everything but the
/// operator-only settings (limits and WhatsApp), which are refused by name.
pub fn apply_settings(
    clinic: &mut Clinic,
    input: &SettingsInput,
    operator: bool,
) -> Result<(), ConsoleError> {
    let operator_only = [
        (&input.whatsapp_enabled, "whether WhatsApp is enabled"),
        (&input.whatsapp_template_mode, "the WhatsApp template mode"),
        (&input.daily_token_limit, "the daily token limit"),
        (&input.daily_message_limit, "the daily message limit"),
        (
            &input.joins_per_ip_per_hour,
            "the joins per network per hour",
        ),
    ];
    if !operator {
        if let Some((_, what)) = operator_only.iter().find(|(v, _)| v.is_some()) {
            return Err(ConsoleError::OperatorOnly((*what).to_owned()));
        }
    }
    let s = &mut clinic.settings;
    if let Some(v) = &input.name {
        clinic.name = clinic_name(v)?;
    }
    if let Some(v) = &input.address {
        let v = v.trim();
        if v.chars().count() > 200 {
            return Err(
                InvalidInput::new("address", "Keep the address under 200 characters.").into(),
            );
        }
        shown_as_typed("address", "The address", v)?;
        clinic.address = v.to_owned();
    }
    if let Some(v) = &input.default_country {
        s.default_country = CountryCode::parse(v)?;
    }
    if let Some(v) = &input.contact_phone {
        clinic.contact_phone = if v.trim().is_empty() {
            String::new()
        } else {
            Phone::parse(v, &s.default_country)
                .map_err(|e| InvalidInput::new("contact_phone", e.message))?
                .as_str()
                .to_owned()
        };
    }
    if let Some(v) = &input.timezone {
        clinic.timezone = timezone(v)?;
    }
    if let Some(v) = &input.languages {
        s.languages = languages(v)?;
    }
    if let Some(v) = &input.qr_intake_enabled {
        s.qr_intake_enabled = switch("qr_intake_enabled", v)?;
    }
    if let Some(v) = &input.max_tokens_per_phone_per_day {
        s.max_tokens_per_phone_per_day = number(
            "max_tokens_per_phone_per_day",
            "Tokens per phone per day",
            v,
            1..=20,
        )?;
    }
    if let Some(v) = &input.eta_min_minutes {
        s.eta_min_minutes = number("eta_min_minutes", "The shortest visit", v, 1..=240)?;
    }
    if let Some(v) = &input.eta_max_minutes {
        s.eta_max_minutes = number("eta_max_minutes", "The longest visit", v, 1..=480)?;
    }
    if s.eta_max_minutes < s.eta_min_minutes {
        return Err(InvalidInput::new(
            "eta_max_minutes",
            format!(
                "The longest visit ({} min) cannot be shorter than the shortest ({} min).",
                s.eta_max_minutes, s.eta_min_minutes
            ),
        )
        .into());
    }
    if let Some(v) = &input.notify_when_ahead {
        s.notify_when_ahead = number("notify_when_ahead", "\"Notify when N ahead\"", v, 0..=20)?;
    }
    if let Some(v) = &input.retention_days {
        s.retention_days = match v.trim() {
            "" => None,
            days => Some(RetentionDays::parse(days)?.get()),
        };
    }
    if let Some(v) = &input.whatsapp_enabled {
        s.whatsapp_enabled = switch("whatsapp_enabled", v)?;
    }
    if let Some(v) = &input.whatsapp_template_mode {
        s.whatsapp_template_mode = switch("whatsapp_template_mode", v)?;
    }
    if let Some(v) = &input.daily_token_limit {
        s.daily_token_limit = number("daily_token_limit", "The daily token limit", v, 1..=5000)?;
    }
    if let Some(v) = &input.daily_message_limit {
        s.daily_message_limit = number(
            "daily_message_limit",
            "The daily message limit",
            v,
            0..=100_000,
        )?;
    }
    if let Some(v) = &input.joins_per_ip_per_hour {
        s.joins_per_ip_per_hour = number(
            "joins_per_ip_per_hour",
            "Joins per network per hour",
            v,
            1..=1000,
        )?;
    }
    Ok(())
}

/// The queue form, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueueFields {
    pub name: String,
    /// Upper case.
    pub prefix: String,
    /// The usual visit length; `None`: the clinic's default range.
    pub minutes: Option<u32>,
    /// `None`: the form left the rooms out, so they stay as they are.
    pub rooms: Option<Vec<String>>,
}

/// How many rooms a queue may have, and how long a room's name may be.
const MAX_ROOMS: usize = 20;
const MAX_ROOM_NAME: usize = 30;

pub(super) fn queue_fields(input: &QueueInput) -> Result<QueueFields, InvalidInput> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(InvalidInput::new(
            "name",
            "Give the queue a name of 1 to 40 characters, such as \"General\" or \"Dr Mehta\".",
        ));
    }
    shown_as_typed("name", "The queue's name", name)?;
    let prefix = input.prefix.trim().to_ascii_uppercase();
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(InvalidInput::new(
            "prefix",
            "A token prefix is 1 to 3 letters, such as A or DR.",
        ));
    }
    let minutes = match input.default_service_minutes.trim() {
        "" => None,
        m => Some(number(
            "default_service_minutes",
            "The usual visit length",
            m,
            1..=240,
        )?),
    };
    Ok(QueueFields {
        name: name.to_owned(),
        prefix,
        minutes,
        rooms: input.rooms.as_deref().map(rooms).transpose()?,
    })
}

/// The rooms field: names separated by commas or new lines, such as "Room 1, Room 2".
fn rooms(input: &str) -> Result<Vec<String>, InvalidInput> {
    let mut rooms: Vec<String> = Vec::new();
    for room in input
        .split([',', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        if room.chars().count() > MAX_ROOM_NAME {
            return Err(InvalidInput::new(
                "rooms",
                format!(
                    "Keep each room's name to {MAX_ROOM_NAME} characters (\"{room}\" is longer)."
                ),
            ));
        }
        shown_as_typed("rooms", "A room's name", room)?;
        if rooms
            .iter()
            .any(|r| r.to_lowercase() == room.to_lowercase())
        {
            return Err(InvalidInput::new(
                "rooms",
                format!("\"{room}\" is listed twice. Give each room its own name."),
            ));
        }
        rooms.push(room.to_owned());
    }
    if rooms.len() > MAX_ROOMS {
        return Err(InvalidInput::new(
            "rooms",
            format!(
                "A queue can have up to {MAX_ROOMS} rooms (this lists {}).",
                rooms.len()
            ),
        ));
    }
    Ok(rooms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clinic() -> Clinic {
        Clinic {
            id: ClinicId(7),
            slug: Slug::parse("sunrise").unwrap(),
            name: "Sunrise Clinic".into(),
            address: "4 Lake Road".into(),
            contact_phone: String::new(),
            timezone: TimeZone::from_zone(chrono_tz::Asia::Kolkata),
            status: ClinicStatus::Active,
            status_reason: String::new(),
            settings: ClinicSettings::default(),
            created_at: Timestamp(0),
        }
    }

    fn refused(field: &str, message: &str) -> InvalidInput {
        InvalidInput::new(field, message)
    }

    /// What `apply_settings` says, with the clinic it leaves behind.
    fn apply(input: SettingsInput, operator: bool) -> (Clinic, Result<(), ConsoleError>) {
        let mut clinic = clinic();
        let outcome = apply_settings(&mut clinic, &input, operator);
        (clinic, outcome)
    }

    fn invalid(outcome: Result<(), ConsoleError>) -> InvalidInput {
        match outcome {
            Err(ConsoleError::Invalid(e)) => e,
            other => panic!("expected a refused field, got {other:?}"),
        }
    }

    #[test]
    fn a_clinic_name_is_trimmed_and_up_to_80_characters() {
        assert_eq!(
            clinic_name("  Dr Mehta's Clinic ").unwrap(),
            "Dr Mehta's Clinic"
        );
        // Characters, not bytes: 80 Devanagari letters fit.
        let long = "क".repeat(80);
        assert_eq!(clinic_name(&long).unwrap(), long);
        let message = "Give the clinic a name of 1 to 80 characters.";
        assert_eq!(clinic_name("   "), Err(refused("name", message)));
        assert_eq!(clinic_name(&"a".repeat(81)), Err(refused("name", message)));
    }

    #[test]
    fn names_the_patients_read_show_as_typed() {
        assert_eq!(
            clinic_name("क्\u{200D}षमा Clinic").unwrap(),
            "क्\u{200D}षमा Clinic"
        );
        let e = clinic_name("Sunrise\u{202E}cinilC").unwrap_err();
        assert_eq!(e.field, "name");
        assert!(
            e.message
                .starts_with("The clinic's name contains a text-direction control (U+202E)"),
            "{}",
            e.message
        );
        let e = queue_fields(&queue("Gen\u{200B}eral", "A", "")).unwrap_err();
        assert_eq!(e.field, "name");
        assert!(
            e.message
                .starts_with("The queue's name contains an invisible character (U+200B)"),
            "{}",
            e.message
        );
        let address = SettingsInput {
            address: Some("4 Lake\u{FEFF} Road".into()),
            ..SettingsInput::default()
        };
        let (after, outcome) = apply(address, false);
        assert_eq!(invalid(outcome).field, "address");
        assert_eq!(after.address, "4 Lake Road");
    }

    #[test]
    fn a_timezone_is_an_iana_name() {
        assert_eq!(timezone(" Asia/Dubai ").unwrap(), "Asia/Dubai");
        assert_eq!(
            timezone("Mars/Olympus"),
            Err(refused(
                "timezone",
                "\"Mars/Olympus\" is not a timezone. Use a name such as Asia/Kolkata or Asia/Dubai."
            ))
        );
        assert!(timezone("").is_err());
    }

    #[test]
    fn a_number_must_be_whole_and_within_its_range() {
        assert_eq!(number("n", "Tokens", " 1 ", 1..=20), Ok(1));
        assert_eq!(number("n", "Tokens", "20", 1..=20), Ok(20));
        assert_eq!(number("n", "Tokens", "0", 0..=20), Ok(0));
        for typed in ["21", "0", "-1", "2.5", "two", ""] {
            assert_eq!(
                number("n", "Tokens", typed, 1..=20),
                Err(refused(
                    "n",
                    &format!("Tokens must be a whole number from 1 to 20 (you gave \"{typed}\").")
                )),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn a_switch_is_on_or_off() {
        for on in ["on", "true", " yes "] {
            assert_eq!(switch("qr", on), Ok(true), "{on:?}");
        }
        for off in ["off", "false", "no"] {
            assert_eq!(switch("qr", off), Ok(false), "{off:?}");
        }
        assert_eq!(
            switch("qr", " maybe "),
            Err(refused("qr", "Choose on or off (you gave \"maybe\")."))
        );
    }

    #[test]
    fn languages_keep_their_order_once_each() {
        assert_eq!(languages("en"), Ok(vec![Language::En]));
        assert_eq!(languages(" hi , en "), Ok(vec![Language::Hi, Language::En]));
        assert_eq!(languages("en,hi,en,"), Ok(vec![Language::En, Language::Hi]));
        assert_eq!(
            languages(" , "),
            Err(refused(
                "languages",
                "Offer patients at least one language."
            ))
        );
        assert_eq!(
            languages("en, fr"),
            Err(refused(
                "languages",
                "\"fr\" is not a language Qline speaks (en, hi)."
            ))
        );
    }

    fn queue(name: &str, prefix: &str, minutes: &str) -> QueueInput {
        QueueInput {
            queue_id: None,
            name: name.into(),
            prefix: prefix.into(),
            default_service_minutes: minutes.into(),
            rooms: None,
        }
    }

    fn fields(name: &str, prefix: &str, minutes: Option<u32>) -> QueueFields {
        QueueFields {
            name: name.into(),
            prefix: prefix.into(),
            minutes,
            rooms: None,
        }
    }

    #[test]
    fn a_queue_has_a_name_a_letter_prefix_and_maybe_a_visit_length() {
        assert_eq!(
            queue_fields(&queue(" Dr Mehta ", " dr ", "")),
            Ok(fields("Dr Mehta", "DR", None))
        );
        assert_eq!(
            queue_fields(&queue("Dental", "D", " 20 ")),
            Ok(fields("Dental", "D", Some(20)))
        );
        let name =
            "Give the queue a name of 1 to 40 characters, such as \"General\" or \"Dr Mehta\".";
        assert_eq!(
            queue_fields(&queue(" ", "A", "")),
            Err(refused("name", name))
        );
        assert_eq!(
            queue_fields(&queue(&"q".repeat(41), "A", "")),
            Err(refused("name", name))
        );
        let prefix = "A token prefix is 1 to 3 letters, such as A or DR.";
        for typed in ["", "ABCD", "A1", "Ä"] {
            assert_eq!(
                queue_fields(&queue("General", typed, "")),
                Err(refused("prefix", prefix)),
                "{typed:?}"
            );
        }
        for typed in ["0", "241", "soon"] {
            assert_eq!(
                queue_fields(&queue("General", "A", typed)),
                Err(refused(
                    "default_service_minutes",
                    &format!(
                        "The usual visit length must be a whole number from 1 to 240 (you gave \"{typed}\")."
                    )
                )),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn rooms_are_listed_by_comma_or_line_each_named_once() {
        let with_rooms = |typed: &str| {
            queue_fields(&QueueInput {
                rooms: Some(typed.into()),
                ..queue("General", "A", "")
            })
            .map(|f| f.rooms)
        };
        assert_eq!(
            with_rooms(" Room 1, Room 2 \n Dental chair 1 ,, "),
            Ok(Some(vec![
                "Room 1".into(),
                "Room 2".into(),
                "Dental chair 1".into()
            ]))
        );
        assert_eq!(with_rooms(""), Ok(Some(Vec::new())));
        assert_eq!(
            with_rooms("Room 1, room 1"),
            Err(refused(
                "rooms",
                "\"room 1\" is listed twice. Give each room its own name."
            ))
        );
        assert!(with_rooms(&"r".repeat(31)).is_err());
        let many: Vec<String> = (1..=21).map(|n| format!("Room {n}")).collect();
        assert_eq!(
            with_rooms(&many.join(",")),
            Err(refused(
                "rooms",
                "A queue can have up to 20 rooms (this lists 21)."
            ))
        );
        assert!(with_rooms("Room\u{200B}1").is_err());
    }

    #[test]
    fn an_empty_settings_form_changes_nothing() {
        let (after, outcome) = apply(SettingsInput::default(), false);
        assert_eq!(outcome, Ok(()));
        assert_eq!(after, clinic());
    }

    #[test]
    fn an_owner_changes_the_clinics_own_settings() {
        let input = SettingsInput {
            name: Some(" Sunrise Family Clinic ".into()),
            address: Some(" 9 Hill Street ".into()),
            default_country: Some("ae".into()),
            // Read in the country given in the same form.
            contact_phone: Some("050 123 4567".into()),
            timezone: Some("Asia/Dubai".into()),
            languages: Some("hi".into()),
            qr_intake_enabled: Some("off".into()),
            max_tokens_per_phone_per_day: Some("3".into()),
            eta_min_minutes: Some("10".into()),
            eta_max_minutes: Some("25".into()),
            notify_when_ahead: Some("0".into()),
            ..SettingsInput::default()
        };
        let (after, outcome) = apply(input, false);
        assert_eq!(outcome, Ok(()));
        assert_eq!(after.name, "Sunrise Family Clinic");
        assert_eq!(after.address, "9 Hill Street");
        assert_eq!(after.contact_phone, "+971501234567");
        assert_eq!(after.timezone, "Asia/Dubai");
        let s = &after.settings;
        assert_eq!(s.default_country.as_str(), "AE");
        assert_eq!(s.languages, vec![Language::Hi]);
        assert!(!s.qr_intake_enabled);
        assert_eq!(s.max_tokens_per_phone_per_day, 3);
        assert_eq!((s.eta_min_minutes, s.eta_max_minutes), (10, 25));
        assert_eq!(s.notify_when_ahead, 0);
        // What only the operator sets stays.
        let default = ClinicSettings::default();
        assert_eq!(s.daily_token_limit, default.daily_token_limit);
        assert_eq!(s.whatsapp_enabled, default.whatsapp_enabled);
    }

    #[test]
    fn an_owner_is_refused_each_operator_setting_by_name_and_nothing_changes() {
        // Each alongside a change the owner may make, which must not happen either.
        let rename = || SettingsInput {
            name: Some("Renamed".into()),
            ..SettingsInput::default()
        };
        let cases = [
            (
                SettingsInput {
                    whatsapp_enabled: Some("on".into()),
                    ..rename()
                },
                "whether WhatsApp is enabled",
            ),
            (
                SettingsInput {
                    whatsapp_template_mode: Some("on".into()),
                    ..rename()
                },
                "the WhatsApp template mode",
            ),
            (
                SettingsInput {
                    daily_token_limit: Some("500".into()),
                    ..rename()
                },
                "the daily token limit",
            ),
            (
                SettingsInput {
                    daily_message_limit: Some("50".into()),
                    ..rename()
                },
                "the daily message limit",
            ),
            (
                SettingsInput {
                    joins_per_ip_per_hour: Some("5".into()),
                    ..rename()
                },
                "the joins per network per hour",
            ),
        ];
        for (input, what) in cases {
            let (after, outcome) = apply(input, false);
            assert_eq!(outcome, Err(ConsoleError::OperatorOnly(what.to_owned())));
            assert_eq!(after, clinic(), "{what}");
        }
    }

    #[test]
    fn the_operator_sets_the_limits_and_whatsapp() {
        let input = SettingsInput {
            whatsapp_enabled: Some("on".into()),
            whatsapp_template_mode: Some("yes".into()),
            daily_token_limit: Some("5000".into()),
            daily_message_limit: Some("0".into()),
            joins_per_ip_per_hour: Some("1".into()),
            ..SettingsInput::default()
        };
        let (after, outcome) = apply(input, true);
        assert_eq!(outcome, Ok(()));
        let s = &after.settings;
        assert!(s.whatsapp_enabled && s.whatsapp_template_mode);
        assert_eq!(
            (
                s.daily_token_limit,
                s.daily_message_limit,
                s.joins_per_ip_per_hour
            ),
            (5000, 0, 1)
        );

        let too_many = SettingsInput {
            daily_token_limit: Some("5001".into()),
            ..SettingsInput::default()
        };
        assert_eq!(
            invalid(apply(too_many, true).1),
            refused(
                "daily_token_limit",
                "The daily token limit must be a whole number from 1 to 5000 (you gave \"5001\")."
            )
        );
    }

    #[test]
    fn the_longest_visit_cannot_be_shorter_than_the_shortest() {
        // The clinic's longest visit stays at 15 minutes.
        let input = SettingsInput {
            eta_min_minutes: Some("20".into()),
            ..SettingsInput::default()
        };
        assert_eq!(
            invalid(apply(input, false).1),
            refused(
                "eta_max_minutes",
                "The longest visit (15 min) cannot be shorter than the shortest (20 min)."
            )
        );
        let equal = SettingsInput {
            eta_min_minutes: Some("15".into()),
            ..SettingsInput::default()
        };
        assert_eq!(apply(equal, false).1, Ok(()));
    }

    #[test]
    fn the_contact_phone_is_read_in_the_clinics_country_or_cleared() {
        let mut with_phone = clinic();
        with_phone.contact_phone = "+919812345678".into();
        let clear = SettingsInput {
            contact_phone: Some("  ".into()),
            ..SettingsInput::default()
        };
        assert_eq!(apply_settings(&mut with_phone, &clear, false), Ok(()));
        assert_eq!(with_phone.contact_phone, "");

        let national = SettingsInput {
            contact_phone: Some("98123 45678".into()),
            ..SettingsInput::default()
        };
        let (after, outcome) = apply(national, false);
        assert_eq!(outcome, Ok(()));
        assert_eq!(after.contact_phone, "+919812345678");

        let wrong = SettingsInput {
            contact_phone: Some("12345".into()),
            ..SettingsInput::default()
        };
        let e = invalid(apply(wrong, false).1);
        assert_eq!(e.field, "contact_phone");
        assert!(
            e.message.contains("\"12345\" is not a valid phone number"),
            "{}",
            e.message
        );
    }

    #[test]
    fn each_refused_setting_names_its_field() {
        let cases = [
            (
                SettingsInput {
                    name: Some("".into()),
                    ..SettingsInput::default()
                },
                "name",
            ),
            (
                SettingsInput {
                    address: Some("a".repeat(201)),
                    ..SettingsInput::default()
                },
                "address",
            ),
            (
                SettingsInput {
                    default_country: Some("India".into()),
                    ..SettingsInput::default()
                },
                "default_country",
            ),
            (
                SettingsInput {
                    timezone: Some("IST".into()),
                    ..SettingsInput::default()
                },
                "timezone",
            ),
            (
                SettingsInput {
                    languages: Some("".into()),
                    ..SettingsInput::default()
                },
                "languages",
            ),
            (
                SettingsInput {
                    qr_intake_enabled: Some("sometimes".into()),
                    ..SettingsInput::default()
                },
                "qr_intake_enabled",
            ),
            (
                SettingsInput {
                    max_tokens_per_phone_per_day: Some("21".into()),
                    ..SettingsInput::default()
                },
                "max_tokens_per_phone_per_day",
            ),
            (
                SettingsInput {
                    eta_max_minutes: Some("481".into()),
                    ..SettingsInput::default()
                },
                "eta_max_minutes",
            ),
            (
                SettingsInput {
                    notify_when_ahead: Some("21".into()),
                    ..SettingsInput::default()
                },
                "notify_when_ahead",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(invalid(apply(input, false).1).field, field);
        }
        let address = SettingsInput {
            address: Some("a".repeat(201)),
            ..SettingsInput::default()
        };
        assert_eq!(
            invalid(apply(address, false).1).message,
            "Keep the address under 200 characters."
        );
    }
}
