//! `devtest`: checks of the module's ioctl interface through the real device, printed as TAP.
//! Every check asserts an observed value (an id, an errno, a counter), never only prints it.

use crate::device::{Device, Netns};
use crate::shared::uapi::*;
use crate::shared::uapi_bench::*;
use crate::tap::Tap;
use nix::errno::Errno;
use std::os::fd::AsRawFd;

const AF_INET: i32 = libc::AF_INET;
const SOCK_STREAM: i32 = libc::SOCK_STREAM;

/// The inode number of a namespace file (what `readlink` shows between the brackets).
pub fn ns_inode(path: &str) -> Result<u64, String> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| format!("{path}: {e}"))
}

fn expect_errno<T: std::fmt::Debug>(t: &mut Tap, what: &str, r: Result<T, Errno>, want: Errno) {
    match r {
        Err(e) if e == want => t.ok(&format!("{what} -> {want}")),
        other => t.fail(&format!("{what} -> {want}"), &format!("got {other:?}")),
    }
}

/// RSM_IOC_BENCH: argument checks, and every mode times its pairs (run before the counter
/// baseline: the BOOKKEEPING and TABLE modes count their sockets like any creation).
fn bench_checks(dev: &Device, t: &mut Tap) {
    let bench = |f: &dyn Fn(&mut RsmBench)| {
        let mut b = RsmBench {
            family: AF_INET,
            sock_type: libc::SOCK_DGRAM,
            iterations: 3,
            ..Default::default()
        };
        f(&mut b);
        dev.ioctl_raw(RSM_IOC_BENCH, (&mut b as *mut RsmBench).cast())
            .map(|_| b)
    };
    expect_errno(
        t,
        "bench mode beyond the last step",
        bench(&|b| b.mode = RSM_BENCH_MODE_MAX + 1),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "bench with 0 iterations",
        bench(&|b| b.iterations = 0),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "bench with too many iterations",
        bench(&|b| b.iterations = RSM_BENCH_MAX_ITERATIONS + 1),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "bench with reserved set",
        bench(&|b| b.reserved = 1),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "bench of an invalid family",
        bench(&|b| b.family = 4242),
        Errno::EAFNOSUPPORT,
    );
    for mode in 0..=RSM_BENCH_MODE_MAX {
        let r = bench(&|b| b.mode = mode);
        let good = matches!(r, Ok(b) if b.min_ns > 0 && b.min_ns <= b.max_ns && b.total_ns >= 3 * b.min_ns);
        t.check(
            &format!("bench mode {mode}: 3 pairs timed (0 < min <= max, total >= 3 min)"),
            good,
            &format!("{r:?}"),
        );
    }
}

