//! Sound in the browser: the tracker's chime when a patient's turn comes, and the
//! waiting-room board's chime and spoken calls. Browsers play nothing until the page has
//! been touched once, so the board asks for a tap first.

use crate::domain::Language;

/// A short two-tone chime.
pub fn chime() {
    let Ok(audio) = web_sys::AudioContext::new() else {
        return;
    };
    let start = audio.current_time();
    for (i, frequency) in [880.0f32, 660.0].into_iter().enumerate() {
        let Ok(tone) = audio.create_oscillator() else {
            return;
        };
        tone.frequency().set_value(frequency);
        let _ = tone.connect_with_audio_node(&audio.destination());
        let at = start + i as f64 * 0.35;
        let _ = tone.start_with_when(at);
        let _ = tone.stop_with_when(at + 0.3);
    }
}

/// Says `text` in `lang` after whatever is already being said (an Indian English or a
/// Hindi voice where the device has one).
pub fn speak(text: &str, lang: Language) {
    let Some(speech) = web_sys::window().and_then(|w| w.speech_synthesis().ok()) else {
        return;
    };
    let Ok(utterance) = web_sys::SpeechSynthesisUtterance::new_with_text(text) else {
        return;
    };
    utterance.set_lang(match lang {
        Language::En => "en-IN",
        Language::Hi => "hi-IN",
    });
    utterance.set_rate(0.9);
    speech.speak(&utterance);
}
