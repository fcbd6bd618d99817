//! `threads`: throughput of create+release pairs with N threads against 1, for the module's
//! full path (`RSM_BENCH_BOOKKEEPING`) and for the bare kernel loop (`RSM_BENCH_RAW`). Each
//! thread has its own descriptor of the device and runs `RSM_IOC_BENCH` for its pairs; the
//! throughput is all pairs over the wall time from the first thread's start to the last one's
//! end (CLOCK_MONOTONIC). Rounds of the four cases are interleaved, in one process and one run,
//! so drift on a shared machine hits all alike. A benchmark: it asserts nothing about time.

use crate::bench::BenchError;
use crate::device::Device;
use crate::error::Error;
use crate::figures::{self, Series};
use crate::shared::uapi_bench::*;
use crate::table;
use nix::errno::Errno;
use std::sync::Barrier;

/// The two kernel paths timed, in the order of the output.
pub const MODES: [(u32, &str, &str); 2] = [
    (
        RSM_BENCH_BOOKKEEPING,
        "module",
        "the module's create+release path (RSM_BENCH_BOOKKEEPING)",
    ),
    (
        RSM_BENCH_RAW,
        "raw",
        "bare sock_create_kern()+sock_release() (RSM_BENCH_RAW)",
    ),
];

/// Throughputs (pairs/s) of one mode, one per round, with 1 thread and with N.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeRounds {
    pub name: &'static str,
    pub one: Vec<f64>,
    pub many: Vec<f64>,
}

