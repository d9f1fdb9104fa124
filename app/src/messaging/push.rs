//! Web push, server side: the server's VAPID key pair (RFC 8292), a browser's
//! subscription as checked at the boundary, payload encryption (RFC 8291, aes128gcm) and
//! one delivery to the browser's push service (RFC 8030), read as an outcome the caller
//! can act on (sent, subscription gone, try again, give up).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use p256::ecdh::diffie_hellman;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// The largest payload `encrypt` takes. Push services must accept bodies of 4096 bytes
/// (RFC 8030 §7.2); the aes128gcm header (86 bytes), the record delimiter (1) and the
/// GCM tag (16) take the rest.
pub const MAX_PAYLOAD: usize = 4096 - HEADER_LEN - 1 - TAG_LEN;

const HEADER_LEN: usize = 16 + 4 + 1 + 65;
const TAG_LEN: usize = 16;
/// The record size announced in the header: one record always fits in it.
const RECORD_SIZE: u32 = 4096;
/// RFC 8292 allows at most 24 hours; half leaves room for clock skew.
const JWT_LIFETIME_SECS: i64 = 12 * 3600;
const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;
const MAX_ENDPOINT: usize = 1000;

/// The server's VAPID key pair (ES256 / P-256): push services check that notifications
/// for a subscription come from the server the browser subscribed with.
#[derive(Clone)]
pub struct Vapid {
    key: SecretKey,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushKeyError {
    #[error("the VAPID public key is not a base64url P-256 public key (65 bytes, uncompressed)")]
    BadPublicKey,
    #[error("the VAPID private key is not a base64url P-256 private key (32 bytes)")]
    BadPrivateKey,
    #[error(
        "the VAPID public key does not belong to the private key; set both from the same pair"
    )]
    Mismatch,
    #[error("cannot read or write the VAPID key file {}: {source}", .path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is not a valid VAPID key file ({reason}); repair it, or move it away to make new \
         keys (every browser will then have to subscribe again)",
        .path.display()
    )]
    Corrupt { path: PathBuf, reason: String },
}

/// What `vapid.json` holds: the keys as every web-push tool prints them.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    public_key: String,
    private_key: String,
}

impl Vapid {
    pub fn generate() -> Self {
        Self {
            key: random_secret(),
        }
    }

    /// Keys as every web-push tool prints them: base64url without padding, the public key
    /// a 65-byte uncompressed point, the private key a 32-byte scalar.
    pub fn from_base64url(public_key: &str, private_key: &str) -> Result<Self, PushKeyError> {
        let key = from_base64(private_key)
            .filter(|bytes| bytes.len() == 32)
            .and_then(|bytes| SecretKey::from_slice(&bytes).ok())
            .ok_or(PushKeyError::BadPrivateKey)?;
        let public = from_base64(public_key)
            .filter(|bytes| bytes.len() == 65 && PublicKey::from_sec1_bytes(bytes).is_ok())
            .ok_or(PushKeyError::BadPublicKey)?;
        if public != key.public_key().to_encoded_point(false).as_bytes() {
            return Err(PushKeyError::Mismatch);
        }
        Ok(Self { key })
    }

    /// Reads the key file (`data/vapid.json` by default), or creates it (readable by its
    /// owner only) with fresh keys when there is none. A file that cannot be read as keys
    /// is an error, never replaced: new keys would silently cut off every subscribed
    /// browser.
    pub fn load_or_create(path: &Path) -> Result<Self, PushKeyError> {
        let path = path.to_path_buf();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let corrupt = |reason: String| PushKeyError::Corrupt {
                    path: path.clone(),
                    reason,
                };
                let file: KeyFile =
                    serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
                Self::from_base64url(&file.public_key, &file.private_key)
                    .map_err(|e| corrupt(e.to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let vapid = Self::generate();
                let file = KeyFile {
                    public_key: vapid.public_key(),
                    private_key: vapid.private_key(),
                };
                let text = serde_json::to_string_pretty(&file).expect("two strings serialize");
                let dir = path.parent().unwrap_or(Path::new("."));
                std::fs::create_dir_all(dir)
                    .and_then(|()| write_private(&path, &text))
                    .map_err(|source| PushKeyError::File { path, source })?;
                Ok(vapid)
            }
            Err(source) => Err(PushKeyError::File { path, source }),
        }
    }

