//! What Qline says to patients: the kinds of message, their default wording in English
//! and Hindi on WhatsApp and in the short texts of SMS and web push, and the `{variable}`
//! templates clinics may rewrite. Shared with
//! the browser, so the template editor's preview is the same code that renders the
//! real message.

use crate::domain::Language;
use serde::{Deserialize, Serialize};

macro_rules! kinds {
    ($($variant:ident = $stored:literal, $label:literal;)+) => {
        /// Why a message is sent.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum MessageKind { $($variant),+ }

        impl MessageKind {
            pub const ALL: &'static [MessageKind] = &[$(MessageKind::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(MessageKind::$variant => $stored),+ }
            }

            pub fn from_stored(s: &str) -> Option<Self> {
                match s { $($stored => Some(MessageKind::$variant),)+ _ => None }
            }

            /// What the owner sees in the template editor.
            pub fn label(self) -> &'static str {
                match self { $(MessageKind::$variant => $label),+ }
            }
        }
    };
}

kinds! {
    Welcome = "WELCOME", "Welcome (when the patient writes first)";
    TokenCreated = "TOKEN_CREATED", "Token created";
    NextSoon = "NEXT_SOON", "Almost your turn";
    YourTurn = "YOUR_TURN", "Your turn";
    Missed = "MISSED", "Missed turn";
    Feedback = "FEEDBACK", "Feedback request";
    Moved = "MOVED", "Moved to another queue";
    Link = "LINK", "Your link again (asked for by number)";
}

impl MessageKind {
    /// The alerts: the notifications that follow a patient out of the tracker's tab.
    pub const ALERTS: [MessageKind; 4] = [
        MessageKind::NextSoon,
        MessageKind::YourTurn,
        MessageKind::Missed,
        MessageKind::Moved,
    ];

    /// An alert: it may go by web push, and falls back to WhatsApp (and SMS for "your
    /// turn").
    pub fn pushed(self) -> bool {
        MessageKind::ALERTS.contains(&self)
    }

    /// Worth an SMS (which costs the clinic money): "your turn", and the link a patient
    /// asked for by number (a patient without WhatsApp has no other way to get it).
    pub fn critical(self) -> bool {
        matches!(self, MessageKind::YourTurn | MessageKind::Link)
    }

    /// The name of the approved WhatsApp template (Meta) used outside the 24-hour window.
    /// Its body parameters are, in order: patient name, token, clinic, tracker link.
    pub fn meta_template(self) -> String {
        format!("qline_{}", self.as_str().to_lowercase())
    }
}

/// How a notification reaches a patient, tried in this order (the fallback chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Channel {
    Push,
    WhatsApp,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Push, Channel::WhatsApp, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Push => "PUSH",
            Channel::WhatsApp => "WHATSAPP",
            Channel::Sms => "SMS",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Push => "push",
            Channel::WhatsApp => "WhatsApp",
            Channel::Sms => "SMS",
        }
    }

    /// The channels a message of this kind may take, in order: the tracker's pushed
    /// alerts try push, then WhatsApp, then (for "your turn" only) SMS; everything else
    /// (welcome, token created, feedback, replies) is a WhatsApp conversation.
    pub fn chain(kind: Option<MessageKind>) -> &'static [Channel] {
        match kind {
            Some(k) if k.critical() => &[Channel::Push, Channel::WhatsApp, Channel::Sms],
            Some(k) if k.pushed() => &[Channel::Push, Channel::WhatsApp],
            _ => &[Channel::WhatsApp],
        }
    }

    /// The channel after this one in a message's chain.
    pub fn after(self, kind: Option<MessageKind>) -> Option<Channel> {
        let chain = Channel::chain(kind);
        let at = chain.iter().position(|&c| c == self)?;
        chain.get(at + 1).copied()
    }
}

/// Which text of a message a template is: WhatsApp's, or the short one SMS and web push
/// carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TemplateChannel {
    WhatsApp,
    Short,
}

impl TemplateChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateChannel::WhatsApp => "WHATSAPP",
            TemplateChannel::Short => "SHORT",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "WHATSAPP" => Some(TemplateChannel::WhatsApp),
            "SHORT" => Some(TemplateChannel::Short),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TemplateChannel::WhatsApp => "WhatsApp",
            TemplateChannel::Short => "SMS and push",
        }
    }

    /// The kinds that have a text on this channel.
    pub fn kinds(self) -> impl Iterator<Item = MessageKind> {
        MessageKind::ALL
            .iter()
            .copied()
            .filter(move |k| self == TemplateChannel::WhatsApp || k.pushed())
    }
}

