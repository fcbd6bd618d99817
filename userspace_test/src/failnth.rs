//! `failnth`: systematic allocation-failure injection through `/proc/thread-self/fail-nth`.
//! For each operation on the device, the 1st, then the 2nd, ... fault-injection point the
//! operation reaches is made to fail, until the operation runs through without reaching the
//! Nth one. Every allocation on the path is failed once in turn: the kernel's (socket, inode,
//! protocol sock) and the module's own (table node, statistics node, report batch, open). Each
//! result must be success or a documented errno, the module's counters must add up and nothing
//! may stay behind. Needs CONFIG_FAULT_INJECTION_DEBUG_FS; failslab's `ignore-gfp-wait` and
//! `cache-filter` must be N for GFP_KERNEL slab allocations to count (the test script sets them).

use crate::device::{Device, Netns};
use crate::errnum::ErrnoJson;
use crate::fuzz::DOCUMENTED;
use crate::table;
use nix::errno::Errno;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

/// One operation's sweep.
#[derive(Debug, Default, Serialize)]
pub struct Sweep {
    pub op: String,
    /// Fault points the operation reached (the sweep injected a failure at each of them).
    pub points: u32,
    /// Outcomes of the injected runs with their counts, in the order of `OutcomeCount::text`.
    pub outcomes: Vec<OutcomeCount>,
    /// Runs whose result was neither success nor a documented errno, or left the module
    /// inconsistent: (point, what).
    pub problems: Vec<(u32, String)>,
}

#[derive(Debug, Serialize)]
pub struct OutcomeCount {
    /// `null`: the operation succeeded.
    pub errno: Option<ErrnoJson>,
    pub count: u32,
}

impl OutcomeCount {
    /// `ok` or the errno with its description (`ENOMEM: Out of memory`).
    pub fn text(&self) -> String {
        match &self.errno {
            None => "ok".into(),
            Some(e) => Errno::from_raw(e.number).to_string(),
        }
    }
}

/// Counts one outcome (`None`: success).
fn tally(outcomes: &mut Vec<OutcomeCount>, errno: Option<Errno>) {
    let number = errno.map(|e| e as i32);
    match outcomes
        .iter_mut()
        .find(|o| o.errno.as_ref().map(|e| e.number) == number)
    {
        Some(o) => o.count += 1,
        None => {
            outcomes.push(OutcomeCount {
                errno: number.map(ErrnoJson::from),
                count: 1,
            });
            outcomes.sort_by_key(OutcomeCount::text);
        }
    }
}

/// The per-thread knob; writing N fails the Nth fault point this thread reaches; reading gives
/// 0 once it was injected, else how many points were still to go (then it must be reset).
struct FailNth(File);

impl FailNth {
    fn open() -> Result<Self, String> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open("/proc/thread-self/fail-nth")
            .map(Self)
            .map_err(|e| format!("/proc/thread-self/fail-nth: {e} (CONFIG_FAULT_INJECTION?)"))
    }
    /// Arms the Nth point (0: disarmed). The write is this thread's last system call before the
    /// operation.
    fn arm(&self, n: u32) -> Result<(), String> {
        self.0
            .write_at(n.to_string().as_bytes(), 0)
            .map(|_| ())
            .map_err(|e| format!("arm fail-nth: {e}"))
    }
    /// Whether the armed failure was injected; disarms it in any case.
    fn injected(&self) -> Result<bool, String> {
        let mut b = [0u8; 16];
        let n = self
            .0
            .read_at(&mut b, 0)
            .map_err(|e| format!("read fail-nth: {e}"))?;
        let left: i64 = std::str::from_utf8(&b[..n])
            .unwrap_or("")
            .trim()
            .parse()
            .map_err(|_| "fail-nth: not a number".to_string())?;
        self.0
            .write_at(b"0", 0)
            .map_err(|e| format!("disarm fail-nth: {e}"))?;
        Ok(left == 0)
    }
}

/// An operation on the device, run with one armed fault point.
type Op<'a> = Box<dyn Fn(&FailNth, u32) -> Result<Result<(), Errno>, String> + 'a>;
/// Set-up before, or clean-up after, an operation (never armed).
type Step<'a> = &'a dyn Fn() -> Result<(), String>;

fn ioctl_create(
    dev: &Device,
    family: i32,
    sock_type: i32,
    protocol: i32,
    netns: Netns,
    hold: bool,
) -> impl Fn(&FailNth, u32) -> Result<Result<(), Errno>, String> + '_ {
    move |f, n| {
        f.arm(n)?;
        Ok(dev
            .create(family, sock_type, protocol, netns, hold)
            .map(|_| ()))
    }
}

