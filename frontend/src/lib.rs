//! The full WASM entry point: staff screens load it to hydrate (the pages a patient opens
//! load the smaller `qline-patient` bundle).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    qline_app::hydrate();
}
