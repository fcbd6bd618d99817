// SPDX-License-Identifier: GPL-2.0

//! The operations behind both interfaces (ioctl and text commands): create, release, reset.

use crate::{
    ksocket::FreshSocket,
    netns::{Net, NetId},
    shim::{self, COMM_LEN},
    state::{self, CreateNodes, Meta, ReleaseCause},
    stats::StatKey,
    trace,
};
use kernel::{
    bindings::{CAP_NET_ADMIN, CAP_NET_RAW},
    fs::LocalFile,
    prelude::*,
    rbtree::RBTree,
    str::CString,
    sync::aref::ARef,
};

const AF_PACKET: i32 = kernel::bindings::AF_PACKET as i32;
const SOCK_RAW: i32 = kernel::bindings::sock_type_SOCK_RAW as i32;

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
    pub(crate) netns_inum: u32,
    pub(crate) latency_ns: u64,
}

/// Counts a request refused before `sock_create_kern()` and passes its error on.
pub(crate) fn rejected(e: Error) -> Error {
    let _ = state::with(|s| s.totals.rejected += 1);
    e
}

pub(crate) fn resolve(sel: &NetnsSel) -> Result<ARef<Net>> {
    match sel {
        NetnsSel::Caller => Net::current(),
        NetnsSel::Fd(fd) => Net::from_fd(*fd),
        NetnsSel::Path(p) => Net::from_path(p),
        NetnsSel::Pid(pid) => Net::from_pid(*pid),
    }
}

/// A kernel socket skips the checks a user socket gets (`inet_create` skips CAP_NET_RAW for
/// kern=1), so the device checks them itself, against the opener's credentials and the user
/// namespace that owns the target netns: CAP_NET_ADMIN always, CAP_NET_RAW for raw/packet.
pub(crate) fn check_permission(file: &LocalFile, net: &Net, req: &CreateReq) -> Result {
    if !net.file_capable(file, CAP_NET_ADMIN) {
        shim::pr_info_ratelimited("create refused: no CAP_NET_ADMIN over the target netns");
        return Err(EPERM);
    }
    let raw = req.sock_type & crate::names::SOCK_TYPE_MASK == SOCK_RAW || req.family == AF_PACKET;
    if raw && !net.file_capable(file, CAP_NET_RAW) {
        shim::pr_info_ratelimited("create refused: no CAP_NET_RAW over the target netns");
        return Err(EPERM);
    }
    Ok(())
}

/// Creates one kernel socket as `req` says and keeps it once `publish` has told the caller its
/// id (for the ioctl: the reply copied to userspace). If `publish` fails, nothing is kept: the
/// socket is released and the statistics do not change.
pub(crate) fn create(
    file: &LocalFile,
    req: &CreateReq,
    publish: impl FnOnce(&Created) -> Result,
) -> Result<Created> {
    let net = resolve(&req.netns).map_err(|e| {
        shim::pr_info_ratelimited("create refused: the netns= / pid= target is not a network namespace or cannot be reached");
        rejected(e)
    })?;
    check_permission(file, &net, req).map_err(rejected)?;
    let reserved = reserve()?;
    // No lock is held here: sock_create_kern() sleeps.
    let t0 = shim::now_ns();
    let attempt = reserved.create(&net, req);
    let stamps = Stamps::since(t0);
    keep(attempt, stamps, publish)
}

/// When and by whom a socket was created: what its [`Meta`] keeps besides the socket.
pub(crate) struct Stamps {
    /// Monotonic clock just after `sock_create_kern()`, in ns.
    pub(crate) created_ns: u64,
    /// Time spent in `sock_create_kern()`, in ns.
    pub(crate) latency_ns: u64,
    /// The creator's tgid and comm.
    pub(crate) pid: i32,
    pub(crate) comm: [u8; COMM_LEN],
}

impl Stamps {
    /// Stamps a creation that started at `t0` (monotonic ns): now, by the calling task.
    pub(crate) fn since(t0: u64) -> Self {
        let t1 = shim::now_ns();
        let (pid, comm) = shim::current_tgid_comm();
        Self {
            created_ns: t1,
            latency_ns: t1.saturating_sub(t0),
            pid,
            comm,
        }
    }
}

/// What keeping one socket needs, taken by [`reserve`] before `sock_create_kern()` so that a
/// created socket can always be kept. Dropped without being kept, it gives everything back.
pub(crate) struct Reserved {
    /// Its place under `max_sockets` (given back when dropped).
    slot: state::Slot,
    /// The census sees a socket in flight, outside the table, while this lives.
    busy: crate::census::Busy,
    /// Its table and netns-index nodes and its `Arc`.
    nodes: CreateNodes,
}

