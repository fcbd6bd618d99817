//! `scale`: what create+release costs with few versus many live sockets, and a full read of a
//! report with that many. A benchmark: it prints figures and ratios taken in one run and
//! asserts only correctness (counts), never times.

use crate::device::{Device, Netns};
use crate::table;
use serde::Serialize;
use std::io::Read;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct ScaleResult {
    pub small_live: usize,
    pub big_live: usize,
    pub pair_ns_small: f64,
    pub pair_ns_big: f64,
    /// pair_ns_big / pair_ns_small.
    pub ratio_big_over_small: f64,
    pub read_ms: f64,
    pub read_bytes: usize,
    pub read_lines: usize,
    /// Unreclaimable kernel memory (`SUnreclaim`, kB: slab and large kmalloc) before the read,
    /// and its largest rise seen at samples taken while the read was under way.
    pub sunreclaim_kb_before: u64,
    pub sunreclaim_kb_rise: i64,
}

/// The human-readable figures: the two cases as a table, the ratio, the report's read.
pub fn print(r: &ScaleResult, pairs: usize, rounds: usize) {
    println!(
        "scale: create+release pair, median of {ALTERNATIONS} x {rounds} rounds x {pairs} pairs, alternating between the two sizes:"
    );
    let mut t = table::new(&["live sockets", "ns per pair"], &[0, 1]);
    t.row([r.small_live.to_string(), format!("{:.0}", r.pair_ns_small)]);
    t.row([r.big_live.to_string(), format!("{:.0}", r.pair_ns_big)]);
    t.print();
    println!("scale: ratio big/small = {:.3}", r.ratio_big_over_small);
    println!(
        "scale: full read of the report with {} sockets: {} bytes, {} socket lines, {:.1} ms",
        r.big_live, r.read_bytes, r.read_lines, r.read_ms
    );
    println!(
        "scale: kernel memory during that read (SUnreclaim, sampled every 256 KiB read): {} kB before, at most {:+} kB while reading{}",
        r.sunreclaim_kb_before,
        r.sunreclaim_kb_rise,
        if r.sunreclaim_kb_rise > 0 {
            format!(
                "; report size / largest rise = {:.0}",
                r.read_bytes as f64 / 1024.0 / r.sunreclaim_kb_rise as f64
            )
        } else {
            String::new()
        }
    );
}

/// `SUnreclaim` of /proc/meminfo, in kB, after folding the per-CPU counter deltas into it
/// (reading /proc/sys/vm/stat_refresh does so, for root; without it a rise of up to the
/// per-CPU threshold would not show yet).
fn sunreclaim_kb() -> Result<u64, String> {
    let _ = std::fs::read("/proc/sys/vm/stat_refresh");
    let m = std::fs::read_to_string("/proc/meminfo").map_err(|e| format!("/proc/meminfo: {e}"))?;
    parse_meminfo_kb(&m, "SUnreclaim").ok_or_else(|| "/proc/meminfo has no SUnreclaim".into())
}

fn parse_meminfo_kb(meminfo: &str, field: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// A full read of the report, and what it cost.
struct ReportRead {
    text: Vec<u8>,
    /// Time in open and read (and the copy into `text`), not in the memory samples.
    ms: f64,
    sunreclaim_kb_before: u64,
    sunreclaim_kb_rise: i64,
}

/// Reads the whole report through one descriptor in 64 KiB reads; samples `SUnreclaim` before,
/// at every 256 KiB read and at the end (the descriptor open), so a report built up in kernel
/// memory would show as a rise of its size. The samples (each a stat_refresh, which runs work
/// on every CPU) are left out of the read's time.
fn read_report(path: &str) -> Result<ReportRead, String> {
    let before = sunreclaim_kb()?;
    let rise_now = || -> Result<i64, String> { Ok(sunreclaim_kb()? as i64 - before as i64) };
    let t0 = Instant::now();
    let mut f = std::fs::File::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let mut reading = t0.elapsed();
    let (mut text, mut buf) = (Vec::new(), vec![0u8; 64 << 10]);
    let mut rise = i64::MIN;
    loop {
        let t = Instant::now();
        let n = f.read(&mut buf).map_err(|e| format!("read {path}: {e}"))?;
        let step_before = text.len() >> 18;
        text.extend_from_slice(&buf[..n]);
        reading += t.elapsed();
        if n == 0 {
            break;
        }
        if text.len() >> 18 != step_before {
            rise = rise.max(rise_now()?);
        }
    }
    // Once more at the end of the report, the descriptor (and its read state) still open.
    rise = rise.max(rise_now()?);
    Ok(ReportRead {
        text,
        ms: reading.as_secs_f64() * 1e3,
        sunreclaim_kb_before: before,
        sunreclaim_kb_rise: rise,
    })
}

/// Per-pair cost (ns) of each of `rounds` rounds of `pairs` create+release pairs.
fn pair_rounds(dev: &Device, pairs: usize, rounds: usize) -> Result<Vec<f64>, String> {
    let mut per_round = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        for _ in 0..pairs {
            let c = dev
                .create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false)
                .map_err(|e| format!("create: {e}"))?;
            dev.release(c.id).map_err(|e| format!("release: {e}"))?;
        }
        per_round.push(t0.elapsed().as_nanos() as f64 / pairs as f64);
    }
    Ok(per_round)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Creates UDP kernel sockets in the caller's netns until `ids` holds `n`.
