// SPDX-License-Identifier: GPL-2.0

//! Creation statistics: header totals and one record per (netns, family, type, protocol).

/// Header counters (section 1 of the report).
#[derive(Clone, Copy, Default)]
pub(crate) struct Totals {
    /// `sock_create_kern()` calls made.
    pub(crate) attempts: u64,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    /// Requests refused before `sock_create_kern()` (EPERM, ENOSPC, bad netns, ...).
    pub(crate) rejected: u64,
    pub(crate) live: u64,
    pub(crate) released_user: u64,
    pub(crate) released_netns_exit: u64,
    pub(crate) released_unload: u64,
}

impl Totals {
    /// Zeroes every counter except `live` (which describes the present, not the past).
    pub(crate) fn reset(&mut self) {
        *self = Totals {
            live: self.live,
            ..Totals::default()
        };
    }
}

/// The key of a statistics record. Ordered by netns, family, type, protocol.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct StatKey {
    pub(crate) netns_inum: u32,
    pub(crate) family: i32,
    pub(crate) sock_type: i32,
    pub(crate) protocol: i32,
}

/// Distinct errnos remembered per record; further ones are counted as `other`.
pub(crate) const ERRNO_SLOTS: usize = 4;
/// Buckets of the log2 latency histogram: bucket `b` counts latencies in `[2^b, 2^(b+1))` ns.
pub(crate) const HIST_BUCKETS: usize = 40;

/// Latency summary (nanoseconds).
#[derive(Clone, Copy)]
pub(crate) struct Latency {
    pub(crate) count: u64,
    pub(crate) sum: u64,
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) hist: [u32; HIST_BUCKETS],
}

impl Default for Latency {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
            hist: [0; HIST_BUCKETS],
        }
    }
}

impl Latency {
    pub(crate) fn add(&mut self, ns: u64) {
        self.count += 1;
        self.sum = self.sum.saturating_add(ns);
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
        let bucket = (63 - ns.max(1).leading_zeros()) as usize;
        let b = &mut self.hist[bucket.min(HIST_BUCKETS - 1)];
        *b = b.saturating_add(1);
    }

    pub(crate) fn avg(&self) -> u64 {
        self.sum.checked_div(self.count).unwrap_or(0)
    }
}

/// One statistics record.
#[derive(Clone, Copy, Default)]
pub(crate) struct KeyStats {
    pub(crate) attempts: u64,
    pub(crate) ok: u64,
    /// (positive errno, count); 0 marks a free slot.
    pub(crate) errnos: [(i32, u64); ERRNO_SLOTS],
    pub(crate) errno_other: u64,
    pub(crate) live: u64,
    pub(crate) released: u64,
    pub(crate) latency: Latency,
}

impl KeyStats {
    /// Records one `sock_create_kern()` outcome (`errno` 0 for success).
    pub(crate) fn record(&mut self, errno: i32, latency_ns: u64) {
        self.attempts += 1;
        self.latency.add(latency_ns);
        if errno == 0 {
            self.ok += 1;
            self.live += 1;
            return;
        }
        for slot in self.errnos.iter_mut() {
            if slot.0 == errno || slot.0 == 0 {
                *slot = (errno, slot.1 + 1);
                return;
            }
        }
        self.errno_other += 1;
    }

    pub(crate) fn failed(&self) -> u64 {
        self.attempts - self.ok
    }

    /// Zeroes the history, keeping `live`.
    pub(crate) fn reset(&mut self) {
        *self = KeyStats {
            live: self.live,
            ..KeyStats::default()
        };
    }
}

#[kernel::prelude::kunit_tests(rust_sockmod_stats)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets() {
        let mut l = Latency::default();
        assert_eq!(l.avg(), 0);
        for ns in [0, 1, 2, 3, 4, 1023, 1024, u64::MAX] {
            l.add(ns);
        }
        // 0 and 1 in bucket 0, [2,4) in 1, 4 in 2, 1023 in 9, 1024 in 10, the rest in the last.
        assert_eq!(
            (l.hist[0], l.hist[1], l.hist[2], l.hist[9], l.hist[10]),
            (2, 2, 1, 1, 1)
        );
        assert_eq!(l.hist[HIST_BUCKETS - 1], 1);
        assert_eq!(l.hist.iter().map(|&n| u64::from(n)).sum::<u64>(), l.count);
        assert_eq!((l.count, l.min, l.max, l.sum), (8, 0, u64::MAX, u64::MAX));
    }

    #[test]
    fn record_outcomes() {
        let mut s = KeyStats::default();
        s.record(0, 100);
        s.record(0, 300);
        for errno in [97, 93, 97, 1, 22, 12, 12] {
            s.record(errno, 50);
        }
        assert_eq!((s.attempts, s.ok, s.failed(), s.live), (9, 2, 7, 2));
        // Four distinct errnos kept in the order first seen; the fifth and later: `other`.
        assert_eq!(s.errnos, [(97, 2), (93, 1), (1, 1), (22, 1)]);
        assert_eq!(s.errno_other, 2);
        assert_eq!(
            (s.latency.min, s.latency.max, s.latency.avg()),
            (50, 300, 750 / 9)
        );
        s.reset();
        assert_eq!((s.attempts, s.ok, s.live, s.errno_other), (0, 0, 2, 0));
        assert_eq!(s.errnos, [(0, 0); ERRNO_SLOTS]);
        assert_eq!(s.latency.count, 0);
    }

    #[test]
    fn totals_reset_keeps_live() {
        let mut t = Totals {
            attempts: 5,
            ok: 4,
            failed: 1,
            rejected: 2,
            live: 3,
            ..Totals::default()
        };
        t.released_user = 1;
        t.reset();
        assert_eq!(
            (
                t.attempts,
                t.ok,
                t.failed,
                t.rejected,
                t.live,
                t.released_user
            ),
            (0, 0, 0, 0, 3, 0)
        );
    }
}
