//! What this device remembers of a patient's token, so that the join page can offer it
//! again after the tab, or a QR scanner's throwaway browser, was closed. One token per
//! clinic, in the browser's local storage: no account, nothing kept on the server.

use crate::pages::polling::now_ms;
use web_sys::Storage;

/// A token is offered again for this long after its tracker was last open: the rest of
/// the clinic's day, and never a token of an earlier day.
const KEEP_MS: u64 = 16 * 3600 * 1000;

/// Milliseconds since 1970, whole: parsing them back needs no float parser in the bundle.
fn now() -> u64 {
    now_ms() as u64
}

/// The browser's local storage, where it is allowed.
pub fn storage() -> Option<Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn key(slug: &str) -> String {
    format!("qline-token-{slug}")
}

/// Notes that `public_id` is this device's live token at the clinic `slug`.
pub fn remember(slug: &str, public_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key(slug), &format!("{public_id} {}", now()));
    }
}

/// Forgets `public_id` (it was seen, missed or cancelled), unless the device has since
/// taken another token at the same clinic.
pub fn forget(slug: &str, public_id: &str) {
    if recalled(slug).as_deref() == Some(public_id) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(&key(slug));
        }
    }
}

/// The token this device took at `slug` within the last [`KEEP_MS`], if any.
pub fn recalled(slug: &str) -> Option<String> {
    let noted = storage()?.get_item(&key(slug)).ok().flatten()?;
    let (public_id, at) = noted.split_once(' ')?;
    let at: u64 = at.parse().ok()?;
    (now().saturating_sub(at) < KEEP_MS).then(|| public_id.to_owned())
}
