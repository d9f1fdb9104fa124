//! What must hold after the morning, read from the database itself: every token a patient
//! was given exists, numbers run 1, 2, 3… per queue day, the audit log replayed from the
//! start reproduces every token's state (at most one patient served at a time, nobody
//! served twice), every audit row answers a request the harness made, and every message
//! ended SENT, FAILED or SKIPPED within its attempts, each SENT one at the provider.

use super::drive::Ledger;
use super::standin::Record;
use qline_app::domain::TokenStatus;
use qline_app::queue::rules::Changes;
use qline_app::storage::Store;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One invariant: its name, how many cases it covered, how many broke it, and the first
/// few of those in words.
pub struct Check {
    pub name: String,
    pub covered: usize,
    pub broken: usize,
    pub examples: Vec<String>,
}

impl Check {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            covered: 0,
            broken: 0,
            examples: Vec::new(),
        }
    }

    pub fn case(&mut self, holds: bool, why: impl FnOnce() -> String) {
        self.covered += 1;
        if !holds {
            self.broken += 1;
            if self.examples.len() < 5 {
                self.examples.push(why());
            }
        }
    }
}

/// Messages as the outbox and the provider saw them.
#[derive(Default)]
pub struct Messages {
    pub by_status: BTreeMap<String, usize>,
    pub sent_whatsapp: usize,
    pub duplicated: usize,
    pub duplicates_explained: usize,
}

macro_rules! rows {
    ($store:expr, $sql:expr, $ty:ty) => {
        match $store {
            Store::Postgres(pool) => sqlx::query_as::<_, $ty>($sql).fetch_all(pool).await?,
            Store::Sqlite(db) => sqlx::query_as::<_, $ty>($sql).fetch_all(&db.pool).await?,
        }
    };
}

pub async fn tokens_and_days(store: &Store, ledger: &Ledger) -> anyhow::Result<Vec<Check>> {
    let mut checks = Vec::new();
    let stored: HashSet<String> = rows!(store, "SELECT public_id FROM tokens", (String,))
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let mut given = Check::new("every token a patient was given (200) exists");
    for id in &ledger.tokens {
        given.case(stored.contains(id), || format!("token {id} is missing"));
    }
    checks.push(given);

    let days = rows!(
        store,
        "SELECT d.id, d.next_number, COUNT(t.id), COALESCE(MIN(t.number), 0), COALESCE(MAX(t.number), 0) \
         FROM queue_days d LEFT JOIN tokens t ON t.queue_day_id = d.id GROUP BY d.id, d.next_number",
        (i64, i64, i64, i64, i64)
    );
    let mut numbers = Check::new("token numbers run 1, 2, 3… without gaps per queue day");
    for (day, next, count, min, max) in days {
        numbers.case(
            count == 0 || (min == 1 && max == count && next == max + 1),
            || format!("queue day {day}: {count} tokens numbered {min}–{max}, next {next}"),
        );
    }
    checks.push(numbers);

    let serving = rows!(
        store,
        "SELECT queue_day_id, COUNT(*) FROM tokens WHERE status = 'SERVING' GROUP BY queue_day_id",
        (i64, i64)
    );
    let mut one = Check::new("at most one patient SERVING per queue day (now)");
    for (day, n) in serving {
        one.case(n <= 1, || format!("queue day {day} serves {n} at once"));
    }
    checks.push(one);
    Ok(checks)
}

