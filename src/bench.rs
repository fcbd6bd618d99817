// SPDX-License-Identifier: GPL-2.0

//! `RSM_IOC_BENCH` (`src/uapi_bench.rs`, unstable): create+release pairs timed inside the
//! kernel, either bare (`sock_create_kern` + `sock_release`), through the module's full
//! bookkeeping path, or bare plus one step of that path (to attribute its cost).
//!
//! Every mode creates real sockets, so the bench applies the permission model of `create`
//! before the first pair: CAP_NET_ADMIN over the caller's netns, CAP_NET_RAW too for raw and
//! packet sockets, checked against the opener's credentials (`ops::check_permission`). A
//! refused bench counts in `rejected` like a refused create. The bench is not part of the
//! stable ABI (the comparison program and `make bench` use it, from the same release); it can
//! do nothing a create loop could not.

use crate::{
    ksocket::{FreshSocket, KernelSocket},
    netns::Net,
    ops::{self, CreateReq, NetnsSel, Stamps},
    shim::{self, COMM_LEN},
    state,
    uapi_bench::*,
};
use kernel::{
    fs::LocalFile,
    prelude::*,
    sync::UniqueArc,
    transmute::AsBytes,
    uaccess::{UserPtr, UserSlice},
};

/// A bench mode, decoded once from `RsmBench::mode` (the modes are described in
/// `src/uapi_bench.rs`).
#[derive(Clone, Copy)]
enum Mode {
    /// `RSM_BENCH_RAW`: a bare pair.
    Raw,
    /// `RSM_BENCH_BOOKKEEPING`: the module's whole create and release path.
    Bookkeeping,
    /// `RSM_BENCH_STEP_TABLE`: a pair whose socket is kept in and released from the table.
    Table,
    /// Another `RSM_BENCH_STEP_*`: a bare pair plus one step of the bookkeeping.
    Step(Step),
}

/// A step of the bookkeeping that a mode adds to a bare pair.
#[derive(Clone, Copy)]
enum Step {
    /// `RSM_BENCH_STEP_NETNS`.
    Netns,
    /// `RSM_BENCH_STEP_PERMISSION`.
    Permission,
    /// `RSM_BENCH_STEP_CLOCK`.
    Clock,
    /// `RSM_BENCH_STEP_TABLE_NODE`.
    TableNode,
    /// `RSM_BENCH_STEP_TABLE_LOCK`.
    TableLock,
}

impl Mode {
    /// Decodes `RsmBench::mode`; EINVAL for an unknown one.
    fn from_uapi(mode: u32) -> Result<Self> {
        Ok(match mode {
            RSM_BENCH_RAW => Self::Raw,
            RSM_BENCH_BOOKKEEPING => Self::Bookkeeping,
            RSM_BENCH_STEP_NETNS => Self::Step(Step::Netns),
            RSM_BENCH_STEP_PERMISSION => Self::Step(Step::Permission),
            RSM_BENCH_STEP_CLOCK => Self::Step(Step::Clock),
            RSM_BENCH_STEP_TABLE => Self::Table,
            RSM_BENCH_STEP_TABLE_NODE => Self::Step(Step::TableNode),
            RSM_BENCH_STEP_TABLE_LOCK => Self::Step(Step::TableLock),
            _ => return Err(EINVAL),
        })
    }
}

/// The TABLE step's stamps: none (zeros), so that it times the table alone.
const UNSTAMPED: Stamps = Stamps {
    created_ns: 0,
    latency_ns: 0,
    pid: 0,
    comm: [0; COMM_LEN],
};

