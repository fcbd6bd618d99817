// SPDX-License-Identifier: GPL-2.0

//! The operations behind both interfaces (ioctl and text commands): create, release, reset.

use crate::{
    ffi,
    ksocket::KernelSocket,
    netns::NetRef,
    state::{self, CreateNodes, Meta, ReleaseCause},
    stats::StatKey,
};
use kernel::{fs::LocalFile, prelude::*, str::CString};

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;
const AF_PACKET: i32 = 17;
const SOCK_RAW: i32 = 3;

/// Which network namespace a socket is created in.
pub(crate) enum NetnsSel {
    /// The caller's own.
    Caller,
    /// The one a netns file descriptor of the caller refers to.
    Fd(i32),
    /// The one an nsfs path refers to (`/run/netns/NAME`, `/proc/PID/ns/net`).
    Path(CString),
    /// The one process `pid` is in.
    Pid(i32),
}

pub(crate) struct CreateReq {
    pub(crate) family: i32,
    pub(crate) sock_type: i32,
    pub(crate) protocol: i32,
    pub(crate) netns: NetnsSel,
    /// The socket pins its netns (`sk_net_refcnt_upgrade`).
    pub(crate) hold: bool,
}

pub(crate) struct Created {
    pub(crate) id: u64,
    pub(crate) netns_inode: u32,
    pub(crate) latency_ns: u64,
}

/// Counts a request refused before `sock_create_kern()` and passes its error on.
fn rejected(e: Error) -> Error {
    let _ = state::with(|s| s.totals.rejected += 1);
    e
}

pub(crate) fn resolve(sel: &NetnsSel) -> Result<NetRef> {
    match sel {
        NetnsSel::Caller => Ok(NetRef::current()),
        NetnsSel::Fd(fd) => NetRef::from_fd(*fd),
        NetnsSel::Path(p) => NetRef::from_path(p),
        NetnsSel::Pid(pid) => NetRef::from_pid(*pid),
    }
}

/// A kernel socket skips the checks a user socket gets (`inet_create` skips CAP_NET_RAW for
/// kern=1), so the device checks them itself, against the opener's credentials and the user
/// namespace that owns the target netns: CAP_NET_ADMIN always, CAP_NET_RAW for raw/packet.
pub(crate) fn check_permission(file: &LocalFile, net: &NetRef, req: &CreateReq) -> Result {
    if !net.file_capable(file, CAP_NET_ADMIN) {
        pr_info_ratelimited("create refused: no CAP_NET_ADMIN over the target netns");
        return Err(EPERM);
    }
    let raw = req.sock_type & crate::names::SOCK_TYPE_MASK == SOCK_RAW || req.family == AF_PACKET;
    if raw && !net.file_capable(file, CAP_NET_RAW) {
        pr_info_ratelimited("create refused: no CAP_NET_RAW over the target netns");
        return Err(EPERM);
    }
    Ok(())
}

/// One-line reasons in dmesg, rate-limited so no input can flood the log.
pub(crate) fn pr_info_ratelimited(reason: &str) {
    use core::sync::atomic::{AtomicU64, Ordering};
    static LAST_NS: AtomicU64 = AtomicU64::new(0);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    let now = ffi::now_ns();
    let last = LAST_NS.load(Ordering::Relaxed);
    if now.wrapping_sub(last) < 200_000_000
        || LAST_NS.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
    {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let n = SUPPRESSED.swap(0, Ordering::Relaxed);
    pr_info!("{} ({} similar messages suppressed)\n", reason, n);
}

/// Creates one kernel socket as `req` says and keeps it.
pub(crate) fn create(file: &LocalFile, req: &CreateReq) -> Result<Created> {
    let net = resolve(&req.netns).map_err(rejected)?;
    check_permission(file, &net, req).map_err(rejected)?;
    keep(&net, req, Clock::Measured)
}

/// Whether a creation is timed and attributed (every real one is; the bench's TABLE step is
/// not, to isolate the table's cost).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    Measured,
    Skipped,
}