/// Replays every queue audit row in order over the tokens it changed.
pub async fn audit(store: &Store, ledger: &Ledger) -> anyhow::Result<Vec<Check>> {
    let audit = rows!(
        store,
        "SELECT id, COALESCE(queue_day_id, 0), action, detail FROM audit_log WHERE queue_day_id IS NOT NULL ORDER BY id",
        (i64, i64, String, String)
    );
    let tokens: HashMap<i64, String> = rows!(store, "SELECT id, status FROM tokens", (i64, String))
        .into_iter()
        .collect();

    let mut replay =
        Check::new("each audit row changes tokens from the state the log left them in");
    let mut single =
        Check::new("at most one patient SERVING per queue day, at every step of the log");
    let mut twice = Check::new("nobody served twice (SERVED entered once per token, net of undos)");
    let mut now: HashMap<i64, TokenStatus> = HashMap::new();
    let mut serving: HashMap<i64, HashSet<i64>> = HashMap::new();
    let mut served: HashMap<i64, i32> = HashMap::new();
    let mut by_action: BTreeMap<String, usize> = BTreeMap::new();
    for (id, day, action, detail) in &audit {
        *by_action.entry(action.clone()).or_default() += 1;
        let changes: Changes = match serde_json::from_str(detail) {
            Ok(c) => c,
            Err(e) => {
                replay.case(false, || {
                    format!("audit row {id} ({action}): unreadable detail: {e}")
                });
                continue;
            }
        };
        for change in &changes.tokens {
            let token = change.token.get();
            let before = now.get(&token).copied();
            replay.case(before == change.before.as_ref().map(|b| b.status), || {
                format!(
                    "audit row {id} ({action}) finds token {token} {before:?}, expected {:?}",
                    change.before.as_ref().map(|b| b.status)
                )
            });
            let after = change.after.status;
            now.insert(token, after);
            let at = serving.entry(*day).or_default();
            if after == TokenStatus::Serving {
                at.insert(token);
            } else {
                at.remove(&token);
            }
            let was_served = before == Some(TokenStatus::Served);
            let count = served.entry(token).or_default();
            match (was_served, after == TokenStatus::Served) {
                (false, true) => *count += 1,
                (true, false) => *count -= 1,
                _ => {}
            }
            let n = *count;
            twice.case(n <= 1, || {
                format!("audit row {id} ({action}) serves token {token} a second time")
            });
        }
        let at_once = serving.get(day).map_or(0, HashSet::len);
        single.case(at_once <= 1, || {
            format!("after audit row {id} ({action}) queue day {day} serves {at_once}")
        });
    }
    let mut matches = Check::new("the replayed log ends where every token stands");
    for (token, status) in &tokens {
        let replayed = now.get(token).map(|s| s.as_str());
        matches.case(replayed == Some(status.as_str()), || {
            format!("token {token} is {status}, the log says {replayed:?}")
        });
    }

    let mut answered =
        Check::new("audit rows per action: at least the 200s, at most 200s + unanswered + 503s");
    for (action, (done, unknown)) in &ledger.writes {
        let rows = by_action.get(*action).copied().unwrap_or(0);
        answered.case(*done <= rows && rows <= done + unknown, || {
            format!(
                "{action}: {rows} audit rows for {done} answered and {unknown} unanswered or 503 requests"
            )
        });
    }
    for (action, rows) in &by_action {
        let driven = ledger.writes.contains_key(action.as_str());
        answered.case(driven, || {
            format!("{rows} {action} audit rows, but the harness never asked for one")
        });
    }
    Ok(vec![replay, single, twice, matches, answered])
}

/// Every message ended, within its attempts, and every one marked SENT on WhatsApp
/// reached the provider. Duplicates (the provider took one id more than once) are
/// explained when an earlier copy was answered after the sender gave up, or when an
/// instance was killed or the database cut off between the copies (the send could not
/// be recorded, and its claim waited out the lease).
pub async fn messages(
    store: &Store,
    record: &Record,
    disruptions: &[tokio::time::Instant],
) -> anyhow::Result<(Vec<Check>, Messages)> {
    let outbox = rows!(
        store,
        "SELECT id, status, CAST(attempts AS BIGINT), channel FROM outbox",
        (i64, String, i64, String)
    );
    let mut settled = Check::new("every message ended SENT, FAILED or SKIPPED");
    let mut attempts = Check::new("no message tried more than 3 times on a channel");
    let mut reached = Check::new("every message SENT on WhatsApp reached the provider");
    let mut summary = Messages::default();
    for (id, status, tries, channel) in &outbox {
        *summary.by_status.entry(status.clone()).or_default() += 1;
        settled.case(
            matches!(status.as_str(), "SENT" | "FAILED" | "SKIPPED"),
            || format!("message {id} is still {status}"),
        );
        attempts.case(*tries <= 3, || {
            format!("message {id} was tried {tries} times")
        });
        if status == "SENT" && channel == "WHATSAPP" {
            summary.sent_whatsapp += 1;
            reached.case(record.taken.contains_key(id), || {
                format!("message {id} is SENT but the provider never took it")
            });
        }
    }
    let mut explained = Check::new("every duplicate at the provider is explained (a slow answer, a kill or the outage between)");
    for (id, receipts) in &record.taken {
        for pair in receipts.windows(2) {
            summary.duplicated += 1;
            let slow = pair[0].slow;
            let disrupted = disruptions
                .iter()
                .any(|d| pair[0].at <= d.into_std() && d.into_std() <= pair[1].at);
            if slow || disrupted {
                summary.duplicates_explained += 1;
            }
            explained.case(slow || disrupted, || {
                format!("message {id} reached the provider twice with no timeout, kill or outage between")
            });
        }
    }
    Ok((vec![settled, attempts, reached, explained], summary))
}
