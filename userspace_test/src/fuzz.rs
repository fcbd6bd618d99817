//! `fuzz`: a seeded generator (the same seed gives the same inputs) of random and mutated
//! ioctls and text commands, sent to the real device. Every call must return success or a
//! documented errno; the histogram of errnos and the rate are printed.

use crate::device::Device;
use crate::errnum::ErrnoJson;
use crate::shared::uapi::*;
use crate::shared::uapi_bench::*;
use crate::table;
use nix::errno::Errno;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// Errnos the module documents (its own, and what sock_create_kern/kernel_bind/... may return
/// for a kernel socket), i.e. every errno a caller may legitimately see.
pub const DOCUMENTED: &[Errno] = &[
    Errno::ENOTTY,
    Errno::EFAULT,
    Errno::EINVAL,
    Errno::EBADF,
    Errno::ESRCH,
    Errno::EPERM,
    Errno::EACCES,
    Errno::ENOENT,
    Errno::ENOSPC,
    Errno::ENOMEM,
    Errno::ENOBUFS,
    Errno::EINTR,
    Errno::ENAMETOOLONG,
    Errno::ENOTDIR,
    Errno::ELOOP,
    Errno::EAFNOSUPPORT,
    Errno::EPROTONOSUPPORT,
    Errno::ESOCKTNOSUPPORT,
    Errno::EPROTOTYPE,
    Errno::EOPNOTSUPP,
    Errno::EADDRINUSE,
    Errno::EADDRNOTAVAIL,
    Errno::EISDIR,
    Errno::ENFILE,
    Errno::EMFILE,
];

#[derive(Debug, Default, Serialize)]
pub struct FuzzResult {
    pub seed: u64,
    pub inputs: u64,
    pub ok: u64,
    /// How often each errno came back, by errno name (`ok` counts the successes).
    pub errnos: Vec<ErrnoCount>,
    /// Results outside the documented set (the first 50).
    pub violations: Vec<Violation>,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ErrnoCount {
    pub errno: ErrnoJson,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct Violation {
    /// The input's number in the seeded sequence.
    pub input: u64,
    /// What was sent.
    pub sent: String,
    pub errno: ErrnoJson,
}

/// The histogram by errno name (`EACCES` before `EINVAL`).
fn histogram(counts: BTreeMap<i32, u64>) -> Vec<ErrnoCount> {
    let mut v: Vec<ErrnoCount> = counts
        .into_iter()
        .map(|(e, count)| ErrnoCount {
            errno: e.into(),
            count,
        })
        .collect();
    v.sort_by(|a, b| (&a.errno.name, a.errno.number).cmp(&(&b.errno.name, b.errno.number)));
    v
}

/// The human-readable summary: rate, the errno histogram, the undocumented results.
pub fn print(r: &FuzzResult) {
    println!(
        "fuzz: seed {} inputs {} in {:.1} s ({:.0}/s), {} succeeded",
        r.seed,
        r.inputs,
        r.seconds,
        r.inputs as f64 / r.seconds,
        r.ok
    );
    let mut t = table::new(&[], &[1]);
    for c in &r.errnos {
        t.row([
            Errno::from_raw(c.errno.number).to_string(),
            c.count.to_string(),
        ]);
    }
    t.print_indented("  ");
    for v in &r.violations {
        println!(
            "  UNDOCUMENTED #{}: {} -> {}",
            v.input,
            v.sent,
            Errno::from_raw(v.errno.number)
        );
    }
}

/// A mapped page followed by an inaccessible one, for arguments that straddle the boundary.
struct Guard {
    base: *mut u8,
    page: usize,
}

impl Guard {
    fn new() -> Result<Self, String> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: an anonymous private mapping of two pages; checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err("mmap".into());
        }
        // SAFETY: the second page of our own mapping.
        if unsafe { libc::mprotect(base.cast::<u8>().add(page).cast(), page, libc::PROT_NONE) } != 0
        {
            return Err("mprotect".into());
        }
        Ok(Self {
            base: base.cast(),
            page,
        })
    }
    /// An address `back` bytes before the inaccessible page.
    fn edge(&self, back: usize) -> *mut u8 {
        // SAFETY: stays within (or one past) the first page of the mapping.
        unsafe { self.base.add(self.page - back.min(self.page)) }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.base.cast(), 2 * self.page) };
    }
}

const TEXT_SEEDS: &[&str] = &[
    "create inet stream tcp",
    "create inet6 dgram udp",
    "create unix seqpacket",
    "create packet dgram 0",
    "create netlink raw 0",
    "create inet raw icmp",
    "create inet dgram udp hold",
    "create inet stream tcp pid=1",
    "create inet dgram udp netns=/proc/1/ns/net",
    "create inet stream netns=fd:3",
    "release 1",
    "release all",
    "reset stats",
    "bind 1 8080",
    "listen 1",
    "listen 1 5",
];

