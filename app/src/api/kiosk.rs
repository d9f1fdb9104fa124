//! The reception kiosk and printed tickets. A kiosk tablet holds the clinic's kiosk code
//! and sends it with every request; without it nothing is shown or issued. A ticket is
//! any token's 80 mm receipt, open to whoever holds its tracker link.

use super::AppError;
#[cfg(feature = "ssr")]
use super::{client_network, public_url};
use crate::domain::Language;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the kiosk shows before a join: the clinic and its queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskInfo {
    pub clinic_name: String,
    /// `(queue id, name)` in display order.
    pub queues: Vec<(i64, String)>,
    pub languages: Vec<Language>,
    /// Set when the clinic is not taking tokens (suspended, disabled).
    pub notice: Option<String>,
}

/// A token the kiosk has just issued, as its screen shows it until it resets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedTicket {
    pub public_id: String,
    pub token: String,
    pub queue_name: String,
    pub ahead: u32,
    /// Minutes until the likely call, as a range.
    pub eta: Option<(u32, u32)>,
    pub tracker_url: String,
    /// The tracker's link as a QR code (inline SVG).
    pub qr_svg: String,
}

/// An 80 mm ticket: everything a walk-in without a smartphone needs on paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub clinic_name: String,
    pub token: String,
    pub queue_name: String,
    /// When it was printed, in the clinic's time ("5 Dec 2026, 10:04").
    pub printed_at: String,
    pub ahead: u32,
    pub eta: Option<(u32, u32)>,
    pub tracker_url: String,
    pub qr_svg: String,
    /// The clinic's WhatsApp link that signs this token up for updates, and its QR code.
    pub whatsapp: Option<(String, String)>,
    pub language: Language,
}

/// Opens the kiosk: the clinic and its queues, for the clinic's kiosk code (`403`
/// `KioskLocked` without it; `429` after too many wrong codes from one network).
#[server(prefix = "/api", endpoint = "kiosk")]
pub async fn open_kiosk(slug: String, code: String) -> Result<KioskInfo, AppError> {
    use crate::queue::QueueError;
    let engine = expect_context::<crate::queue::engine::Engine>();
    let ip = client_network().await?.map(|n| n.to_string());
    let (clinic, queues) = engine.kiosk(&slug, &code, ip).await?;
    let notice = (!clinic.status.accepts_work()).then(|| {
        QueueError::ClinicNotAccepting {
            status: clinic.status,
        }
        .to_string()
    });
    Ok(KioskInfo {
        clinic_name: clinic.name,
        queues: queues.into_iter().map(|q| (q.id.get(), q.name)).collect(),
        languages: clinic.settings.languages,
        notice,
    })
}

/// A walk-in takes a token at the kiosk; `phone` may be empty.
#[server(prefix = "/api", endpoint = "kiosk/join")]
pub async fn kiosk_join(
    slug: String,
    code: String,
    queue_id: i64,
    name: String,
    phone: String,
    language: String,
) -> Result<IssuedTicket, AppError> {
    use crate::domain::QueueId;
    use crate::queue::engine::JoinRequest;
    let engine = expect_context::<crate::queue::engine::Engine>();
    let ip = client_network().await?.map(|n| n.to_string());
    let request = JoinRequest {
        queue_id: QueueId(queue_id),
        name,
        phone: Some(phone).filter(|p| !p.trim().is_empty()),
        language: Language::from_stored(&language).unwrap_or(Language::En),
        emergency: false,
    };
    let applied = engine.kiosk_join(&slug, &code, ip, request).await?;
    let (_, public_id, _) = applied.created.ok_or(AppError::Internal)?;
    let view = engine.tracker(&public_id).await?;
    let tracker_url = tracker_url(&public_id).await;
    Ok(IssuedTicket {
        qr_svg: qr(&tracker_url)?,
        public_id: public_id.as_str().to_owned(),
        token: view.token,
        queue_name: view.queue_name,
        ahead: view.ahead,
        eta: view.eta,
        tracker_url,
    })
}

/// A token's ticket, for the 80 mm print page.
#[server(prefix = "/api", endpoint = "ticket")]
pub async fn load_ticket(public_id: String) -> Result<Ticket, AppError> {
    use crate::domain::PublicId;
    use crate::queue::QueueError;
    let engine = expect_context::<crate::queue::engine::Engine>();
    let id = PublicId::parse(&public_id).ok_or(AppError::Refused(QueueError::UnknownToken))?;
    let view = engine.tracker(&id).await?;
    let (clinic, _) = engine.join_info(&view.clinic_slug).await?;
    let tracker_url = tracker_url(&id).await;
    let whatsapp = match &view.whatsapp_link {
        Some(link) => Some((link.clone(), qr(link)?)),
        None => None,
    };
    Ok(Ticket {
        clinic_name: view.clinic_name,
        token: view.token,
        queue_name: view.queue_name,
        printed_at: engine
            .now()
            .local(&clinic.timezone)
            .format("%-d %b %Y, %H:%M")
            .to_string(),
        ahead: view.ahead,
        eta: view.eta,
        qr_svg: qr(&tracker_url)?,
        tracker_url,
        whatsapp,
        language: view.language,
    })
}

#[cfg(feature = "ssr")]
async fn tracker_url(public_id: &crate::domain::PublicId) -> String {
    format!("{}/t/{public_id}", public_url().await)
}

#[cfg(feature = "ssr")]
fn qr(text: &str) -> Result<String, AppError> {
    crate::tenant::poster::qr_svg(text)
        .map_err(|e| AppError::Refused(crate::queue::QueueError::Invalid(e)))
}
