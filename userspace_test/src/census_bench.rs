//! `census-bench`: what the kernel socket census costs. Rounds alternate census off and on
//! (the same loops, in one run), so that the ratios compare like with like on a noisy machine:
//! `socket()+close()` in userspace (every socket on the host passes the probes) and the
//! module's raw `sock_create_kern()+sock_release()` loop (`RSM_IOC_BENCH`, `RSM_BENCH_RAW`,
//! every socket a kernel socket the census records and forgets). With `--bpftrace SCRIPT`, a
//! third state in every round: the census off and a bpftrace process running SCRIPT (the peer
//! a user would reach for, keeping its own table of kernel sockets), started for the round and
//! stopped after it; its own count of the kernel sockets it recorded must cover the kernel
//! loop's, or the round is refused. Prints medians and ratios; asserts nothing about time.

use crate::bench::{kernel_loop, user_loop, BenchError};
use crate::device::Device;
use crate::shared::uapi_bench::RSM_BENCH_RAW;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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
    /// The bpftrace peer's rounds, with `--bpftrace`.
    pub bpftrace: Option<Peer>,
}

/// What the bpftrace peer cost, and what it recorded.
#[derive(Debug, Serialize)]
pub struct Peer {
    /// `bpftrace --version`.
    pub version: String,
    /// Medians in ns with bpftrace running (census off).
    pub syscall_ns: u64,
    pub kernel_ns: u64,
    /// `census_on_over_off.bpftrace_syscall` and `bpftrace_kernel`: bpftrace's median over the
    /// same loop's median with neither.
    pub syscall_on_over_off: f64,
    pub kernel_on_over_off: f64,
    /// Kernel sockets bpftrace's table recorded and removed, over every round (`@created`,
    /// `@destroyed` of the script).
    pub created: u64,
    pub destroyed: u64,
}

/// How long bpftrace may take to compile and attach its script (seconds; TCG is slow).
const PEER_ATTACH_SECS: u64 = 600;

/// A running bpftrace process, attached.
struct PeerRun {
    child: Child,
    lines: mpsc::Receiver<String>,
}

/// Reads `r` to its end in a thread (a pipe left unread could fill and stop bpftrace).
fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// The line the script's BEGIN probe prints: bpftrace runs BEGIN once every probe is attached
/// (its own "Attaching N probes..." comes before the attaching).
const PEER_READY: &str = "census-peer: attached";

/// Starts `bpftrace SCRIPT` and waits until its probes are attached.
fn peer_start(script: &Path) -> Result<PeerRun, BenchError> {
    let mut child = Command::new("bpftrace")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BenchError::Usage(format!("bpftrace: cannot start it: {e}")))?;
    let err = child.stderr.take().map(drain);
    let (tx, lines) = mpsc::channel();
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BenchError::Usage("bpftrace: no stdout".into()))?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        match lines.recv_timeout(Duration::from_secs(PEER_ATTACH_SECS)) {
            Ok(l) if l == PEER_READY => return Ok(PeerRun { child, lines }),
            Ok(_) => continue,
            Err(_) => {
                // Ended (the channel closed) or did not attach in time: say what it said.
                let _ = child.kill();
                let _ = child.wait();
                let err = err.and_then(|h| h.join().ok()).unwrap_or_default();
                let first = err
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("no message");
                return Err(BenchError::Usage(format!(
                    "bpftrace did not attach {}: {first}",
                    script.display()
                )));
            }
        }
    }
}

/// Stops bpftrace (SIGINT: its END block runs and it prints its counters) and returns
/// `@created` and `@destroyed`.
fn peer_stop(mut p: PeerRun) -> Result<(u64, u64), BenchError> {
    let pid = nix::unistd::Pid::from_raw(p.child.id() as i32);
    // SIGINT again every 5 s: bpftrace 0.17 can miss one that lands between its epoll waits.
    let mut status = None;
    for _ in 0..12 {
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT)
            .map_err(|e| BenchError::Usage(format!("bpftrace: SIGINT: {e}")))?;
        for _ in 0..50 {
            status = p
                .child
                .try_wait()
                .map_err(|e| BenchError::Usage(format!("bpftrace: wait: {e}")))?;
            if status.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if status.is_some() {
            break;
        }
    }
    let Some(status) = status else {
        let _ = p.child.kill();
        let _ = p.child.wait();
        return Err(BenchError::Usage(
            "bpftrace did not stop within 60 s of SIGINT".into(),
        ));
    };
    let mut lines = Vec::new();
    while let Ok(l) = p.lines.recv_timeout(Duration::from_secs(30)) {
        lines.push(l);
    }
    peer_counters(&lines).ok_or_else(|| {
        BenchError::Usage(format!(
            "bpftrace ({status}) printed no @created/@destroyed counters"
        ))
    })
}

/// `@created` and `@destroyed` from what census-peer.bt printed when it stopped (bpftrace
/// prints every map at exit); None when either is missing or not a number.
fn peer_counters(lines: &[String]) -> Option<(u64, u64)> {
    let num = |k: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(k).and_then(|v| v.trim().parse::<u64>().ok()))
    };
    Some((num("@created:")?, num("@destroyed:")?))
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

/// Refuses a bpftrace run that did not record and remove all `n` kernel sockets made under it:
/// its cost would not be that of keeping the census's table.
fn peer_covers(script: &Path, (c, d): (u64, u64), n: usize) -> Result<(), BenchError> {
    if c < n as u64 || d < n as u64 {
        return Err(BenchError::Usage(format!(
            "bpftrace recorded {c} and removed {d} of {n} kernel sockets: \
             {} does not keep the census's table",
            script.display()
        )));
    }
    Ok(())
}

