//! The words on patient-facing pages (join, tracker, display) in every language Qline
//! offers. One function, one match: a missing translation is a compile error.

use crate::domain::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    JoinHeading,
    ChooseQueue,
    YourName,
    YourPhone,
    PhoneHint,
    PageLanguage,
    GetToken,
    Joining,
    YourToken,
    Ahead,
    AheadNone,
    EstimatedWait,
    NowServing,
    NobodyServing,
    Waiting,
    YourTurn,
    YourTurnHelp,
    Served,
    ServedHelp,
    Missed,
    MissedHelp,
    Cancelled,
    CancelledHelp,
    DayClosed,
    DayClosedHelp,
    CancelToken,
    ConfirmCancel,
    Reconnecting,
    SecondsAgo,
    Hours,
    Minutes,
    KeepOpen,
    MovedBack,
    UpNext,
    LastCalls,
    SoundOn,
    SoundOff,
    SoundResume,
    ScanToJoin,
    HeldToken,
    OpenHeldToken,
    LostLink,
    OpeningHours,
    OpenUntil,
    OpensAgain,
    ClosedNow,
    ClosedAllDay,
    ThisWeek,
    FindHeading,
    FindHelp,
    FindSent,
    SendLink,
    BackToJoin,
    RateVisit,
    Feedback,
    SendRating,
    ThanksForRating,
    WhatsAppUpdates,
    AlertsOff,
    AlertsOffHelp,
    AlertsOn,
    AlertsOnHelp,
    AlertsWorking,
    AlertsStopping,
    AlertsDenied,
    AlertsFailed,
    PosterHeading,
    PosterScan,
    PosterFill,
    PosterTrack,
}

