// SPDX-License-Identifier: GPL-2.0

//! Module-wide state: the socket table, the statistics, and the counters, behind one global
//! mutex. Sockets are released only while that mutex is held, so the pernet exit hook (which
//! takes it too) can never return while a socket of its netns is still being released.

use crate::ksocket::KernelSocket;
use crate::stats::{KeyStats, StatKey, Totals};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    prelude::*,
    rbtree::{self, RBTree, RBTreeNodeReservation},
};

/// Limit on distinct statistics records; attempts beyond it count only in the totals.
pub(crate) const MAX_STAT_KEYS: usize = 4096;

/// A live socket and what the report shows about it.
pub(crate) struct Entry {
    pub(crate) sock: KernelSocket,
    pub(crate) meta: Meta,
}

/// What is known about a creation besides the socket itself.
#[derive(Clone, Copy)]
pub(crate) struct Meta {
    pub(crate) key: StatKey,
    /// Identity of the netns (`struct net *` as an integer; never dereferenced).
    pub(crate) net_id: usize,
    pub(crate) pid: i32,
    pub(crate) comm: [u8; crate::ffi::COMM_LEN],
    pub(crate) created_ns: u64,
    pub(crate) latency_ns: u64,
}

/// Why a socket left the table.
#[derive(Clone, Copy)]
pub(crate) enum ReleaseCause {
    User,
    NetnsExit,
    Unload,
}

pub(crate) struct State {
    pub(crate) sockets: RBTree<u64, Entry>,
    pub(crate) stats: RBTree<StatKey, KeyStats>,
    pub(crate) totals: Totals,
    pub(crate) next_id: u64,
    pub(crate) max_sockets: u32,
    /// Attempts not given a record because `MAX_STAT_KEYS` was reached.
    pub(crate) stat_keys_dropped: u64,
    pub(crate) n_stat_keys: usize,
}

/// The table node for one creation, allocated before `sock_create_kern()` so that a created
/// socket can always be kept.
pub(crate) struct CreateNodes {
    pub(crate) socket: RBTreeNodeReservation<u64, Entry>,
}

impl CreateNodes {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self { socket: RBTreeNodeReservation::new(GFP_KERNEL)? })
    }
}

impl State {

    /// Records one `sock_create_kern()` outcome and, on success, keeps the socket under a new
    /// id, which it returns. A failed creation gives its slot back.
    pub(crate) fn record_creation(
        &mut self,
        result: Result<KernelSocket>,
        meta: Meta,
        nodes: CreateNodes,
    ) -> Result<u64> {
        self.totals.attempts += 1;
        let errno = match &result {
            Ok(_) => 0,
            Err(e) => -e.to_errno(),
        };
        // A new record is the rare case: its node is allocated here, under the mutex (which
        // may sleep); if that fails or the key limit is reached, the attempt counts only in the
        // totals and in `stat_keys_dropped`.
        let fits = self.n_stat_keys < MAX_STAT_KEYS;
        match self.stats.entry(meta.key) {
            rbtree::Entry::Occupied(mut o) => o.get_mut().record(errno, meta.latency_ns),
            rbtree::Entry::Vacant(v) => match RBTreeNodeReservation::new(GFP_KERNEL) {
                Ok(node) if fits => {
                    self.n_stat_keys += 1;
                    v.insert(KeyStats::default(), node).record(errno, meta.latency_ns)
                }
                _ => self.stat_keys_dropped += 1,
            },
        }
        match result {
            Err(e) => {
                self.totals.failed += 1;
                SLOTS.release();
                Err(e)
            }
            Ok(sock) => {
                self.totals.ok += 1;
                self.totals.live += 1;
                let id = self.next_id;
                self.next_id += 1;
                self.sockets.insert(nodes.socket.into_node(id, Entry { sock, meta }));
                Ok(id)
            }
        }
    }

    /// Releases socket `id`; ENOENT if there is none.
    pub(crate) fn release(&mut self, id: u64, cause: ReleaseCause) -> Result {
        let entry = self.sockets.remove(&id).ok_or(ENOENT)?;
        account_release(&mut self.totals, &mut self.stats, &entry, cause);
        drop(entry);
        Ok(())
    }