/// The variables a template may use.
pub const VARIABLES: &[(&str, &str)] = &[
    ("clinic", "the clinic's name"),
    ("queue", "the queue's name"),
    (
        "room",
        "where to go when called: the desk's room, else the queue's name",
    ),
    ("token", "the token, e.g. A-12"),
    ("name", "the patient's name"),
    ("position", "how many are ahead"),
    ("eta", "the estimated wait, e.g. 10–25 min"),
    ("now_serving", "the token being served now"),
    ("link", "the patient's tracker link"),
];

/// Values for a template's variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vars {
    pub clinic: String,
    pub queue: String,
    pub room: String,
    pub token: String,
    pub name: String,
    pub position: String,
    pub eta: String,
    pub now_serving: String,
    pub link: String,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "clinic" => &self.clinic,
            "queue" => &self.queue,
            "room" => &self.room,
            "token" => &self.token,
            "name" => &self.name,
            "position" => &self.position,
            "eta" => &self.eta,
            "now_serving" => &self.now_serving,
            "link" => &self.link,
            _ => return None,
        })
    }

    /// The values for one patient, from what their tracker shows.
    pub fn for_patient(view: &crate::tracker::TrackerView, name: &str, link: &str) -> Self {
        let (hours, minutes) = match view.language {
            Language::Hi => ("घंटे", "मिनट"),
            Language::En => ("h", "min"),
        };
        let (low, high) = view.eta.unwrap_or((0, 0));
        let eta = crate::domain::eta::humane_range(low, high, hours, minutes);
        Self {
            clinic: view.clinic_name.clone(),
            queue: view.queue_name.clone(),
            room: view.room.clone().unwrap_or_else(|| view.queue_name.clone()),
            token: view.token.clone(),
            name: name.to_owned(),
            position: view.ahead.to_string(),
            eta,
            now_serving: view.now_serving.clone().unwrap_or_else(|| "—".into()),
            link: link.to_owned(),
        }
    }

    /// Believable values for the editor's preview.
    pub fn sample(clinic: &str) -> Self {
        Self {
            clinic: clinic.to_owned(),
            queue: "General".into(),
            room: "Room 2".into(),
            token: "A-12".into(),
            name: "Asha".into(),
            position: "2".into(),
            eta: "10–25 min".into(),
            now_serving: "A-10".into(),
            link: "https://queue.example.com/t/8787bjioWKCV4dJ9X0IJx7".into(),
        }
    }
}

/// A template that failed validation, in words the owner can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TemplateError {
    #[error("Unknown variable {{{0}}}. Use one of: {{clinic}}, {{queue}}, {{room}}, {{token}}, {{name}}, {{position}}, {{eta}}, {{now_serving}}, {{link}}.")]
    UnknownVariable(String),
    #[error("A \"{{\" is not closed with \"}}\".")]
    Unclosed,
    #[error("The message is empty.")]
    Empty,
    #[error("Keep the message under 1000 characters (it has {0}).")]
    TooLong(usize),
}

/// Splits a template into text and `{variable}` parts.
fn parts(template: &str) -> Result<Vec<(bool, &str)>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push((false, &rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::Unclosed)?;
        out.push((true, after[..close].trim()));
        rest = &after[close + 1..];
    }
    out.push((false, rest));
    Ok(out)
}

/// Checks a template: every variable known, braces closed, a sensible length.
pub fn validate(template: &str) -> Result<(), TemplateError> {
    if template.trim().is_empty() {
        return Err(TemplateError::Empty);
    }
    let length = template.chars().count();
    if length > 1000 {
        return Err(TemplateError::TooLong(length));
    }
    for (is_var, text) in parts(template)? {
        if is_var && Vars::default().get(text).is_none() {
            return Err(TemplateError::UnknownVariable(text.to_owned()));
        }
    }
    Ok(())
}

/// Fills a template's variables (unknown ones are left as written).
pub fn render(template: &str, vars: &Vars) -> String {
    let Ok(parts) = parts(template) else {
        return template.to_owned();
    };
    parts
        .into_iter()
        .map(|(is_var, text)| match (is_var, vars.get(text)) {
            (true, Some(value)) => value.to_owned(),
            (true, None) => format!("{{{text}}}"),
            (false, _) => text.to_owned(),
        })
        .collect()
}

