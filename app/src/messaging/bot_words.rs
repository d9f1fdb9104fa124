//! What the WhatsApp bot says, in each language it speaks, and how it tells which one a
//! patient wants: an explicit "HINDI" / "हिंदी" or "ENGLISH", else the script of the
//! conversation's first message, else the language of the patient's token. One match:
//! a missing translation is a compile error.

use crate::domain::Language;
use crate::queue::QueueError;

/// One thing the bot says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Says {
    ErasureRecorded,
    Cancelled,
    CannotCancel,
    TokenKept,
    ConfirmCancel,
    NoToken,
    NotTakingTokens,
    AskName,
    /// "Which queue?", with the queues' names in order.
    ChooseQueue(Vec<String>),
    /// A queue number that is not one of 1..=n.
    ChooseNumber(usize),
    ThanksAskName,
    /// A name that was refused, with the reason.
    NameAgain(String),
    /// The language the bot answers in from now on.
    SpeaksNow,
    /// The join was refused.
    Refused(QueueError),
}

/// The words for `says` in `lang`.
pub fn words(lang: Language, says: &Says) -> String {
    use Language::*;
    match (says, lang) {
        (Says::ErasureRecorded, En) => "Your request is recorded: the clinic will erase your details (name, number, messages) and confirm. Nothing more is needed from you.".into(),
        (Says::ErasureRecorded, Hi) => "आपका अनुरोध दर्ज हो गया है: क्लिनिक आपकी जानकारी (नाम, नंबर, संदेश) मिटाकर पुष्टि करेगा। आपको और कुछ नहीं करना है।".into(),
        (Says::Cancelled, En) => "Your token is cancelled. Thank you for letting the clinic know.".into(),
        (Says::Cancelled, Hi) => "आपका टोकन रद्द कर दिया गया है। क्लिनिक को बताने के लिए धन्यवाद।".into(),
        (Says::CannotCancel, En) => "That token can no longer be cancelled (it was called, served or already cancelled).".into(),
        (Says::CannotCancel, Hi) => "यह टोकन अब रद्द नहीं हो सकता (इसे बुलाया जा चुका है, देखा जा चुका है या यह पहले ही रद्द है)।".into(),
        (Says::TokenKept, En) => "Your token is kept. Reply CANCEL if you want to give it up.".into(),
        (Says::TokenKept, Hi) => "आपका टोकन बना हुआ है। इसे छोड़ना हो तो CANCEL लिखें।".into(),
        (Says::ConfirmCancel, En) => "Cancel your token? Reply YES to cancel, anything else to keep it.".into(),
        (Says::ConfirmCancel, Hi) => "क्या आप अपना टोकन रद्द करना चाहते हैं? रद्द करने के लिए हाँ (YES) लिखें, रखने के लिए कुछ और।".into(),
        (Says::NoToken, En) => "We could not find a token for this number today. Open your tracker link and tap \"Get updates on WhatsApp\", or ask at reception.".into(),
        (Says::NoToken, Hi) => "आज इस नंबर का कोई टोकन नहीं मिला। अपना ट्रैकर लिंक खोलकर \"WhatsApp पर अपडेट पाएँ\" दबाएँ, या रिसेप्शन पर पूछें।".into(),
        (Says::NotTakingTokens, En) => "This clinic is not taking tokens on WhatsApp right now. Please ask at reception.".into(),
        (Says::NotTakingTokens, Hi) => "यह क्लिनिक अभी WhatsApp पर टोकन नहीं दे रहा है। कृपया रिसेप्शन पर पूछें।".into(),
        (Says::AskName, En) => "Welcome! What name should we call out? Reply with your name.".into(),
        (Says::AskName, Hi) => "स्वागत है! हम कौन-सा नाम पुकारें? अपना नाम लिखकर भेजें।".into(),
        (Says::ChooseQueue(queues), lang) => {
            let list: Vec<String> = queues
                .iter()
                .enumerate()
                .map(|(i, q)| format!("{}. {q}", i + 1))
                .collect();
            let ask = match lang {
                En => "Welcome! Which queue? Reply with the number:",
                Hi => "स्वागत है! कौन-सी कतार? नंबर लिखकर भेजें:",
            };
            format!("{ask}\n{}", list.join("\n"))
        }
        (Says::ChooseNumber(n), En) => format!("Please reply with a number from 1 to {n}."),
        (Says::ChooseNumber(n), Hi) => format!("कृपया 1 से {n} तक का कोई नंबर लिखें।"),
        (Says::ThanksAskName, En) => "Thank you. What name should we call out? Reply with your name.".into(),
        (Says::ThanksAskName, Hi) => "धन्यवाद। हम कौन-सा नाम पुकारें? अपना नाम लिखकर भेजें।".into(),
        (Says::NameAgain(why), En) => format!("{why} Please reply with your name."),
        (Says::NameAgain(_), Hi) => "यह नाम नहीं लिया जा सका (1 से 60 अक्षर, बिना छिपे चिह्नों के)। कृपया अपना नाम फिर से लिखें।".into(),
        (Says::SpeaksNow, En) => "OK, we will answer in English. Reply HINDI for Hindi.".into(),
        (Says::SpeaksNow, Hi) => "ठीक है, अब हम हिंदी में जवाब देंगे। अंग्रेज़ी के लिए ENGLISH लिखें।".into(),
        (Says::Refused(refusal), En) => refusal.to_string(),
        (Says::Refused(refusal), Hi) => hindi_refusal(refusal),
    }
}

