//! `netns-exit`: how long the module's netns teardown hook (`.pre_exit`) takes for a namespace
//! with one kernel socket, depending on how many other kernel sockets are live. For each size S
//! (small, then big) the module holds S sockets in the caller's netns; then, each round, a fresh
//! netns that only this program references gets one kernel socket through the device, its last
//! reference is dropped, and once the module has counted the socket released by netns exit the
//! report's `netns ... exit_last_ns= exit_last_sockets=` gives the hook's duration (after one
//! uncounted warm-up teardown). A benchmark: it asserts only that each teardown released exactly
//! the one socket.

use crate::device::{Device, Netns};
use crate::error::Error;
use crate::figures::{self, Series};
use crate::{report, scale, sys, table};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// One teardown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Teardown {
    /// The hook's duration (the report's `exit_last_ns`).
    pub exit_ns: u64,
    /// From dropping the netns's last reference until the module counted its socket released.
    pub dismantle_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetnsExitResult {
    pub small: usize,
    pub big: usize,
    pub rounds: usize,
    pub small_rounds: Vec<Teardown>,
    pub big_rounds: Vec<Teardown>,
}

fn exit_ns(rounds: &[Teardown]) -> Series {
    figures::series(rounds.iter().map(|t| t.exit_ns as f64).collect())
}

fn dismantle_ms(rounds: &[Teardown]) -> Series {
    figures::series(rounds.iter().map(|t| t.dismantle_ms).collect())
}

impl NetnsExitResult {
    /// median(big) / median(small) of the hook's duration.
    pub fn big_over_small(&self) -> Option<f64> {
        figures::ratio(
            exit_ns(&self.big_rounds).median,
            exit_ns(&self.small_rounds).median,
        )
    }

    /// The `--json` form: `small`, `big`, `median_ns`, `netns_exit_big_over_small`, and the
    /// rounds behind them.
    pub fn to_json(&self) -> serde_json::Value {
        let (s, b) = (exit_ns(&self.small_rounds), exit_ns(&self.big_rounds));
        serde_json::json!({
            "small": self.small,
            "big": self.big,
            "rounds": self.rounds,
            "median_ns": {"small": s.median, "big": b.median},
            "min_ns": {"small": s.min, "big": b.min},
            "max_ns": {"small": s.max, "big": b.max},
            "samples_ns": {"small": s.values, "big": b.values},
            "dismantle_ms_median": {
                "small": dismantle_ms(&self.small_rounds).median,
                "big": dismantle_ms(&self.big_rounds).median,
            },
            "netns_exit_big_over_small": self.big_over_small(),
        })
    }
}

pub fn print(r: &NetnsExitResult) {
    println!(
        "netns-exit: the module's .pre_exit hook for a netns with 1 kernel socket, {} rounds per size (report: exit_last_ns):",
        r.rounds
    );
    let mut t = table::new(
        &[
            "other live sockets",
            "median ns",
            "min ns",
            "max ns",
            "dismantled after (median ms)",
        ],
        &[0, 1, 2, 3, 4],
    );
    for (live, rounds) in [(r.small, &r.small_rounds), (r.big, &r.big_rounds)] {
        let s = exit_ns(rounds);
        t.row([
            live.to_string(),
            figures::cell(s.median, 0),
            figures::cell(s.min, 0),
            figures::cell(s.max, 0),
            figures::cell(dismantle_ms(rounds).median, 0),
        ]);
    }
    t.print();
    println!(
        "netns_exit_big_over_small {} (median with {} / with {} other live sockets)",
        figures::cell(r.big_over_small(), 3),
        r.big,
        r.small
    );
}

fn netns_line(dev: &Device) -> Result<report::NetnsLine, Error> {
    let head = dev
        .read_head()
        .map_err(|e| Error::Device(format!("read the report: {e}")))?;
    report::parse_netns(&head).map_err(Error::MalformedReport)
}