/// Qline's own wording, used until a clinic writes its own.
pub fn default_template(kind: MessageKind, language: Language) -> &'static str {
    use Language::*;
    use MessageKind::*;
    match (kind, language) {
        (Welcome, En) => "Hello {name}, this is {clinic}. Your token is {token} ({queue}). {position} ahead of you, about {eta}. We will message you here when your turn is near. Live status: {link}\nReply STATUS for an update, CANCEL to give up your token, STOP for no more messages.",
        (Welcome, Hi) => "नमस्ते {name}, यह {clinic} है। आपका टोकन {token} ({queue}) है। आपसे पहले {position} लोग हैं, लगभग {eta}। आपकी बारी पास आने पर हम यहीं संदेश भेजेंगे। लाइव स्थिति: {link}\nताज़ा जानकारी के लिए STATUS, टोकन छोड़ने के लिए CANCEL, संदेश बंद करने के लिए STOP लिखें।",
        (TokenCreated, En) => "{clinic}: your token is {token} ({queue}). {position} ahead of you, about {eta}. Follow it live: {link}",
        (TokenCreated, Hi) => "{clinic}: आपका टोकन {token} ({queue}) है। आपसे पहले {position} लोग हैं, लगभग {eta}। लाइव देखें: {link}",
        (NextSoon, En) => "{clinic}: {token}, your turn is near. {position} ahead of you (now serving {now_serving}). Please come to the waiting area. {link}",
        (NextSoon, Hi) => "{clinic}: {token}, आपकी बारी पास है। आपसे पहले {position} लोग हैं (अभी {now_serving})। कृपया प्रतीक्षा कक्ष में आ जाएँ। {link}",
        (YourTurn, En) => "{clinic}: it's your turn, {name}! Token {token}, please go to {room} now.",
        (YourTurn, Hi) => "{clinic}: {name}, आपकी बारी आ गई है! टोकन {token}, कृपया अभी {room} पर जाएँ।",
        (Missed, En) => "{clinic}: we called {token} but could not find you. Please see reception to be called again.",
        (Missed, Hi) => "{clinic}: हमने {token} बुलाया पर आप नहीं मिले। दोबारा बुलाए जाने के लिए कृपया रिसेप्शन पर मिलें।",
        (Feedback, En) => "Thank you for visiting {clinic}, {name}. How was it? Rate your visit in one tap: {link}",
        (Feedback, Hi) => "{clinic} आने के लिए धन्यवाद, {name}। आपका अनुभव कैसा रहा? एक टैप में बताएँ: {link}",
        (Moved, En) => "{clinic}: you have been moved to {queue}. Your token is now {token}, {position} ahead of you, about {eta}. Same live link: {link}",
        (Moved, Hi) => "{clinic}: आपको {queue} में भेजा गया है। अब आपका टोकन {token} है, आपसे पहले {position} लोग हैं, लगभग {eta}। वही लाइव लिंक: {link}",
        (Link, En) => "{clinic}: the live link of your token {token} ({queue}), as you asked: {link}",
        (Link, Hi) => "{clinic}: आपके कहने पर, आपके टोकन {token} ({queue}) का लाइव लिंक: {link}",
    }
}

/// Qline's short texts (SMS, web push), for the kinds that have one: one SMS segment
/// where the language allows.
pub fn default_short_template(kind: MessageKind, language: Language) -> Option<&'static str> {
    use Language::*;
    use MessageKind::*;
    Some(match (kind, language) {
        (NextSoon, En) => "{clinic}: {token}, your turn is near ({position} ahead). Please come to the waiting area.",
        (NextSoon, Hi) => "{clinic}: {token}, आपकी बारी पास है ({position} आगे)। कृपया प्रतीक्षा कक्ष में आएँ।",
        (YourTurn, En) => "{clinic}: it's your turn! Token {token}, please go to {room} now.",
        (YourTurn, Hi) => "{clinic}: आपकी बारी! टोकन {token}, कृपया अभी {room} पर जाएँ।",
        (Missed, En) => "{clinic}: we called {token} but missed you. Please see reception.",
        (Missed, Hi) => "{clinic}: {token} बुलाया गया पर आप नहीं मिले। कृपया रिसेप्शन पर मिलें।",
        (Moved, En) => "{clinic}: you have been moved to {queue}. Your token is now {token} ({position} ahead).",
        (Moved, Hi) => "{clinic}: आपको {queue} में भेजा गया। अब आपका टोकन {token} है ({position} आगे)।",
        (Link, En) => "{clinic}: your token {token} ({queue}): {link}",
        (Link, Hi) => "{clinic}: आपका टोकन {token} ({queue}): {link}",
        _ => return None,
    })
}

