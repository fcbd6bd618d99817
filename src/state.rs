// SPDX-License-Identifier: GPL-2.0

//! Module-wide state: the socket table, the statistics, and the counters, behind one global
//! mutex. No socket is released and nothing sleeps while that mutex is held: the netns
//! teardown (the pernet `.pre_exit` hook, inside `cleanup_net`) takes it too. A socket leaves the
//! table under the mutex together with what keeps its netns alive while it is released outside
//! it ([`Detached`]); one in use outside the mutex (bind, listen) is shared the same way
//! ([`InUse`]).

use crate::ksocket::{FreshSocket, KernelSocket, SockInfo};
use crate::netns::{Net, NetId};
use crate::stats::{KeyStats, StatKey, Totals};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    prelude::*,
    rbtree::{self, RBTree, RBTreeNodeReservation},
    sync::{aref::ARef, Arc, UniqueArc},
};

/// Limit on distinct statistics records; attempts beyond it count only in the totals.
pub(crate) const MAX_STAT_KEYS: usize = 4096;

/// A live socket and what the report shows about it. The socket itself stays private to this
/// module: only the table, [`Detached`] and [`InUse`] may own (and so release) it.
///
/// `sock` is `Some` for every entry in the table (see [`State`]); it is taken out only when the
/// entry leaves the table, so that its node can be kept as a spare without dropping the socket
/// under the state lock.
pub(crate) struct Entry {
    sock: Option<Arc<KernelSocket>>,
    pub(crate) meta: Meta,
}

impl Entry {
    /// What the socket is (family, type, protocol, state, inode, netns), read from it; `None`
    /// only for an entry that left the table (never seen by a reader).
    pub(crate) fn info(&self) -> Option<SockInfo> {
        self.sock.as_ref().map(|s| s.info())
    }

    /// A counted reference on the socket's netns unless that netns is being dismantled.
    fn net_ref(&self) -> Option<ARef<Net>> {
        self.sock.as_ref()?.net_ref()
    }
}

/// What is known about a creation besides the socket itself.
#[derive(Clone, Copy)]
pub(crate) struct Meta {
    pub(crate) key: StatKey,
    /// Identity of the netns (`struct net *` as an integer; never dereferenced).
    pub(crate) net_id: NetId,
    pub(crate) pid: i32,
    pub(crate) comm: [u8; crate::shim::COMM_LEN],
    pub(crate) created_ns: u64,
    pub(crate) latency_ns: u64,
}

/// Why a socket left the table (the numbers are `rust_sockmod:release`'s `cause`).
#[derive(Clone, Copy)]
pub(crate) enum ReleaseCause {
    User = 0,
    NetnsExit = 1,
    Unload = 2,
}

/// A socket taken out of the table, released when this is dropped (outside the state lock).
///
/// # Invariants
///
/// `_net` is a counted reference on the socket's netns, so the socket may be released where
/// this value is dropped.
pub(crate) struct Detached {
    // Field order is drop order: the socket first, then the netns reference.
    _sock: Option<Arc<KernelSocket>>,
    _net: ARef<Net>,
}

/// A table socket used outside the state lock (bind, listen). It may be released meanwhile
/// (the table lets its `Arc` go); the socket itself goes when this is dropped.
///
/// # Invariants
///
/// `_net` is a counted reference on the socket's netns, so the socket may be released where
/// this value is dropped.
pub(crate) struct InUse {
    // Field order is drop order: the socket first, then the netns reference.
    sock: Arc<KernelSocket>,
    net: ARef<Net>,
}

impl InUse {
    /// The socket's netns (counted while this value lives).
    pub(crate) fn net(&self) -> &Net {
        &self.net
    }
}

impl core::ops::Deref for InUse {
    type Target = KernelSocket;
    fn deref(&self) -> &KernelSocket {
        &self.sock
    }
}

