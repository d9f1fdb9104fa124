//! What the pages' forms share: a refusal shown under the field it is about, and the
//! refusal (with the values typed) that a form posted without JavaScript came back with
//! (`api::back_to_form`).

use crate::api::{take_returned_form, AppError, ReturnedForm};
use leptos::prelude::*;

/// The refusal (and values typed) a form posted without JavaScript came back with, for
/// the form that posts to `path` (a server function's `PATH`).
pub fn returned_to(path: &'static str) -> Resource<Result<Option<ReturnedForm>, AppError>> {
    Resource::new(|| (), move |_| take_returned_form(path.to_owned()))
}

/// The refusal a form shows: the answer to its last post, else the one it came back
/// with after a post without JavaScript.
pub fn form_refusal<S>(
    action: ServerAction<S>,
    back: Option<AppError>,
) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let back = StoredValue::new(back);
    move || match action.value().get() {
        Some(answer) => answer.err(),
        None => back.get_value(),
    }
}

/// A refusal shown under the field it is about.
#[component]
pub fn FieldError(
    refusal: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    field: &'static str,
) -> impl IntoView {
    move || {
        refusal()
            .filter(|e| e.field() == Some(field))
            .map(|e| view! { <p class="form-error" role="alert" id=format!("{field}-error")>{e.to_string()}</p> })
    }
}
