//! Growing waits between failed attempts (sign-in, the account page's password check).
//!
//! Each source of attempts (an account from one network, or a whole network) keeps a
//! count of strikes and the time of the last. The first few attempts are free; after
//! that each one must wait twice as long as the one before, up to a ceiling. A quiet day
//! forgets the strikes. Every attempt is counted *before* the password is checked, so a
//! burst of parallel guesses gets exactly the free attempts, never more.

use super::Timestamp;

/// The strikes a source has so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strikes {
    pub count: u32,
    pub last: Timestamp,
}

/// How many attempts are free, and how the wait grows after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub free: u32,
    pub first_wait_secs: i64,
    pub max_wait_secs: i64,
    pub forget_after_secs: i64,
}

impl Backoff {
    /// One account from one network: the real user's own mistakes, or a guesser on the
    /// user's network. Five tries, then one minute, doubling to an hour.
    pub const ACCOUNT_ON_NETWORK: Backoff = Backoff {
        free: 5,
        first_wait_secs: 60,
        max_wait_secs: 3_600,
        forget_after_secs: 86_400,
    };
    /// Every account from one network: a reception desk's shared connection gets room
    /// for several people's typos, a guesser spraying emails does not.
    pub const NETWORK: Backoff = Backoff {
        free: 20,
        first_wait_secs: 60,
        max_wait_secs: 3_600,
        forget_after_secs: 86_400,
    };

    /// The strikes that still count at `now`: none after a quiet day.
    pub fn live(&self, strikes: Option<Strikes>, now: Timestamp) -> u32 {
        match strikes {
            Some(s) if now.millis() - s.last.millis() < self.forget_after_secs * 1000 => s.count,
            _ => 0,
        }
    }

    /// May another attempt be made at `now`? `Err` holds the seconds to wait.
    pub fn check(&self, strikes: Option<Strikes>, now: Timestamp) -> Result<(), u32> {
        let count = self.live(strikes, now);
        let Some(last) = strikes.map(|s| s.last).filter(|_| count >= self.free) else {
            return Ok(());
        };
        let doublings = (count - self.free).min(30);
        let wait = self
            .first_wait_secs
            .saturating_mul(1_i64 << doublings)
            .min(self.max_wait_secs);
        // A parallel attempt may have stamped `last` a moment after this one read the
        // clock: the wait still never exceeds the rule's.
        let left = (last.millis() + wait * 1000 - now.millis()).min(wait * 1000);
        if left <= 0 {
            Ok(())
        } else {
            Err(u32::try_from((left + 999) / 1000).unwrap_or(u32::MAX))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Backoff = Backoff::ACCOUNT_ON_NETWORK;

    fn at(secs: i64) -> Timestamp {
        Timestamp(1_800_000_000_000 + secs * 1000)
    }

    fn strikes(count: u32, last: i64) -> Option<Strikes> {
        Some(Strikes {
            count,
            last: at(last),
        })
    }

    #[test]
    fn the_first_attempts_are_free_then_the_wait_doubles_to_a_ceiling() {
        assert_eq!(RULE.check(None, at(0)), Ok(()));
        assert_eq!(RULE.check(strikes(4, 0), at(0)), Ok(()));
        assert_eq!(RULE.check(strikes(5, 0), at(0)), Err(60));
        assert_eq!(RULE.check(strikes(5, 0), at(59)), Err(1));
        assert_eq!(RULE.check(strikes(5, 0), at(60)), Ok(()));
        assert_eq!(RULE.check(strikes(6, 0), at(60)), Err(60));
        assert_eq!(RULE.check(strikes(7, 0), at(0)), Err(240));
        assert_eq!(RULE.check(strikes(40, 0), at(0)), Err(3_600));
    }

    #[test]
    fn a_strike_stamped_after_the_clock_was_read_waits_no_longer_than_the_rule() {
        assert_eq!(RULE.check(strikes(5, 1), at(0)), Err(60));
        assert_eq!(RULE.check(strikes(6, 1), at(0)), Err(120));
    }

    #[test]
    fn a_quiet_day_forgets_the_strikes() {
        assert_eq!(RULE.live(strikes(40, 0), at(86_399)), 40);
        assert_eq!(RULE.live(strikes(40, 0), at(86_400)), 0);
        assert_eq!(RULE.check(strikes(40, 0), at(86_400)), Ok(()));
    }
}
