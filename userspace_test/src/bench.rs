//! `bench`: per-operation cost of socket()+close() (timed in userspace) against
//! sock_create_kern()+sock_release() timed in the kernel (RSM_IOC_BENCH, bare and through the
//! module's bookkeeping), and the full ioctl create+release round trip. Rounds of each are
//! interleaved so drift on a shared machine hits all alike; every figure comes from one run.
//! The bookkeeping's excess is attributed by timing raw pairs plus one of its steps at a time.

use crate::device::Device;
use crate::shared::names;
use crate::shared::uapi_bench::*;
use crate::table;
use nix::errno::Errno;
use serde::Serialize;
use std::fmt;
use std::time::Instant;

/// Why a bench did not run: which side failed, and its errno.
#[derive(Debug, PartialEq, Eq)]
pub enum BenchError {
    /// Iterations or rounds out of range.
    Usage(String),
    /// The userspace `socket()` call failed: the kernel refused the request through the system
    /// call, before the module was asked anything.
    Socket {
        family: i32,
        sock_type: i32,
        protocol: i32,
        errno: Errno,
    },
    /// The module refused one of its ioctls (`RSM_IOC_BENCH`, `RSM_IOC_CREATE`, ...).
    Module { ioctl: &'static str, errno: Errno },
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            BenchError::Usage(m) => f.write_str(m),
            BenchError::Socket {
                family,
                sock_type,
                protocol,
                errno,
            } => write!(
                f,
                "userspace socket({}, {}, {protocol}) failed: {errno} (the system call refused \
                 the request; the module was not involved)",
                name_or_number(names::family_name(*family), *family),
                crate::compare::type_label(*sock_type),
            ),
            BenchError::Module { ioctl, errno } => {
                write!(f, "the module refused {ioctl}: {errno}")
            }
        }
    }
}

fn name_or_number(name: &str, n: i32) -> String {
    if name == "?" {
        n.to_string()
    } else {
        name.to_string()
    }
}

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
    /// The module's overhead per pair: median kernel-bookkeeping / median kernel-raw (the
    /// second of `ratios`, under a name scripts can rely on).
    pub bookkeeping_over_raw: f64,
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

