//! The printable A4 poster for the reception desk: the clinic's name, a QR code of its
//! join page, and three short steps in each language the clinic offers.

use crate::console::Poster;
use crate::domain::Clinic;
use crate::i18n::{tr, Text};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `whatsapp_number`: the clinic's WhatsApp number, when patients may join there too.
pub fn poster(clinic: &Clinic, public_url: &str, whatsapp_number: Option<&str>) -> Poster {
    let join_url = format!("{public_url}/c/{}", clinic.slug);
    let whatsapp_join = whatsapp_number.map(|number| {
        let text = crate::messaging::inbound::join_text(clinic.slug.as_str());
        let link = crate::whatsapp::click_to_chat(number, &text);
        let svg = qr_svg(&link);
        (link, svg)
    });
    Poster {
        whatsapp_join,
        clinic_name: clinic.name.clone(),
        qr_svg: qr_svg(&join_url),
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
    }
}

/// A QR code as a standalone SVG that scales to its box. Error correction level M
/// survives a crease or a smudge on a printed poster.
pub fn qr_svg(text: &str) -> String {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .or_else(|_| QrCode::new(text.as_bytes()))
        .expect("a URL fits in a QR code");
    let document = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: the `<svg>` element without the XML declaration before it.
    match document.find("<svg") {
        Some(start) => document[start..].to_owned(),
        None => document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_an_svg_of_black_modules() {
        let svg = qr_svg("https://qline.example/c/demo");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("#000000"));
    }
}
