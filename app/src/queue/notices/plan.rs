//! Which channel each notice starts on and what it says: the product's subtlest rule,
//! written once and tested without a database.
//!
//! A notice starts on the first channel of its chain that may reach the patient: their
//! browser's push subscription (alerts only), their open WhatsApp window (or, in template
//! mode on Meta, an approved template unless they sent STOP), an SMS for "your turn".
//! An alert no channel can carry is still recorded, so the desk can see who was not
//! reached; any other kind with no channel is dropped. "Almost your turn" is sent once
//! per token.

use super::{Contact, Notice};
use crate::console::ProviderKind;
use crate::domain::{Clinic, Language, Queue, Timestamp, TokenId};
use crate::messages::{compose, Channel, MessageKind, TemplateChannel};
use crate::queue::rules::Day;
use crate::tracker::TrackerView;
use crate::whatsapp::{Reach, Window};

/// What a clinic can send with, read once per action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClinicChannels {
    /// The provider of the clinic's saved WhatsApp account, if any.
    pub whatsapp: Option<ProviderKind>,
    /// Whether the clinic saved an SMS account.
    pub sms: bool,
    /// The clinic's own wording.
    pub templates: Vec<OwnTemplate>,
}

/// A clinic's own wording of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTemplate {
    pub kind: MessageKind,
    pub channel: TemplateChannel,
    pub language: Language,
    pub body: String,
}

impl ClinicChannels {
    fn template(
        &self,
        kind: MessageKind,
        channel: TemplateChannel,
        language: Language,
    ) -> Option<&str> {
        self.templates
            .iter()
            .find(|t| t.kind == kind && t.channel == channel && t.language == language)
            .map(|t| t.body.as_str())
    }
}

/// What storage read about the patient of one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub notice: Notice,
    pub contact: Contact,
    /// The patient's WhatsApp conversation with the clinic, if they have written.
    pub window: Option<Window>,
    /// Whether the token has a push subscription.
    pub push: bool,
    /// Whether the token already has a message of this kind.
    pub told: bool,
}

/// Which facts about a notice's patient its planning reads, so the action's transaction
/// asks for nothing the plan would ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Their WhatsApp conversation: only when the clinic can send on WhatsApp.
    pub window: bool,
    /// Their push subscription: only for the alerts push carries.
    pub push: bool,
    /// Whether they were told already: "almost your turn" is sent once.
    pub told: bool,
}

impl ClinicChannels {
    /// What `plan` will read about the patient of `notice` at `clinic`.
    pub fn needs(&self, clinic: &Clinic, notice: Notice) -> Needs {
        Needs {
            window: self.whatsapp.is_some() && clinic.settings.whatsapp_enabled,
            push: notice.kind.pushed(),
            told: notice.kind == MessageKind::NextSoon,
        }
    }
}

/// A message to queue, and the channel it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    pub token: TokenId,
    /// E.164, or empty for a patient who gave no number (push only).
    pub phone: String,
    pub kind: MessageKind,
    pub language: Language,
    /// WhatsApp's text.
    pub body: String,
    /// The text of SMS and web push (empty for kinds that only go by WhatsApp).
    pub short_body: String,
    /// `None`: nothing can reach the patient, recorded as such.
    pub channel: Option<Channel>,
}

/// What an action's notices come to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticePlan {
    pub messages: Vec<PlannedMessage>,
    /// Conversations that are now about a new token: a phone already writing to the
    /// clinic took another token.
    pub conversations_moved: Vec<(String, TokenId)>,
}

