//! The layout every page shares: the brand bar with its navigation, the page's main
//! column, and the footer. Staff screens (desk, clinic, admin) use the wide variant;
//! patient screens (join, tracker) the narrow one that fits a small phone.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    /// A single column that reads well on a phone.
    #[default]
    Narrow,
    /// Staff screens with side-by-side panels.
    Wide,
}

#[component]
pub fn Frame(#[prop(optional)] width: Width, children: Children) -> impl IntoView {
    let main_class = match width {
        Width::Narrow => "page page-narrow",
        Width::Wide => "page page-wide",
    };
    view! {
        <header class="brand-bar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"Q"</span>
                "Qline"
            </a>
            <nav class="brand-nav" aria-label="Main">
                <a href="/login">"Staff login"</a>
            </nav>
        </header>
        <main class=main_class>{children()}</main>
        <footer class="site-footer">
            <span>"Qline: walk-in queues without the crowded waiting room."</span>
        </footer>
    }
}

/// A document's title: the page's own words, then the product's name.
pub fn page_title(page: String) -> String {
    if page.is_empty() {
        "Qline".to_owned()
    } else {
        format!("{page} · Qline")
    }
}
