//! The patient pages' WASM entry point. The server gives this bundle to the pages a
//! patient opens (`qline_app::for_patients`); staff screens load `qline-frontend`'s.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    qline_app::hydrate_patient();
}
