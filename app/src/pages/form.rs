//! What the pages' forms share: a refusal shown under the field it is about (or under the
//! form when it is about the whole form), and the refusal with the values typed that a
//! form posted without JavaScript came back with (`api::back_to_form`).

use crate::api::{take_returned_form, AppError, RefusalWords, ReturnedForm};
use leptos::prelude::*;

/// The refusal (and values typed) a form posted without JavaScript came back with, for
/// the form that posts to `path` (a server function's `PATH`).
pub fn returned_to(path: &'static str) -> Resource<Result<Option<ReturnedForm>, AppError>> {
    Resource::new(|| (), move |_| take_returned_form(path.to_owned()))
}

/// The refusal a form shows: the answer to its last post, else the one it came back
/// with after a post without JavaScript.
#[derive(Clone, Copy)]
pub struct Refusal(Signal<Option<RefusalWords>>);

impl Refusal {
    pub fn of<S>(action: ServerAction<S>, back: Option<RefusalWords>) -> Self
    where
        S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        let back = StoredValue::new(back);
        Self(Signal::derive(move || match action.value().get() {
            Some(answer) => answer.err().as_ref().map(RefusalWords::from),
            None => back.get_value(),
        }))
    }

    /// A refusal kept by the page itself (a form that posts without a server action).
    pub fn kept(words: RwSignal<Option<RefusalWords>>) -> Self {
        Self(words.into())
    }

    /// The refusal, if it is about `field`.
    fn about(self, field: &str) -> Option<RefusalWords> {
        self.0.get().filter(|e| e.field.as_deref() == Some(field))
    }

    /// `aria-invalid` for `field`'s input.
    pub fn invalid(self, field: &'static str) -> impl Fn() -> &'static str + Send + Sync {
        move || {
            if self.about(field).is_some() {
                "true"
            } else {
                "false"
            }
        }
    }
}

/// The refusal under the field it is about (`id="{field}-error"`, which the input names
/// in `aria-errormessage`).
#[component]
pub fn FieldError(refusal: Refusal, field: &'static str) -> impl IntoView {
    move || {
        refusal.about(field).map(|e| {
            view! { <p class="form-error" role="alert" id=format!("{field}-error")>{e.message}</p> }
        })
    }
}

/// The refusal under the form, unless it is about one of `placed`, the fields that show
/// their own (`FieldError`).
#[component]
pub fn FormError(refusal: Refusal, placed: &'static [&'static str]) -> impl IntoView {
    move || {
        refusal
            .0
            .get()
            .filter(|e| !e.field.as_deref().is_some_and(|f| placed.contains(&f)))
            .map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })
    }
}