/// Qline's wording of a message on a channel.
pub fn default_for(
    kind: MessageKind,
    channel: TemplateChannel,
    language: Language,
) -> Option<&'static str> {
    match channel {
        TemplateChannel::WhatsApp => Some(default_template(kind, language)),
        TemplateChannel::Short => default_short_template(kind, language),
    }
}

/// The text of a message about a patient's token on a channel: the clinic's own wording
/// (`own`) or Qline's, filled in from what the tracker shows; empty when the kind has no
/// text on this channel.
pub fn compose(
    kind: MessageKind,
    channel: TemplateChannel,
    own: Option<&str>,
    view: &crate::tracker::TrackerView,
    name: &str,
    link: &str,
) -> String {
    // A kind with no text on this channel has no template either (the editor offers, and
    // saving accepts, only the kinds a channel carries).
    let Some(default) = default_for(kind, channel, view.language) else {
        return String::new();
    };
    render(own.unwrap_or(default), &Vars::for_patient(view, name, link))
}

/// SMS segments a text takes: 160 GSM characters (153 each when split), or 70 (67)
/// when it needs Unicode, as Hindi does. What an SMS costs is counted in these.
pub fn sms_segments(text: &str) -> u32 {
    let gsm = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " \n\r@$!\"#%&'()*+,-./:;<=>?_£¥".contains(c));
    let (single, each) = if gsm { (160, 153) } else { (70, 67) };
    let length = text.chars().count();
    if length <= single {
        1
    } else {
        length.div_ceil(each) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_is_valid_in_every_language() {
        for &kind in MessageKind::ALL {
            for lang in [Language::En, Language::Hi] {
                assert_eq!(
                    validate(default_template(kind, lang)),
                    Ok(()),
                    "{kind:?} {lang:?}"
                );
                assert_eq!(MessageKind::from_stored(kind.as_str()), Some(kind));
            }
        }
    }

    #[test]
    fn only_your_turn_falls_through_to_sms() {
        use Channel::*;
        let your_turn = Some(MessageKind::YourTurn);
        assert_eq!(Channel::chain(your_turn), &[Push, WhatsApp, Sms]);
        assert_eq!(Push.after(your_turn), Some(WhatsApp));
        assert_eq!(WhatsApp.after(your_turn), Some(Sms));
        assert_eq!(Sms.after(your_turn), None);
        let near = Some(MessageKind::NextSoon);
        assert_eq!(WhatsApp.after(near), None);
        assert_eq!(Channel::chain(Some(MessageKind::Welcome)), &[WhatsApp]);
        assert_eq!(Channel::chain(None), &[WhatsApp]);
        assert_eq!(Channel::from_stored("SMS"), Some(Sms));
    }

    #[test]
    fn short_texts_exist_for_pushed_and_sms_kinds_only_and_fit_an_sms_in_english() {
        for &kind in MessageKind::ALL {
            for lang in [Language::En, Language::Hi] {
                let short = default_short_template(kind, lang);
                let carried = kind.pushed() || kind.critical();
                assert_eq!(short.is_some(), carried, "{kind:?} {lang:?}");
                if let Some(text) = short {
                    assert_eq!(validate(text), Ok(()));
                }
            }
        }
        let rendered = render(
            default_short_template(MessageKind::YourTurn, Language::En).unwrap(),
            &Vars::sample("Sunrise Family Clinic"),
        );
        assert_eq!(sms_segments(&rendered), 1, "{rendered}");
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments("आपकी बारी"), 1);
        assert_eq!(sms_segments(&"आ".repeat(71)), 2);
    }

    #[test]
    fn variables_are_filled_and_unknown_ones_refused() {
        let vars = Vars::sample("Demo Clinic");
        assert_eq!(
            render("{clinic}: {token} for { name }", &vars),
            "Demo Clinic: A-12 for Asha"
        );
        assert_eq!(
            validate("Hi {patient}"),
            Err(TemplateError::UnknownVariable("patient".into()))
        );
        assert_eq!(validate("Hi {name"), Err(TemplateError::Unclosed));
        assert_eq!(validate("  "), Err(TemplateError::Empty));
    }
}
