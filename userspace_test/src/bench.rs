//! `bench`: per-operation cost of socket()+close() (timed in userspace) against
//! sock_create_kern()+sock_release() timed in the kernel (RSM_IOC_BENCH, bare and through the
//! module's bookkeeping), and the full ioctl create+release round trip. Rounds of each are
//! interleaved so drift on a shared machine hits all alike; every figure comes from one run.
//! The bookkeeping's excess is attributed by timing raw pairs plus one of its steps at a time.

use crate::device::Device;
use crate::shared::uapi::*;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct Dist {
    pub name: &'static str,
    pub what: &'static str,
    pub n: usize,
    pub min_ns: u64,
    pub median_ns: u64,
    pub p99_ns: u64,
    #[serde(skip)]
    pub samples: Vec<u64>,
}

pub fn dist(name: &'static str, what: &'static str, mut samples: Vec<u64>) -> Dist {
    samples.sort_unstable();
    let q = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    Dist {
        name,
        what,
        n: samples.len(),
        min_ns: samples[0],
        median_ns: q(0.5),
        p99_ns: q(0.99),
        samples,
    }
}

#[derive(Debug, Serialize)]
pub struct BenchResult {
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    pub dists: Vec<Dist>,
    /// (name, value) ratios of medians.
    pub ratios: Vec<(String, f64)>,
    /// Where the bookkeeping's excess over the raw pair goes, one step at a time.
    pub steps: Vec<Step>,
}

/// One `RSM_BENCH_STEP_*` mode: a raw pair plus one step of the bookkeeping path.
#[derive(Debug, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub what: &'static str,
    /// Part of the TABLE step, not added to the sum.
    pub part_of_table: bool,
    pub median_ns: u64,
    /// Median minus the raw pair's median (negative: lost in the noise).
    pub excess_ns: i64,
}

/// The bookkeeping steps the module can time one at a time (`uapi.rs`).
pub const STEPS: [(u32, &str, &str, bool); 6] = [
    (
        RSM_BENCH_STEP_NETNS,
        "netns",
        "the caller's netns resolved (reference taken and dropped)",
        false,
    ),
    (
        RSM_BENCH_STEP_PERMISSION,
        "permission",
        "the CAP_NET_ADMIN check against the opener",
        false,
    ),
    (
        RSM_BENCH_STEP_CLOCK,
        "clock+creator",
        "two clock reads around sock_create_kern(), pid and comm",
        false,
    ),
    (
        RSM_BENCH_STEP_TABLE,
        "table",
        "kept in and released from the table: slot, node, 2 locks, stats",
        false,
    ),
    (
        RSM_BENCH_STEP_TABLE_NODE,
        "  table: node",
        "the table node's kmalloc and kfree alone",
        true,
    ),
    (
        RSM_BENCH_STEP_TABLE_LOCK,
        "  table: locks",
        "two empty state-lock round trips alone",
        true,
    ),
];

/// Steps from their medians and the raw median.
pub fn steps(raw_median: u64, medians: &[u64]) -> Vec<Step> {
    STEPS
        .iter()
        .zip(medians)
        .map(|(&(_, name, what, part_of_table), &m)| Step {
            name,
            what,
            part_of_table,
            median_ns: m,
            excess_ns: m as i64 - raw_median as i64,
        })
        .collect()
}

/// Sum of the disjoint steps' excesses (the TABLE parts are inside TABLE).
pub fn steps_sum(steps: &[Step]) -> i64 {
    steps
        .iter()
        .filter(|s| !s.part_of_table)
        .map(|s| s.excess_ns)
        .sum()
}

fn kernel_loop(
    dev: &Device,
    family: i32,
    ty: i32,
    proto: i32,
    mode: u32,
    n: usize,
) -> Result<Vec<u64>, String> {
    let mut samples = vec![0u64; n];
    let mut b = RsmBench {
        family,
        sock_type: ty,
        protocol: proto,
        mode,
        iterations: n as u32,
        samples: samples.as_mut_ptr() as u64,
        ..Default::default()
    };
    dev.ioctl_raw(RSM_IOC_BENCH, (&mut b as *mut RsmBench).cast())
        .map_err(|e| format!("RSM_IOC_BENCH: {e}"))?;
    Ok(samples)
}

fn user_loop(family: i32, ty: i32, proto: i32, n: usize) -> Result<Vec<u64>, String> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        // SAFETY: plain system calls on an fd we own.
        let fd = unsafe { libc::socket(family, ty, proto) };
        if fd < 0 {
            return Err(format!("socket(): {}", std::io::Error::last_os_error()));
        }
        // SAFETY: as above.
        unsafe { libc::close(fd) };
        v.push(t0.elapsed().as_nanos() as u64);
    }
    Ok(v)
}

fn ioctl_loop(
    dev: &Device,
    family: i32,
    ty: i32,
    proto: i32,
    n: usize,
) -> Result<Vec<u64>, String> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let c = dev
            .create(family, ty, proto, crate::device::Netns::Caller, false)
            .map_err(|e| format!("create: {e}"))?;
        dev.release(c.id).map_err(|e| format!("release: {e}"))?;
        v.push(t0.elapsed().as_nanos() as u64);
    }
    Ok(v)
}

