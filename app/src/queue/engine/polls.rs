//! Tracker polls answered from memory while nothing changed.
//!
//! A tracker's answer depends on its token (which day, its language, whether the visit
//! was rated) and on that day as it stands. This process keeps, per token, the answer it
//! last gave (the body and its ETag) and, per day, the version it last saw in the
//! database and when. While a day's version was checked less than `VERSION_FRESH_MS`
//! ago, a poll of any of its tokens is answered from memory: no database read, no view
//! built, no hashing. One poll per day and interval reads the version again, for every
//! tracker of that day.
//!
//! So a change made through another instance shows here within `VERSION_FRESH_MS`,
//! under the tracker's shortest poll interval; a change made through this instance shows
//! at once, because the engine forgets the day's check when it commits one.

use super::days::SeenDay;
use crate::domain::{PublicId, QueueDayId, Timestamp};
use crate::storage::TokenRef;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a day's version, checked against the database, is believed.
pub const VERSION_FRESH_MS: i64 = 1_000;

/// Answers kept at most (about 1 KB each). Past it they are all dropped, and each
/// tracker's next poll builds its answer again.
const MAX_ANSWERS: usize = 32_768;

/// A tracker poll's answer: the JSON body and its strong ETag.
#[derive(Debug)]
pub struct TrackerAnswer {
    /// The token as read from the database, at `token.day_version`.
    pub token: TokenRef,
    /// The read of the day this answer was built from (`SeenDay::read`).
    pub built_from: u64,
    pub etag: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Polls {
    checked: Mutex<HashMap<QueueDayId, Checked>>,
    answers: Mutex<HashMap<PublicId, Arc<TrackerAnswer>>>,
}

#[derive(Debug, Clone, Copy)]
struct Checked {
    version: i64,
    at: Timestamp,
}

impl Polls {
    /// The last answer for `public_id`, if its day's version was checked recently and
    /// is still the one the answer was read at.
    pub fn current(&self, public_id: &PublicId, now: Timestamp) -> Option<Arc<TrackerAnswer>> {
        let answer = lock(&self.answers).get(public_id).cloned()?;
        let checked = lock(&self.checked).get(&answer.token.day).copied()?;
        let fresh = now.millis() - checked.at.millis() < VERSION_FRESH_MS;
        (fresh && checked.version == answer.token.day_version).then_some(answer)
    }

    /// Whether `answer` can be given again for `seen` (the day as it is kept now).
    pub fn still_shows(answer: &TrackerAnswer, seen: &SeenDay) -> bool {
        answer.built_from == seen.read
    }

    /// Notes that the database had `day` at `version` at `now`.
    pub fn checked(&self, day: QueueDayId, version: i64, now: Timestamp) {
        let mut checked = lock(&self.checked);
        let seen = Checked { version, at: now };
        match checked.get_mut(&day) {
            Some(kept) if kept.version > version => {}
            Some(kept) => *kept = seen,
            None => {
                if checked.len() >= MAX_ANSWERS {
                    checked.clear();
                }
                checked.insert(day, seen);
            }
        }
    }

    /// Keeps `answer` for the token's next polls.
    pub fn keep(&self, public_id: &PublicId, answer: Arc<TrackerAnswer>) {
        let mut answers = lock(&self.answers);
        if answers.len() >= MAX_ANSWERS && !answers.contains_key(public_id) {
            answers.clear();
        }
        answers.insert(public_id.clone(), answer);
    }

    /// This instance changed `day`: its trackers read it again at their next poll.
    pub fn day_changed(&self, day: QueueDayId) {
        lock(&self.checked).remove(&day);
    }

    /// This instance changed the token itself (a rating).
    pub fn token_changed(&self, public_id: &PublicId) {
        lock(&self.answers).remove(public_id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClinicId, Language, QueueId, TokenId};

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn id() -> PublicId {
        PublicId::parse("AAAAAAAAAAAAAAAAAAAAAA").expect("a public id")
    }

    fn answer(day_version: i64) -> Arc<TrackerAnswer> {
        Arc::new(TrackerAnswer {
            token: TokenRef {
                id: TokenId(1),
                clinic: ClinicId(1),
                day: QueueDayId(7),
                queue: QueueId(1),
                language: Language::En,
                rated: false,
                day_version,
            },
            built_from: 1,
            etag: "\"tag\"".into(),
            body: b"{}".to_vec(),
        })
    }

    fn later(ms: i64) -> Timestamp {
        Timestamp(NOW.millis() + ms)
    }

    #[test]
    fn an_answer_is_given_again_only_while_its_days_version_was_checked_recently() {
        let polls = Polls::default();
        polls.keep(&id(), answer(3));
        assert!(polls.current(&id(), NOW).is_none(), "never checked");
        polls.checked(QueueDayId(7), 3, NOW);
        assert!(polls.current(&id(), later(VERSION_FRESH_MS - 1)).is_some());
        assert!(polls.current(&id(), later(VERSION_FRESH_MS)).is_none());
    }

    #[test]
    fn a_newer_version_or_a_change_here_ends_the_answer() {
        let polls = Polls::default();
        polls.keep(&id(), answer(3));
        polls.checked(QueueDayId(7), 4, NOW);
        assert!(polls.current(&id(), NOW).is_none(), "the day moved on");
        polls.checked(QueueDayId(7), 3, NOW);
        assert!(
            polls.current(&id(), NOW).is_none(),
            "an older read does not win"
        );

        let polls = Polls::default();
        polls.keep(&id(), answer(3));
        polls.checked(QueueDayId(7), 3, NOW);
        polls.day_changed(QueueDayId(7));
        assert!(polls.current(&id(), NOW).is_none());
        polls.checked(QueueDayId(7), 3, NOW);
        polls.token_changed(&id());
        assert!(polls.current(&id(), NOW).is_none());
    }
}
