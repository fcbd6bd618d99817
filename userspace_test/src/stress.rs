//! `stress`: threads that create, release, read and send text commands at once, across several
//! namespaces, for a bounded time; then the module's counters must add up.

use crate::device::{Device, Netns};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Default, Serialize)]
pub struct StressResult {
    pub threads: usize,
    pub seconds: f64,
    pub ops: u64,
    pub creates: u64,
    pub releases: u64,
    pub reads: u64,
    pub texts: u64,
    /// Errors other than the ones the load itself provokes (ENOENT on a raced release, ENOSPC).
    pub unexpected: Vec<String>,
}

pub fn run(
    path: &str,
    netns: &[String],
    threads: usize,
    secs: u64,
    seed: u64,
) -> Result<StressResult, String> {
    let nsfiles: Vec<std::fs::File> = netns
        .iter()
        .map(|p| crate::sys::open_netns_arg(p))
        .collect::<Result<_, _>>()?;
    let counters: [AtomicU64; 4] = Default::default();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let t0 = Instant::now();
    let unexpected = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..threads {
            let (nsfiles, counters, unexpected) = (&nsfiles, &counters, &unexpected);
            s.spawn(move || {
                let note = |m: String| {
                    let mut u = unexpected.lock().unwrap();
                    if u.len() < 20 {
                        u.push(m);
                    }
                };
                let dev = match Device::open(path) {
                    Ok(d) => d,
                    Err(e) => return note(e),
                };
                let mut rng = StdRng::seed_from_u64(seed + t as u64);
                let mut mine: Vec<u64> = Vec::new();
                let mut buf = vec![0u8; 8192];
                while Instant::now() < deadline {
                    let ns = &nsfiles[rng.gen_range(0..nsfiles.len())];
                    match rng.gen_range(0..10) {
                        0..=3 => {
                            let (ty, hold) = if rng.gen_bool(0.5) {
                                (libc::SOCK_STREAM, rng.gen_bool(0.3))
                            } else {
                                (libc::SOCK_DGRAM, false)
                            };
                            match dev.create(libc::AF_INET, ty, 0, Netns::Fd(ns.as_raw_fd()), hold)
                            {
                                Ok(c) => mine.push(c.id),
                                Err(nix::errno::Errno::ENOSPC) => {}
                                Err(e) => note(format!("create: {e}")),
                            }
                            counters[0].fetch_add(1, Ordering::Relaxed);
                        }
                        4..=6 if !mine.is_empty() => {
                            let id = mine.swap_remove(rng.gen_range(0..mine.len()));
                            // ENOENT: another thread's "release all" got there first.
                            if let Err(e) = dev.release(id).map(|_| ()).or_else(|e| {
                                if e == nix::errno::Errno::ENOENT {
                                    Ok(())
                                } else {
                                    Err(e)
                                }
                            }) {
                                note(format!("release {id}: {e}"));
                            }
                            counters[1].fetch_add(1, Ordering::Relaxed);
                        }
                        7 | 8 => {
                            let r = std::fs::File::open(path).and_then(|mut f| loop {
                                if f.read(&mut buf)? == 0 {
                                    break Ok(());
                                }
                            });
                            if let Err(e) = r {
                                note(format!("read: {e}"));
                            }
                            counters[2].fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            let text = match rng.gen_range(0..4) {
                                0 => "release all\n".to_string(),
                                1 => "reset stats\n".to_string(),
                                _ => format!(
                                    "create inet dgram udp netns=/proc/self/ns/net{}\n",
                                    if rng.gen_bool(0.2) { " hold" } else { "" }
                                ),
                            };
                            if text.starts_with("release all") {
                                mine.clear();
                            }
                            // SAFETY: valid buffer of its length.
                            let rc =
                                unsafe { libc::write(dev.fd(), text.as_ptr().cast(), text.len()) };
                            if rc < 0 && nix::errno::Errno::last() != nix::errno::Errno::ENOSPC {
                                note(format!("write {text:?}: {}", nix::errno::Errno::last()));
                            }
                            counters[3].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let c: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    Ok(StressResult {
        threads,
        seconds: t0.elapsed().as_secs_f64(),
        ops: c.iter().sum(),
        creates: c[0],
        releases: c[1],
        reads: c[2],
        texts: c[3],
        unexpected: unexpected.into_inner().unwrap(),
    })
}