pub fn run(
    dev: &Device,
    family: i32,
    ty: i32,
    proto: i32,
    n: usize,
    rounds: usize,
) -> Result<BenchResult, String> {
    if n == 0 || n > RSM_BENCH_MAX_ITERATIONS as usize || rounds == 0 {
        return Err(format!(
            "iterations must be 1..={RSM_BENCH_MAX_ITERATIONS}, rounds >= 1"
        ));
    }
    let (mut u, mut kr, mut kb, mut io) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut ks: Vec<Vec<u64>> = vec![Vec::new(); STEPS.len()];
    // Warm-up, not counted.
    user_loop(family, ty, proto, n.min(200))?;
    kernel_loop(dev, family, ty, proto, RSM_BENCH_RAW, n.min(200))?;
    for _ in 0..rounds {
        u.extend(user_loop(family, ty, proto, n)?);
        kr.extend(kernel_loop(dev, family, ty, proto, RSM_BENCH_RAW, n)?);
        kb.extend(kernel_loop(
            dev,
            family,
            ty,
            proto,
            RSM_BENCH_BOOKKEEPING,
            n,
        )?);
        io.extend(ioctl_loop(dev, family, ty, proto, n)?);
        for (i, &(mode, ..)) in STEPS.iter().enumerate() {
            ks[i].extend(kernel_loop(dev, family, ty, proto, mode, n)?);
        }
    }
    let step_medians: Vec<u64> = ks.into_iter().map(|v| dist("", "", v).median_ns).collect();
    let dists = vec![
        dist("syscall", "socket()+close(), timed in userspace", u),
        dist(
            "kernel-raw",
            "sock_create_kern()+sock_release() loop in the module",
            kr,
        ),
        dist(
            "kernel-bookkeeping",
            "the module's create+release path (netns, checks, table, stats)",
            kb,
        ),
        dist(
            "ioctl",
            "RSM_IOC_CREATE+RSM_IOC_RELEASE round trip, timed in userspace",
            io,
        ),
    ];
    let m = |i: usize| dists[i].median_ns as f64;
    let ratios = vec![
        ("syscall / kernel-raw".to_string(), m(0) / m(1)),
        (
            "kernel-bookkeeping / kernel-raw (target <= 1.05)".to_string(),
            m(2) / m(1),
        ),
        ("ioctl / kernel-bookkeeping".to_string(), m(3) / m(2)),
        ("ioctl / syscall".to_string(), m(3) / m(0)),
    ];
    let steps = steps(dists[1].median_ns, &step_medians);
    Ok(BenchResult {
        family,
        sock_type: ty,
        protocol: proto,
        dists,
        ratios,
        steps,
    })
}

pub fn print(r: &BenchResult) {
    if let Ok(cs) =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
    {
        println!("clocksource: {}", cs.trim());
    }
    println!(
        "{:<20} {:>9} {:>10} {:>10} {:>10}  what",
        "op", "n", "min ns", "median ns", "p99 ns"
    );
    for d in &r.dists {
        println!(
            "{:<20} {:>9} {:>10} {:>10} {:>10}  {}",
            d.name, d.n, d.min_ns, d.median_ns, d.p99_ns, d.what
        );
    }
    println!();
    for (name, v) in &r.ratios {
        println!("ratio {name:<48} {v:.3}");
    }
    let excess = r.dists[2].median_ns as i64 - r.dists[1].median_ns as i64;
    println!();
    println!("bookkeeping excess over kernel-raw: {excess} ns per pair; one step at a time (raw pair + step):");
    println!(
        "{:<16} {:>10} {:>11}  what",
        "step", "median ns", "excess ns"
    );
    for st in &r.steps {
        println!(
            "{:<16} {:>10} {:>11}  {}",
            st.name, st.median_ns, st.excess_ns, st.what
        );
    }
    println!("{:<16} {:>10} {:>11}  netns + permission + clock+creator + table (vs {excess} measured together)", "sum", "", steps_sum(&r.steps));
}

/// An SVG of the four distributions as cumulative curves over a log time axis.
pub fn plot(r: &BenchResult, path: &str) -> Result<(), String> {
    use plotters::prelude::*;
    let lo = r.dists.iter().map(|d| d.min_ns).min().unwrap_or(1).max(1) as f64;
    let hi = r.dists.iter().map(|d| d.p99_ns).max().unwrap_or(2) as f64 * 1.5;
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "create+release: cumulative distribution per path (one run)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("ns per create+release (log)")
        .y_desc("fraction of operations")
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, d) in r.dists.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let n = d.samples.len() as f64;
        let step = (d.samples.len() / 400).max(1);
        let pts: Vec<(f64, f64)> = d
            .samples
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(k, &s)| (s.max(1) as f64, (k + 1) as f64 / n))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!("{} (median {} ns)", d.name, d.median_ns))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        let d = dist("x", "", (1..=100).rev().collect());
        assert_eq!((d.min_ns, d.median_ns, d.p99_ns, d.n), (1, 51, 99, 100));
        let one = dist("y", "", vec![7]);
        assert_eq!((one.min_ns, one.median_ns, one.p99_ns), (7, 7, 7));
    }

    #[test]
    fn step_excess_and_sum_leave_the_table_parts_out() {
        let st = steps(1000, &[1100, 990, 1300, 1500, 1200, 1050]);
        let ex: Vec<i64> = st.iter().map(|s| s.excess_ns).collect();
        assert_eq!(ex, vec![100, -10, 300, 500, 200, 50]);
        assert_eq!(steps_sum(&st), 100 - 10 + 300 + 500);
        // Every step mode is distinct, above BOOKKEEPING and within the module's range.
        let mut modes: Vec<u32> = STEPS.iter().map(|s| s.0).collect();
        modes.sort_unstable();
        modes.dedup();
        assert_eq!(modes.len(), STEPS.len());
        assert!(modes
            .iter()
            .all(|&m| m > RSM_BENCH_BOOKKEEPING && m <= RSM_BENCH_MODE_MAX));
    }
}