    /// The browser's `applicationServerKey`.
    pub fn public_key(&self) -> String {
        base64url(self.key.public_key().to_encoded_point(false).as_bytes())
    }

    pub fn private_key(&self) -> String {
        base64url(&self.key.to_bytes())
    }

    /// The `Authorization` header for a request to `endpoint`: `vapid t=<JWT>, k=<public
    /// key>`, the JWT signed with ES256 for the endpoint's origin and `subject` (a
    /// `mailto:` or `https:` contact the push service can use to reach the operator).
    pub fn authorization(
        &self,
        endpoint: &str,
        subject: &str,
        now_secs: i64,
    ) -> Result<String, PushError> {
        let audience = reqwest::Url::parse(endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http"))
            .map(|url| url.origin().ascii_serialization())
            .ok_or(PushError::BadEndpoint)?;
        let claims = serde_json::json!({
            "aud": audience,
            "exp": now_secs + JWT_LIFETIME_SECS,
            "sub": subject,
        });
        let signed = format!(
            "{}.{}",
            base64url(JWT_HEADER.as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        // JWS wants r || s (64 bytes), which is what `to_bytes` gives, not DER.
        let signature: Signature = SigningKey::from(&self.key).sign(signed.as_bytes());
        Ok(format!(
            "vapid t={signed}.{}, k={}",
            base64url(&signature.to_bytes()),
            self.public_key()
        ))
    }
}

/// Why a notification could not even be prepared. Resending the same one will not help.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the push endpoint is not an http(s) URL")]
    BadEndpoint,
    #[error("the subscription's {0} key is not valid; the browser must subscribe again")]
    BadSubscription(&'static str),
    #[error("the notification is {0} bytes; push services take at most {MAX_PAYLOAD}")]
    TooLarge(usize),
}

/// A browser's push subscription, as stored: base64url strings, as
/// `PushSubscription.toJSON()` gives them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// The push services browsers subscribe with (Chrome, Edge, Firefox, Safari), the
/// default list of hosts Qline sends to. A subscription elsewhere is refused: otherwise a
/// patient could make the server send requests to any address it can reach.
pub const PUSH_SERVICES: &[&str] = &[
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "notify.windows.com",
    "push.apple.com",
];

/// Whether an endpoint is on one of the `services` (a host, or a parent domain of it).
pub fn endpoint_allowed(endpoint: &str, services: &[String]) -> bool {
    let Some(host) = reqwest::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    services.iter().any(|service| {
        let service = service.trim().to_ascii_lowercase();
        !service.is_empty() && (host == service || host.ends_with(&format!(".{service}")))
    })
}

impl Subscription {
    /// Checks what a browser sent. The keys are stored as base64url without padding,
    /// whichever base64 the browser used.
    pub fn parse(endpoint: &str, p256dh: &str, auth: &str) -> Result<Self, String> {
        let endpoint = endpoint.trim();
        if endpoint.len() > MAX_ENDPOINT {
            return Err(format!(
                "The push endpoint is longer than {MAX_ENDPOINT} characters."
            ));
        }
        let url = reqwest::Url::parse(endpoint)
            .map_err(|_| "The push endpoint is not a URL.".to_owned())?;
        // Plain http only reaches a push service on this machine (the tests' stand-in);
        // anything else would carry the VAPID token in the clear.
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err("The push endpoint must be an https URL.".to_owned()),
        }
        let key = from_base64(p256dh)
            .filter(|bytes| bytes.len() == 65 && PublicKey::from_sec1_bytes(bytes).is_ok())
            .ok_or_else(|| {
                "The subscription's p256dh key is not a P-256 public key (65 bytes).".to_owned()
            })?;
        let secret = from_base64(auth)
            .filter(|bytes| bytes.len() == 16)
            .ok_or_else(|| "The subscription's auth secret is not 16 bytes.".to_owned())?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            p256dh: base64url(&key),
            auth: base64url(&secret),
        })
    }
}

