//! `census-bench`: what the kernel socket census costs. Rounds alternate census off and on
//! (the same loops, in one run), so that the ratios compare like with like on a noisy machine:
//! `socket()+close()` in userspace (every socket on the host passes the probes) and the
//! module's raw `sock_create_kern()+sock_release()` loop (`RSM_IOC_BENCH`, `RSM_BENCH_RAW`,
//! every socket a kernel socket the census records and forgets). Prints medians and ratios;
//! asserts nothing about time.

use crate::bench::{kernel_loop, user_loop, BenchError};
use crate::device::Device;
use crate::shared::uapi_bench::RSM_BENCH_RAW;
use serde::Serialize;

/// The result, as `--json-out` writes it.
#[derive(Debug, Serialize)]
pub struct CensusBench {
    pub iterations: usize,
    pub rounds: usize,
    /// Medians over every pair of every round, in ns: [off, on].
    pub syscall_ns: [u64; 2],
    pub kernel_ns: [u64; 2],
    /// `census_on_over_off.syscall` and `.kernel`: median on / median off.
    pub syscall_on_over_off: f64,
    pub kernel_on_over_off: f64,
    /// The census's own memory (`census_totals memory_bytes`) and its room (`max`).
    pub memory_bytes: u64,
    pub max: u64,
    pub bytes_per_entry: f64,
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// `memory_bytes` and `max` of the report's `census_totals` line.
fn census_memory(dev: &Device) -> Result<(u64, u64), BenchError> {
    let text = dev
        .read_report()
        .map_err(|e| BenchError::Usage(format!("read the report: {e}")))?;
    let c = crate::census::parse(&text).map_err(BenchError::Usage)?;
    let num = |k: &str| {
        c.totals
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((num("memory_bytes"), num("max")))
}

pub fn run(dev: &Device, iterations: usize, rounds: usize) -> Result<CensusBench, BenchError> {
    if iterations == 0 || rounds == 0 {
        return Err(BenchError::Usage(
            "--iterations and --rounds must be > 0".into(),
        ));
    }
    let (af, ty, proto) = (libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_UDP);
    let mut sys: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let mut ker: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let mut memory = (0, 0);
    let toggle = |on: bool| {
        dev.census(on).map_err(|errno| BenchError::Module {
            ioctl: "RSM_IOC_CENSUS",
            errno,
        })
    };
    for r in 0..rounds {
        // Off first in even rounds, on first in odd ones: neither always runs warm.
        for k in [r % 2, 1 - r % 2] {
            toggle(k == 1)?;
            sys[k].extend(user_loop(af, ty, proto, iterations)?);
            ker[k].extend(kernel_loop(dev, af, ty, proto, RSM_BENCH_RAW, iterations)?);
            if k == 1 {
                memory = census_memory(dev)?;
            }
        }
    }
    toggle(false)?;
    let [s0, s1] = sys.map(median);
    let [k0, k1] = ker.map(median);
    Ok(CensusBench {
        iterations,
        rounds,
        syscall_ns: [s0, s1],
        kernel_ns: [k0, k1],
        syscall_on_over_off: s1 as f64 / s0.max(1) as f64,
        kernel_on_over_off: k1 as f64 / k0.max(1) as f64,
        memory_bytes: memory.0,
        max: memory.1,
        bytes_per_entry: memory.0 as f64 / memory.1.max(1) as f64,
    })
}

pub fn print(r: &CensusBench) {
    println!(
        "census cost, {} pairs x {} rounds, census off then on (alternating), medians:",
        r.iterations, r.rounds
    );
    let mut t = crate::table::new(&["loop", "off ns", "on ns", "on/off"], &[1, 2, 3]);
    t.row([
        "socket()+close() (userspace)".to_string(),
        r.syscall_ns[0].to_string(),
        r.syscall_ns[1].to_string(),
        format!("{:.3}", r.syscall_on_over_off),
    ]);
    t.row([
        "sock_create_kern()+sock_release() (RSM_BENCH_RAW)".to_string(),
        r.kernel_ns[0].to_string(),
        r.kernel_ns[1].to_string(),
        format!("{:.3}", r.kernel_on_over_off),
    ]);
    t.print_indented("  ");
    println!(
        "census memory: {} bytes for room for {} sockets ({:.1} bytes per entry, preallocated)",
        r.memory_bytes, r.max, r.bytes_per_entry
    );
}
