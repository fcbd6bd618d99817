// SPDX-License-Identifier: GPL-2.0

//! `RSM_IOC_BENCH`: create+release pairs timed inside the kernel, either bare
//! (`sock_create_kern` + `sock_release`), through the module's full bookkeeping path, or bare
//! plus one step of that path (to attribute its cost).
//!
//! Every mode creates real sockets, so the bench applies the permission model of `create`
//! before the first pair: CAP_NET_ADMIN over the caller's netns, CAP_NET_RAW too for raw and
//! packet sockets, checked against the opener's credentials (`ops::check_permission`). A
//! refused bench counts in `rejected` like a refused create. The bench stays in the ABI (the
//! comparison program and `make bench` use it); it can do nothing a create loop could not.

use crate::{
    ffi,
    ksocket::KernelSocket,
    netns::NetRef,
    ops::{self, CreateReq, NetnsSel},
    state::{self, CreateNodes},
    uapi::*,
};
use kernel::{
    fs::LocalFile,
    prelude::*,
    uaccess::{UserPtr, UserSlice},
};

/// The step a `RSM_BENCH_STEP_*` mode adds to a raw pair (see `uapi.rs`).
fn step(file: &LocalFile, net: &NetRef, req: &CreateReq, mode: u32) -> Result {
    match mode {
        RSM_BENCH_STEP_NETNS => drop(ops::resolve(&req.netns)?),
        RSM_BENCH_STEP_PERMISSION => ops::check_permission(file, net, req)?,
        RSM_BENCH_STEP_CLOCK => {
            let t0 = ffi::now_ns();
            let t1 = ffi::now_ns();
            core::hint::black_box((t1.saturating_sub(t0), ffi::current_tgid_comm()));
        }
        RSM_BENCH_STEP_TABLE_NODE => drop(CreateNodes::new()?),
        RSM_BENCH_STEP_TABLE_LOCK => {
            state::with(|_| ())?;
            state::with(|_| ())?;
        }
        _ => {}
    }
    Ok(())
}

/// One timed pair; returns its ns.
fn pair(file: &LocalFile, net: &NetRef, b: &RsmBench) -> Result<u64> {
    let req = CreateReq {
        family: b.family,
        sock_type: b.sock_type,
        protocol: b.protocol,
        netns: NetnsSel::Caller,
        hold: false,
    };
    let t0 = ffi::now_ns();
    match b.mode {
        RSM_BENCH_BOOKKEEPING => ops::release(ops::create(file, &req, |_| Ok(()))?.id)?,
        RSM_BENCH_STEP_TABLE => {
            ops::release(ops::keep(net, &req, ops::Clock::Skipped, |_| Ok(()))?.id)?
        }
        mode => {
            step(file, net, &req, mode)?;
            drop(KernelSocket::create(net, b.family, b.sock_type, b.protocol, false)?);
        }
    }
    Ok(ffi::now_ns().saturating_sub(t0))
}

pub(crate) fn run(file: &LocalFile, b: &mut RsmBench) -> Result {
    if b.reserved != 0
        || b.mode > RSM_BENCH_MODE_MAX
        || b.iterations == 0
        || b.iterations > RSM_BENCH_MAX_ITERATIONS
    {
        return Err(EINVAL);
    }
    let n = b.iterations as usize;
    let net = NetRef::current();
    let req = CreateReq {
        family: b.family,
        sock_type: b.sock_type,
        protocol: b.protocol,
        netns: NetnsSel::Caller,
        hold: false,
    };
    ops::check_permission(file, &net, &req).map_err(ops::rejected)?;
    let mut samples = KVVec::with_capacity(if b.samples != 0 { n } else { 0 }, GFP_KERNEL)?;
    if b.samples != 0 {
        // The samples buffer must take the results before any socket is made (the BOOKKEEPING
        // and TABLE modes change the statistics): zeros written now, EFAULT if they cannot be.
        let mut w = UserSlice::new(UserPtr::from_addr(b.samples as usize), n * 8).writer();
        for _ in 0..n {
            w.write(&0u64)?;
        }
    }
    let (mut total, mut min, mut max) = (0u64, u64::MAX, 0u64);
    for i in 0..n {
        if i % 256 == 255 && ffi::resched_and_signal_pending() {
            return Err(EINTR);
        }
        let ns = pair(file, &net, b)?;
        total = total.saturating_add(ns);
        min = min.min(ns);
        max = max.max(ns);
        if b.samples != 0 {
            samples.push(ns, GFP_KERNEL)?;
        }
    }
    if b.samples != 0 {
        let bytes = samples.len() * core::mem::size_of::<u64>();
        let mut w = UserSlice::new(UserPtr::from_addr(b.samples as usize), bytes).writer();
        for s in samples.iter() {
            w.write(s)?;
        }
    }
    b.total_ns = total;
    b.min_ns = min;
    b.max_ns = max;
    Ok(())
}