pub fn tr(lang: Language, text: Text) -> &'static str {
    use Language::*;
    use Text::*;
    match (lang, text) {
        (En, JoinHeading) => "Get your token",
        (Hi, JoinHeading) => "अपना टोकन लें",
        (En, ChooseQueue) => "Which queue?",
        (Hi, ChooseQueue) => "कौन सी कतार?",
        (En, YourName) => "Your name",
        (Hi, YourName) => "आपका नाम",
        (En, YourPhone) => "Mobile number",
        (Hi, YourPhone) => "मोबाइल नंबर",
        (En, PhoneHint) => "We use it only for updates about this visit.",
        (Hi, PhoneHint) => "इसका उपयोग केवल इस मुलाक़ात की जानकारी के लिए होगा।",
        (En, PageLanguage) => "Language",
        (Hi, PageLanguage) => "भाषा",
        (En, GetToken) => "Get my token",
        (Hi, GetToken) => "मेरा टोकन लें",
        (En, Joining) => "Getting your token…",
        (Hi, Joining) => "आपका टोकन बन रहा है…",
        (En, YourToken) => "Your token",
        (Hi, YourToken) => "आपका टोकन",
        (En, Ahead) => "ahead of you",
        (Hi, Ahead) => "आपसे पहले",
        (En, AheadNone) => "You are next",
        (Hi, AheadNone) => "अगला नंबर आपका है",
        (En, EstimatedWait) => "Estimated wait",
        (Hi, EstimatedWait) => "अनुमानित प्रतीक्षा",
        (En, NowServing) => "Now serving",
        (Hi, NowServing) => "अभी बुलाया गया",
        (En, NobodyServing) => "Nobody yet",
        (Hi, NobodyServing) => "अभी कोई नहीं",
        (En, Waiting) => "Waiting",
        (Hi, Waiting) => "प्रतीक्षा में",
        (En, YourTurn) => "It's your turn!",
        (Hi, YourTurn) => "आपकी बारी है!",
        (En, YourTurnHelp) => "Please go to the doctor now.",
        (Hi, YourTurnHelp) => "कृपया अभी डॉक्टर के पास जाएँ।",
        (En, Served) => "Seen by the doctor",
        (Hi, Served) => "डॉक्टर ने देख लिया",
        (En, ServedHelp) => "Thank you for visiting. Get well soon!",
        (Hi, ServedHelp) => "आने के लिए धन्यवाद। जल्दी स्वस्थ हों!",
        (En, Missed) => "You missed your turn",
        (Hi, Missed) => "आपकी बारी निकल गई",
        (En, MissedHelp) => "Please see reception: they can call you back in.",
        (Hi, MissedHelp) => "कृपया रिसेप्शन पर बात करें: वे आपको फिर से बुला सकते हैं।",
        (En, Cancelled) => "Token cancelled",
        (Hi, Cancelled) => "टोकन रद्द",
        (En, CancelledHelp) => "This token is no longer in the queue.",
        (Hi, CancelledHelp) => "यह टोकन अब कतार में नहीं है।",
        (En, DayClosed) => "Today's queue is closed",
        (Hi, DayClosed) => "आज की कतार बंद हो गई है",
        (En, DayClosedHelp) => "The clinic closed today's queue. Please ask at reception.",
        (Hi, DayClosedHelp) => "क्लिनिक ने आज की कतार बंद कर दी है। कृपया रिसेप्शन पर पूछें।",
        (En, CancelToken) => "Cancel my token",
        (Hi, CancelToken) => "मेरा टोकन रद्द करें",
        (En, ConfirmCancel) => "Yes, cancel it",
        (Hi, ConfirmCancel) => "हाँ, रद्द करें",
        (En, Reconnecting) => "Reconnecting… last update",
        (Hi, Reconnecting) => "फिर से जुड़ रहे हैं… पिछला अपडेट",
        (En, SecondsAgo) => "s ago",
        (Hi, SecondsAgo) => "सेकंड पहले",
        (En, Hours) => "h",
        (Hi, Hours) => "घंटे",
        (En, Minutes) => "min",
        (Hi, Minutes) => "मिनट",
        (En, KeepOpen) => "Keep this page open: it updates by itself.",
        (Hi, KeepOpen) => "यह पेज खुला रखें: यह अपने आप अपडेट होता है।",
        (En, MovedBack) => "A priority patient was added; you moved back by",
        (Hi, MovedBack) => "एक प्राथमिकता वाला मरीज़ जोड़ा गया; आप इतने स्थान पीछे हुए:",
        (En, RateVisit) => "How was your visit?",
        (Hi, RateVisit) => "आपकी मुलाक़ात कैसी रही?",
        (En, Feedback) => "Anything to tell the clinic? (optional)",
        (Hi, Feedback) => "क्लिनिक से कुछ कहना है? (वैकल्पिक)",
        (En, SendRating) => "Send",
        (Hi, SendRating) => "भेजें",
        (En, ThanksForRating) => "Thank you for your feedback.",
        (Hi, ThanksForRating) => "आपकी राय के लिए धन्यवाद।",
        (En, UpNext) => "Next",
        (Hi, UpNext) => "अगले",
        (En, LastCalls) => "Last calls",
        (Hi, LastCalls) => "पिछली पुकारें",
        (En, SoundOn) => "Sound on",
        (Hi, SoundOn) => "आवाज़ चालू",
        (En, SoundOff) => "Tap to turn sound on",
        (Hi, SoundOff) => "आवाज़ चालू करने के लिए टैप करें",
        (En, SoundResume) => "Tap anywhere to resume sound",
        (Hi, SoundResume) => "आवाज़ फिर चालू करने के लिए कहीं भी टैप करें",
        (En, ScanToJoin) => "Scan the QR code at reception to get your token.",
        (Hi, ScanToJoin) => "टोकन पाने के लिए रिसेप्शन पर QR कोड स्कैन करें।",
        (En, HeldToken) => "You already have a token here today:",
        (Hi, HeldToken) => "आज यहाँ आपका एक टोकन पहले से है:",
        (En, OpenHeldToken) => "Open it",
        (Hi, OpenHeldToken) => "उसे खोलें",
        (En, OpeningHours) => "Opening hours",
        (Hi, OpeningHours) => "खुलने का समय",
        (En, OpenUntil) => "Open now, until",
        (Hi, OpenUntil) => "अभी खुला है, बंद होने का समय:",
        (En, OpensAgain) => "Closed now. Opens again",
        (Hi, OpensAgain) => "अभी बंद है। फिर खुलेगा:",
        (En, ClosedNow) => "Closed now. Please ask at reception.",
        (Hi, ClosedNow) => "अभी बंद है। कृपया रिसेप्शन पर पूछें।",
        (En, ClosedAllDay) => "Closed",
        (Hi, ClosedAllDay) => "बंद",
        (En, ThisWeek) => "Every week",
        (Hi, ThisWeek) => "हर हफ़्ते",
        (En, LostLink) => "Took a token but lost its page? Get the link again",
        (Hi, LostLink) => "टोकन लिया पर उसका पेज खो गया? लिंक फिर से पाएँ",
        (En, FindHeading) => "Find your token",
        (Hi, FindHeading) => "अपना टोकन खोजें",
        (En, FindHelp) => "Type the mobile number you joined with. We send the link of your token to that number (WhatsApp or SMS); it is never shown here.",
        (Hi, FindHelp) => "वह मोबाइल नंबर लिखें जिससे आपने टोकन लिया था। हम आपके टोकन का लिंक उसी नंबर पर (WhatsApp या SMS) भेजते हैं; यहाँ कभी नहीं दिखाते।",
        (En, FindSent) => "If this number has a token here today, its link is on its way to that number by WhatsApp or SMS.",
        (Hi, FindSent) => "अगर आज यहाँ इस नंबर का टोकन है, तो उसका लिंक WhatsApp या SMS से उसी नंबर पर भेजा जा रहा है।",
        (En, SendLink) => "Send me my link",
        (Hi, SendLink) => "मुझे मेरा लिंक भेजें",
        (En, BackToJoin) => "Back to taking a token",
        (Hi, BackToJoin) => "टोकन लेने वाले पेज पर लौटें",
        (En, WhatsAppUpdates) => "Get updates on WhatsApp",
        (Hi, WhatsAppUpdates) => "WhatsApp पर अपडेट पाएँ",
        (En, AlertsOff) => "Alert me on this phone",
        (Hi, AlertsOff) => "इस फ़ोन पर सूचना दें",
        (En, AlertsOffHelp) => "A notification when your turn is near, even with this page closed.",
        (Hi, AlertsOffHelp) => "आपकी बारी पास आने पर सूचना, यह पेज बंद होने पर भी।",
        (En, AlertsOn) => "Alerts on",
        (Hi, AlertsOn) => "सूचनाएँ चालू",
        (En, AlertsOnHelp) => "We will notify this phone when you are next and when it is your turn. Tap to switch off.",
        (Hi, AlertsOnHelp) => "आपके अगले होने पर और आपकी बारी आने पर हम इस फ़ोन पर सूचना देंगे। बंद करने के लिए टैप करें।",
        (En, AlertsWorking) => "Switching on…",
        (Hi, AlertsWorking) => "चालू हो रहा है…",
        (En, AlertsStopping) => "Switching off…",
        (Hi, AlertsStopping) => "बंद हो रहा है…",
        (En, AlertsDenied) => "Notifications are blocked for this site. Allow them in your browser's settings, or keep this page open.",
        (Hi, AlertsDenied) => "इस साइट के लिए सूचनाएँ बंद हैं। ब्राउज़र की सेटिंग में अनुमति दें, या यह पेज खुला रखें।",
        (En, AlertsFailed) => "Alerts could not be switched on. Keep this page open; it updates by itself.",
        (Hi, AlertsFailed) => "सूचनाएँ चालू नहीं हो सकीं। यह पेज खुला रखें; यह अपने आप अपडेट होता है।",
        (En, PosterHeading) => "Skip the crowded waiting room",
        (Hi, PosterHeading) => "भीड़ भरे प्रतीक्षा कक्ष से बचें",
        (En, PosterScan) => "Scan this code with your phone's camera.",
        (Hi, PosterScan) => "अपने फ़ोन के कैमरे से यह कोड स्कैन करें।",
        (En, PosterFill) => "Enter your name and mobile number to get a token. No app needed.",
        (Hi, PosterFill) => "टोकन पाने के लिए अपना नाम और मोबाइल नंबर दर्ज करें। कोई ऐप नहीं चाहिए।",
        (En, PosterTrack) => {
            "Follow your place in the queue live and come back when it is nearly your turn."
        }
        (Hi, PosterTrack) => "कतार में अपनी जगह लाइव देखें और अपनी बारी आने से पहले लौट आएँ।",
    }
}

