//! The printable A4 poster for the reception desk: the clinic's name, a QR code of its
//! join page, and three short steps in each language the clinic offers.

use crate::console::Poster;
use crate::domain::{Clinic, InvalidInput};
use crate::i18n::{tr, Text};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The poster for `clinic`, its QR code pointing under `public_url`. Without a configured
/// public URL that address is the request's own `Host` header, which a client may fill
/// with anything: one that is not a plain web address is refused rather than printed.
/// `whatsapp_number`: the clinic's WhatsApp number, when patients may join there too.
pub fn poster(
    clinic: &Clinic,
    public_url: &str,
    whatsapp_number: Option<&str>,
) -> Result<Poster, InvalidInput> {
    let join_url = format!("{}/c/{}", web_address(public_url)?, clinic.slug);
    let whatsapp_join = match whatsapp_number {
        Some(number) => {
            let text = crate::messaging::inbound::join_text(clinic.slug.as_str());
            let link = crate::whatsapp::click_to_chat(number, &text);
            let svg = qr_svg(&link)?;
            Some((link, svg))
        }
        None => None,
    };
    Ok(Poster {
        whatsapp_join,
        clinic_name: clinic.name.clone(),
        qr_svg: qr_svg(&join_url)?,
        instructions: clinic
            .settings
            .languages
            .iter()
            .map(|&lang| {
                (
                    tr(lang, Text::PosterHeading).to_owned(),
                    [Text::PosterScan, Text::PosterFill, Text::PosterTrack]
                        .map(|t| tr(lang, t).to_owned())
                        .to_vec(),
                )
            })
            .collect(),
        join_url,
    })
}

/// The longest address a poster carries: a host name as long as DNS allows (253) with a
/// scheme, a port and a short path, still a code a phone reads from across a room.
const MAX_ADDRESS_CHARS: usize = 300;

/// `public_url` when it is `http(s)://host[:port][/path]`, the host a name or an IP address
/// and the path plain: what a phone's camera can open. Anything else is refused.
fn web_address(public_url: &str) -> Result<&str, InvalidInput> {
    let name = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    let ipv6 = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    };
    // Empty, or a colon and one to five digits.
    let port = |p: &str| {
        p.is_empty()
            || p.strip_prefix(':').is_some_and(|digits| {
                (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let path = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b))
    };
    let rest = public_url
        .strip_prefix("https://")
        .or_else(|| public_url.strip_prefix("http://"));
    let plain = rest.is_some_and(|rest| {
        let (authority, rest_path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let authority_ok = match authority.strip_prefix('[').and_then(|a| a.split_once(']')) {
            Some((ip, p)) => ipv6(ip) && port(p),
            None => {
                let (host, p) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
                name(host) && port(p)
            }
        };
        authority_ok && path(rest_path)
    });
    if plain && public_url.len() <= MAX_ADDRESS_CHARS {
        Ok(public_url)
    } else {
        Err(InvalidInput::new(
            "host",
            "This page was opened at an address that cannot go on a poster. Open it at the \
             clinic's usual web address, or ask the operator to start Qline with --public-url.",
        ))
    }
}

/// A QR code as a standalone SVG that scales to its box. Error correction level M
/// survives a crease or a smudge on a printed poster.
pub fn qr_svg(text: &str) -> Result<String, InvalidInput> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| {
        InvalidInput::new(
            "host",
            "This link is too long for a QR code. Ask the operator to start Qline with a \
             shorter --public-url.",
        )
    })?;
    let document = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: the `<svg>` element without the XML declaration before it.
    Ok(match document.find("<svg") {
        Some(start) => document[start..].to_owned(),
        None => document,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_an_svg_of_black_modules() {
        let svg = qr_svg("https://qline.example/c/demo").unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("#000000"));
    }

    #[test]
    fn text_too_long_for_any_qr_code_is_refused_not_a_panic() {
        // Version 40 at level M holds 2,331 bytes.
        assert!(qr_svg(&"a".repeat(2331)).is_ok());
        let e = qr_svg(&"a".repeat(2332)).unwrap_err();
        assert_eq!(e.field, "host");
        assert!(
            e.message.contains("too long for a QR code"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_poster_carries_plain_web_addresses_only() {
        for fine in [
            "https://qline.example",
            "http://127.0.0.1:3000",
            "http://[::1]:3000",
            "https://clinic.example/qline",
            "http://localhost",
            &format!("https://{}", "a".repeat(253)),
        ] {
            assert_eq!(web_address(fine), Ok(fine), "{fine:?}");
        }
        for refused in [
            "",
            "http://",
            "ftp://qline.example",
            "qline.example",
            "http://clinic.example@evil.example",
            "http://qline.example:port",
            "http://qline.example:123456",
            "http://qline.example:",
            "http://[::1",
            "http://[]:80",
            "http://qline.example\"><script>",
            "http://qline.example/a b",
            "http://qline.example/?x=1",
            "http://ग्राम.example",
            &format!("https://{}", "a".repeat(300)),
        ] {
            let e = web_address(refused).unwrap_err();
            assert_eq!(e.field, "host", "{refused:?}");
            assert!(e.message.contains("--public-url"), "{}", e.message);
        }
    }
}