pub fn fill_to(dev: &Device, ids: &mut Vec<u64>, n: usize) -> Result<(), String> {
    while ids.len() < n {
        let c = dev
            .create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false)
            .map_err(|e| format!("create #{}: {e} (raise max_sockets?)", ids.len()))?;
        ids.push(c.id);
    }
    Ok(())
}

/// How many times `run` goes from `small` to `big` live sockets and back.
pub const ALTERNATIONS: usize = 3;

/// Alternates between `small` and `big` live sockets `ALTERNATIONS` times (drift on a shared
/// machine then hits both cases alike), timing `rounds` rounds of pairs at each; the medians
/// over all rounds count. The report is read once, at `big`.
pub fn run(
    dev: &Device,
    path: &str,
    small: usize,
    big: usize,
    pairs: usize,
    rounds: usize,
) -> Result<ScaleResult, String> {
    let base = dev.totals().map_err(|e| e.to_string())?.live as usize;
    let mut ids = Vec::new();
    let (mut small_rounds, mut big_rounds) = (Vec::new(), Vec::new());
    let mut read = None;
    for _ in 0..ALTERNATIONS {
        fill_to(dev, &mut ids, small)?;
        small_rounds.extend(pair_rounds(dev, pairs, rounds)?);
        fill_to(dev, &mut ids, big)?;
        big_rounds.extend(pair_rounds(dev, pairs, rounds)?);
        if read.is_none() {
            read = Some(read_report(path)?);
        }
        for id in ids.drain(small..) {
            dev.release(id).map_err(|e| format!("release: {e}"))?;
        }
    }
    let read = read.ok_or("no read")?;
    let read_lines = read
        .text
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"socket "))
        .count();
    for id in ids.drain(..) {
        dev.release(id).map_err(|e| format!("release: {e}"))?;
    }
    let live = dev.totals().map_err(|e| e.to_string())?.live as usize;
    if read_lines != big + base {
        return Err(format!(
            "report listed {read_lines} sockets, {} were live",
            big + base
        ));
    }
    if live != base {
        return Err(format!("{live} sockets live after the run, {base} before"));
    }
    let (pair_ns_small, pair_ns_big) = (median(small_rounds), median(big_rounds));
    Ok(ScaleResult {
        small_live: small,
        big_live: big,
        ratio_big_over_small: pair_ns_big / pair_ns_small,
        pair_ns_small,
        pair_ns_big,
        read_ms: read.ms,
        read_bytes: read.text.len(),
        read_lines,
        sunreclaim_kb_before: read.sunreclaim_kb_before,
        sunreclaim_kb_rise: read.sunreclaim_kb_rise,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_meminfo_kb;

    #[test]
    fn meminfo_fields() {
        let m = "MemTotal:        4014496 kB\nSReclaimable:      11832 kB\nSUnreclaim:        38640 kB\n";
        assert_eq!(parse_meminfo_kb(m, "SUnreclaim"), Some(38640));
        assert_eq!(parse_meminfo_kb(m, "MemTotal"), Some(4014496));
        assert_eq!(parse_meminfo_kb(m, "Slab"), None);
        assert_eq!(parse_meminfo_kb("SUnreclaim: x kB\n", "SUnreclaim"), None);
    }
}