/// `shared`: other openers work at the same time, so global counters are not asserted.
pub fn run(dev: &Device, t: &mut Tap, shared: bool) -> Result<(), String> {
    let my_ns = ns_inode("/proc/self/ns/net")?;
    bench_checks(dev, t);
    let base = dev.totals().map_err(|e| format!("RSM_IOC_TOTALS: {e}"))?;

    // --- create in the caller's netns and look at the socket ------------------------------------
    let c = dev.create(
        AF_INET,
        SOCK_STREAM,
        libc::IPPROTO_TCP,
        Netns::Caller,
        false,
    );
    let Ok(c) = c else {
        return Err(format!("create inet stream tcp failed: {c:?}"));
    };
    t.check(
        "create inet/stream/tcp returns an id",
        c.id >= 1,
        &format!("id={}", c.id),
    );
    t.check(
        "created in the caller's netns",
        c.netns_inode == my_ns,
        &format!("{} vs {}", c.netns_inode, my_ns),
    );
    t.check(
        "creation latency is measured",
        c.latency_ns > 0,
        "latency_ns=0",
    );
    match dev.info(c.id) {
        Ok(i) => {
            t.check(
                "info: family/type/protocol as requested",
                (i.family, i.sock_type, i.protocol) == (AF_INET, SOCK_STREAM, libc::IPPROTO_TCP),
                &format!("{i:?}"),
            );
            t.check(
                "info: a fresh TCP socket is in state CLOSE(7)",
                i.state == 7,
                &format!("state={}", i.state),
            );
            t.check(
                "info: a socket cookie (ss's sk:), no local port before bind",
                i.cookie != 0 && i.local_port == 0 && i.local_addr == [0; 16] && i.reserved == 0,
                &format!("{i:?}"),
            );
            t.check(
                "info: default model does not pin the netns",
                i.holds_netns == 0,
                "holds_netns=1",
            );
            t.check(
                "info: creator is this process",
                i.creator_pid == std::process::id() as i32,
                &format!("pid={}", i.creator_pid),
            );
            t.check(
                "info: netns matches create's answer",
                i.netns_inode == c.netns_inode,
                "netns differs",
            );
        }
        Err(e) => t.fail("info on a live socket", &e.to_string()),
    }

    // --- hold model --------------------------------------------------------------------------------
    match dev
        .create(AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, true)
        .and_then(|h| dev.info(h.id).map(|i| (h, i)))
    {
        Ok((h, i)) => {
            t.check(
                "hold model: the socket holds a netns reference",
                i.holds_netns == 1,
                "holds_netns=0",
            );
            t.check(
                "inet/dgram/0 resolves to UDP",
                i.protocol == libc::IPPROTO_UDP,
                &format!("protocol={}", i.protocol),
            );
            t.check(
                "release by id",
                dev.release(h.id) == Ok(1),
                "release failed",
            );
        }
        Err(e) => t.fail("hold model create+info", &e.to_string()),
    }

    // --- ids are never reused ------------------------------------------------------------------------
    let r = dev.release(c.id);
    t.check("release the first socket", r == Ok(1), &format!("{r:?}"));
    expect_errno(t, "info on a released id", dev.info(c.id), Errno::ENOENT);
    expect_errno(
        t,
        "release of a released id",
        dev.release(c.id),
        Errno::ENOENT,
    );
    match dev.create(AF_INET, SOCK_STREAM, 0, Netns::Caller, false) {
        Ok(n) => {
            t.check(
                "ids are not reused",
                n.id > c.id,
                &format!("{} after {}", n.id, c.id),
            );
            let _ = dev.release(n.id);
        }
        Err(e) => t.fail("ids are not reused", &e.to_string()),
    }

    // --- the kernel's own errnos come back unchanged ------------------------------------------------
    expect_errno(
        t,
        "family 4242 (>= NPROTO)",
        dev.create(4242, SOCK_STREAM, 0, Netns::Caller, false),
        Errno::EAFNOSUPPORT,
    );
    expect_errno(
        t,
        "family AF_APPLETALK (not built)",
        dev.create(
            libc::AF_APPLETALK,
            libc::SOCK_DGRAM,
            0,
            Netns::Caller,
            false,
        ),
        Errno::EAFNOSUPPORT,
    );
    expect_errno(
        t,
        "type 42 (>= SOCK_MAX)",
        dev.create(AF_INET, 42, 0, Netns::Caller, false),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "inet stream with udp",
        dev.create(
            AF_INET,
            SOCK_STREAM,
            libc::IPPROTO_UDP,
            Netns::Caller,
            false,
        ),
        Errno::EPROTONOSUPPORT,
    );
    expect_errno(
        t,
        "inet rdm (no inet protocol provides it, module or not)",
        dev.create(AF_INET, libc::SOCK_RDM, 0, Netns::Caller, false),
        Errno::ESOCKTNOSUPPORT,
    );

    // --- bad arguments ------------------------------------------------------------------------------
    let bad = |f: &dyn Fn(&mut RsmCreate)| {
        let mut c = RsmCreate {
            family: AF_INET,
            sock_type: SOCK_STREAM,
            ..Default::default()
        };
        f(&mut c);
        dev.ioctl_raw(RSM_IOC_CREATE, (&mut c as *mut RsmCreate).cast())
    };
    expect_errno(
        t,
        "reserved field set",
        bad(&|c| c.reserved = 1),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "unknown create flag",
        bad(&|c| c.flags = 0x80),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "unknown netns mode",
        bad(&|c| c.netns_mode = 9),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "caller mode with a pid set",
        bad(&|c| c.pid = 1),
        Errno::EINVAL,
    );
    let devnull = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
    expect_errno(
        t,
        "netns fd that is not a netns",
        dev.create(
            AF_INET,
            SOCK_STREAM,
            0,
            Netns::Fd(devnull.as_raw_fd()),
            false,
        ),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "closed netns fd",
        dev.create(AF_INET, SOCK_STREAM, 0, Netns::Fd(1_000_000), false),
        Errno::EBADF,
    );
    expect_errno(
        t,
        "unknown pid",
        dev.create(AF_INET, SOCK_STREAM, 0, Netns::Pid(i32::MAX), false),
        Errno::ESRCH,
    );
    expect_errno(
        t,
        "pid 0",
        dev.create(AF_INET, SOCK_STREAM, 0, Netns::Pid(0), false),
        Errno::EINVAL,
    );
    let selfns = std::fs::File::open("/proc/self/ns/net").map_err(|e| e.to_string())?;
    match dev.create(
        AF_INET,
        SOCK_STREAM,
        0,
        Netns::Fd(selfns.as_raw_fd()),
        false,
    ) {
        Ok(c) => {
            t.check(
                "netns by fd (/proc/self/ns/net)",
                c.netns_inode == my_ns,
                "wrong netns",
            );
            let _ = dev.release(c.id);
        }
        Err(e) => t.fail("netns by fd (/proc/self/ns/net)", &e.to_string()),
    }
    match dev.create(
        AF_INET,
        SOCK_STREAM,
        0,
        Netns::Pid(std::process::id() as i32),
        false,
    ) {
        Ok(c) => {
            t.check("netns by pid (self)", c.netns_inode == my_ns, "wrong netns");
            let _ = dev.release(c.id);
        }
        Err(e) => t.fail("netns by pid (self)", &e.to_string()),
    }
    let mut r = RsmRelease::default();
    expect_errno(
        t,
        "release id 0 without RELEASE_ALL",
        dev.ioctl_raw(RSM_IOC_RELEASE, (&mut r as *mut RsmRelease).cast()),
        Errno::EINVAL,
    );
    let mut r = RsmRelease {
        id: 3,
        flags: RSM_RELEASE_ALL,
        ..Default::default()
    };
    expect_errno(
        t,
        "RELEASE_ALL with an id",
        dev.ioctl_raw(RSM_IOC_RELEASE, (&mut r as *mut RsmRelease).cast()),
        Errno::EINVAL,
    );

    // --- ioctl numbers, sizes and pointers -------------------------------------------------------------
    use crate::ioc::{_IOC, READ, WRITE};
    let mut big = [0u8; 256];
    expect_errno(
        t,
        "unknown ioctl number",
        dev.ioctl_raw(
            _IOC(READ | WRITE, RSM_IOC_MAGIC, 99, 8),
            big.as_mut_ptr().cast(),
        ),
        Errno::ENOTTY,
    );
    expect_errno(
        t,
        "foreign ioctl type",
        dev.ioctl_raw(_IOC(READ, b'T' as u32, 1, 8), big.as_mut_ptr().cast()),
        Errno::ENOTTY,
    );
    let bench_sz = std::mem::size_of::<RsmBench>();
    expect_errno(
        t,
        "the bench's old number under the stable magic (0xB5, 6)",
        dev.ioctl_raw(
            _IOC(READ | WRITE, RSM_IOC_MAGIC, 6, bench_sz),
            big.as_mut_ptr().cast(),
        ),
        Errno::ENOTTY,
    );
    expect_errno(
        t,
        "unknown ioctl number under the bench's magic",
        dev.ioctl_raw(
            _IOC(READ | WRITE, RSM_BENCH_IOC_MAGIC, 99, bench_sz),
            big.as_mut_ptr().cast(),
        ),
        Errno::ENOTTY,
    );
    let sz = std::mem::size_of::<RsmCreate>();
    expect_errno(
        t,
        "short create struct",
        dev.ioctl_raw(
            _IOC(READ | WRITE, RSM_IOC_MAGIC, 1, sz - 8),
            big.as_mut_ptr().cast(),
        ),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "oversized create struct",
        dev.ioctl_raw(
            _IOC(READ | WRITE, RSM_IOC_MAGIC, 1, sz + 8),
            big.as_mut_ptr().cast(),
        ),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "create with the wrong direction",
        dev.ioctl_raw(_IOC(WRITE, RSM_IOC_MAGIC, 1, sz), big.as_mut_ptr().cast()),
        Errno::EINVAL,
    );
    expect_errno(
        t,
        "create with a NULL pointer",
        dev.ioctl_raw(RSM_IOC_CREATE, std::ptr::null_mut()),
        Errno::EFAULT,
    );
    expect_errno(
        t,
        "create with a kernel-space pointer",
        dev.ioctl_raw(RSM_IOC_CREATE, 0xffff_8000_0000_0000usize as *mut _),
        Errno::EFAULT,
    );
    expect_errno(
        t,
        "totals with an unmapped pointer",
        dev.ioctl_raw(RSM_IOC_TOTALS, 8usize as *mut _),
        Errno::EFAULT,
    );

    // --- counters are consistent -----------------------------------------------------------------------
    if shared {
        return Ok(());
    }
    let now = dev.totals().map_err(|e| e.to_string())?;
    t.check(
        "live is back to the baseline",
        now.live == base.live,
        &format!("{} vs {}", now.live, base.live),
    );
    t.check(
        "attempts = ok + failed",
        now.attempts == now.ok + now.failed,
        &format!("{now:?}"),
    );
    t.check(
        "5 failed creations counted",
        now.failed - base.failed == 5,
        &format!("{}", now.failed - base.failed),
    );
    t.check(
        "rejected requests counted",
        now.rejected - base.rejected == 4,
        &format!("{}", now.rejected - base.rejected),
    );
    t.check(
        "user releases counted",
        now.released_user - base.released_user == 5,
        &format!("{}", now.released_user - base.released_user),
    );
    match dev.reset_stats().and_then(|_| dev.totals()) {
        Ok(z) => t.check(
            "reset stats zeroes the history, keeps live",
            z.attempts == 0 && z.failed == 0 && z.live == now.live,
            &format!("{z:?}"),
        ),
        Err(e) => t.fail("reset stats", &e.to_string()),
    }
    Ok(())
}