/// Takes a slot under `max_sockets` (ENOSPC if none is left) and the nodes to keep one socket,
/// and marks it in flight for the census. A refusal counts in `rejected`, with nothing kept.
pub(crate) fn reserve() -> Result<Reserved> {
    let slot = state::Slot::take().ok_or_else(|| rejected(ENOSPC))?;
    let busy = crate::census::Busy::new();
    // On error `slot` is dropped here: given back.
    let nodes = CreateNodes::new().map_err(rejected)?;
    Ok(Reserved { slot, busy, nodes })
}

impl Reserved {
    /// Runs `sock_create_kern()` for `req` in `net` (already resolved and checked), now that
    /// what keeping its socket needs is held; the outcome goes to [`keep`]. No lock may be
    /// held: it sleeps.
    pub(crate) fn create<'a>(self, net: &'a Net, req: &'a CreateReq) -> Attempt<'a> {
        let result = FreshSocket::create(net, req.family, req.sock_type, req.protocol, req.hold);
        Attempt {
            reserved: self,
            net,
            req,
            result,
        }
    }
}

/// One `sock_create_kern()` made by [`Reserved::create`]: its outcome, with the reservation
/// taken before it and the netns and request it was made for.
pub(crate) struct Attempt<'a> {
    reserved: Reserved,
    net: &'a Net,
    req: &'a CreateReq,
    result: Result<FreshSocket<'a>>,
}

/// Keeps the outcome of `attempt`, stamped with `stamps`: a created socket goes into the
/// table after `publish` succeeded (see [`create`]); a failure is counted. Either way it is
/// traced; on every error the reservation is given back.
pub(crate) fn keep(
    attempt: Attempt<'_>,
    stamps: Stamps,
    publish: impl FnOnce(&Created) -> Result,
) -> Result<Created> {
    let Attempt {
        reserved: Reserved {
            slot,
            busy: _busy,
            nodes,
        },
        net,
        req,
        result,
    } = attempt;
    let netns_inum = net.inum();
    let key = StatKey {
        netns_inum,
        family: req.family,
        sock_type: req.sock_type,
        protocol: req.protocol,
    };
    let net_id = match &result {
        Ok(sock) => sock.net_id(),
        Err(_) => NetId::default(),
    };
    let latency_ns = stamps.latency_ns;
    let meta = Meta {
        key,
        net_id,
        pid: stamps.pid,
        comm: stamps.comm,
        created_ns: stamps.created_ns,
        latency_ns,
    };
    let sock = match result {
        Ok(sock) => sock,
        Err(e) => {
            // The slot is given back under the lock, or dropped unused if the state is gone
            // (unload), when there is nothing to count in.
            let _ = state::with(|s| s.record_failure(&meta, e, slot));
            traced(req, netns_inum, 0, Err(e), latency_ns);
            return Err(e);
        }
    };
    // The id reaches the caller before the socket is in the table: another thread that guesses
    // it from the reply buffer may briefly get ENOENT; the id is valid once the call returns.
    let created = Created {
        id: state::next_id(),
        netns_inum,
        latency_ns,
    };
    if let Err(e) = publish(&created) {
        // The caller cannot learn the id: keep nothing. `net` still pins the netns, so the
        // socket may be released here.
        drop(sock);
        drop(slot);
        shim::pr_info_ratelimited("create undone: the reply could not be copied");
        traced(req, netns_inum, 0, Err(e), latency_ns);
        return Err(e);
    }
    // The caller still holds `net`: the netns cannot be dismantled before the socket is in the
    // table, where the pernet `.pre_exit` hook will find it. (If the state is gone, `sock` and
    // `slot` are dropped inside `with`'s closure argument, `net` still held.)
    state::with(|s| s.record_success(created.id, sock, meta, nodes, slot))?;
    traced(req, netns_inum, created.id, Ok(()), latency_ns);
    Ok(created)
}

/// Fires `rust_sockmod:create` for an attempt that reached `sock_create_kern()`.
fn traced(req: &CreateReq, netns_inum: u32, id: u64, res: Result, latency_ns: u64) {
    let err = res.err().map_or(0, |e| e.to_errno());
    trace::create(
        netns_inum,
        req.family,
        req.sock_type,
        req.protocol,
        id,
        err,
        latency_ns,
    );
}

/// Refuses unless the opener of `file` has CAP_NET_ADMIN over `net`: EPERM, counted in
/// `rejected`, with `refusal` as one ratelimited dmesg line.
fn require_admin(file: &LocalFile, net: &Net, refusal: &str) -> Result {
    if net.file_capable(file, CAP_NET_ADMIN) {
        return Ok(());
    }
    shim::pr_info_ratelimited(refusal);
    Err(rejected(EPERM))
}

