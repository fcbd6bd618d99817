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
        *self = Totals { live: self.live, ..Totals::default() };
    }
}

/// The key of a statistics record. Ordered by netns, family, type, protocol.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct StatKey {
    pub(crate) netns: u32,
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
        Self { count: 0, sum: 0, min: u64::MAX, max: 0, hist: [0; HIST_BUCKETS] }
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
        if self.count == 0 { 0 } else { self.sum / self.count }
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
        *self = KeyStats { live: self.live, ..KeyStats::default() };
    }
}
