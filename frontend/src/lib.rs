//! The WASM entry point: the browser loads this to hydrate the server-rendered pages.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    qline_app::hydrate();
}