/// Kernel sockets the gate check makes, and user sockets it makes apart.
const PEER_CHECK: usize = 50;

/// Checks that the script records kernel sockets and only them: one bpftrace run around
/// `PEER_CHECK` kernel sockets must have recorded and removed them all, another around as many
/// user sockets must have recorded fewer than half as many (a few kernel sockets of the host's
/// own may come and go).
fn peer_check(
    dev: &Device,
    script: &Path,
    (af, ty, proto): (i32, i32, i32),
) -> Result<(), BenchError> {
    let p = peer_start(script)?;
    kernel_loop(dev, af, ty, proto, RSM_BENCH_RAW, PEER_CHECK)?;
    peer_covers(script, peer_stop(p)?, PEER_CHECK)?;
    let p = peer_start(script)?;
    user_loop(af, ty, proto, PEER_CHECK)?;
    let (c, _) = peer_stop(p)?;
    if c >= PEER_CHECK as u64 / 2 {
        return Err(BenchError::Usage(format!(
            "bpftrace recorded {c} sockets while {PEER_CHECK} user sockets came and went: \
             {} records more than kernel sockets",
            script.display()
        )));
    }
    Ok(())
}

/// The `bpftrace --version` line.
fn peer_version() -> Result<String, BenchError> {
    let out = Command::new("bpftrace")
        .arg("--version")
        .output()
        .map_err(|e| BenchError::Usage(format!("bpftrace: cannot start it: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn run(
    dev: &Device,
    iterations: usize,
    rounds: usize,
    bpftrace: Option<&Path>,
) -> Result<CensusBench, BenchError> {
    if iterations == 0 || rounds == 0 {
        return Err(BenchError::Usage(
            "--iterations and --rounds must be > 0".into(),
        ));
    }
    let (af, ty, proto) = (libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_UDP);
    // States: 0 neither, 1 the census, 2 bpftrace (census off).
    let states = if bpftrace.is_some() { 3 } else { 2 };
    let mut sys: [Vec<u64>; 3] = Default::default();
    let mut ker: [Vec<u64>; 3] = Default::default();
    let mut memory = (0, 0);
    let (mut created, mut destroyed) = (0, 0);
    let toggle = |on: bool| {
        dev.census(on).map_err(|errno| BenchError::Module {
            ioctl: "RSM_IOC_CENSUS",
            errno,
        })
    };
    if let Some(script) = bpftrace {
        peer_check(dev, script, (af, ty, proto))?;
    }
    for r in 0..rounds {
        // Each state starts a round in turn: none always runs warm.
        for k in (0..states).map(|i| (i + r) % states) {
            toggle(k == 1)?;
            let peer = match (k, bpftrace) {
                (2, Some(script)) => Some(peer_start(script)?),
                _ => None,
            };
            sys[k].extend(user_loop(af, ty, proto, iterations)?);
            ker[k].extend(kernel_loop(dev, af, ty, proto, RSM_BENCH_RAW, iterations)?);
            if k == 1 {
                memory = census_memory(dev)?;
            }
            if let (Some(p), Some(script)) = (peer, bpftrace) {
                let (c, d) = peer_stop(p)?;
                peer_covers(script, (c, d), iterations)?;
                created += c;
                destroyed += d;
            }
        }
    }
    toggle(false)?;
    // The medians of each state (a state not measured has none: 0).
    let [s0, s1, s2] = sys.map(|v| if v.is_empty() { 0 } else { median(v) });
    let [k0, k1, k2] = ker.map(|v| if v.is_empty() { 0 } else { median(v) });
    let peer = match bpftrace {
        Some(_) => Some(Peer {
            version: peer_version()?,
            syscall_ns: s2,
            kernel_ns: k2,
            syscall_on_over_off: s2 as f64 / s0.max(1) as f64,
            kernel_on_over_off: k2 as f64 / k0.max(1) as f64,
            created,
            destroyed,
        }),
        None => None,
    };
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
        bpftrace: peer,
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
    if let Some(p) = &r.bpftrace {
        t.row([
            format!("socket()+close(), {} instead", p.version),
            r.syscall_ns[0].to_string(),
            p.syscall_ns.to_string(),
            format!("{:.3}", p.syscall_on_over_off),
        ]);
        t.row([
            format!("sock_create_kern()+sock_release(), {} instead", p.version),
            r.kernel_ns[0].to_string(),
            p.kernel_ns.to_string(),
            format!("{:.3}", p.kernel_on_over_off),
        ]);
    }
    t.print_indented("  ");
    if let Some(p) = &r.bpftrace {
        println!(
            "bpftrace's table: {} kernel sockets recorded, {} removed",
            p.created, p.destroyed
        );
    }
    println!(
        "census memory: {} bytes for room for {} sockets ({:.1} bytes per entry, preallocated)",
        r.memory_bytes, r.max, r.bytes_per_entry
    );
}

#[cfg(test)]
mod tests {
    use super::peer_counters;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(String::from).collect()
    }

    #[test]
    fn the_peers_counters_are_read_from_its_exit_output() {
        let out = lines("\n\n@created: 2003\n\n@destroyed: 2001\n\n");
        assert_eq!(peer_counters(&out), Some((2003, 2001)));
    }

    #[test]
    fn output_without_both_counters_gives_none() {
        assert_eq!(peer_counters(&lines("\n@destroyed: 5\n")), None);
        assert_eq!(peer_counters(&lines("Attaching 5 probes...\n")), None);
        assert_eq!(
            peer_counters(&lines("@created: many\n@destroyed: 1\n")),
            None
        );
    }
}