impl ModeRounds {
    /// median(N threads) / median(1 thread).
    pub fn scaling(&self) -> Option<f64> {
        figures::ratio(figures::median(&self.many), figures::median(&self.one))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadsResult {
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    pub threads: usize,
    /// Pairs per thread per round.
    pub iterations: usize,
    pub rounds: usize,
    /// `MODES` order: module, raw.
    pub modes: Vec<ModeRounds>,
}

impl ThreadsResult {
    fn mode(&self, name: &str) -> Option<&ModeRounds> {
        self.modes.iter().find(|m| m.name == name)
    }

    /// The scaling of the module's path over that of the bare loop.
    pub fn module_over_raw(&self) -> Option<f64> {
        figures::ratio(
            self.mode("module").and_then(ModeRounds::scaling),
            self.mode("raw").and_then(ModeRounds::scaling),
        )
    }

    /// The key of the scaling figures: `threads2_over_threads1` for 2 threads.
    pub fn key(&self) -> String {
        format!("threads{}_over_threads1", self.threads)
    }

    /// The `--json` form: `threadsN_over_threads1: {module, raw}`, `module_over_raw`, and the
    /// throughputs behind them (`pairs_per_s.MODE.threads1|threadsN`: median, min, max,
    /// values).
    pub fn to_json(&self) -> serde_json::Value {
        let mut scaling = serde_json::Map::new();
        let mut per_s = serde_json::Map::new();
        let many = format!("threads{}", self.threads);
        for m in &self.modes {
            scaling.insert(m.name.into(), serde_json::json!(m.scaling()));
            let (one, n): (Series, Series) = (
                figures::series(m.one.clone()),
                figures::series(m.many.clone()),
            );
            per_s.insert(
                m.name.into(),
                serde_json::json!({"threads1": one, many.clone(): n}),
            );
        }
        serde_json::json!({
            "family": self.family,
            "sock_type": self.sock_type,
            "protocol": self.protocol,
            "threads": self.threads,
            "iterations_per_thread": self.iterations,
            "rounds": self.rounds,
            self.key(): scaling,
            "module_over_raw": self.module_over_raw(),
            "pairs_per_s": per_s,
        })
    }
}

pub fn print(r: &ThreadsResult) {
    println!(
        "threads: {} create+release pairs per thread and round, {} rounds interleaved; pairs/s = all pairs / wall time (CLOCK_MONOTONIC, first start to last end)",
        r.iterations, r.rounds
    );
    let mut t = table::new(
        &["path", "threads", "median pairs/s", "min", "max", "what"],
        &[1, 2, 3, 4],
    );
    for m in &r.modes {
        let what = MODES.iter().find(|x| x.1 == m.name).map_or("", |x| x.2);
        for (k, v) in [(1, &m.one), (r.threads, &m.many)] {
            let s = figures::series(v.clone());
            t.row([
                m.name.to_string(),
                k.to_string(),
                figures::cell(s.median, 0),
                figures::cell(s.min, 0),
                figures::cell(s.max, 0),
                what.to_string(),
            ]);
        }
    }
    t.print();
    let get = |name: &str| figures::cell(r.mode(name).and_then(ModeRounds::scaling), 3);
    println!("{} module={} raw={}", r.key(), get("module"), get("raw"));
    println!(
        "{} module/raw={}",
        r.key(),
        figures::cell(r.module_over_raw(), 3)
    );
}

/// CLOCK_MONOTONIC in ns.
fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// `n` pairs in `mode` on one descriptor, in ioctls of at most the module's maximum.
fn pairs(dev: &Device, req: (i32, i32, i32), mode: u32, n: usize) -> Result<(), Errno> {
    let mut left = n;
    while left > 0 {
        let k = left.min(RSM_BENCH_MAX_ITERATIONS as usize);
        let mut b = RsmBench {
            family: req.0,
            sock_type: req.1,
            protocol: req.2,
            mode,
            iterations: k as u32,
            ..Default::default()
        };
        dev.ioctl_raw(RSM_IOC_BENCH, (&mut b as *mut RsmBench).cast())?;
        left -= k;
    }
    Ok(())
}

/// Pairs per second of `devs.len()` threads running `n` pairs each, released together.
fn throughput(
    devs: &[Device],
    req: (i32, i32, i32),
    mode: u32,
    n: usize,
) -> Result<f64, BenchError> {
    let start = Barrier::new(devs.len());
    let spans = std::thread::scope(|s| {
        let workers: Vec<_> = devs
            .iter()
            .map(|dev| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let t0 = mono_ns();
                    pairs(dev, req, mode, n).map(|()| (t0, mono_ns()))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(Errno::EINTR)))
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|errno| BenchError::Module {
        ioctl: "RSM_IOC_BENCH",
        errno,
    })?;
    Ok(pairs_per_s(&spans, n))
}

/// All pairs over the wall time from the first start to the last end.
pub fn pairs_per_s(spans: &[(u64, u64)], per_thread: usize) -> f64 {
    let first = spans.iter().map(|s| s.0).min().unwrap_or(0);
    let last = spans.iter().map(|s| s.1).max().unwrap_or(0);
    let wall_s = (last.saturating_sub(first)).max(1) as f64 / 1e9;
    (spans.len() * per_thread) as f64 / wall_s
}

/// Opens one descriptor per thread; runs `rounds` rounds, each with 1 and N threads for both
/// modes (the order of 1 and N alternates between rounds), after a short warm-up.
pub fn run(
    path: &str,
    req: (i32, i32, i32),
    threads: usize,
    n: usize,
    rounds: usize,
) -> Result<ThreadsResult, Error> {
    let devs = (0..threads)
        .map(|_| Device::open(path))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Device)?;
    let module_err = |e: BenchError| Error::Refused(format!("threads: {e}"));
    for &(mode, ..) in &MODES {
        throughput(&devs, req, mode, n.min(200)).map_err(module_err)?;
    }
    let mut modes: Vec<ModeRounds> = MODES
        .iter()
        .map(|&(_, name, _)| ModeRounds {
            name,
            one: Vec::new(),
            many: Vec::new(),
        })
        .collect();
    for round in 0..rounds {
        for (i, &(mode, ..)) in MODES.iter().enumerate() {
            let order = if round % 2 == 0 {
                [1, threads]
            } else {
                [threads, 1]
            };
            for k in order {
                let v = throughput(&devs[..k], req, mode, n).map_err(module_err)?;
                if k == 1 {
                    modes[i].one.push(v);
                } else {
                    modes[i].many.push(v);
                }
            }
        }
    }
    Ok(ThreadsResult {
        family: req.0,
        sock_type: req.1,
        protocol: req.2,
        threads,
        iterations: n,
        rounds,
        modes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> ThreadsResult {
        ThreadsResult {
            family: 2,
            sock_type: 2,
            protocol: 17,
            threads: 2,
            iterations: 1000,
            rounds: 3,
            modes: vec![
                ModeRounds {
                    name: "module",
                    one: vec![100_000.0, 90_000.0, 110_000.0],
                    many: vec![150_000.0, 160_000.0, 140_000.0],
                },
                ModeRounds {
                    name: "raw",
                    one: vec![200_000.0, 190_000.0, 210_000.0],
                    many: vec![380_000.0, 400_000.0, 390_000.0],
                },
            ],
        }
    }

    #[test]
    fn scaling_is_a_ratio_of_medians() {
        let r = result();
        assert_eq!(r.modes[0].scaling(), Some(1.5));
        assert_eq!(r.modes[1].scaling(), Some(1.95));
        let q = r.module_over_raw().unwrap();
        assert!((q - 1.5 / 1.95).abs() < 1e-12, "{q}");
    }

    #[test]
    fn json_names_the_scaling_by_thread_count() {
        let j = result().to_json();
        assert_eq!(j["threads2_over_threads1"]["module"], 1.5);
        assert_eq!(j["threads2_over_threads1"]["raw"], 1.95);
        assert_eq!(j["pairs_per_s"]["raw"]["threads2"]["median"], 390_000.0);
        assert_eq!(j["pairs_per_s"]["module"]["threads1"]["min"], 90_000.0);
        assert!(j["module_over_raw"].as_f64().unwrap() < 1.0);
        let mut four = result();
        four.threads = 4;
        assert!(four.to_json()["threads4_over_threads1"]["raw"].is_number());
        // No rounds: no figures, null and not NaN.
        let mut empty = result();
        empty.modes[0].one.clear();
        assert!(empty.to_json()["threads2_over_threads1"]["module"].is_null());
    }

    #[test]
    fn throughput_spans_first_start_to_last_end() {
        // Two threads of 1000 pairs: 2000 pairs in 2 ms (1 ms to 3 ms) = 1,000,000 pairs/s.
        let v = pairs_per_s(&[(1_000_000, 2_500_000), (1_200_000, 3_000_000)], 1000);
        assert!((v - 1_000_000.0).abs() < 1e-6, "{v}");
        let one = pairs_per_s(&[(0, 1_000_000_000)], 500);
        assert!((one - 500.0).abs() < 1e-9, "{one}");
    }
}