/// Where a called patient goes: "Go to Room 2".
pub fn go_to(lang: Language, place: &str) -> String {
    match lang {
        Language::En => format!("Go to {place}"),
        Language::Hi => format!("{place} में जाएँ"),
    }
}

/// "Moved here from General A-3": a token the desk moved from another queue.
pub fn moved_from(lang: Language, from: &str) -> String {
    match lang {
        Language::En => format!("Moved here from {from}"),
        Language::Hi => format!("{from} से यहाँ भेजा गया"),
    }
}

/// What the waiting-room board says aloud for a call: the token read out as separate
/// letters and digits ("A, one, two"), so no voice reads "A-12" as "A minus twelve",
/// then where to go.
pub fn announcement(lang: Language, token: &str, place: &str) -> String {
    const EN: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    const HI: [&str; 10] = [
        "शून्य",
        "एक",
        "दो",
        "तीन",
        "चार",
        "पाँच",
        "छह",
        "सात",
        "आठ",
        "नौ",
    ];
    let spoken: Vec<String> = token
        .chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| match (c.to_digit(10), lang) {
            (Some(d), Language::En) => EN[d as usize].to_owned(),
            (Some(d), Language::Hi) => HI[d as usize].to_owned(),
            (None, _) => c.to_string(),
        })
        .collect();
    let spoken = spoken.join(", ");
    match lang {
        Language::En => format!("Token {spoken}. Please go to {place}."),
        Language::Hi => format!("टोकन {spoken}। कृपया {place} में जाएँ।"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_read_out_letter_by_letter_and_digit_by_digit() {
        assert_eq!(
            announcement(Language::En, "A-12", "Room 2"),
            "Token A, one, two. Please go to Room 2."
        );
        assert_eq!(
            announcement(Language::Hi, "DR-30", "Room 2"),
            "टोकन D, R, तीन, शून्य। कृपया Room 2 में जाएँ।"
        );
    }
}