/// Encrypts a payload for one subscription (RFC 8291) with a fresh ephemeral key and
/// salt, and returns the whole aes128gcm body.
pub fn encrypt(subscription: &Subscription, payload: &[u8]) -> Result<Vec<u8>, PushError> {
    let ua_public = from_base64(&subscription.p256dh)
        .and_then(|bytes| PublicKey::from_sec1_bytes(&bytes).ok())
        .ok_or(PushError::BadSubscription("p256dh"))?;
    let auth: [u8; 16] = from_base64(&subscription.auth)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(PushError::BadSubscription("auth"))?;
    encrypt_with(
        &random_secret(),
        &rand::random(),
        &ua_public,
        &auth,
        payload,
    )
}

/// RFC 8291 with the sender's key and salt given: `salt | rs | idlen | keyid` (the
/// sender's public key), then a single record, `payload || 0x02`, under AES-128-GCM.
fn encrypt_with(
    as_secret: &SecretKey,
    salt: &[u8; 16],
    ua_public: &PublicKey,
    auth: &[u8; 16],
    payload: &[u8],
) -> Result<Vec<u8>, PushError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(PushError::TooLarge(payload.len()));
    }
    let shared = diffie_hellman(as_secret.to_nonzero_scalar(), ua_public.as_affine());
    let as_public = as_secret.public_key().to_encoded_point(false);
    let ua_public = ua_public.to_encoded_point(false);
    // RFC 8291 §3.4: the auth secret and both public keys tie the key to this subscription.
    let key_info = [
        b"WebPush: info\0".as_slice(),
        ua_public.as_bytes(),
        as_public.as_bytes(),
    ]
    .concat();
    let ikm: [u8; 32] = hkdf_sha256(auth, shared.raw_secret_bytes(), &key_info);
    // RFC 8188 §2.2 and §2.3: the content key and nonce come from the salt.
    let cek: [u8; 16] = hkdf_sha256(salt, &ikm, b"Content-Encoding: aes128gcm\0");
    let nonce: [u8; 12] = hkdf_sha256(salt, &ikm, b"Content-Encoding: nonce\0");

    let mut record = Vec::with_capacity(payload.len() + 1);
    record.extend_from_slice(payload);
    record.push(2); // the last (and only) record's delimiter
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .expect("AES-GCM encrypts a record of a few kilobytes");

    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// What the push service said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Sent,
    /// 404 or 410: the subscription is dead; delete it.
    Gone(String),
    /// 429, 5xx, or the service could not be reached: try again later.
    Retryable(String),
    /// Any other refusal (400, 403, 413, ...): sending again will not help.
    Final(String),
}

/// POSTs one notification to the subscription's push service.
pub async fn send(
    http: &reqwest::Client,
    vapid: &Vapid,
    subject: &str,
    subscription: &Subscription,
    payload: &[u8],
    ttl_secs: u32,
) -> PushOutcome {
    let now = chrono::Utc::now().timestamp();
    let prepared = encrypt(subscription, payload).and_then(|body| {
        let authorization = vapid.authorization(&subscription.endpoint, subject, now)?;
        Ok((body, authorization))
    });
    let (body, authorization) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return PushOutcome::Final(e.to_string()),
    };
    let response = http
        .post(&subscription.endpoint)
        .header("TTL", ttl_secs.to_string())
        // Queue calls are due now: "high" wakes a phone that is saving its battery.
        .header("Urgency", "high")
        .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .header(reqwest::header::AUTHORIZATION, authorization)
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(e) => return PushOutcome::Retryable(network(e)),
    };
    let status = response.status();
    if status.is_success() {
        return PushOutcome::Sent;
    }
    let said = format!(
        "the push service answered {status}{}",
        excerpt(&response.text().await.unwrap_or_default())
    );
    match status.as_u16() {
        404 | 410 => PushOutcome::Gone(said),
        429 | 500..=599 => PushOutcome::Retryable(said),
        _ => PushOutcome::Final(said),
    }
}