fn mutate_text(rng: &mut StdRng) -> Vec<u8> {
    let mut v = TEXT_SEEDS[rng.gen_range(0..TEXT_SEEDS.len())]
        .as_bytes()
        .to_vec();
    for _ in 0..rng.gen_range(0..4) {
        match rng.gen_range(0..7) {
            0 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] = rng.gen();
            }
            1 => {
                let i = rng.gen_range(0..=v.len());
                v.insert(i, rng.gen());
            }
            2 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v.remove(i);
            }
            3 => v.extend_from_slice(
                format!(
                    " {}",
                    [i64::MIN, -1, 0, 1, 65535, 65536, i64::MAX][rng.gen_range(0..7)]
                )
                .as_bytes(),
            ),
            4 => v.extend(std::iter::repeat_n(b'x', rng.gen_range(200..5000))),
            5 => v.push(b'\n'),
            _ => v.extend_from_slice(b" hold"),
        }
    }
    v
}

/// Random bytes with integer fields nudged to boundaries now and then.
fn mutate_struct(rng: &mut StdRng, buf: &mut [u8], valid: &[u8], fds: &[i32]) {
    buf[..valid.len()].copy_from_slice(valid);
    let words = buf.len() / 4;
    for _ in 0..rng.gen_range(0..4) {
        let w = rng.gen_range(0..words.max(1)) * 4;
        let v: i32 = match rng.gen_range(0..6) {
            0 => rng.gen(),
            1 => [0, 1, -1, i32::MAX, i32::MIN, 2, 3, 10, 17, 42][rng.gen_range(0..10)],
            2 => fds[rng.gen_range(0..fds.len())],
            3 => std::process::id() as i32,
            _ => rng.gen_range(-2..300),
        };
        if w + 4 <= buf.len() {
            buf[w..w + 4].copy_from_slice(&v.to_ne_bytes());
        }
    }
}

fn as_bytes<T>(v: &T) -> Vec<u8> {
    // SAFETY: reading the bytes of a plain #[repr(C)] integer struct.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
        .to_vec()
}

