// SPDX-License-Identifier: GPL-2.0

//! `RSM_IOC_BENCH`: create+release pairs timed inside the kernel, either bare
//! (`sock_create_kern` + `sock_release`) or through the module's full bookkeeping path.

use crate::{
    ffi,
    ksocket::KernelSocket,
    netns::NetRef,
    ops::{self, CreateReq, NetnsSel},
    uapi::*,
};
use kernel::{
    fs::LocalFile,
    prelude::*,
    uaccess::{UserPtr, UserSlice},
};

/// One timed pair; returns its ns.
fn pair(file: &LocalFile, net: &NetRef, b: &RsmBench) -> Result<u64> {
    let t0 = ffi::now_ns();
    if b.mode == RSM_BENCH_RAW {
        drop(KernelSocket::create(net, b.family, b.sock_type, b.protocol)?);
    } else {
        let req = CreateReq {
            family: b.family,
            sock_type: b.sock_type,
            protocol: b.protocol,
            netns: NetnsSel::Caller,
            hold: false,
        };
        let created = ops::create(file, &req)?;
        ops::release(created.id)?;
    }
    Ok(ffi::now_ns().saturating_sub(t0))
}

pub(crate) fn run(file: &LocalFile, b: &mut RsmBench) -> Result {
    if b.reserved != 0
        || b.mode > RSM_BENCH_BOOKKEEPING
        || b.iterations == 0
        || b.iterations > RSM_BENCH_MAX_ITERATIONS
    {
        return Err(EINVAL);
    }
    let n = b.iterations as usize;
    let mut samples = KVVec::with_capacity(if b.samples != 0 { n } else { 0 }, GFP_KERNEL)?;
    let net = NetRef::current();
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
