//! The front page: what Qline is, and the two ways in (a clinic's join page, staff login).

use super::frame::{Frame, Width};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <Title text=""/>
        <Meta name="description" content="Qline: patients scan a QR code, get a token in seconds and follow a live tracker instead of crowding the waiting room."/>
        <Frame width=Width::Wide>
            <section class="hero">
                <h1>"The waiting room, without the wait in the room."</h1>
                <p class="lead">
                    "Patients scan the clinic's QR code and get a token in seconds: no app, no account. "
                    "A live tracker (also sent on WhatsApp) shows how many are ahead and a realistic wait, "
                    "so they can step out for tea instead of asking “how long?”."
                </p>
                <div class="hero-actions">
                    <a class="button button-primary" href="/c/demo">"Join the demo clinic's queue"</a>
                    <a class="button" href="/login">"Staff login"</a>
                </div>
            </section>
            <section class="features" aria-label="How it works">
                <article class="feature">
                    <h2>"For patients"</h2>
                    <p>"Scan, type a name and phone, done. The tracker counts down the patients ahead, gives a wait range it can keep, and says clearly when it is your turn."</p>
                </article>
                <article class="feature">
                    <h2>"For the front desk"</h2>
                    <p>"Three buttons run the day: NEXT, SKIP, UNDO. Walk-ins, emergencies and no-shows are one tap each, and two desks can never call the same patient twice."</p>
                </article>
                <article class="feature">
                    <h2>"For the platform"</h2>
                    <p>"One console runs hundreds of clinics, each with its own queues, staff, limits and WhatsApp number, on SQLite for one clinic or PostgreSQL for many."</p>
                </article>
            </section>
        </Frame>
    }
}