/// A network failure in words, without the endpoint: it is the capability to notify that
/// browser, so it stays out of logs and stored errors.
fn network(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "the push service did not answer in time".to_owned();
    }
    let e = e.without_url();
    let mut text = format!("could not reach the push service: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The start of a push service's error body, on one line, for the operator.
fn excerpt(body: &str) -> String {
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return String::new();
    }
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!(": {}…", &line[..cut]),
        None => format!(": {line}"),
    }
}

/// A fresh P-256 private key. `rand` 0.9 and p256's `rand_core` 0.6 do not meet, so the
/// scalar is drawn as bytes; about one draw in 2^32 is not below the curve order and is
/// drawn again.
fn random_secret() -> SecretKey {
    loop {
        if let Ok(key) = SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
            return key;
        }
    }
}

fn hkdf_sha256<const N: usize>(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; N] {
    let mut okm = [0; N];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .expect("HKDF-SHA-256 yields up to 8160 bytes");
    okm
}

fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url or standard base64, padded or not: browsers and tools differ.
fn from_base64(text: &str) -> Option<Vec<u8>> {
    let text: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Creates a file only its owner can read. A half-written file is removed: a broken key
/// file would stop the next start, a missing one is simply made again.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;
    use std::io::{Read, Write};

    // RFC 8291 Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn bytes(text: &str) -> Vec<u8> {
        from_base64(text).expect("test data is base64url")
    }

    fn secret(text: &str) -> SecretKey {
        SecretKey::from_slice(&bytes(text)).expect("a valid private key")
    }

    /// The browser's side of RFC 8291, written from the RFC rather than from
    /// `encrypt_with`. None when the record does not authenticate.
    fn decrypt(ua_secret: &SecretKey, auth: &[u8], body: &[u8]) -> Option<Vec<u8>> {
        let (salt, rest) = body.split_at(16);
        let rs = u32::from_be_bytes(rest[..4].try_into().unwrap());
        assert!(rs >= 18, "record size {rs}");
        let idlen = rest[4] as usize;
        let (keyid, ciphertext) = rest[5..].split_at(idlen);
        assert!(ciphertext.len() <= rs as usize, "a single record");
        let as_public = PublicKey::from_sec1_bytes(keyid).expect("keyid is the sender's key");
        let shared = diffie_hellman(ua_secret.to_nonzero_scalar(), as_public.as_affine());
        let ua_public = ua_secret.public_key().to_encoded_point(false);
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(ua_public.as_bytes());
        info.extend_from_slice(keyid);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut cek = [0u8; 16];
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        let mut nonce = [0u8; 12];
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(Nonce::from_slice(&nonce), ciphertext)
            .ok()?;
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "the last record ends with 0x02");
        Some(plain)
    }

    /// A browser that subscribed: its private key and the subscription it sent.
    fn subscriber(endpoint: &str) -> (SecretKey, Subscription) {
        let key = random_secret();
        let public = key.public_key().to_encoded_point(false);
        let subscription = Subscription::parse(
            endpoint,
            &base64url(public.as_bytes()),
            &base64url(&rand::random::<[u8; 16]>()),
        )
        .expect("a valid subscription");
        (key, subscription)
    }

    #[test]
    fn only_the_listed_push_services_are_reached() {
        let services: Vec<String> = PUSH_SERVICES.iter().map(|s| s.to_string()).collect();
        for endpoint in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/abc",
            "https://wns2-par02p.notify.windows.com/w/?token=abc",
            "https://web.push.apple.com/QGx",
        ] {
            assert!(endpoint_allowed(endpoint, &services), "{endpoint}");
        }
        for endpoint in [
            "https://evil.example/fcm.googleapis.com",
            "https://fcm.googleapis.com.evil.example/x",
            "https://notfcm.googleapis.com/x",
            "http://127.0.0.1:8080/admin",
            "not a url",
        ] {
            assert!(!endpoint_allowed(endpoint, &services), "{endpoint}");
        }
        assert!(endpoint_allowed(
            "http://127.0.0.1:9/push/x",
            &["127.0.0.1".to_owned()]
        ));
    }

    #[test]
    fn the_rfc_8291_example_encrypts_to_the_published_body() {
        let as_secret = secret(AS_PRIVATE);
        assert_eq!(
            base64url(as_secret.public_key().to_encoded_point(false).as_bytes()),
            AS_PUBLIC
        );
        let ua_public = PublicKey::from_sec1_bytes(&bytes(UA_PUBLIC)).unwrap();
        let body = encrypt_with(
            &as_secret,
            &bytes(SALT).try_into().unwrap(),
            &ua_public,
            &bytes(AUTH).try_into().unwrap(),
            PLAINTEXT.as_bytes(),
        )
        .unwrap();
        assert_eq!(base64url(&body), BODY);
    }

    #[test]
    fn a_browser_reads_what_the_server_encrypted_for_it() {
        // The receiver below first reads the RFC's own example, so it is right by itself.
        let rfc = decrypt(&secret(UA_PRIVATE), &bytes(AUTH), &bytes(BODY));
        assert_eq!(rfc.as_deref(), Some(PLAINTEXT.as_bytes()));

        let (key, subscription) = subscriber("https://push.example.net/send/abc");
        let payload = br#"{"title":"Your turn","body":"Token A-12, desk 2"}"#;
        let first = encrypt(&subscription, payload).unwrap();
        let second = encrypt(&subscription, payload).unwrap();
        assert_ne!(first, second, "each message has its own salt and key");
        for body in [first, second] {
            let read = decrypt(&key, &bytes(&subscription.auth), &body);
            assert_eq!(read.as_deref(), Some(payload.as_slice()));
        }

        let (other, _) = subscriber("https://push.example.net/send/def");
        let body = encrypt(&subscription, payload).unwrap();
        assert_eq!(
            decrypt(&other, &bytes(&subscription.auth), &body),
            None,
            "another browser's key does not open it"
        );

        let largest = encrypt(&subscription, &[b'x'; MAX_PAYLOAD]).unwrap();
        assert_eq!(largest.len(), 4096);
        assert!(matches!(
            encrypt(&subscription, &[b'x'; MAX_PAYLOAD + 1]),
            Err(PushError::TooLarge(_))
        ));
    }

    #[test]
    fn the_vapid_token_is_signed_for_the_push_services_origin() {
        let vapid = Vapid::generate();
        let now = 1_750_000_000;
        let header = vapid
            .authorization(
                "https://fcm.googleapis.com/fcm/send/abc:def",
                "mailto:ops@clinic.example",
                now,
            )
            .unwrap();
        let (jwt, k) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .expect("vapid t=..., k=...");
        assert_eq!(k, vapid.public_key());
        assert!(!jwt.contains('='), "JWTs are unpadded");
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let verifier = VerifyingKey::from_sec1_bytes(&bytes(k)).unwrap();
        let signature = Signature::from_slice(&bytes(signature)).expect("r || s, 64 bytes");
        verifier
            .verify(signed.as_bytes(), &signature)
            .expect("the signature verifies with the public key");
        assert!(verifier.verify(b"another token", &signature).is_err());

        let (head, claims) = signed.split_once('.').unwrap();
        let head: serde_json::Value = serde_json::from_slice(&bytes(head)).unwrap();
        assert_eq!(head, serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        let claims: serde_json::Value = serde_json::from_slice(&bytes(claims)).unwrap();
        assert_eq!(claims["aud"], "https://fcm.googleapis.com");
        assert_eq!(claims["exp"], now + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:ops@clinic.example");

        let local = vapid
            .authorization("http://127.0.0.1:8125/push/1", "mailto:a@b.c", now)
            .unwrap();
        let jwt = local.strip_prefix("vapid t=").unwrap();
        let claims = jwt.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&bytes(claims)).unwrap();
        assert_eq!(claims["aud"], "http://127.0.0.1:8125");

        assert!(matches!(
            vapid.authorization("not a url", "mailto:a@b.c", now),
            Err(PushError::BadEndpoint)
        ));
    }

    #[test]
    fn vapid_keys_survive_a_restart_and_a_wrong_pair_is_refused() {
        let vapid = Vapid::generate();
        let again = Vapid::from_base64url(&vapid.public_key(), &vapid.private_key()).unwrap();
        assert_eq!(again.public_key(), vapid.public_key());
        assert_eq!(again.private_key(), vapid.private_key());
        assert!(!format!("{vapid:?}").contains(&vapid.private_key()));

        let other = Vapid::generate();
        assert!(matches!(
            Vapid::from_base64url(&other.public_key(), &vapid.private_key()),
            Err(PushKeyError::Mismatch)
        ));
        assert!(matches!(
            Vapid::from_base64url(&vapid.public_key(), "c2hvcnQ"),
            Err(PushKeyError::BadPrivateKey)
        ));
        assert!(matches!(
            Vapid::from_base64url("c2hvcnQ", &vapid.private_key()),
            Err(PushKeyError::BadPublicKey)
        ));

        let root = std::env::temp_dir().join(format!(
            "qline-push-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let file = root.join("data").join("vapid.json");
        let created = Vapid::load_or_create(&file).unwrap();
        assert!(file.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = Vapid::load_or_create(&file).unwrap();
        assert_eq!(loaded.public_key(), created.public_key());
        assert_eq!(loaded.private_key(), created.private_key());

        std::fs::write(&file, "{\"public_key\": \"oops\"").unwrap();
        let error = Vapid::load_or_create(&file).unwrap_err();
        assert!(matches!(error, PushKeyError::Corrupt { .. }));
        assert!(error.to_string().contains("vapid.json"), "{error}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"public_key\": \"oops\"",
            "a broken key file is left for the operator"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_subscription_is_checked_before_it_is_kept() {
        let key = random_secret().public_key().to_encoded_point(false);
        let p256dh = base64url(key.as_bytes());
        let auth = base64url(&[7; 16]);

        let ok = Subscription::parse("https://push.example.net/send/abc", &p256dh, &auth);
        assert_eq!(ok.unwrap().p256dh, p256dh);
        let standard = base64::engine::general_purpose::STANDARD;
        let padded = Subscription::parse(
            "http://127.0.0.1:9000/push/1",
            &standard.encode(key.as_bytes()),
            &standard.encode([7; 16]),
        )
        .expect("loopback http and padded standard base64 are accepted");
        assert_eq!((padded.p256dh, padded.auth), (p256dh.clone(), auth.clone()));
        assert!(Subscription::parse("http://localhost/push", &p256dh, &auth).is_ok());
        assert!(Subscription::parse("http://[::1]:80/push", &p256dh, &auth).is_ok());

        assert!(Subscription::parse("push.example.net/abc", &p256dh, &auth).is_err());
        assert!(Subscription::parse("http://push.example.net/abc", &p256dh, &auth).is_err());
        assert!(Subscription::parse("ftp://push.example.net/abc", &p256dh, &auth).is_err());
        let long = format!("https://push.example.net/{}", "a".repeat(1000));
        assert!(Subscription::parse(&long, &p256dh, &auth).is_err());
        let short_key = base64url(&key.as_bytes()[..33]);
        assert!(Subscription::parse("https://push.example.net/a", &short_key, &auth).is_err());
        let off_curve = base64url(&[4; 65]);
        assert!(Subscription::parse("https://push.example.net/a", &off_curve, &auth).is_err());
        let short_auth = base64url(&[7; 8]);
        assert!(Subscription::parse("https://push.example.net/a", &p256dh, &short_auth).is_err());
        assert!(Subscription::parse("https://push.example.net/a", "not base64!", &auth).is_err());
    }

    /// A request as the stand-in push service received it.
    struct Received {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Received {
        fn header(&self, name: &str) -> &str {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        }
    }

    /// A push service on this machine that answers each request with the next scripted
    /// status and body, and hands back what it received.
    fn push_service(
        answers: Vec<(u16, &'static str)>,
    ) -> (String, std::thread::JoinHandle<Vec<Received>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}/push/abc", listener.local_addr().unwrap());
        let service = std::thread::spawn(move || {
            answers
                .into_iter()
                .map(|(status, body)| {
                    let (mut stream, _) = listener.accept().unwrap();
                    let received = read_request(&mut stream);
                    write!(
                        stream,
                        "HTTP/1.1 {status} Answer\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .unwrap();
                    received
                })
                .collect()
        });
        (endpoint, service)
    }

    fn read_request(stream: &mut std::net::TcpStream) -> Received {
        let mut data = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "the request ended early");
            data.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(data[..end].to_vec()).unwrap();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        while data.len() < end + 4 + length {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "the body ended early");
            data.extend_from_slice(&chunk[..n]);
        }
        Received {
            headers,
            body: data[end + 4..end + 4 + length].to_vec(),
        }
    }

    #[tokio::test]
    async fn the_push_services_answers_become_outcomes() {
        let (endpoint, service) = push_service(vec![
            (201, ""),
            (410, "push subscription has unsubscribed or expired."),
            (429, "slow down"),
            (503, ""),
            (400, "{\"reason\": \"BadJwtToken\"}"),
        ]);
        let (key, subscription) = subscriber(&endpoint);
        let vapid = Vapid::generate();
        let http = reqwest::Client::new();
        let payload = b"Token A-12: please come to desk 2";
        let mut outcomes = Vec::new();
        for _ in 0..5 {
            outcomes.push(
                send(
                    &http,
                    &vapid,
                    "mailto:ops@clinic.example",
                    &subscription,
                    payload,
                    60,
                )
                .await,
            );
        }
        assert_eq!(outcomes[0], PushOutcome::Sent);
        assert_eq!(
            outcomes[1],
            PushOutcome::Gone(
                "the push service answered 410 Gone: push subscription has unsubscribed or expired."
                    .to_owned()
            )
        );
        assert!(
            matches!(&outcomes[2], PushOutcome::Retryable(m) if m.contains("429") && m.contains("slow down"))
        );
        assert!(matches!(&outcomes[3], PushOutcome::Retryable(m) if m.contains("503")));
        assert!(
            matches!(&outcomes[4], PushOutcome::Final(m) if m.contains("400") && m.contains("BadJwtToken"))
        );

        let received = service.join().unwrap();
        let first = &received[0];
        assert_eq!(first.header("TTL"), "60");
        assert_eq!(first.header("Urgency"), "high");
        assert_eq!(first.header("Content-Encoding"), "aes128gcm");
        assert_eq!(first.header("Content-Type"), "application/octet-stream");
        assert!(first.header("Authorization").starts_with("vapid t="));
        assert!(first
            .header("Authorization")
            .ends_with(&format!(", k={}", vapid.public_key())));
        let read = decrypt(&key, &bytes(&subscription.auth), &first.body);
        assert_eq!(read.as_deref(), Some(payload.as_slice()));

        // Nobody listens on a port just released.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let gone = format!("http://{}/push/abc", closed.local_addr().unwrap());
        drop(closed);
        let unreachable = Subscription {
            endpoint: gone.clone(),
            ..subscription
        };
        let outcome = send(
            &http,
            &vapid,
            "mailto:ops@clinic.example",
            &unreachable,
            payload,
            60,
        )
        .await;
        assert!(
            matches!(&outcome, PushOutcome::Retryable(m) if !m.contains(&gone)),
            "{outcome:?}"
        );
    }
}