/// Releases socket `id` if the opener of `file` has CAP_NET_ADMIN over its netns (EPERM
/// otherwise, nothing changed; ENOENT if unknown), outside the state lock; returns how many
/// were released (1). A socket whose netns is already being dismantled is left to that netns's
/// `.pre_exit` hook, which releases it at once: 0.
pub(crate) fn release(file: &LocalFile, id: u64) -> Result<u64> {
    // The check runs outside the lock (an LSM may sleep in it). A socket's netns never
    // changes and ids are never reused, so the verdict still holds when `take` runs.
    let Some(net) = state::with(|s| s.net_of(id))?? else {
        return Ok(0);
    };
    require_admin(
        file,
        &net,
        "release refused: no CAP_NET_ADMIN over the socket's netns",
    )?;
    let busy = crate::census::Busy::new();
    let taken = state::with(|s| s.take(id, ReleaseCause::User))??;
    let released = u64::from(taken.is_some());
    drop(taken);
    drop(busy);
    Ok(released)
}

/// Binds socket `id` to the any-address and `port` if the opener of `file` has CAP_NET_ADMIN
/// over its netns (EPERM otherwise). kernel_bind sleeps: it runs outside the state lock on a
/// shared reference, which keeps the socket and its netns alive.
pub(crate) fn bind(file: &LocalFile, id: u64, port: u16) -> Result {
    let sock = state::with(|s| s.share(id))??;
    require_admin(
        file,
        sock.net(),
        "bind refused: no CAP_NET_ADMIN over the socket's netns",
    )?;
    sock.bind_any(port)
}

/// Runs `listen(backlog)` on socket `id` under the same rule as [`bind`].
pub(crate) fn listen(file: &LocalFile, id: u64, backlog: i32) -> Result {
    let sock = state::with(|s| s.share(id))??;
    require_admin(
        file,
        sock.net(),
        "listen refused: no CAP_NET_ADMIN over the socket's netns",
    )?;
    sock.listen(backlog)
}

/// Releases every socket whose netns the opener of `file` has CAP_NET_ADMIN over, one at a
/// time and each outside the lock, and leaves the others; returns how many it released.
pub(crate) fn release_all(file: &LocalFile) -> Result<u64> {
    // The verdict per netns, reached outside the lock on the first socket of each; with it a
    // lock round trip takes the next socket of a judged netns at once. (If a verdict cannot be
    // kept, that netns is judged again at its next socket.)
    let _busy = crate::census::Busy::new();
    let mut judged: RBTree<NetId, bool> = RBTree::new();
    let mut from = 0;
    let mut released = 0;
    let mut left = 0;
    let mut rounds = 0u64;
    loop {
        match state::with(|s| s.take_next_judged(from, &judged, ReleaseCause::User))? {
            state::Next::Done => break,
            state::Next::Taken(next, taken) => {
                drop(taken);
                released += 1;
                from = next;
            }
            state::Next::Skipped(next, n) => {
                left += n;
                from = next;
            }
            state::Next::Unjudged(id, net_id, net) => {
                let allowed = net.file_capable(file, CAP_NET_ADMIN);
                drop(net);
                let _ = judged.try_create_and_insert(net_id, allowed, GFP_KERNEL);
                if allowed {
                    if let Some(taken) = state::with(|s| s.take(id, ReleaseCause::User))?
                        .ok()
                        .flatten()
                    {
                        drop(taken);
                        released += 1;
                    }
                } else {
                    left += 1;
                }
                from = id + 1;
            }
        }
        rounds += 1;
        if rounds % 256 == 0 {
            let _ = shim::resched_and_signal_pending();
        }
    }
    if left > 0 {
        shim::pr_info_ratelimited(
            "release all: sockets in namespaces without the opener's CAP_NET_ADMIN were left",
        );
    }
    Ok(released)
}

/// Turns the kernel socket census on or off if the opener of `file` has CAP_NET_ADMIN over
/// the initial user namespace: it registers probes that see every socket on the host, in
/// every netns. EPERM otherwise, nothing changed. Turning on a census already on, or off one
/// already off, changes nothing.
pub(crate) fn census(file: &LocalFile, on: bool) -> Result {
    if !shim::file_capable_host(file, CAP_NET_ADMIN) {
        shim::pr_info_ratelimited(
            "census refused: no CAP_NET_ADMIN over the initial user namespace",
        );
        return Err(rejected(EPERM));
    }
    if on {
        crate::census::start(crate::census::max())
    } else {
        crate::census::stop();
        Ok(())
    }
}

/// Zeroes the statistics (history only; live sockets stay) if the opener of `file` has
/// CAP_NET_ADMIN over the initial user namespace: they cover every netns on the host, so a
/// container's root may not erase the record of the others. EPERM otherwise.
pub(crate) fn reset_stats(file: &LocalFile) -> Result {
    if !shim::file_capable_host(file, CAP_NET_ADMIN) {
        shim::pr_info_ratelimited(
            "reset refused: no CAP_NET_ADMIN over the initial user namespace",
        );
        return Err(rejected(EPERM));
    }
    state::with(|s| s.reset_stats())
}