/// The bookkeeping steps the module can time one at a time (`uapi_bench.rs`).
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
        "kept in and released from the table: slot, spare nodes, Arc, 3 locks, stats",
        false,
    ),
    (
        RSM_BENCH_STEP_TABLE_NODE,
        "  table: node",
        "3 allocations+frees (table node, index node, Arc): a create with no spare pair",
        true,
    ),
    (
        RSM_BENCH_STEP_TABLE_LOCK,
        "  table: locks",
        "three empty state-lock round trips alone",
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

pub fn kernel_loop(
    dev: &Device,
    family: i32,
    ty: i32,
    proto: i32,
    mode: u32,
    n: usize,
) -> Result<Vec<u64>, BenchError> {
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
        .map_err(|errno| BenchError::Module {
            ioctl: "RSM_IOC_BENCH",
            errno,
        })?;
    Ok(samples)
}

pub fn user_loop(family: i32, ty: i32, proto: i32, n: usize) -> Result<Vec<u64>, BenchError> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        // SAFETY: plain system calls on an fd we own.
        let fd = unsafe { libc::socket(family, ty, proto) };
        if fd < 0 {
            return Err(BenchError::Socket {
                family,
                sock_type: ty,
                protocol: proto,
                errno: Errno::last(),
            });
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
) -> Result<Vec<u64>, BenchError> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let c = dev
            .create(family, ty, proto, crate::device::Netns::Caller, false)
            .map_err(|errno| BenchError::Module {
                ioctl: "RSM_IOC_CREATE",
                errno,
            })?;
        dev.release(c.id).map_err(|errno| BenchError::Module {
            ioctl: "RSM_IOC_RELEASE",
            errno,
        })?;
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
) -> Result<BenchResult, BenchError> {
    if n == 0 || n > RSM_BENCH_MAX_ITERATIONS as usize || rounds == 0 {
        return Err(BenchError::Usage(format!(
            "iterations must be 1..={RSM_BENCH_MAX_ITERATIONS}, rounds >= 1"
        )));
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
        bookkeeping_over_raw: m(2) / m(1),
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
    let mut t = table::new(
        &["op", "n", "min ns", "median ns", "p99 ns", "what"],
        &[1, 2, 3, 4],
    );
    for d in &r.dists {
        t.row([
            d.name.to_string(),
            d.n.to_string(),
            d.min_ns.to_string(),
            d.median_ns.to_string(),
            d.p99_ns.to_string(),
            d.what.to_string(),
        ]);
    }
    t.print();
    println!();
    let mut t = table::new(&[], &[1]);
    for (name, v) in &r.ratios {
        t.row([format!("ratio {name}"), format!("{v:.3}")]);
    }
    t.print();
    let excess = r.dists[2].median_ns as i64 - r.dists[1].median_ns as i64;
    println!();
    println!("bookkeeping excess over kernel-raw: {excess} ns per pair; one step at a time (raw pair + step):");
    let mut t = table::new(&["step", "median ns", "excess ns", "what"], &[1, 2]);
    for st in &r.steps {
        t.row([
            st.name.to_string(),
            st.median_ns.to_string(),
            st.excess_ns.to_string(),
            st.what.to_string(),
        ]);
    }
    t.row([
        "sum".to_string(),
        String::new(),
        steps_sum(&r.steps).to_string(),
        format!("netns + permission + clock+creator + table (vs {excess} measured together)"),
    ]);
    t.print();
}

/// At most this many labelled ticks on the plot's time axis.
const MAX_TICKS: usize = 7;

/// Tick values of a log axis over `lo..=hi`: the finest of 1-9, 1-2-3-5-7, 1-2-5, 1-3, 1 per
/// decade (then 1 every other decade, ...) that gives at most `MAX_TICKS` ticks, none closer to
/// its neighbour than a twentieth of the axis (labels would overlap). Empty if even the finest
/// has no tick in the range.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return Vec::new();
    }
    let ticks = |mantissas: &[f64], every: i32| -> Vec<f64> {
        let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (first..=last)
            .filter(|e| e.rem_euclid(every) == 0)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            // Rounded to 3 significant digits: 2 * 10^-1 is 0.2 and not 0.20000000000000004.
            .map(|v| sig3(v).parse::<f64>().unwrap_or(v))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let min_gap = (hi / lo).log10() / 20.0;
    let readable =
        |t: &[f64]| t.len() <= MAX_TICKS && t.windows(2).all(|w| (w[1] / w[0]).log10() >= min_gap);
    let sets: [&[f64]; 5] = [
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        &[1.0, 2.0, 3.0, 5.0, 7.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 3.0],
        &[1.0],
    ];
    for set in sets {
        let t = ticks(set, 1);
        if readable(&t) {
            return t;
        }
    }
    (2..)
        .map(|every| ticks(&[1.0], every))
        .find(|t| readable(t))
        .unwrap_or_default()
}