fn released_netns_exit(dev: &Device) -> Result<u64, Error> {
    dev.totals()
        .map(|t| t.released_netns_exit)
        .map_err(|e| Error::Refused(format!("RSM_IOC_TOTALS: {e}")))
}

/// One fresh netns with one kernel socket, dismantled; the hook's figures.
fn one_teardown(dev: &Device, timeout: Duration) -> Result<Teardown, Error> {
    let before = released_netns_exit(dev)?;
    let prev = netns_line(dev)?;
    // Only this descriptor references the new netns (the process is back in its own).
    let ns = sys::fresh_netns().map_err(Error::Environment)?;
    let c = dev
        .create(
            libc::AF_INET,
            libc::SOCK_DGRAM,
            0,
            Netns::Fd(ns.as_raw_fd()),
            false,
        )
        .map_err(|e| Error::Refused(format!("create in a fresh netns: {e} ({})", e.desc())))?;
    drop(ns);
    let t0 = Instant::now();
    loop {
        let now = released_netns_exit(dev)?;
        if now == before + 1 {
            break;
        }
        if now > before + 1 {
            return Err(Error::Failed(format!(
                    "released_netns_exit rose by {} for one netns with one socket (another teardown at the same time?)",
                    now - before
                )));
        }
        if t0.elapsed() > timeout {
            return Err(Error::Failed(format!(
                    "the netns of socket {} (inode {}) was not dismantled within {} s: released_netns_exit stayed at {now} (does something else hold the namespace?)",
                    c.id,
                    c.netns_inode,
                    timeout.as_secs()
                )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let dismantle_ms = t0.elapsed().as_secs_f64() * 1e3;
    // The hook counts the socket released before it releases it and then stores its figures:
    // wait (briefly) for them to change from the previous teardown's.
    let t1 = Instant::now();
    let mut line = netns_line(dev)?;
    while (line.exit_last_ns, line.exit_last_sockets) == (prev.exit_last_ns, prev.exit_last_sockets)
        && t1.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(1));
        line = netns_line(dev)?;
    }
    if (line.exit_last_ns, line.exit_last_sockets) == (prev.exit_last_ns, prev.exit_last_sockets) {
        return Err(Error::Failed(format!(
                "the teardown of socket {}'s netns left the report's exit_last_ns at the previous teardown's {} ns for 2 s",
                c.id, line.exit_last_ns
            )));
    }
    check_line(&line)?;
    Ok(Teardown {
        exit_ns: line.exit_last_ns,
        dismantle_ms,
    })
}

/// The figures of a teardown of a netns with one socket.
pub fn check_line(line: &report::NetnsLine) -> Result<(), Error> {
    if line.exit_last_sockets != 1 {
        return Err(Error::Failed(format!(
            "the last netns teardown released {} sockets, expected 1 (exit_last_ns={})",
            line.exit_last_sockets, line.exit_last_ns
        )));
    }
    if line.exit_last_ns == 0 {
        return Err(Error::Failed(
            "the last netns teardown took 0 ns (exit_last_ns not recorded?)".into(),
        ));
    }
    Ok(())
}

fn measure(
    dev: &Device,
    ids: &mut Vec<u64>,
    small: usize,
    big: usize,
    rounds: usize,
    timeout: Duration,
) -> Result<NetnsExitResult, Error> {
    // One teardown first, not counted: the first of a run is slower (cold caches), and would
    // fall on the small size only.
    scale::fill_to(dev, ids, small).map_err(Error::Refused)?;
    one_teardown(dev, timeout)?;
    let mut by_size = Vec::new();
    for size in [small, big] {
        scale::fill_to(dev, ids, size).map_err(Error::Refused)?;
        by_size.push(
            (0..rounds)
                .map(|_| one_teardown(dev, timeout))
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    let big_rounds = by_size.pop().unwrap_or_default();
    let small_rounds = by_size.pop().unwrap_or_default();
    Ok(NetnsExitResult {
        small,
        big,
        rounds,
        small_rounds,
        big_rounds,
    })
}

/// Fills the table to each size in turn and times `rounds` teardowns at each; releases the
/// filler sockets at the end, also after a failure.
pub fn run(
    dev: &Device,
    small: usize,
    big: usize,
    rounds: usize,
    timeout: Duration,
) -> Result<NetnsExitResult, Error> {
    let t = dev
        .totals()
        .map_err(|e| Error::Refused(format!("RSM_IOC_TOTALS: {e}")))?;
    let base = t.live as usize;
    // The fillers, the live ones, and the socket of the netns being dismantled.
    if (base + big + 1) as u64 > t.max_sockets {
        return Err(Error::Refused(format!(
                "--big {big} needs max_sockets >= {} ({base} live now), the module has {}: load it with max_sockets={}",
                base + big + 1,
                t.max_sockets,
                big + 1000
            )));
    }
    let mut ids = Vec::new();
    let r = measure(dev, &mut ids, small, big, rounds, timeout);
    // One ioctl when the fillers are all there is; else by id, sparing other sockets.
    let released = if base == 0 {
        dev.release_all().map(|n| n as usize)
    } else {
        ids.iter()
            .try_fold(0, |n, &id| dev.release(id).map(|k| n + k as usize))
    };
    // A failed measurement is the error to report; the fillers are gone either way.
    let r = r?;
    let released = released.map_err(|e| Error::Refused(format!("release the fillers: {e}")))?;
    let live = dev
        .totals()
        .map_err(|e| Error::Refused(format!("RSM_IOC_TOTALS: {e}")))?
        .live as usize;
    if released != ids.len() || live != base {
        return Err(Error::Failed(format!(
            "released {released} of {} filler sockets; {live} live after the run, {base} before",
            ids.len()
        )));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(ns: &[u64]) -> Vec<Teardown> {
        ns.iter()
            .map(|&exit_ns| Teardown {
                exit_ns,
                dismantle_ms: 20.0,
            })
            .collect()
    }

    #[test]
    fn json_has_the_sizes_medians_and_ratio() {
        let r = NetnsExitResult {
            small: 10,
            big: 100_000,
            rounds: 5,
            small_rounds: rounds(&[9000, 10_000, 11_000, 10_500, 9500]),
            big_rounds: rounds(&[12_000, 15_000, 14_000, 90_000, 13_000]),
        };
        let j = r.to_json();
        assert_eq!(j["small"], 10);
        assert_eq!(j["big"], 100_000);
        assert_eq!(j["median_ns"]["small"], 10_000.0);
        assert_eq!(j["median_ns"]["big"], 14_000.0);
        assert_eq!(j["min_ns"]["big"], 12_000.0);
        assert_eq!(j["max_ns"]["big"], 90_000.0);
        assert_eq!(j["samples_ns"]["small"].as_array().unwrap().len(), 5);
        assert_eq!(j["netns_exit_big_over_small"], 1.4);
        assert_eq!(j["dismantle_ms_median"]["big"], 20.0);
    }

    #[test]
    fn a_ratio_over_zero_is_null() {
        let r = NetnsExitResult {
            small: 1,
            big: 2,
            rounds: 1,
            small_rounds: rounds(&[0]),
            big_rounds: rounds(&[5]),
        };
        assert_eq!(r.big_over_small(), None);
        assert!(r.to_json()["netns_exit_big_over_small"].is_null());
    }

    #[test]
    fn a_teardown_must_release_exactly_one_socket_in_measurable_time() {
        let line = |ns, sockets| report::NetnsLine {
            alive: 2,
            exit_last_ns: ns,
            exit_last_sockets: sockets,
        };
        assert!(check_line(&line(48_000, 1)).is_ok());
        let Error::Failed(msg) = check_line(&line(48_000, 3)).unwrap_err() else {
            panic!("not a failed check");
        };
        assert!(msg.contains("released 3 sockets, expected 1"), "{msg}");
        assert!(check_line(&line(0, 1))
            .unwrap_err()
            .message()
            .contains("0 ns"));
    }
}
