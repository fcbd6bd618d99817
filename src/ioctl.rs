// SPDX-License-Identifier: GPL-2.0

//! The binary ioctl interface (definitions in `src/uapi.rs`, and the benchmark's unstable one
//! in `src/uapi_bench.rs`, both shared with userspace_test).

use crate::{bench, ops, shim, state, uapi::*, uapi_bench::*};
use kernel::{
    fs::File,
    ioctl::{_IOC_NR, _IOC_SIZE, _IOC_TYPE},
    prelude::*,
    transmute::{AsBytes, FromBytes},
    uaccess::{UserPtr, UserSlice},
};

/// Implements `FromBytes` and `AsBytes` for ABI structs of `src/uapi.rs` and
/// `src/uapi_bench.rs`.
macro_rules! abi_bytes {
    ($($t:ty),+ $(,)?) => {$(
        // SAFETY: `$t` is `#[repr(C)]` and made of integers and integer arrays only, and the
        // file defining it (`src/uapi.rs` or `src/uapi_bench.rs`) asserts at compile time
        // (`abi_layout!`) that its fields fill it without padding: every byte pattern is a
        // valid value.
        unsafe impl FromBytes for $t {}
        // SAFETY: `$t` is `#[repr(C)]`, made of integers and integer arrays only, without
        // padding (`abi_layout!` in the file defining it): every byte of a value is
        // initialised.
        unsafe impl AsBytes for $t {}
    )+};
}
abi_bytes!(RsmCreate, RsmRelease, RsmInfo, RsmTotals);
// The benchmark's (unstable) struct, `abi_layout!`-checked in `src/uapi_bench.rs`.
abi_bytes!(RsmBench);

/// Reads a `T` from userspace, lets `f` fill the outputs, writes it back. For commands that
/// change state, the struct is first written back unchanged: a reply that cannot be copied
/// (read-only or unmapped memory) is refused with EFAULT before anything changes.
fn in_out<T: FromBytes + AsBytes>(arg: usize, f: impl FnOnce(&mut T) -> Result) -> Result<isize> {
    let (mut reader, mut writer) =
        UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>()).reader_writer();
    let mut v: T = reader.read()?;
    reply(arg, &v)?;
    f(&mut v)?;
    writer.write(&v)?;
    Ok(0)
}

/// Copies `v` to the user struct at `arg`.
fn reply<T: AsBytes>(arg: usize, v: &T) -> Result {
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .writer()
        .write(v)
}

/// `RSM_IOC_CREATE`: the socket is kept only once the reply (with its id) is in userspace.
fn create(file: &File, arg: usize) -> Result<isize> {
    let mut c: RsmCreate =
        UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<RsmCreate>())
            .reader()
            .read()?;
    if c.reserved != 0 || c.flags & !RSM_CREATE_HOLD_NETNS != 0 {
        return Err(EINVAL);
    }
    let netns = match (c.netns_mode, c.netns_fd, c.pid) {
        (RSM_NETNS_CALLER, 0, 0) => ops::NetnsSel::Caller,
        (RSM_NETNS_FD, fd, 0) => ops::NetnsSel::Fd(fd),
        (RSM_NETNS_PID, 0, pid) => ops::NetnsSel::Pid(pid),
        _ => return Err(EINVAL),
    };
    let req = ops::CreateReq {
        family: c.family,
        sock_type: c.sock_type,
        protocol: c.protocol,
        netns,
        hold: c.flags & RSM_CREATE_HOLD_NETNS != 0,
    };
    ops::create(file, &req, |created| {
        c.id = created.id;
        c.netns_inode = created.netns_inum.into();
        c.latency_ns = created.latency_ns;
        reply(arg, &c)
    })?;
    Ok(0)
}

