//! `scale`: what create+release costs with few versus many live sockets, and a full read of a
//! report with that many. A benchmark: it prints figures and ratios taken in one run and
//! asserts only correctness (counts), never times.

use crate::device::{Device, Netns};
use std::io::Read;
use std::time::Instant;

pub struct ScaleResult {
    pub small_live: usize,
    pub big_live: usize,
    pub pair_ns_small: f64,
    pub pair_ns_big: f64,
    pub read_ms: f64,
    pub read_bytes: usize,
    pub read_lines: usize,
    /// Unreclaimable kernel memory (`SUnreclaim`, kB: slab and large kmalloc) before the read,
    /// and its largest rise seen at samples taken while the read was under way.
    pub sunreclaim_kb_before: u64,
    pub sunreclaim_kb_rise: i64,
}

/// `SUnreclaim` of /proc/meminfo, in kB.
fn sunreclaim_kb() -> Result<u64, String> {
    let m = std::fs::read_to_string("/proc/meminfo").map_err(|e| format!("/proc/meminfo: {e}"))?;
    parse_meminfo_kb(&m, "SUnreclaim").ok_or_else(|| "/proc/meminfo has no SUnreclaim".into())
}

fn parse_meminfo_kb(meminfo: &str, field: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Reads the whole report through one descriptor in 64 KiB reads; samples `SUnreclaim` at
/// every 1 MiB read and at the end (the descriptor open), so a report built up in kernel memory
/// would show as a rise of its size. Returns the text and the largest rise (kB).
fn read_report(path: &str, before_kb: u64) -> Result<(Vec<u8>, i64), String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let (mut text, mut buf) = (Vec::new(), vec![0u8; 64 << 10]);
    let mut rise = i64::MIN;
    loop {
        let n = f.read(&mut buf).map_err(|e| format!("read {path}: {e}"))?;
        if n == 0 {
            break;
        }
        let mib_before = text.len() >> 20;
        text.extend_from_slice(&buf[..n]);
        if text.len() >> 20 != mib_before {
            rise = rise.max(sunreclaim_kb()? as i64 - before_kb as i64);
        }
    }
    // Once more at the end of the report, the descriptor (and its read state) still open.
    rise = rise.max(sunreclaim_kb()? as i64 - before_kb as i64);
    Ok((text, rise))
}

/// Median per-pair cost (ns) of `rounds` rounds of `pairs` create+release pairs.
fn pairs_cost(dev: &Device, pairs: usize, rounds: usize) -> Result<f64, String> {
    let mut per_round = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        for _ in 0..pairs {
            let c = dev.create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false).map_err(|e| format!("create: {e}"))?;
            dev.release(c.id).map_err(|e| format!("release: {e}"))?;
        }
        per_round.push(t0.elapsed().as_nanos() as f64 / pairs as f64);
    }
    per_round.sort_by(f64::total_cmp);
    Ok(per_round[rounds / 2])
}

fn fill_to(dev: &Device, ids: &mut Vec<u64>, n: usize) -> Result<(), String> {
    while ids.len() < n {
        let c = dev.create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false)
            .map_err(|e| format!("create #{}: {e} (raise max_sockets?)", ids.len()))?;
        ids.push(c.id);
    }
    Ok(())
}

pub fn run(dev: &Device, path: &str, small: usize, big: usize, pairs: usize, rounds: usize) -> Result<ScaleResult, String> {
    let base = dev.totals().map_err(|e| e.to_string())?.live as usize;
    let mut ids = Vec::new();
    fill_to(dev, &mut ids, small)?;
    // Alternate small / big measurements so drift on a shared machine hits both alike.
    let small_1 = pairs_cost(dev, pairs, rounds)?;
    fill_to(dev, &mut ids, big)?;
    let big_1 = pairs_cost(dev, pairs, rounds)?;
    let sunreclaim_kb_before = sunreclaim_kb()?;
    let t0 = Instant::now();
    let (text, sunreclaim_kb_rise) = read_report(path, sunreclaim_kb_before)?;
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;
    let read_lines = text.split(|&b| b == b'\n').filter(|l| l.starts_with(b"socket ")).count();
    for id in ids.drain(small..) {
        dev.release(id).map_err(|e| format!("release: {e}"))?;
    }
    let small_2 = pairs_cost(dev, pairs, rounds)?;
    for id in ids.drain(..) {
        dev.release(id).map_err(|e| format!("release: {e}"))?;
    }
    let live = dev.totals().map_err(|e| e.to_string())?.live as usize;
    if read_lines != big + base {
        return Err(format!("report listed {read_lines} sockets, {} were live", big + base));
    }
    if live != base {
        return Err(format!("{live} sockets live after the run, {base} before"));
    }
    Ok(ScaleResult {
        small_live: small,
        big_live: big,
        pair_ns_small: (small_1 + small_2) / 2.0,
        pair_ns_big: big_1,
        read_ms,
        read_bytes: text.len(),
        read_lines,
        sunreclaim_kb_before,
        sunreclaim_kb_rise,
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