/// # Invariants
///
/// `by_net` holds `(e.meta.net_id, id)` for exactly the entries `(id, e)` of `sockets`: both
/// change together, under the state lock, in `record_success`, `detach` (for `take`,
/// `take_next` and `take_next_judged`) and `take_netns`, and nothing else changes either
/// (`sockets` is private; readers get [`State::sockets`]). The netns teardown finds a netns's
/// sockets only through `by_net`: a socket missing from it would be released after its netns's
/// protocols freed their state.
/// Every entry of `sockets` holds its socket (`Entry::sock` is `Some`).
pub(crate) struct State {
    sockets: RBTree<u64, Entry>,
    /// The same sockets by netns: `(net_id, id)`, so that a netns teardown visits only its own
    /// sockets (`take_netns`), not every live one.
    by_net: RBTree<(NetId, u64), ()>,
    /// Nodes of sockets released by id or at unload (`detach`; not by a netns teardown, whose
    /// nodes go with the batch it releases), kept for the next creations (at most
    /// `SPARES_MAX`: the vector's capacity, allocated at init, so that keeping one never
    /// allocates).
    spares: KVec<(TableNode, IndexNode)>,
    pub(crate) stats: RBTree<StatKey, KeyStats>,
    pub(crate) totals: Totals,
    pub(crate) max_sockets: u32,
    /// Attempts not given a record because `MAX_STAT_KEYS` was reached.
    pub(crate) stat_keys_dropped: u64,
    pub(crate) n_stat_keys: usize,
}

type TableNode = RBTreeNodeReservation<u64, Entry>;
type IndexNode = RBTreeNodeReservation<(NetId, u64), ()>;

/// Sockets `take_next_judged` passes over in one call, at most.
const JUDGED_SKIP_MAX: usize = 256;

/// One step of `release all` ([`State::take_next_judged`]); each variant but `Done` carries
/// the id to continue from.
pub(crate) enum Next {
    /// No socket with an id from there on.
    Done,
    /// A socket of an allowed netns, out of the table: released where this is dropped.
    Taken(u64, Detached),
    /// Only sockets of refused (or dying) netns passed over: how many were refused.
    Skipped(u64, u64),
    /// A socket (its id) of a netns not judged yet: its identity and a reference to judge it.
    Unjudged(u64, NetId, ARef<Net>),
}

/// Spare node pairs kept from released sockets (each pair: 2 small allocations).
const SPARES_MAX: usize = 64;

/// What keeping one socket needs, obtained before `sock_create_kern()` so that a created
/// socket can always be kept: its table node, its netns index node and its shared (`Arc`)
/// allocation.
pub(crate) struct CreateNodes {
    socket: TableNode,
    by_net: IndexNode,
    arc: UniqueArc<core::mem::MaybeUninit<KernelSocket>>,
}

impl CreateNodes {
    /// The two nodes of a released socket if a spare pair is kept (one state-lock round trip
    /// instead of two allocations and, at release, two frees), else fresh ones.
    pub(crate) fn new() -> Result<Self> {
        let arc = UniqueArc::new_uninit(GFP_KERNEL)?;
        let (socket, by_net) = match with(|s| s.spares.pop()) {
            Ok(Some(pair)) => pair,
            _ => fresh_nodes()?,
        };
        Ok(Self {
            socket,
            by_net,
            arc,
        })
    }
}

/// Allocates a table node and a netns-index node afresh (what [`CreateNodes::new`] does when
/// no spare pair is kept; the bench's TABLE_NODE step times it too).
pub(crate) fn fresh_nodes() -> Result<(TableNode, IndexNode)> {
    Ok((
        RBTreeNodeReservation::new(GFP_KERNEL)?,
        RBTreeNodeReservation::new(GFP_KERNEL)?,
    ))
}