fn release(file: &File, r: &mut RsmRelease) -> Result {
    r.released = match (r.flags, r.id, r.reserved) {
        (0, id, 0) if id != 0 => ops::release(file, id)?,
        (RSM_RELEASE_ALL, 0, 0) => ops::release_all(file)?,
        _ => return Err(EINVAL),
    };
    Ok(())
}

fn info(i: &mut RsmInfo) -> Result {
    state::with(|s| {
        let e = s.sockets().get(&i.id).ok_or(ENOENT)?;
        let si = e.info().ok_or(ENOENT)?;
        *i = RsmInfo {
            id: i.id,
            netns_inode: si.netns_inum.into(),
            sock_inode: si.ino as u64,
            latency_ns: e.meta.latency_ns,
            family: si.family,
            sock_type: si.sock_type,
            protocol: si.protocol,
            state: si.state,
            holds_netns: si.net_refcnt.into(),
            creator_pid: e.meta.pid,
            cookie: si.cookie,
            local_addr: si.local_addr,
            local_port: si.local_port.into(),
            reserved: 0,
        };
        Ok(())
    })?
}

fn totals() -> Result<RsmTotals> {
    state::with(|s| {
        let t = &s.totals;
        RsmTotals {
            attempts: t.attempts,
            ok: t.ok,
            failed: t.failed,
            rejected: t.rejected,
            live: t.live,
            released_user: t.released_user,
            released_netns_exit: t.released_netns_exit,
            released_unload: t.released_unload,
            max_sockets: s.max_sockets.into(),
        }
    })
}

/// Dispatches one ioctl, of the stable magic or the benchmark's. Unknown commands (number 6
/// of the stable magic among them, the benchmark's before it had its own): ENOTTY; a known
/// command whose encoded size or direction differs from this module's struct: EINVAL.
pub(crate) fn dispatch(file: &File, cmd: u32, arg: usize) -> Result<isize> {
    let (expected, size) = match (_IOC_TYPE(cmd), _IOC_NR(cmd)) {
        (RSM_IOC_MAGIC, 1) => (RSM_IOC_CREATE, core::mem::size_of::<RsmCreate>()),
        (RSM_IOC_MAGIC, 2) => (RSM_IOC_RELEASE, core::mem::size_of::<RsmRelease>()),
        (RSM_IOC_MAGIC, 3) => (RSM_IOC_INFO, core::mem::size_of::<RsmInfo>()),
        (RSM_IOC_MAGIC, 4) => (RSM_IOC_TOTALS, core::mem::size_of::<RsmTotals>()),
        (RSM_IOC_MAGIC, 5) => (RSM_IOC_RESET_STATS, 0),
        (RSM_IOC_MAGIC, 7) => (RSM_IOC_CENSUS, 0),
        (RSM_BENCH_IOC_MAGIC, 1) => (RSM_IOC_BENCH, core::mem::size_of::<RsmBench>()),
        _ => return Err(ENOTTY),
    };
    if cmd != expected || _IOC_SIZE(cmd) != size {
        shim::pr_info_ratelimited("ioctl refused: struct size or direction mismatch");
        return Err(EINVAL);
    }
    match cmd {
        RSM_IOC_CREATE => create(file, arg),
        RSM_IOC_RELEASE => in_out(arg, |r: &mut RsmRelease| release(file, r)),
        RSM_IOC_INFO => in_out(arg, info),
        RSM_IOC_TOTALS => {
            let t = totals()?;
            UserSlice::new(UserPtr::from_addr(arg), size)
                .writer()
                .write(&t)?;
            Ok(0)
        }
        RSM_IOC_RESET_STATS => ops::reset_stats(file).map(|()| 0),
        RSM_IOC_BENCH => in_out(arg, |b: &mut RsmBench| bench::run(file, b)),
        RSM_IOC_CENSUS => match arg {
            0 => ops::census(file, false).map(|()| 0),
            1 => ops::census(file, true).map(|()| 0),
            _ => Err(EINVAL),
        },
        _ => Err(ENOTTY),
    }
}