/// `make_it_fail`: mark this task for fault injection for the duration of the loop only (the
/// set-up before and the report after must not meet injected failures).
pub fn run(dev: &Device, seed: u64, count: u64, make_it_fail: bool) -> Result<FuzzResult, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let guard = Guard::new()?;
    let devnull = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
    let selfns = std::fs::File::open("/proc/self/ns/net").map_err(|e| e.to_string())?;
    use std::os::fd::AsRawFd;
    let fds = [
        devnull.as_raw_fd(),
        selfns.as_raw_fd(),
        dev.fd(),
        -1,
        9999,
        0,
    ];
    let valid_create = as_bytes(&RsmCreate {
        family: libc::AF_INET,
        sock_type: libc::SOCK_DGRAM,
        ..Default::default()
    });
    let valid_release = as_bytes(&RsmRelease {
        flags: RSM_RELEASE_ALL,
        ..Default::default()
    });
    let valid_info = as_bytes(&RsmInfo {
        id: 1,
        ..Default::default()
    });
    let valid_bench = as_bytes(&RsmBench {
        family: libc::AF_INET,
        sock_type: libc::SOCK_DGRAM,
        iterations: 1,
        ..Default::default()
    });
    let cmds: [(u32, &[u8]); 6] = [
        (RSM_IOC_CREATE, &valid_create),
        (RSM_IOC_RELEASE, &valid_release),
        (RSM_IOC_INFO, &valid_info),
        (RSM_IOC_TOTALS, &[]),
        (RSM_IOC_RESET_STATS, &[]),
        (RSM_IOC_BENCH, &valid_bench),
    ];
    let mut res = FuzzResult {
        seed,
        ..Default::default()
    };
    let mut counts: BTreeMap<i32, u64> = BTreeMap::new();
    let mut buf = vec![0u8; 512];
    let mut reads = vec![0u8; 4096];
    let mif = |on: bool| std::fs::write("/proc/self/make-it-fail", if on { "1" } else { "0" });
    if make_it_fail {
        mif(true).map_err(|e| {
            format!("/proc/self/make-it-fail: {e} (CONFIG_FAULT_INJECTION_DEBUG_FS?)")
        })?;
    }
    let t0 = Instant::now();
    for n in 0..count {
        if n % 997 == 0 {
            // Keep the table small: live sockets are the module's memory, not the fuzzer's target.
            let _ = dev.release_all();
        }
        let (what, r): (String, Result<i32, Errno>) = match rng.gen_range(0..10) {
            0..=5 => {
                let (mut cmd, valid) = cmds[rng.gen_range(0..cmds.len())];
                match rng.gen_range(0..8) {
                    0 => cmd = rng.gen(),
                    1 => cmd ^= 1 << rng.gen_range(0..32),
                    2 => cmd = (cmd & !(0x3fff << 16)) | (rng.gen_range(0u32..0x3fff) << 16),
                    _ => {}
                }
                mutate_struct(&mut rng, &mut buf, valid, &fds);
                // A bench with random iterations could run long: keep it at most 64.
                if cmd == RSM_IOC_BENCH {
                    let it = u32::from_ne_bytes(buf[16..20].try_into().unwrap());
                    buf[16..20].copy_from_slice(&(it % 65).to_ne_bytes());
                    buf[24..32].copy_from_slice(&0u64.to_ne_bytes());
                }
                let arg: *mut libc::c_void = match rng.gen_range(0..12) {
                    0 => std::ptr::null_mut(),
                    1 => rng.gen_range(1usize..4096) as *mut _,
                    2 => 0xffff_8880_0000_0000usize as *mut _,
                    3 => rng.gen::<usize>() as *mut _,
                    4 => {
                        // Straddle the guard page.
                        let back = rng.gen_range(1..64);
                        let p = guard.edge(back);
                        // SAFETY: `back` bytes before the guard page are ours.
                        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), p, back) };
                        p.cast()
                    }
                    _ => buf.as_mut_ptr().cast(),
                };
                (
                    format!("ioctl cmd={cmd:#x} arg={arg:?}"),
                    dev.ioctl_raw(cmd, arg),
                )
            }
            6..=8 => {
                let text = mutate_text(&mut rng);
                // SAFETY: `text` is a valid buffer of its length.
                let rc = unsafe { libc::write(dev.fd(), text.as_ptr().cast(), text.len()) };
                (
                    format!(
                        "write {:?}",
                        String::from_utf8_lossy(&text[..text.len().min(60)])
                    ),
                    Errno::result(rc as i32),
                )
            }
            _ => {
                let off = [0i64, 1, 7, 100, 4095, 1 << 20, -1][rng.gen_range(0..7)];
                let len = [1usize, 13, 512, 4096][rng.gen_range(0..4)];
                // SAFETY: `reads` is a writable buffer of at least `len` bytes.
                let rc = unsafe { libc::pread(dev.fd(), reads.as_mut_ptr().cast(), len, off) };
                (
                    format!("pread len={len} off={off}"),
                    Errno::result(rc as i32),
                )
            }
        };
        res.inputs += 1;
        match r {
            Ok(_) => res.ok += 1,
            Err(e) => {
                *counts.entry(e as i32).or_default() += 1;
                if !DOCUMENTED.contains(&e) && res.violations.len() < 50 {
                    res.violations.push(Violation {
                        input: n,
                        sent: what,
                        errno: e.into(),
                    });
                }
            }
        }
    }
    res.seconds = t0.elapsed().as_secs_f64();
    res.errnos = histogram(counts);
    if make_it_fail {
        let _ = mif(false);
    }
    let _ = dev.release_all();
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_inputs() {
        let a: Vec<Vec<u8>> = {
            let mut r = StdRng::seed_from_u64(7);
            (0..50).map(|_| mutate_text(&mut r)).collect()
        };
        let b: Vec<Vec<u8>> = {
            let mut r = StdRng::seed_from_u64(7);
            (0..50).map(|_| mutate_text(&mut r)).collect()
        };
        let c: Vec<Vec<u8>> = {
            let mut r = StdRng::seed_from_u64(8);
            (0..50).map(|_| mutate_text(&mut r)).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(
            a.iter().any(|t| t.len() > 256),
            "over-long commands are generated"
        );
    }

    #[test]
    fn histogram_by_name_as_objects() {
        let h = histogram(BTreeMap::from([(libc::EINVAL, 3), (libc::EACCES, 2)]));
        let j = serde_json::to_value(&h).unwrap();
        assert_eq!(
            j,
            serde_json::json!([
                {"errno": {"name": "EACCES", "number": 13}, "count": 2},
                {"errno": {"name": "EINVAL", "number": 22}, "count": 3},
            ])
        );
    }

    #[test]
    fn struct_mutation_keeps_size() {
        let mut r = StdRng::seed_from_u64(1);
        let mut buf = vec![0u8; 64];
        mutate_struct(&mut r, &mut buf, &[1, 2, 3, 4], &[5]);
        assert_eq!(buf.len(), 64);
    }
}