/// Ids of kept sockets: taken before the id is published (copied to the caller), so that the
/// table changes only once the caller knows the id.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh socket id.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl State {
    /// The live sockets by id (read-only: see the type invariants).
    pub(crate) fn sockets(&self) -> &RBTree<u64, Entry> {
        &self.sockets
    }

    /// Node pairs of released sockets kept for the next creations.
    pub(crate) fn spare_nodes(&self) -> usize {
        self.spares.len()
    }

    /// Counts one `sock_create_kern()` outcome in the totals and its statistics record.
    fn count_attempt(&mut self, key: StatKey, errno: i32, latency_ns: u64) {
        self.totals.attempts += 1;
        // A new record is the rare case: its node is allocated here, under the mutex (which
        // may sleep in the allocator only; nothing of the netns code is called); if that
        // fails or the key limit is reached, the attempt counts only in the totals and in
        // `stat_keys_dropped`.
        let fits = self.n_stat_keys < MAX_STAT_KEYS;
        match self.stats.entry(key) {
            rbtree::Entry::Occupied(mut o) => o.get_mut().record(errno, latency_ns),
            rbtree::Entry::Vacant(v) => match RBTreeNodeReservation::new(GFP_KERNEL) {
                Ok(node) if fits => {
                    self.n_stat_keys += 1;
                    v.insert(KeyStats::default(), node)
                        .record(errno, latency_ns)
                }
                _ => self.stat_keys_dropped += 1,
            },
        }
    }

    /// Records a failed `sock_create_kern()` and gives its slot back.
    pub(crate) fn record_failure(&mut self, meta: &Meta, err: Error, slot: Slot) {
        self.count_attempt(meta.key, -err.to_errno(), meta.latency_ns);
        self.totals.failed += 1;
        drop(slot);
    }

    /// Keeps `sock` under `id` (from [`next_id`], already published to the caller); its slot
    /// becomes the live socket's (given back when it leaves the table, in `account_release`).
    pub(crate) fn record_success(
        &mut self,
        id: u64,
        sock: FreshSocket<'_>,
        meta: Meta,
        nodes: CreateNodes,
        slot: Slot,
    ) {
        self.count_attempt(meta.key, 0, meta.latency_ns);
        self.totals.ok += 1;
        self.totals.live += 1;
        slot.into_live();
        // SAFETY: The socket goes into the table right here, under the state lock, while the
        // caller still holds the `Net` it borrows (its lifetime outlives this call).
        let sock = unsafe { sock.into_kept() };
        let sock = Some(Arc::from(nodes.arc.write(sock)));
        self.by_net
            .insert(nodes.by_net.into_node((meta.net_id, id), ()));
        self.sockets
            .insert(nodes.socket.into_node(id, Entry { sock, meta }));
    }

    /// Takes entry `id` (whose netns is pinned by `net`) out of both trees, keeps their nodes as
    /// spares while there is room, and accounts for it; its socket is released where the
    /// returned value is dropped.
    fn detach(&mut self, id: u64, net: ARef<Net>, cause: ReleaseCause) -> Option<Detached> {
        let mut e = self.sockets.find_mut(&id)?;
        let sock = e.get_mut().sock.take();
        let meta = e.get().meta;
        // The entry left holds no socket: dropping it (into_reservation) releases nothing.
        let socket = e.remove_node().into_reservation();
        let index = self
            .by_net
            .find_mut(&(meta.net_id, id))
            .map(|i| i.remove_node().into_reservation());
        account_release(&mut self.totals, &mut self.stats, id, &meta, cause);
        match index {
            // Within the capacity reserved at init: no allocation under the lock.
            Some(index) if self.spares.len() < SPARES_MAX => {
                let _ = self.spares.push_within_capacity((socket, index));
            }
            Some(_) => {}
            // Every entry has its index key (type invariants): a missing one is a bug.
            None => {
                kernel::warn_on!(true);
            }
        }
        // INVARIANT: `net` is a counted reference on the socket's netns.
        Some(Detached {
            _sock: sock,
            _net: net,
        })
    }

    /// Takes socket `id` out of the table for release by the caller (outside the lock).
    /// ENOENT if there is none. `Ok(None)` if its netns is already being dismantled: the
    /// socket stays for that netns's `.pre_exit` hook, which is about to release it (and
    /// counts it); the caller reports that nothing was released.
    pub(crate) fn take(&mut self, id: u64, cause: ReleaseCause) -> Result<Option<Detached>> {
        let e = self.sockets.get(&id).ok_or(ENOENT)?;
        let Some(net) = e.net_ref() else {
            return Ok(None);
        };
        self.detach(id, net, cause).map(Some).ok_or(ENOENT)
    }

    /// The first socket with id >= `from` whose netns is not being dismantled, taken out as
    /// [`State::take`] does; with the id to continue from (the unload path).
    pub(crate) fn take_next(&mut self, from: u64, cause: ReleaseCause) -> Option<(u64, Detached)> {
        let mut from = from;
        loop {
            let c = self.sockets.cursor_lower_bound(&from)?;
            let (&id, e) = c.current();
            match e.net_ref() {
                Some(net) => return self.detach(id, net, cause).map(|d| (id + 1, d)),
                None => from = id + 1,
            }
        }
    }

    /// A counted reference on socket `id`'s netns, for a check outside the lock: ENOENT if
    /// there is no such socket, `None` if its netns is already being dismantled.
    pub(crate) fn net_of(&self, id: u64) -> Result<Option<ARef<Net>>> {
        Ok(self.sockets.get(&id).ok_or(ENOENT)?.net_ref())
    }

    /// The next step of `release all` from id `from`, by the verdicts in `judged` (netns
    /// identity → allowed): the first socket of an allowed netns taken out as [`State::take`]
    /// does, or the first of a netns not judged yet (with a reference on it, to judge it
    /// outside the lock). Sockets of refused netns, and of netns being dismantled, are
    /// passed over: at most `JUDGED_SKIP_MAX` per call, so that the lock is not held long.
    pub(crate) fn take_next_judged(
        &mut self,
        from: u64,
        judged: &RBTree<NetId, bool>,
        cause: ReleaseCause,
    ) -> Next {
        let mut from = from;
        let mut refused = 0;
        for _ in 0..JUDGED_SKIP_MAX {
            let Some(c) = self.sockets.cursor_lower_bound(&from) else {
                return if refused > 0 {
                    Next::Skipped(from, refused)
                } else {
                    Next::Done
                };
            };
            let (&id, e) = c.current();
            let net_id = e.meta.net_id;
            from = id + 1;
            // (A reference is taken only to be handed out: none is dropped under the lock.)
            match judged.get(&net_id) {
                Some(false) => refused += 1,
                Some(true) => {
                    // None: its netns's `.pre_exit` hook is about to release it.
                    if let Some(net) = e.net_ref() {
                        return match self.detach(id, net, cause) {
                            Some(d) => Next::Taken(from, d),
                            None => Next::Skipped(from, refused),
                        };
                    }
                }
                None => {
                    if refused > 0 {
                        // The refused ones first; this socket comes again in the next call.
                        return Next::Skipped(id, refused);
                    }
                    if let Some(net) = e.net_ref() {
                        return Next::Unjudged(id, net_id, net);
                    }
                }
            }
        }
        Next::Skipped(from, refused)
    }

    /// Socket `id`, shared for use outside the lock; ENOENT if there is none, or if its netns
    /// is already being dismantled.
    pub(crate) fn share(&self, id: u64) -> Result<InUse> {
        let e = self.sockets.get(&id).ok_or(ENOENT)?;
        let net = e.net_ref().ok_or(ENOENT)?;
        let sock = e.sock.clone().ok_or(ENOENT)?;
        // INVARIANT: `net` is a counted reference on the socket's netns.
        Ok(InUse { sock, net })
    }

    /// Moves every socket of netns `net_id` out of the table into `out` (no allocation: the
    /// table nodes move; the index nodes are freed); returns how many. Visits only that netns's
    /// sockets, through the `by_net` index.
    fn take_netns(
        &mut self,
        net_id: NetId,
        cause: ReleaseCause,
        out: &mut RBTree<u64, Entry>,
    ) -> u64 {
        let mut n = 0;
        while let Some(c) = self.by_net.cursor_lower_bound_mut(&(net_id, 0)) {
            let (owner, id) = *c.current().0;
            if owner != net_id {
                break;
            }
            drop(c.remove_current());
            // Every index key has its table entry (type invariants): a missing one is a bug.
            let Some(e) = self.sockets.find_mut(&id) else {
                kernel::warn_on!(true);
                continue;
            };
            account_release(&mut self.totals, &mut self.stats, id, &e.get().meta, cause);
            out.insert(e.remove_node());
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

/// Releases every socket of netns `net` (the pernet `.pre_exit` hook): takes them out of the
/// table under the lock, releases them after dropping it. Returns how many.
///
/// # Safety
///
/// Called only from the pernet `.pre_exit` hook for `net`: no pernet `.exit` of `net` has run
/// yet, and none runs before this returns; and no [`InUse`] of a socket of `net` exists. (The
/// hook runs either in `cleanup_net`, when the netns count is zero, so no `InUse` — which holds
/// a counted reference — can exist; or in `unregister_pernet_subsys` at unload, after the
/// device is gone, so no file operation can be holding one.)
pub(crate) unsafe fn release_netns(net_id: NetId, cause: ReleaseCause) -> u64 {
    let mut taken = RBTree::new();
    let n = with(|s| s.take_netns(net_id, cause, &mut taken)).unwrap_or(0);
    // Released here, outside the lock, while the netns's protocols still have their per-netns
    // state (the caller's contract); the table held the only `Arc` of each (no `InUse`).
    drop(taken);
    n
}
/// Accounts for an entry leaving the table (and fires `rust_sockmod:release`).
fn account_release(
    totals: &mut Totals,
    stats: &mut RBTree<StatKey, KeyStats>,
    id: u64,
    meta: &Meta,
    cause: ReleaseCause,
) {
    crate::trace::release(id, cause as i32);
    totals.live -= 1;
    SLOTS.release();
    match cause {
        ReleaseCause::User => totals.released_user += 1,
        ReleaseCause::NetnsExit => totals.released_netns_exit += 1,
        ReleaseCause::Unload => totals.released_unload += 1,
    }
    if let Some(s) = stats.get_mut(&meta.key) {
        s.live = s.live.saturating_sub(1);
        s.released += 1;
    }
}

/// Live plus in-flight sockets, against `max_sockets`: an atomic so that taking a slot needs
/// no lock (a create then takes the state lock once, to record). An in-flight socket's slot is
/// a [`Slot`]; a live socket's is given back by `account_release`.
struct Slots {
    used: AtomicU64,
    max: AtomicU64,
}

impl Slots {
    /// Takes a slot; false when the limit is reached.
    fn take(&self) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |u| {
                if u < max {
                    Some(u + 1)
                } else {
                    None
                }
            })
            .is_ok()
    }

    fn release(&self) {
        self.used.fetch_sub(1, Ordering::AcqRel);
    }
}

