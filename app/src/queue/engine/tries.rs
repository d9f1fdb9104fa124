//! Tries counted per network address, in this process: a kiosk's codes, lookups of a
//! token by phone. Each try is counted before it is judged, so a burst of parallel tries
//! gets the free ones and no more; past them each must wait as `Backoff` says.

use crate::domain::{Backoff, Strikes, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// Addresses whose tries are kept at most. Past it, the addresses still within their
/// free tries are forgotten (each may start its free tries again); the ones made to wait
/// are kept, and while they alone fill the table a new address waits too: many networks
/// guessing at once cannot wipe the count of one.
const MAX_ADDRESSES: usize = 65_536;

#[derive(Debug)]
pub struct Tries {
    rule: Backoff,
    held: Mutex<HashMap<String, Strikes>>,
    /// Addresses held at most (`MAX_ADDRESSES`, or fewer in tests).
    capacity: usize,
}

impl Tries {
    pub fn new(rule: Backoff) -> Self {
        Self::holding(rule, MAX_ADDRESSES)
    }

    fn holding(rule: Backoff, capacity: usize) -> Self {
        Self {
            rule,
            held: Mutex::default(),
            capacity,
        }
    }

    /// Counts one try from `address`, or answers the seconds it must wait first.
    pub fn take(&self, address: &str, now: Timestamp) -> Result<(), u32> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let strikes = held.get(address).copied();
        self.rule.check(strikes, now)?;
        if held.len() >= self.capacity && strikes.is_none() {
            let rule = self.rule;
            held.retain(|_, s| rule.live(Some(*s), now) >= rule.free);
            if held.len() >= self.capacity {
                tracing::warn!(
                    addresses = held.len(),
                    "too many networks are guessing; new ones wait"
                );
                return Err(u32::try_from(rule.first_wait_secs).unwrap_or(u32::MAX));
            }
        }
        let count = self.rule.live(strikes, now) + 1;
        held.insert(address.to_owned(), Strikes { count, last: now });
        Ok(())
    }

    /// The address's tries start again (a kiosk's right code).
    pub fn clear(&self, address: &str) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Backoff = Backoff {
        free: 2,
        first_wait_secs: 60,
        max_wait_secs: 3_600,
        forget_after_secs: 86_400,
    };
    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    #[test]
    fn a_full_table_keeps_the_networks_made_to_wait() {
        // A table of eight addresses, to fill.
        let tries = Tries::holding(RULE, 8);
        // One guesser spends its free tries and must wait.
        assert_eq!(tries.take("guesser", NOW), Ok(()));
        assert_eq!(tries.take("guesser", NOW), Ok(()));
        assert!(tries.take("guesser", NOW).is_err());
        // Many other networks fill the table: the guesser's count survives them.
        for n in 0..100 {
            let _ = tries.take(&format!("net-{n}"), NOW);
        }
        assert!(
            tries.take("guesser", NOW).is_err(),
            "the guesser still waits"
        );
        // Once the table is full of networks made to wait, a new one waits too.
        let full = Tries::holding(RULE, 8);
        for n in 0..8 {
            let net = format!("net-{n}");
            for _ in 0..3 {
                let _ = full.take(&net, NOW);
            }
        }
        assert_eq!(full.take("new", NOW), Err(60));
    }
}
