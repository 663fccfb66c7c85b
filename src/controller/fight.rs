//! A fight over a connector's config: another writer (a second operator install, a script)
//! keeps changing a connector this operator manages. Reverting every change forever only
//! makes the two writers take turns; past `REVERTS` reverts within `WINDOW`, each further
//! revert is followed by a hold, doubling from `HOLD_FIRST` to `HOLD_MOST`, while status
//! says `Contested`. A `WINDOW` without an outside change ends the fight. Kept in memory: a
//! restart starts the count again, which costs a few reverts, nothing else.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub const REVERTS: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(600);
pub const HOLD_FIRST: Duration = Duration::from_secs(60);
pub const HOLD_MOST: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Default)]
pub struct Fight {
    reverts: VecDeque<Instant>,
    holds: u32,
    held_until: Option<Instant>,
}

impl Fight {
    /// An outside change was seen at `now`: `None` to revert it now (counted), or how long
    /// reverts are still held.
    pub fn revert(&mut self, now: Instant) -> Option<Duration> {
        if let Some(until) = self.held_until.filter(|u| now < *u) {
            return Some(until - now);
        }
        self.reverts.retain(|t| now.duration_since(*t) < WINDOW);
        if self.reverts.is_empty() {
            self.holds = 0;
        }
        self.reverts.push_back(now);
        if self.reverts.len() > REVERTS || self.holds > 0 {
            let hold = HOLD_FIRST
                .saturating_mul(1 << self.holds.min(10))
                .min(HOLD_MOST);
            self.holds += 1;
            self.held_until = Some(now + hold);
        }
        None
    }

    /// Whether reverts are held at `now`.
    pub fn contested(&self, now: Instant) -> bool {
        self.held_until.is_some_and(|u| now < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverts_are_held_longer_and_longer_then_forgiven() {
        let mut f = Fight::default();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        for i in 0..=REVERTS as u64 {
            assert_eq!(f.revert(at(i)), None, "revert {i} goes out");
        }
        // Past REVERTS: held a minute, then one revert, held two, then four...
        assert_eq!(f.revert(at(10)), Some(HOLD_FIRST - Duration::from_secs(5)));
        assert!(f.contested(at(10)));
        assert_eq!(f.revert(at(5 + 60)), None);
        assert_eq!(f.revert(at(66)), Some(Duration::from_secs(119)));
        assert_eq!(f.revert(at(65 + 120)), None);
        assert_eq!(f.revert(at(186)), Some(Duration::from_secs(239)));
        // A quiet window: the fight is over, reverts go out at once again.
        let later = at(185 + 240) + WINDOW;
        assert_eq!(f.revert(later), None);
        assert!(!f.contested(later));
        assert_eq!(f.revert(later + Duration::from_secs(1)), None);
    }
}