static SLOTS: Slots = Slots {
    used: AtomicU64::new(0),
    max: AtomicU64::new(0),
};

/// One socket's slot in [`SLOTS`], taken before `sock_create_kern()`: given back when dropped
/// (the creation failed or was undone), unless [`State::record_success`] made it the kept
/// socket's.
pub(crate) struct Slot(());

impl Slot {
    /// Takes a slot; `None` when `max_sockets` sockets are live or in flight.
    pub(crate) fn take() -> Option<Self> {
        SLOTS.take().then_some(Self(()))
    }

    /// Hands the slot over to a socket entering the table: `account_release` gives it back
    /// when the socket leaves.
    fn into_live(self) {
        core::mem::forget(self);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        SLOTS.release();
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init()` in the module initialiser before any other use.
    unsafe(uninit) static STATE: Mutex<Option<State>> = None;
}

/// Sets the state up; called once from the module initialiser. On error the state stays
/// absent (every [`with`] returns ENODEV) and the module must not load.
pub(crate) fn init(max_sockets: u32) -> Result {
    // SAFETY: Called exactly once, from the module initialiser, before any use of `STATE`.
    unsafe { STATE.init() };
    SLOTS.used.store(0, Ordering::Relaxed);
    SLOTS.max.store(u64::from(max_sockets), Ordering::Relaxed);
    let spares = KVec::with_capacity(SPARES_MAX, GFP_KERNEL)?;
    *STATE.lock() = Some(State {
        sockets: RBTree::new(),
        by_net: RBTree::new(),
        spares,
        stats: RBTree::new(),
        totals: Totals::default(),
        max_sockets,
        stat_keys_dropped: 0,
        n_stat_keys: 0,
    });
    Ok(())
}

/// Runs `f` on the state under the global lock; ENODEV once the module is going away.
pub(crate) fn with<R>(f: impl FnOnce(&mut State) -> R) -> Result<R> {
    let mut guard = STATE.lock();
    match guard.as_mut() {
        Some(state) => Ok(f(state)),
        None => Err(ENODEV),
    }
}

/// Owned by the module, dropped last at unload: by then the device is gone and the pernet
/// registration has run `.pre_exit` for every netns, which released every socket; the state is
/// torn down here. A socket still found (a bug) is released only if its netns can be pinned,
/// and otherwise leaked with a message rather than released into freed per-netns state.
pub(crate) struct StateGuard;

impl Drop for StateGuard {
    fn drop(&mut self) {
        let mut from = 0;
        let mut left = 0u64;
        while let Some((next, d)) = with(|s| s.take_next(from, ReleaseCause::Unload))
            .ok()
            .flatten()
        {
            drop(d);
            from = next;
            left += 1;
        }
        let mut guard = STATE.lock();
        if let Some(state) = guard.take() {
            let leaked = state.sockets.iter().count();
            if left > 0 || leaked > 0 {
                pr_err!(
                    "unload: {} sockets outlived the pernet hooks ({} leaked)\n",
                    left,
                    leaked
                );
            }
            let State { sockets, .. } = state;
            core::mem::forget(sockets);
        }
    }
}