/// Why a join was refused, in Hindi: the refusals a patient joining can meet, each in
/// its own words, and the English text for the rest.
fn hindi_refusal(refusal: &QueueError) -> String {
    match refusal {
        QueueError::DayClosed => "आज की कतार बंद हो चुकी है। कृपया रिसेप्शन पर पूछें।".into(),
        QueueError::IntakePaused => "ऑनलाइन टोकन अभी रुके हुए हैं। कृपया रिसेप्शन पर पूछें।".into(),
        QueueError::OutsideHours { queue, next } => match next {
            Some(next) => format!("{queue} अभी बंद है। यह फिर {} खुलेगा।", next.hindi_words()),
            None => format!("{queue} अभी बंद है। कृपया रिसेप्शन पर पूछें।"),
        },
        QueueError::DailyLimitReached { limit } => {
            format!("क्लिनिक आज के सभी {limit} टोकन दे चुका है। कृपया रिसेप्शन पर पूछें।")
        }
        QueueError::PhoneLimitReached { limit } => format!(
            "इस नंबर के पास आज इस क्लिनिक के {limit} टोकन पहले से हैं। मिला हुआ ट्रैकर लिंक खोलें, या रिसेप्शन पर पूछें।"
        ),
        QueueError::ClinicNotAccepting { .. } => {
            "यह क्लिनिक अभी टोकन नहीं दे रहा है। कृपया रिसेप्शन पर पूछें।".into()
        }
        QueueError::UnknownQueue => "यह कतार अब उपलब्ध नहीं है। कृपया JOIN फिर से लिखें।".into(),
        other => other.to_string(),
    }
}

/// A language the patient asked for by name: "HINDI", "हिंदी", "ENGLISH".
pub fn asked_for(word: &str) -> Option<Language> {
    match word
        .trim()
        .trim_end_matches(['.', '!'])
        .to_uppercase()
        .as_str()
    {
        "HINDI" | "हिंदी" | "हिन्दी" => Some(Language::Hi),
        "ENGLISH" | "अंग्रेज़ी" | "अंग्रेजी" => {
            Some(Language::En)
        }
        _ => None,
    }
}

/// The language a message's script says: Hindi for Devanagari, else none.
pub fn of_script(body: &str) -> Option<Language> {
    body.chars()
        .any(|c| ('\u{0900}'..='\u{097F}').contains(&c))
        .then_some(Language::Hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_a_name_or_the_script() {
        assert_eq!(asked_for("hindi"), Some(Language::Hi));
        assert_eq!(asked_for(" हिंदी "), Some(Language::Hi));
        assert_eq!(asked_for("English."), Some(Language::En));
        assert_eq!(asked_for("JOIN demo"), None);
        assert_eq!(of_script("नमस्ते, टोकन चाहिए"), Some(Language::Hi));
        assert_eq!(of_script("JOIN demo"), None);
        assert_eq!(of_script("Ravi 9876"), None);
    }

    #[test]
    fn every_answer_has_hindi_words_of_its_own() {
        let all = [
            Says::ErasureRecorded,
            Says::Cancelled,
            Says::CannotCancel,
            Says::TokenKept,
            Says::ConfirmCancel,
            Says::NoToken,
            Says::NotTakingTokens,
            Says::AskName,
            Says::ChooseQueue(vec!["General".into(), "Dental".into()]),
            Says::ChooseNumber(2),
            Says::ThanksAskName,
            Says::NameAgain("Please enter a name.".into()),
            Says::SpeaksNow,
            Says::Refused(QueueError::DayClosed),
            Says::Refused(QueueError::PhoneLimitReached { limit: 2 }),
        ];
        for says in &all {
            let (en, hi) = (words(Language::En, says), words(Language::Hi, says));
            assert_ne!(en, hi, "{says:?}");
            assert!(of_script(&hi).is_some(), "{says:?}: {hi}");
            assert!(of_script(&en).is_none(), "{says:?}: {en}");
        }
        assert!(
            words(Language::Hi, &Says::ChooseQueue(vec!["General".into()])).contains("1. General")
        );
    }
}
