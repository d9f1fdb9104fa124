//! Delivery: how notifications reached patients over the last 30 days, by channel.

use leptos::prelude::*;

/// How notifications reached patients: each channel's share and success rate, and what
/// the paid ones cost. Shared with the tenant console.
#[component]
pub fn DeliveryTable(stats: crate::console::DeliveryStats) -> AnyView {
    use crate::messages::Channel;
    if stats.notifications == 0 {
        return view! { <p class="muted">"No notifications yet."</p> }.into_any();
    }
    let cost = |c: Channel, units: u32| match c {
        Channel::Push => "free".to_owned(),
        Channel::WhatsApp => format!("{units} template messages"),
        Channel::Sms => format!("{units} SMS segments"),
    };
    view! {
        <p class="small">{format!(
            "{} notifications · {}% not reached{}",
            stats.notifications,
            stats.not_reached_share(),
            if stats.pending > 0 { format!(" · {} on their way", stats.pending) } else { String::new() },
        )}</p>
        <table class="table delivery-table">
            <thead><tr><th>"Channel"</th><th>"Delivered"</th><th>"Share"</th><th>"Tries"</th><th>"Success"</th><th>"Cost"</th></tr></thead>
            <tbody>
                {stats.channels.iter().map(|line| {
                    let reached = stats.reached.iter().find(|(c, _)| *c == line.channel).map_or(0, |(_, n)| *n);
                    view! {
                        <tr data-testid=format!("delivery-{}", line.channel.as_str().to_lowercase())>
                            <td>{line.channel.label()}</td>
                            <td>{reached}</td>
                            <td>{format!("{}%", stats.share(line.channel))}</td>
                            <td>{line.attempts}</td>
                            <td>{if line.attempts == 0 { "—".to_owned() } else { format!("{}%", line.rate()) }}</td>
                            <td>{cost(line.channel, line.cost_units)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
