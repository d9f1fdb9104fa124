//! Tries counted per network address, in this process: a kiosk's codes, lookups of a
//! token by phone. Each try is counted before it is judged, so a burst of parallel tries
//! gets the free ones and no more; past them each must wait as `Backoff` says.

use crate::domain::{Backoff, Strikes, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// Addresses whose tries are kept at most (all are forgotten past it).
const MAX_ADDRESSES: usize = 65_536;

#[derive(Debug)]
pub struct Tries {
    rule: Backoff,
    held: Mutex<HashMap<String, Strikes>>,
}

impl Tries {
    pub fn new(rule: Backoff) -> Self {
        Self {
            rule,
            held: Mutex::default(),
        }
    }

    /// Counts one try from `address`, or answers the seconds it must wait first.
    pub fn take(&self, address: &str, now: Timestamp) -> Result<(), u32> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let strikes = held.get(address).copied();
        self.rule.check(strikes, now)?;
        if held.len() >= MAX_ADDRESSES && strikes.is_none() {
            held.clear();
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