fn write_text<'a>(
    dev: &'a Device,
    text: &'a str,
) -> impl Fn(&FailNth, u32) -> Result<Result<(), Errno>, String> + 'a {
    move |f, n| {
        f.arm(n)?;
        // SAFETY: `text` is a valid buffer of its length.
        let rc = unsafe { libc::write(dev.fd(), text.as_ptr().cast(), text.len()) };
        Ok(Errno::result(rc).map(|_| ()))
    }
}

/// Runs `op` with its 1st, 2nd, ... fault point failed, up to `max` points; `prepare` runs
/// before each attempt and `cleanup` after it, both without injection.
fn sweep(
    dev: &Device,
    f: &FailNth,
    name: &str,
    max: u32,
    prepare: Step,
    op: &Op,
    cleanup: Step,
) -> Result<Sweep, String> {
    let mut s = Sweep {
        op: name.into(),
        ..Default::default()
    };
    for n in 1..=max {
        prepare()?;
        let r = op(f, n)?;
        let injected = f.injected()?;
        cleanup()?;
        if !injected {
            // The operation ran through without reaching point n: it has n - 1 of them.
            if let Err(e) = r {
                s.problems.push((n, format!("without injection: {e}")));
            }
            return Ok(s);
        }
        s.points = n;
        tally(&mut s.outcomes, r.err());
        if let Err(e) = r {
            if !DOCUMENTED.contains(&e) {
                s.problems.push((n, format!("undocumented {e}")));
            }
        }
        let t = dev.totals().map_err(|e| format!("totals: {e}"))?;
        if t.attempts != t.ok + t.failed {
            s.problems.push((
                n,
                format!(
                    "attempts {} != ok {} + failed {}",
                    t.attempts, t.ok, t.failed
                ),
            ));
        }
        if t.live != 0 {
            s.problems
                .push((n, format!("{} sockets live after the cleanup", t.live)));
        }
    }
    s.problems
        .push((max, format!("still reaching fault points after {max}")));
    Ok(s)
}

pub fn run(dev: &Device, path: &str, max: u32) -> Result<Vec<Sweep>, String> {
    let f = FailNth::open()?;
    let selfns = File::open("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"))?;
    let nsfd = selfns.as_raw_fd();
    let release_all = || {
        dev.release_all()
            .map(|_| ())
            .map_err(|e| format!("release all: {e}"))
    };
    // A fresh statistics record each time, so that its allocation is on the path too.
    let fresh = || {
        dev.release_all().map_err(|e| format!("release all: {e}"))?;
        dev.reset_stats().map_err(|e| format!("reset stats: {e}"))
    };
    let nothing = || Ok(());
    // Three live sockets for the report to show, and a descriptor of its own for the read: a
    // descriptor keeps its read buffer, so only a fresh one's first read allocates it.
    let reader: std::cell::RefCell<Option<File>> = std::cell::RefCell::new(None);
    let three = || {
        fresh()?;
        for _ in 0..3 {
            dev.create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false)
                .map_err(|e| format!("create: {e}"))?;
        }
        let f = OpenOptions::new()
            .read(true)
            .open(path)
            .map_err(|e| format!("{path}: {e}"))?;
        *reader.borrow_mut() = Some(f);
        Ok(())
    };
    let release_three = || {
        reader.borrow_mut().take();
        release_all()
    };
    let cpath =
        std::ffi::CString::new(path).map_err(|_| "device path has a NUL byte".to_string())?;
    let mut out = Vec::new();
    let ops: Vec<(&str, Step, Op, Step)> = vec![
        (
            "ioctl create inet stream tcp",
            &fresh,
            Box::new(ioctl_create(
                dev,
                libc::AF_INET,
                libc::SOCK_STREAM,
                libc::IPPROTO_TCP,
                Netns::Caller,
                false,
            )),
            &release_all,
        ),
        (
            "ioctl create inet6 dgram udp hold",
            &fresh,
            Box::new(ioctl_create(
                dev,
                libc::AF_INET6,
                libc::SOCK_DGRAM,
                libc::IPPROTO_UDP,
                Netns::Caller,
                true,
            )),
            &release_all,
        ),
        (
            "ioctl create unix stream, netns by fd",
            &fresh,
            Box::new(ioctl_create(
                dev,
                libc::AF_UNIX,
                libc::SOCK_STREAM,
                0,
                Netns::Fd(nsfd),
                false,
            )),
            &release_all,
        ),
        (
            "ioctl create inet dgram, netns by pid",
            &fresh,
            Box::new(ioctl_create(
                dev,
                libc::AF_INET,
                libc::SOCK_DGRAM,
                0,
                Netns::Pid(std::process::id() as i32),
                false,
            )),
            &release_all,
        ),
        (
            "text create inet stream tcp",
            &fresh,
            Box::new(write_text(dev, "create inet stream tcp\n")),
            &release_all,
        ),
        (
            "read the report (3 sockets)",
            &three,
            Box::new(|f: &FailNth, n| {
                let fd = reader
                    .borrow()
                    .as_ref()
                    .map(|r| r.as_raw_fd())
                    .ok_or("no reader")?;
                // Touched before arming: a first-touch page fault would be an injection point too.
                let mut buf = vec![1u8; 4096];
                f.arm(n)?;
                // SAFETY: `buf` is a writable buffer of its length.
                let rc = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
                Ok(Errno::result(rc).map(|_| ()))
            }),
            &release_three,
        ),
        (
            "open the device",
            &nothing,
            Box::new(|f: &FailNth, n| {
                f.arm(n)?;
                // SAFETY: a NUL-terminated path; the descriptor is closed below.
                let fd = unsafe { libc::open(cpath.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
                let r = Errno::result(fd).map(|_| ());
                if fd >= 0 {
                    // SAFETY: our own descriptor, closed once.
                    unsafe { libc::close(fd) };
                }
                Ok(r)
            }),
            &nothing,
        ),
        (
            "release all (3 sockets)",
            &three,
            Box::new(|f: &FailNth, n| {
                f.arm(n)?;
                Ok(dev.release_all().map(|_| ()))
            }),
            &release_three,
        ),
    ];
    // No page faults while a point is armed: a fault on the program's own text (on 9p in the
    // VM) would meet the injected failure instead of the operation. Lock everything in memory,
    // and run each operation once unarmed so that the stack and buffers it uses are there.
    // SAFETY: mlockall has no memory-safety preconditions.
    if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
        return Err(format!("mlockall: {}", Errno::last()));
    }
    for (name, prepare, op, cleanup) in &ops {
        prepare()?;
        let r = op(&f, 0)?;
        cleanup()?;
        r.map_err(|e| format!("{name}: fails without injection: {e}"))?;
    }
    for (name, prepare, op, cleanup) in &ops {
        out.push(sweep(dev, &f, name, max, *prepare, op, *cleanup)?);
    }
    // Sanity of the totals' bookkeeping across all sweeps.
    let t = dev.totals().map_err(|e| format!("totals: {e}"))?;
    if t.live != 0 {
        return Err(format!("{} sockets live at the end", t.live));
    }
    Ok(out)
}