/// A tick label: at most 3 significant digits, no trailing zeros (`0.5`, `12.3`, `250`).
pub fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let scale = 10f64.powi(v.abs().log10().floor() as i32 - 2);
    let rounded = (v / scale).round() * scale;
    let s = format!("{rounded:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An SVG of the four distributions as cumulative curves over a log time axis in µs.
pub fn plot(r: &BenchResult, path: &str) -> Result<(), String> {
    use plotters::coord::combinators::BindKeyPoints;
    use plotters::prelude::*;
    let us = |ns: u64| ns.max(1) as f64 / 1e3;
    let lo = r.dists.iter().map(|d| d.min_ns).min().map_or(0.001, us);
    let hi = r.dists.iter().map(|d| d.p99_ns).max().map_or(0.002, us) * 1.5;
    // Ticks inside the range, or its ends when it spans less than one 1-2-5 step.
    let mut ticks = log_ticks(lo, hi);
    if ticks.len() < 2 {
        ticks = vec![lo, hi];
    }
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "create+release: cumulative distribution per path (one run)",
            ("sans-serif", 20),
        )
        .margin(12)
        .margin_right(30)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale().with_key_points(ticks), 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("µs per create+release (log scale)")
        .y_desc("fraction of operations")
        .x_label_formatter(&|v| sig3(*v))
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.1}"))
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
            .map(|(k, &s)| (us(s), (k + 1) as f64 / n))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!("{} (median {} µs)", d.name, sig3(us(d.median_ns))))
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

    #[test]
    fn tick_labels_have_three_significant_digits() {
        assert_eq!(sig3(0.5), "0.5");
        assert_eq!(sig3(12.34), "12.3");
        assert_eq!(sig3(250.0), "250");
        assert_eq!(sig3(1234.0), "1230");
        assert_eq!(sig3(0.012345), "0.0123");
        assert_eq!(sig3(9.996), "10");
        assert_eq!(sig3(2.0), "2");
    }

    #[test]
    fn log_ticks_are_few_and_round() {
        assert_eq!(log_ticks(4.2, 160.0), vec![5.0, 10.0, 20.0, 50.0, 100.0]);
        assert_eq!(
            log_ticks(0.15, 3.0),
            vec![0.2, 0.3, 0.5, 0.7, 1.0, 2.0, 3.0]
        );
        // Less than a decade: every integer, still apart.
        assert_eq!(log_ticks(5.4, 14.7), vec![6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(
            log_ticks(1.0, 1000.0),
            vec![1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
        );
        // Wide ranges fall back to powers of ten, then to every other one.
        assert_eq!(
            log_ticks(1.0, 20_000.0),
            vec![1.0, 10.0, 100.0, 1000.0, 10_000.0]
        );
        let t = log_ticks(1e-3, 1e9);
        assert!(t.len() <= MAX_TICKS && t.len() >= 3, "{t:?}");
        assert!(log_ticks(5.5, 5.9).is_empty());
        assert!(log_ticks(0.0, 7.0).is_empty());
    }

    #[test]
    fn plot_labels_the_axis_in_microseconds() {
        let r = BenchResult {
            family: 2,
            sock_type: 2,
            protocol: 17,
            dists: vec![
                dist("syscall", "", (9000..60_000).step_by(50).collect()),
                dist("kernel-raw", "", (4000..50_000).step_by(50).collect()),
                dist(
                    "kernel-bookkeeping",
                    "",
                    (7000..55_000).step_by(50).collect(),
                ),
                dist("ioctl", "", (9300..58_000).step_by(50).collect()),
            ],
            ratios: vec![],
            bookkeeping_over_raw: 1.0,
            steps: vec![],
        };
        let path = std::env::temp_dir().join(format!("bench-plot-{}.svg", std::process::id()));
        let path = path.to_str().unwrap();
        plot(&r, path).unwrap();
        let svg = std::fs::read_to_string(path).unwrap();
        let _ = std::fs::remove_file(path);
        assert!(svg.contains("µs per create+release"));
        let texts: Vec<&str> = svg
            .split("</text>")
            .filter_map(|t| Some(t.rsplit_once('>')?.1.trim()))
            .collect();
        for label in ["5", "10", "20", "50"] {
            assert!(texts.contains(&label), "tick {label} missing: {texts:?}");
        }
        assert!(texts.contains(&"syscall (median 34.5 µs)"), "{texts:?}");
    }

    #[test]
    fn errors_say_which_side_failed() {
        let user = BenchError::Socket {
            family: libc::AF_INET,
            sock_type: libc::SOCK_RAW,
            protocol: 1,
            errno: Errno::EPERM,
        }
        .to_string();
        assert!(
            user.starts_with("userspace socket(inet, raw, 1) failed: EPERM"),
            "{user}"
        );
        assert!(user.contains("the module was not involved"), "{user}");
        let module = BenchError::Module {
            ioctl: "RSM_IOC_BENCH",
            errno: Errno::EPERM,
        }
        .to_string();
        assert_eq!(
            module,
            "the module refused RSM_IOC_BENCH: EPERM: Operation not permitted"
        );
    }
}