/// Plans the messages of one action from the day after it (`day`), what the clinic can
/// send with and what was read about each notice's patient, with tracker links under
/// `link_base`.
pub fn plan(
    clinic: &Clinic,
    queue: &Queue,
    day: &Day,
    channels: &ClinicChannels,
    recipients: &[Recipient],
    link_base: &str,
    now: Timestamp,
) -> NoticePlan {
    let whatsapp = channels
        .whatsapp
        .filter(|_| clinic.settings.whatsapp_enabled);
    let templates_allowed =
        clinic.settings.whatsapp_template_mode && whatsapp == Some(ProviderKind::Meta);
    let mut out = NoticePlan::default();
    for r in recipients {
        let Notice { token, kind } = r.notice;
        let phone = r.contact.phone.clone().unwrap_or_default();
        let window = r
            .window
            .as_ref()
            .filter(|_| whatsapp.is_some() && !phone.is_empty());
        if let (MessageKind::TokenCreated, Some(_)) = (kind, window) {
            out.conversations_moved.push((phone.clone(), token));
        }
        let by_whatsapp = whatsapp.is_some()
            && !phone.is_empty()
            && Reach::of(window, templates_allowed, now).allowed();
        let by_push = kind.pushed() && r.push;
        let by_sms = kind.critical() && !phone.is_empty() && channels.sms;
        let first = Channel::chain(Some(kind))
            .iter()
            .copied()
            .find(|c| match c {
                Channel::Push => by_push,
                Channel::WhatsApp => by_whatsapp,
                Channel::Sms => by_sms,
            });
        if (first.is_none() && !kind.pushed()) || (kind == MessageKind::NextSoon && r.told) {
            continue;
        }
        let language = r.contact.language;
        let public_id = r.contact.public_id.clone();
        let Some(view) = TrackerView::build(
            clinic,
            queue,
            day,
            token,
            public_id.clone(),
            language,
            false,
            now,
        ) else {
            continue;
        };
        let link = format!("{link_base}/t/{public_id}");
        let name = r
            .contact
            .name_to_send(r.window.is_some())
            .unwrap_or(&view.token);
        let text = |channel| {
            let own = channels.template(kind, channel, language);
            compose(kind, channel, own, &view, name, &link)
        };
        out.messages.push(PlannedMessage {
            token,
            phone,
            kind,
            language,
            body: text(TemplateChannel::WhatsApp),
            short_body: text(TemplateChannel::Short),
            channel: first,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::queue::rules::{DayState, DayToken, TokenState};

    const NOW: Timestamp = Timestamp(1_700_000_000_000);
    const LINK: &str = "https://q.example";

    fn clinic(whatsapp_enabled: bool, template_mode: bool) -> Clinic {
        Clinic {
            id: ClinicId(1),
            slug: Slug::parse("demo").unwrap(),
            name: "Demo Clinic".into(),
            address: String::new(),
            contact_phone: String::new(),
            timezone: TimeZone::from_zone(chrono_tz::Asia::Kolkata),
            status: ClinicStatus::Active,
            status_reason: String::new(),
            settings: ClinicSettings {
                whatsapp_enabled,
                whatsapp_template_mode: template_mode,
                ..ClinicSettings::default()
            },
            created_at: Timestamp(0),
        }
    }

    fn queue() -> Queue {
        Queue {
            id: QueueId(1),
            clinic_id: ClinicId(1),
            name: "General".into(),
            prefix: "A".into(),
            default_service_minutes: None,
            position: 0,
            archived: false,
            rooms: Vec::new(),
            hours: Default::default(),
        }
    }

    /// Token 1 is being seen, tokens 2–4 wait.
    fn day() -> Day {
        let token = |id: i64, status| DayToken {
            id: TokenId(id),
            number: TokenNumber(id as u32),
            state: TokenState {
                status,
                ..TokenState::new_waiting(false)
            },
            joined: Timestamp(0),
            estimate: None,
            origin: Default::default(),
        };
        Day {
            prefix: "A".into(),
            state: DayState::open(),
            tokens: vec![
                token(1, TokenStatus::Serving),
                token(2, TokenStatus::Waiting),
                token(3, TokenStatus::Waiting),
                token(4, TokenStatus::Waiting),
            ],
            history: Default::default(),
        }
    }

    fn window(last_inbound_at: i64, opted_out: bool) -> Window {
        Window {
            opened_at: last_inbound_at,
            last_inbound_at,
            token_id: None,
            opted_out,
            bot_state: String::new(),
        }
    }

    /// A patient who gave a number and reads English, with no window, no push, not told.
    fn patient(token: i64, kind: MessageKind) -> Recipient {
        Recipient {
            notice: Notice {
                token: TokenId(token),
                kind,
            },
            contact: Contact {
                clinic: ClinicId(1),
                phone: Some("+919800000001".into()),
                name: "Asha".into(),
                language: Language::En,
                public_id: PublicId::parse("8787bjioWKCV4dJ9X0IJx7").unwrap(),
                source: Source::Qr,
            },
            window: None,
            push: false,
            told: false,
        }
    }

    fn channels(whatsapp: Option<ProviderKind>, sms: bool) -> ClinicChannels {
        ClinicChannels {
            whatsapp,
            sms,
            templates: Vec::new(),
        }
    }

    /// The first channel of each planned message, `None` for a dropped notice.
    fn first(clinic: &Clinic, channels: &ClinicChannels, r: Recipient) -> Option<Option<Channel>> {
        let plan = plan(clinic, &queue(), &day(), channels, &[r], LINK, NOW);
        assert!(plan.messages.len() <= 1);
        plan.messages.first().map(|m| m.channel)
    }

    const OPEN: i64 = NOW.0 - 3_600_000;
    const CLOSED: i64 = NOW.0 - 25 * 3_600_000;

    #[test]
    fn the_first_channel_of_each_kind_follows_the_chain() {
        use Channel::*;
        use MessageKind::*;
        let on = clinic(true, false);
        let both = channels(Some(ProviderKind::UltraMsg), true);
        // (kind, push subscribed, window, expected first channel; None: dropped)
        let table: &[(MessageKind, bool, Option<Window>, Option<Option<Channel>>)] = &[
            (YourTurn, true, Some(window(OPEN, false)), Some(Some(Push))),
            (
                YourTurn,
                false,
                Some(window(OPEN, false)),
                Some(Some(WhatsApp)),
            ),
            (
                YourTurn,
                false,
                Some(window(CLOSED, false)),
                Some(Some(Sms)),
            ),
            (YourTurn, false, None, Some(Some(Sms))),
            (NextSoon, true, None, Some(Some(Push))),
            (
                NextSoon,
                false,
                Some(window(OPEN, false)),
                Some(Some(WhatsApp)),
            ),
            // "Near" never goes by SMS: recorded as not reached.
            (NextSoon, false, None, Some(None)),
            (Missed, false, Some(window(OPEN, true)), Some(None)),
            // Conversation kinds go by WhatsApp only, and are dropped without it.
            (
                TokenCreated,
                true,
                Some(window(OPEN, false)),
                Some(Some(WhatsApp)),
            ),
            (TokenCreated, true, None, None),
            (Feedback, false, Some(window(CLOSED, false)), None),
        ];
        for (kind, push, window, expected) in table.iter().cloned() {
            let token = if kind == YourTurn { 1 } else { 2 };
            let r = Recipient {
                push,
                window,
                ..patient(token, kind)
            };
            assert_eq!(first(&on, &both, r), expected, "{kind:?} push={push}");
        }
    }

    #[test]
    fn whatsapp_needs_the_setting_an_account_and_a_number() {
        let r = || Recipient {
            window: Some(window(OPEN, false)),
            ..patient(1, MessageKind::YourTurn)
        };
        let account = channels(Some(ProviderKind::UltraMsg), false);
        let on = clinic(true, false);
        assert_eq!(first(&on, &account, r()), Some(Some(Channel::WhatsApp)));
        assert_eq!(first(&clinic(false, false), &account, r()), Some(None));
        assert_eq!(first(&on, &channels(None, false), r()), Some(None));
        let no_phone = Recipient {
            contact: Contact {
                phone: None,
                ..r().contact
            },
            ..r()
        };
        assert_eq!(first(&on, &account, no_phone), Some(None));
    }

    #[test]
    fn templates_reach_closed_windows_only_on_meta_in_template_mode_and_never_after_stop() {
        let r = |w| Recipient {
            window: w,
            ..patient(1, MessageKind::YourTurn)
        };
        let meta = channels(Some(ProviderKind::Meta), false);
        let template_mode = clinic(true, true);
        let whatsapp = Some(Some(Channel::WhatsApp));
        assert_eq!(first(&template_mode, &meta, r(None)), whatsapp);
        assert_eq!(
            first(&template_mode, &meta, r(Some(window(CLOSED, false)))),
            whatsapp
        );
        assert_eq!(
            first(&template_mode, &meta, r(Some(window(OPEN, true)))),
            Some(None)
        );
        let ultramsg = channels(Some(ProviderKind::UltraMsg), false);
        assert_eq!(first(&template_mode, &ultramsg, r(None)), Some(None));
        assert_eq!(first(&clinic(true, false), &meta, r(None)), Some(None));
    }

    #[test]
    fn almost_your_turn_is_sent_once() {
        let on = clinic(true, false);
        let account = channels(Some(ProviderKind::UltraMsg), false);
        let r = |told| Recipient {
            told,
            window: Some(window(OPEN, false)),
            ..patient(2, MessageKind::NextSoon)
        };
        assert_eq!(
            first(&on, &account, r(false)),
            Some(Some(Channel::WhatsApp))
        );
        assert_eq!(first(&on, &account, r(true)), None);
    }

    #[test]
    fn a_new_token_moves_the_phones_conversation_to_it() {
        let on = clinic(true, false);
        let account = channels(Some(ProviderKind::UltraMsg), false);
        let r = Recipient {
            window: Some(window(CLOSED, false)),
            ..patient(4, MessageKind::TokenCreated)
        };
        let plan = plan(&on, &queue(), &day(), &account, &[r.clone()], LINK, NOW);
        assert_eq!(
            plan.conversations_moved,
            vec![("+919800000001".to_owned(), TokenId(4))]
        );
        // The window has closed, so the message itself cannot go.
        assert!(plan.messages.is_empty());
        let off = plan_for(&clinic(false, false), &account, r);
        assert!(off.conversations_moved.is_empty());
    }

    #[test]
    fn a_name_typed_on_the_join_page_reaches_only_a_phone_that_wrote_to_the_clinic() {
        let on = clinic(true, true);
        let account = channels(Some(ProviderKind::Meta), true);
        let body = |r: Recipient| plan_for(&on, &account, r).messages[0].body.clone();
        let typed = |source| Recipient {
            contact: Contact {
                name: "Win a prize at evil.example".into(),
                source,
                ..patient(1, MessageKind::YourTurn).contact
            },
            ..patient(1, MessageKind::YourTurn)
        };
        // A stranger took a token for this number on the join page: the number is greeted
        // by its token, never with the stranger's words (WhatsApp template, or SMS).
        let stranger = body(typed(Source::Qr));
        assert!(!stranger.contains("evil"), "{stranger}");
        assert!(stranger.contains("it's your turn, A-1"), "{stranger}");
        // The phone has written to the clinic, or reception typed the name: it is used.
        let wrote = Recipient {
            window: Some(window(OPEN, false)),
            ..typed(Source::Qr)
        };
        assert!(body(wrote).contains("evil.example"));
        assert!(body(typed(Source::Desk)).contains("evil.example"));
    }

    fn plan_for(clinic: &Clinic, channels: &ClinicChannels, r: Recipient) -> NoticePlan {
        plan(clinic, &queue(), &day(), channels, &[r], LINK, NOW)
    }

    #[test]
    fn the_texts_use_the_clinics_wording_in_the_patients_language() {
        let on = clinic(true, false);
        let mut with_own = channels(Some(ProviderKind::UltraMsg), true);
        with_own.templates.push(OwnTemplate {
            kind: MessageKind::YourTurn,
            channel: TemplateChannel::Short,
            language: Language::En,
            body: "{token}: come in, {name}".into(),
        });
        let r = Recipient {
            window: Some(window(OPEN, false)),
            ..patient(1, MessageKind::YourTurn)
        };
        let plan = plan_for(&on, &with_own, r.clone());
        let m = &plan.messages[0];
        assert_eq!(m.short_body, "A-1: come in, Asha");
        assert!(m.body.contains("it's your turn, Asha"), "{}", m.body);
        assert_eq!(m.phone, "+919800000001");
        let hindi = Recipient {
            contact: Contact {
                language: Language::Hi,
                ..r.contact.clone()
            },
            ..r
        };
        let plan = plan_for(&on, &with_own, hindi);
        assert!(plan.messages[0].short_body.contains("आपकी बारी"));
        assert_eq!(plan.messages[0].language, Language::Hi);
    }

    #[test]
    fn kinds_without_a_short_text_leave_it_empty_and_links_point_at_the_tracker() {
        let on = clinic(true, false);
        let account = channels(Some(ProviderKind::UltraMsg), false);
        let r = Recipient {
            window: Some(window(OPEN, false)),
            ..patient(3, MessageKind::TokenCreated)
        };
        let m = &plan_for(&on, &account, r).messages[0];
        assert_eq!(m.short_body, "");
        assert!(
            m.body
                .contains("https://q.example/t/8787bjioWKCV4dJ9X0IJx7"),
            "{}",
            m.body
        );
        assert!(m.body.contains("A-3"), "{}", m.body);
    }

    #[test]
    fn a_clinic_that_is_not_running_its_queue_tells_nobody() {
        use crate::queue::rules::{Changes, TokenChange};
        let mut suspended = clinic(true, false);
        let after = day();
        let mut before = day();
        before.tokens[1].state.status = TokenStatus::Serving;
        before.tokens[0].state.status = TokenStatus::Waiting;
        let changes = Changes {
            tokens: vec![TokenChange {
                token: TokenId(1),
                number: TokenNumber(1),
                before: Some(before.tokens[0].state.clone()),
                after: after.tokens[0].state.clone(),
            }],
            ..Changes::default()
        };
        assert!(!super::super::for_action(&suspended, &before, &after, &changes).is_empty());
        suspended.status = ClinicStatus::Suspended;
        assert!(super::super::for_action(&suspended, &before, &after, &changes).is_empty());
    }
}