/// Totals over the sweeps: fault points injected, and the injected runs that returned an error.
pub fn summary(sweeps: &[Sweep]) -> (u32, u32) {
    let points = sweeps.iter().map(|s| s.points).sum();
    let errs = sweeps
        .iter()
        .flat_map(|s| s.outcomes.iter())
        .filter(|o| o.errno.is_some())
        .map(|o| o.count)
        .sum();
    (points, errs)
}

/// The human-readable report: one row per operation, its problems, the summary line.
pub fn print(sweeps: &[Sweep]) {
    let mut t = table::new(&[], &[1]);
    for s in sweeps {
        let outcomes: Vec<String> = s
            .outcomes
            .iter()
            .map(|o| format!("{} {}", o.text(), o.count))
            .collect();
        t.row([
            s.op.clone(),
            s.points.to_string(),
            format!("fault points: {}", outcomes.join(", ")),
        ]);
    }
    t.print();
    for s in sweeps {
        for (n, p) in &s.problems {
            println!("  PROBLEM in {} at point {n}: {p}", s.op);
        }
    }
    let (points, errs) = summary(sweeps);
    println!(
        "failnth: {} operations, {points} allocation failures injected one at a time, {errs} returned an error, {} problems",
        sweeps.len(),
        sweeps.iter().map(|s| s.problems.len()).sum::<usize>()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_count_as_objects_success_as_null() {
        let mut s = Sweep::default();
        for e in [
            Some(Errno::ENOMEM),
            None,
            Some(Errno::ENFILE),
            Some(Errno::ENOMEM),
        ] {
            tally(&mut s.outcomes, e);
        }
        let text: Vec<String> = s
            .outcomes
            .iter()
            .map(|o| format!("{} {}", o.text(), o.count))
            .collect();
        assert_eq!(
            text,
            [
                "ENFILE: File table overflow 1",
                "ENOMEM: Out of memory 2",
                "ok 1"
            ]
        );
        assert_eq!(
            serde_json::to_value(&s.outcomes).unwrap(),
            serde_json::json!([
                {"errno": {"name": "ENFILE", "number": 23}, "count": 1},
                {"errno": {"name": "ENOMEM", "number": 12}, "count": 2},
                {"errno": null, "count": 1},
            ])
        );
        s.points = 4;
        assert_eq!(summary(&[s]), (4, 3));
    }
}