/// Creates a socket in `net` (already resolved and checked) and keeps it in the table.
pub(crate) fn keep(net: &NetRef, req: &CreateReq, clock: Clock) -> Result<Created> {
    let netns_inode = net.inum();
    let key = StatKey {
        netns: netns_inode,
        family: req.family,
        sock_type: req.sock_type,
        protocol: req.protocol,
    };
    if !state::SLOTS.take() {
        return Err(rejected(ENOSPC));
    }
    let nodes = match CreateNodes::new() {
        Ok(n) => n,
        Err(e) => {
            state::SLOTS.release();
            return Err(rejected(e));
        }
    };

    // No lock is held here: sock_create_kern() sleeps.
    let measured = clock == Clock::Measured;
    let t0 = if measured { ffi::now_ns() } else { 0 };
    let result = KernelSocket::create(net, req.family, req.sock_type, req.protocol);
    let t1 = if measured { ffi::now_ns() } else { 0 };
    let latency_ns = t1.saturating_sub(t0);
    if let Ok(sock) = &result {
        if req.hold {
            sock.hold_netns();
        }
    }
    let (pid, comm) = if measured { ffi::current_tgid_comm() } else { (0, [0; ffi::COMM_LEN]) };
    let net_id = match &result {
        Ok(sock) => sock.net_id(),
        Err(_) => 0,
    };
    let meta = Meta { key, net_id, pid, comm, created_ns: t1, latency_ns };
    // The caller still holds `net`: the netns cannot be dismantled before the socket is in the
    // table, where the pernet exit hook will find it.
    let id = state::with(|s| s.record_creation(result, meta, nodes))??;
    Ok(Created { id, netns_inode, latency_ns })
}

/// Releases socket `id` (ENOENT if unknown).
pub(crate) fn release(id: u64) -> Result {
    state::with(|s| s.release(id, ReleaseCause::User))?
}

/// Binds socket `id` to the any-address and `port`; under the state lock, so the socket
/// cannot be released meanwhile (kernel_bind may sleep: the lock is a mutex).
pub(crate) fn bind(id: u64, port: u16) -> Result {
    state::with(|s| s.sockets.get(&id).ok_or(ENOENT).and_then(|e| e.sock.bind_any(port)))?
}

/// `listen(backlog)` on socket `id`.
pub(crate) fn listen(id: u64, backlog: i32) -> Result {
    state::with(|s| s.sockets.get(&id).ok_or(ENOENT).and_then(|e| e.sock.listen(backlog)))?
}

/// Releases every socket; returns how many.
pub(crate) fn release_all() -> Result<u64> {
    state::with(|s| s.release_where(ReleaseCause::User, |_| true))
}

pub(crate) fn reset_stats() -> Result {
    state::with(|s| s.reset_stats())
}

/// Network namespaces set up and not yet dismantled, as the pernet hooks see them (every
/// netns alive at registration, then every new one). Shown in the report.
pub(crate) static NETNS_ALIVE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Called by the pernet init hook (`src/helpers.c`) for every netns, existing or new.
#[no_mangle]
pub(crate) extern "C" fn rust_sockmod_net_init(_net: *mut kernel::bindings::net) {
    NETNS_ALIVE.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
}

/// Called by the pernet exit hook (`src/helpers.c`) for every netns being dismantled: releases
/// the sockets that live in it (only default-model sockets can: "hold" sockets keep their
/// netns alive).
#[no_mangle]
pub(crate) extern "C" fn rust_sockmod_net_exit(net: *mut kernel::bindings::net) {
    let net_id = net as usize;
    NETNS_ALIVE.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    let _ = state::with(|s| {
        let n = s.release_where(ReleaseCause::NetnsExit, |e| e.meta.net_id == net_id);
        if n > 0 {
            pr_info!("netns exit: released {} kernel sockets\n", n);
        }
    });
}
