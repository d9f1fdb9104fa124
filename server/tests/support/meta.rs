//! Meta's WhatsApp Cloud API webhook as a test sends it: a signed change posted to Qline.

use hmac::{Hmac, Mac};
use qline_app::messaging::secrets::to_hex;
use serde_json::{json, Value};
use sha2::Sha256;

/// A webhook body carrying one `messages` change with `value`.
pub fn meta_payload(value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": [{ "field": "messages", "value": value }] }]
    })
}

/// The raw body and its `X-Hub-Signature-256`, signed with the app secret.
pub fn signed(body: &Value, secret: &str) -> (String, String) {
    let raw = body.to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(raw.as_bytes());
    (
        raw,
        format!("sha256={}", to_hex(&mac.finalize().into_bytes())),
    )
}

/// Posts a raw body with `signature`; answers the status and the JSON report.
pub async fn post_meta(base: &str, raw: String, signature: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp/meta"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