    /// Releases every socket matching `pred`; returns how many.
    pub(crate) fn release_where(
        &mut self,
        cause: ReleaseCause,
        pred: impl Fn(&Entry) -> bool,
    ) -> u64 {
        let mut n = 0;
        let mut cursor = self.sockets.cursor_front_mut();
        while let Some(c) = cursor {
            if !pred(c.current().1) {
                cursor = c.move_next();
                continue;
            }
            let key = *c.current().0;
            let (next, node) = c.remove_current();
            // `remove_current` moves to the next node, or to the previous one at the end.
            cursor = next.and_then(|c| if *c.current().0 > key { Some(c) } else { None });
            let (_, entry) = node.to_key_value();
            account_release(&mut self.totals, &mut self.stats, &entry, cause);
            drop(entry);
            n += 1;
        }
        n
    }

    /// `reset stats`: zero the history, keep what is live.
    pub(crate) fn reset_stats(&mut self) {
        self.totals.reset();
        self.stat_keys_dropped = 0;
        let mut cursor = self.stats.cursor_front_mut();
        while let Some(mut c) = cursor {
            if c.current().1.live == 0 {
                let key = *c.current().0;
                let (next, node) = c.remove_current();
                drop(node);
                self.n_stat_keys -= 1;
                cursor = next.and_then(|c| if *c.current().0 > key { Some(c) } else { None });
            } else {
                c.current_mut().1.reset();
                cursor = c.move_next();
            }
        }
    }
}

/// Accounts for an entry leaving the table (the caller drops it while still locked).
fn account_release(
    totals: &mut Totals,
    stats: &mut RBTree<StatKey, KeyStats>,
    entry: &Entry,
    cause: ReleaseCause,
) {
    totals.live -= 1;
    SLOTS.release();
    match cause {
        ReleaseCause::User => totals.released_user += 1,
        ReleaseCause::NetnsExit => totals.released_netns_exit += 1,
        ReleaseCause::Unload => totals.released_unload += 1,
    }
    if let Some(s) = stats.get_mut(&entry.meta.key) {
        s.live = s.live.saturating_sub(1);
        s.released += 1;
    }
}

/// Live plus in-flight sockets, against `max_sockets`: an atomic so that taking a slot needs
/// no lock (a create then takes the state lock once, to record).
pub(crate) struct Slots {
    used: AtomicU64,
    max: AtomicU64,
}

impl Slots {
    /// Takes a slot; false when the limit is reached.
    pub(crate) fn take(&self) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |u| if u < max { Some(u + 1) } else { None })
            .is_ok()
    }

    pub(crate) fn release(&self) {
        self.used.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(crate) static SLOTS: Slots = Slots { used: AtomicU64::new(0), max: AtomicU64::new(0) };

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init()` in the module initialiser before any other use.
    unsafe(uninit) static STATE: Mutex<Option<State>> = None;
}

/// Sets the state up; called once from the module initialiser.
pub(crate) fn init(max_sockets: u32) {
    // SAFETY: Called exactly once, from the module initialiser, before any use of `STATE`.
    unsafe { STATE.init() };
    SLOTS.used.store(0, Ordering::Relaxed);
    SLOTS.max.store(u64::from(max_sockets), Ordering::Relaxed);
    *STATE.lock() = Some(State {
        sockets: RBTree::new(),
        stats: RBTree::new(),
        totals: Totals::default(),
        next_id: 1,
        max_sockets,
        stat_keys_dropped: 0,
        n_stat_keys: 0,
    });
}

/// Runs `f` on the state under the global lock; ENODEV once the module is going away.
pub(crate) fn with<R>(f: impl FnOnce(&mut State) -> R) -> Result<R> {
    let mut guard = STATE.lock();
    match guard.as_mut() {
        Some(state) => Ok(f(state)),
        None => Err(ENODEV),
    }
}

/// Owned by the module: dropping it (at unload, after the device is gone, before the pernet
/// hook is unregistered) releases every socket still held and tears the state down.
pub(crate) struct StateGuard;

impl Drop for StateGuard {
    fn drop(&mut self) {
        let mut guard = STATE.lock();
        if let Some(state) = guard.as_mut() {
            let n = state.release_where(ReleaseCause::Unload, |_| true);
            if n > 0 {
                pr_info!("released {} sockets at unload\n", n);
            }
        }
        // Dropped under the lock, like every release (see the module doc).
        *guard = None;
    }
}
