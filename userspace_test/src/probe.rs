//! `probe`: the reproductions of issue 9 that need more than a shell, each a single observation
//! printed as one line (the guest tests assert on it):
//!
//! * `probe readonly`: ioctls whose argument lies in a read-only page (the reply cannot be
//!   copied back). Each must fail with EFAULT and change nothing: CREATE keeps no socket,
//!   RELEASE releases none, BENCH creates none (struct or samples buffer read-only).
//! * `probe bench MODE FAMILY TYPE PROTOCOL`: one RSM_IOC_BENCH of 3 pairs; the module's errno
//!   (exit 5) or the figures, with the counters' change.

use crate::device::{Device, Netns};
use crate::shared::uapi::*;
use crate::shared::uapi_bench::*;
use nix::errno::Errno;

/// One page, mapped read-write, filled, then made read-only; unmapped on drop.
struct RoPage {
    addr: *mut libc::c_void,
    len: usize,
}

impl RoPage {
    fn with<T: Copy>(v: &T) -> Result<Self, String> {
        let len = 4096;
        // SAFETY: an anonymous private mapping; the result is checked.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(format!("mmap: {}", Errno::last()));
        }
        let page = Self { addr, len };
        // SAFETY: the mapping is writable and larger than T; T is plain data.
        unsafe { std::ptr::write_unaligned(addr.cast::<T>(), *v) };
        // SAFETY: `addr`/`len` is our mapping.
        if unsafe { libc::mprotect(addr, len, libc::PROT_READ) } != 0 {
            return Err(format!("mprotect: {}", Errno::last()));
        }
        Ok(page)
    }
}

impl Drop for RoPage {
    fn drop(&mut self) {
        // SAFETY: our mapping, unmapped once.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

fn errno_name<T>(r: &Result<T, Errno>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

/// `probe readonly`: Ok(lines) if every call gave EFAULT and changed nothing.
pub fn readonly(dev: &Device) -> Result<Vec<String>, Vec<String>> {
    let mut lines = Vec::new();
    let mut bad = false;
    let totals = || {
        dev.totals()
            .map_err(|e| vec![format!("RSM_IOC_TOTALS: {e}")])
    };
    let mut step =
        |what: &str, r: Result<i32, Errno>, before: RsmTotals, after: RsmTotals, extra: bool| {
            let good = r == Err(Errno::EFAULT)
                && after.live == before.live
                && after.ok == before.ok
                && after.attempts == before.attempts
                && extra;
            bad |= !good;
            lines.push(format!(
                "{what}: {} live={}->{} ok={}->{} attempts={}->{} released_user={}->{} {}",
                errno_name(&r),
                before.live,
                after.live,
                before.ok,
                after.ok,
                before.attempts,
                after.attempts,
                before.released_user,
                after.released_user,
                if good { "ok" } else { "WRONG" }
            ));
        };

    // CREATE with its struct read-only.
    let c = RsmCreate {
        family: libc::AF_INET,
        sock_type: libc::SOCK_DGRAM,
        netns_mode: RSM_NETNS_CALLER,
        ..Default::default()
    };
    let page = RoPage::with(&c).map_err(|e| vec![e])?;
    let b = totals()?;
    let r = dev.ioctl_raw(RSM_IOC_CREATE, page.addr);
    let a = totals()?;
    step("create, struct read-only", r, b, a, true);

    // RELEASE of a live socket with its struct read-only: the socket stays.
    let live = dev
        .create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false)
        .map_err(|e| vec![format!("create: {e}")])?;
    let rel = RsmRelease {
        id: live.id,
        ..Default::default()
    };
    let page = RoPage::with(&rel).map_err(|e| vec![e])?;
    let b = totals()?;
    let r = dev.ioctl_raw(RSM_IOC_RELEASE, page.addr);
    let a = totals()?;
    let still = dev.info(live.id).is_ok();
    step(
        &format!(
            "release {} , struct read-only (socket still there: {still})",
            live.id
        ),
        r,
        b,
        a,
        still && a.released_user == b.released_user,
    );
    let _ = dev.release(live.id);

    // BENCH (bookkeeping mode: it counts like creates) with its struct read-only.
    let bench = RsmBench {
        family: libc::AF_INET,
        sock_type: libc::SOCK_DGRAM,
        mode: RSM_BENCH_BOOKKEEPING,
        iterations: 3,
        ..Default::default()
    };
    let page = RoPage::with(&bench).map_err(|e| vec![e])?;
    let b = totals()?;
    let r = dev.ioctl_raw(RSM_IOC_BENCH, page.addr);
    let a = totals()?;
    step("bench, struct read-only", r, b, a, true);

    // BENCH with a read-only samples buffer.
    let ro = RoPage::with(&0u64).map_err(|e| vec![e])?;
    let mut bench = RsmBench {
        samples: ro.addr as u64,
        ..bench
    };
    let b = totals()?;
    let r = dev.ioctl_raw(RSM_IOC_BENCH, (&mut bench as *mut RsmBench).cast());
    let a = totals()?;
    step("bench, samples buffer read-only", r, b, a, true);

    if bad {
        Err(lines)
    } else {
        Ok(lines)
    }
}

/// `probe bench`: one 3-pair RSM_IOC_BENCH; the line to print, or the errno.
pub fn bench(
    dev: &Device,
    mode: u32,
    family: i32,
    sock_type: i32,
    protocol: i32,
) -> Result<String, Errno> {
    let mut b = RsmBench {
        family,
        sock_type,
        protocol,
        mode,
        iterations: 3,
        ..Default::default()
    };
    dev.ioctl_raw(RSM_IOC_BENCH, (&mut b as *mut RsmBench).cast())?;
    Ok(format!(
        "bench mode {mode}: 3 pairs, min {} ns, max {} ns",
        b.min_ns, b.max_ns
    ))
}