/// Runs the step `step` adds to a raw pair of `req` (the caller's netns, `net`).
fn step(file: &LocalFile, net: &Net, req: &CreateReq, step: Step) -> Result {
    match step {
        Step::Netns => drop(ops::resolve(&req.netns)?),
        Step::Permission => ops::check_permission(file, net, req)?,
        // What `ops::create` does around `sock_create_kern()`: two clock reads, pid and comm.
        Step::Clock => drop(core::hint::black_box(Stamps::since(shim::now_ns()))),
        // The three allocations of `state::CreateNodes::new` when no spare pair is kept.
        Step::TableNode => drop((
            state::fresh_nodes()?,
            UniqueArc::<KernelSocket>::new_uninit(GFP_KERNEL)?,
        )),
        Step::TableLock => {
            state::with(|_| ())?;
            state::with(|_| ())?;
            state::with(|_| ())?;
        }
    }
    Ok(())
}

/// Creates and releases one socket of `req` in `net`, bare (`sock_create_kern()` +
/// `sock_release()`).
fn raw(net: &Net, req: &CreateReq) -> Result {
    drop(FreshSocket::create(
        net,
        req.family,
        req.sock_type,
        req.protocol,
        false,
    )?);
    Ok(())
}

/// Times one pair of `req` (the caller's netns, `net`) in `mode`; returns its ns.
fn pair(file: &LocalFile, net: &Net, req: &CreateReq, mode: Mode) -> Result<u64> {
    let t0 = shim::now_ns();
    match mode {
        Mode::Bookkeeping => {
            ops::release(file, ops::create(file, req, |_| Ok(()))?.id)?;
        }
        Mode::Table => {
            // `ops::create` without the netns, permission and clock steps.
            let attempt = ops::reserve()?.create(net, req);
            ops::release(file, ops::keep(attempt, UNSTAMPED, |_| Ok(()))?.id)?;
        }
        Mode::Raw => raw(net, req)?,
        Mode::Step(s) => {
            step(file, net, req, s)?;
            raw(net, req)?;
        }
    }
    Ok(shim::now_ns().saturating_sub(t0))
}

/// Runs `RSM_IOC_BENCH`: checks the request and the caller's permission, times the pairs,
/// and fills in the results (and the samples buffer, if any).
pub(crate) fn run(file: &LocalFile, b: &mut RsmBench) -> Result {
    if b.reserved != 0 || b.iterations == 0 || b.iterations > RSM_BENCH_MAX_ITERATIONS {
        return Err(EINVAL);
    }
    let mode = Mode::from_uapi(b.mode)?;
    let _busy = crate::census::Busy::new();
    let n = b.iterations as usize;
    let net = Net::current()?;
    let req = CreateReq {
        family: b.family,
        sock_type: b.sock_type,
        protocol: b.protocol,
        netns: NetnsSel::Caller,
        hold: false,
    };
    ops::check_permission(file, &net, &req).map_err(ops::rejected)?;
    // With a samples buffer: the per-pair times, written in one copy at the end. The buffer
    // must take them before any socket is made (the BOOKKEEPING and TABLE modes change the
    // statistics): zeros are written first, EFAULT if they cannot be.
    let mut samples = KVVec::new();
    if b.samples != 0 {
        samples.resize(n, 0u64, GFP_KERNEL)?;
        UserSlice::new(UserPtr::from_addr(b.samples as usize), n * 8)
            .writer()
            .write_slice(AsBytes::as_bytes(&samples[..]))?;
    }
    let (mut total, mut min, mut max) = (0u64, u64::MAX, 0u64);
    for i in 0..n {
        if i % 256 == 255 && shim::resched_and_signal_pending() {
            return Err(EINTR);
        }
        let ns = pair(file, &net, &req, mode)?;
        total = total.saturating_add(ns);
        min = min.min(ns);
        max = max.max(ns);
        if let Some(slot) = samples.get_mut(i) {
            *slot = ns;
        }
    }
    if b.samples != 0 {
        UserSlice::new(UserPtr::from_addr(b.samples as usize), n * 8)
            .writer()
            .write_slice(AsBytes::as_bytes(&samples[..]))?;
    }
    b.total_ns = total;
    b.min_ns = min;
    b.max_ns = max;
    Ok(())
}
