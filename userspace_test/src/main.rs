//! userspace_test: drives /dev/rust_sockmod and compares its sock_create_kern() path with the
//! ordinary socket() system call.

mod bench;
mod census;
mod census_bench;
mod compare;
mod contexts;
mod device;
mod devtest;
mod errnum;
mod error;
mod failnth;
mod figures;
mod fuzz;
mod info;
mod ioc;
mod lifetime;
mod matrix;
mod netns_exit;
mod output;
mod probe;
mod report;
mod scale;
mod shared;
mod stress;
mod sys;
mod table;
mod tap;
mod threads;
mod trace;
mod verdict;

use clap::{Parser, Subcommand};
use device::{Device, Netns, DEFAULT_DEVICE};
use error::Error;
use output::Output;
use shared::names;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failed checks: UNEXPECTED compare rows, lifetime steps not observed, missing trace
     frames, undocumented results (fuzz, failnth, stress), failed devtest checks, a wrong
     probe result, a scale count that does not add up, a netns-exit teardown that
     released other than 1 socket or did not happen in time
  2  usage: bad arguments (clap's message), an unknown family/type/protocol name, a bad
     socket id, probe or bench size
  3  the device is missing or cannot be opened or read (is rust_sockmod loaded? root?)
  4  the device's report is malformed
  5  the module refused the request: its ioctl or text command failed (the errno is printed)
  6  the environment: a bad --netns (missing, not a network namespace), a userspace system
     call that failed (bench's socket(), unshare, fork, ...), output that cannot be written
  7  tracing unavailable (no tracefs, no kprobe events)";

#[derive(Parser)]
#[command(
    version,
    about = "Compare rust_sockmod's kernel-socket path with socket()",
    after_help = EXIT_CODES
)]
struct Cli {
    /// The device.
    #[arg(long, global = true, default_value = DEFAULT_DEVICE)]
    device: String,
    /// Use this inherited descriptor of the device instead of opening --device (its opener's
    /// credentials are what the module judges), in the subcommands that open it once (info,
    /// create, release, reset, ...).
    #[arg(long, global = true, value_name = "FD")]
    device_fd: Option<i32>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Read the device's report and print its header (version, totals, limits).
    Status,
    /// What the module says of one kernel socket (RSM_IOC_INFO): family, type, state, and the
    /// keys that join it to `ss -e` (ino, cookie as sk:, the bound local address).
    Info {
        /// The socket id (from `create` or the report).
        id: u64,
        /// JSON instead of one key=value line.
        #[arg(long)]
        json: bool,
    },
    /// Create one kernel socket through the ioctl interface and print its id.
    Create {
        /// Family: name (inet, inet6, unix, packet, netlink) or number.
        family: String,
        /// Type: name (stream, dgram, raw, seqpacket) or number, with |nonblock / |cloexec.
        #[arg(name = "type")]
        sock_type: String,
        /// Protocol: name (tcp, udp, icmp) or number.
        #[arg(default_value = "0")]
        protocol: String,
        /// Create in the netns of this nsfs file (/proc/PID/ns/net, /run/netns/NAME).
        #[arg(long, conflicts_with = "pid")]
        netns: Option<String>,
        /// Create in the netns of this process.
        #[arg(long)]
        pid: Option<i32>,
        /// The socket pins its netns (sk_net_refcnt_upgrade).
        #[arg(long)]
        hold: bool,
    },
    /// Release a socket by id, or all of them (RSM_IOC_RELEASE); prints how many went.
    Release {
        /// A socket id, or "all".
        id: String,
    },
    /// Zero the statistics: totals but `live`, and the per-key records (RSM_IOC_RESET_STATS).
    Reset,
    /// Benchmark: create+release cost with few vs many live sockets, and a full read of the
    /// report at that size. Prints figures and the ratio; asserts only correctness.
    Scale {
        /// Live sockets for the small case.
        #[arg(long, default_value_t = 10)]
        small: usize,
        /// Live sockets for the big case.
        #[arg(long, default_value_t = 100_000)]
        big: usize,
        /// create+release pairs per round.
        #[arg(long, default_value_t = 2000)]
        pairs: usize,
        /// Rounds per case (the median round counts).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[command(flatten)]
        out: Output,
    },
    /// Benchmark: how long the module's netns teardown hook (.pre_exit) takes for a netns with
    /// one kernel socket, with `small` and with `big` other kernel sockets live (the report's
    /// exit_last_ns). Each round dismantles a fresh netns; exit 1 if a teardown does not
    /// happen within --timeout or releases other than that one socket.
    NetnsExit {
        /// Other live sockets (in the caller's netns) for the small case.
        #[arg(long, default_value_t = 10)]
        small: usize,
        /// Other live sockets for the big case (the module needs max_sockets > big).
        #[arg(long, default_value_t = 100_000)]
        big: usize,
        /// Teardowns per size (the median counts).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Seconds to wait for one netns to be dismantled.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[command(flatten)]
        out: Output,
    },
    /// Benchmark: throughput of create+release pairs (RSM_IOC_BENCH) with N threads against 1,
    /// through the module's full path and the bare kernel loop; each thread has its own
    /// descriptor; rounds interleaved, one run. Prints threadsN_over_threads1 for both.
    Threads {
        /// Family, type, protocol (names or numbers).
        #[arg(default_value = "inet")]
        family: String,
        #[arg(name = "type", default_value = "dgram")]
        sock_type: String,
        #[arg(default_value = "udp")]
        protocol: String,
        /// Threads of the parallel case (compared with 1).
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Pairs per thread and round.
        #[arg(long, default_value_t = 5000)]
        iterations: usize,
        /// Rounds (each: 1 and N threads, both paths; the median counts).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[command(flatten)]
        out: Output,
    },
    /// Run the request matrix through socket() and through the module, in the caller's and a
    /// fresh netns, as root and unprivileged; judge every row. Exit 1 on any UNEXPECTED row.
    Compare {
        #[command(flatten)]
        out: Output,
    },
    /// Show what keeps a network namespace alive: a user socket, a default kernel socket, a
    /// "hold" kernel socket. Exit 1 if any step is not observed.
    Lifetime {
        /// JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Per-operation cost of socket()+close() vs sock_create_kern()+sock_release() (in-kernel
    /// loop, bare and with the module's bookkeeping) vs the ioctl round trip; one run.
    Bench {
        /// Family, type, protocol (names or numbers).
        #[arg(default_value = "inet")]
        family: String,
        #[arg(name = "type", default_value = "dgram")]
        sock_type: String,
        #[arg(default_value = "udp")]
        protocol: String,
        /// Operations per round and path.
        #[arg(long, default_value_t = 10_000)]
        iterations: usize,
        /// Rounds (interleaved across the paths).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Write an SVG plot of the distributions here.
        #[arg(long)]
        svg: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Trace one creation through each path (tracefs function_graph + kprobe stacks) and print
    /// the two call chains side by side. Exit 1 if an expected frame is missing.
    Trace {
        /// JSON instead of the side-by-side chains.
        #[arg(long)]
        json: bool,
        /// Also write the raw tracefs text the chains were read from to this file.
        #[arg(long, value_name = "FILE")]
        raw: Option<std::path::PathBuf>,
        /// Analyse a trace saved by --raw instead of tracing (no device, no tracefs).
        #[arg(long, value_name = "FILE", conflicts_with = "raw")]
        from: Option<std::path::PathBuf>,
    },
    /// Send seeded random and mutated ioctls, text commands and reads to the device; every
    /// call must succeed or return a documented errno. Exit 1 otherwise.
    Fuzz {
        /// The seed (the same seed sends the same inputs).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of inputs.
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Use this already-open descriptor of the device (e.g. one a privileged parent opened).
        #[arg(long)]
        fd: Option<i32>,
        /// Mark this process for fault injection (/proc/self/make-it-fail) before fuzzing, so
        /// failslab / fail_page_alloc with task-filter hit its system calls only.
        #[arg(long)]
        make_it_fail: bool,
        #[arg(long)]
        json: bool,
    },
    /// Systematic allocation failures (/proc/thread-self/fail-nth): each fault point of each
    /// device operation (creates by ioctl and text, report read, open, release) is failed once
    /// in turn; every result must be success or a documented errno, counters must add up and
    /// nothing may stay live. Exit 1 otherwise. Set failslab's ignore-gfp-wait and cache-filter
    /// to N first (debugfs) so that GFP_KERNEL slab allocations count.
    Failnth {
        /// Give up an operation after this many fault points (a safety bound).
        #[arg(long, default_value_t = 500)]
        max_points: u32,
        #[arg(long)]
        json: bool,
    },
    /// Threads creating, releasing, reading and writing text commands at once across the given
    /// namespaces for a bounded time; exit 1 on any error the load does not explain.
    Stress {
        #[arg(long, default_value_t = 4)]
        threads: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// nsfs paths to spread the sockets over (default: the caller's).
        #[arg(long, value_delimiter = ',', default_value = "/proc/self/ns/net")]
        netns: Vec<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Reproductions needing more than a shell (one line each; exit 1 if the module gets it
    /// wrong, 5 if it refuses): `readonly` (ioctl arguments in read-only memory must give
    /// EFAULT and change nothing), `bench` (one 3-pair RSM_IOC_BENCH with --mode).
    Probe {
        /// readonly | bench
        what: String,
        /// For `bench`: the RSM_BENCH_* mode.
        #[arg(long, default_value_t = 0)]
        mode: u32,
        #[arg(default_value = "inet")]
        family: String,
        #[arg(name = "type", default_value = "dgram")]
        sock_type: String,
        #[arg(default_value = "0")]
        protocol: String,
    },
    /// Check the ioctl interface against the real device (TAP output).
    /// The kernel socket census: every kernel socket made since it started, who made it, in
    /// which netns, and the namespaces that linger or are pinned by kernel sockets.
    Census {
        /// `on` or `off`: turn the census on or off (RSM_IOC_CENSUS) instead of showing it.
        #[arg(value_parser = ["on", "off"])]
        action: Option<String>,
        /// Only the sockets and findings of this netns (an nsfs path: /run/netns/NAME,
        /// /proc/PID/ns/net).
        #[arg(long, value_name = "PATH")]
        netns: Option<std::path::PathBuf>,
        #[command(flatten)]
        output: Output,
    },
    /// What the kernel socket census costs: socket()+close() and the module's raw
    /// sock_create_kern()+sock_release() loop with the census off and on, alternating rounds;
    /// ratios of medians (`census_on_over_off`). Leaves the census off.
    CensusBench {
        #[arg(long, default_value_t = 2000)]
        iterations: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[command(flatten)]
        out: Output,
    },
    Devtest {
        /// Other openers use the device at the same time: skip the checks of global counters.
        #[arg(long)]
        shared: bool,
    },
}

/// Runs the subcommand; an error carries its exit code and message.
fn run(cli: Cli) -> Result<(), Error> {
    match cli.cmd {
        Cmd::Status => {
            let text = std::fs::read_to_string(&cli.device).map_err(|e| {
                Error::Device(format!(
                    "cannot read {}: {e} (is rust_sockmod loaded?)",
                    cli.device
                ))
            })?;
            let h = report::parse_header(&text)
                .map_err(|e| Error::MalformedReport(format!("{}: {e}", cli.device)))?;
            println!("rust_sockmod {}", h.version);
            let mut t = table::new(&[], &[1]);
            for (k, v) in &h.totals {
                t.row([k.clone(), v.to_string()]);
            }
            for (k, v) in &h.limits {
                t.row([format!("limit {k}"), v.to_string()]);
            }
            t.print_indented("  ");
            Ok(())
        }
        Cmd::Info { id, json } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let i = info::get(&dev, id)
                .map_err(|e| Error::Refused(format!("info {id}: {e} ({})", e.desc())))?;
            Output::stdout(json).emit(&i, "info", || println!("{}", info::line(&i)))
        }
        Cmd::Create {
            family,
            sock_type,
            protocol,
            netns,
            pid,
            hold,
        } => {
            let (f, ty, p) = parse_request(&family, &sock_type, &protocol)?;
            // A bad --netns is the caller's environment, whatever the device.
            let nsfile = netns
                .as_deref()
                .map(sys::open_netns_arg)
                .transpose()
                .map_err(Error::Environment)?;
            let dev = open_device(&cli.device, cli.device_fd)?;
            let sel = match (&nsfile, pid) {
                (Some(f), _) => Netns::Fd(std::os::fd::AsRawFd::as_raw_fd(f)),
                (None, Some(pid)) => Netns::Pid(pid),
                (None, None) => Netns::Caller,
            };
            let c = dev
                .create(f, ty, p, sel, hold)
                .map_err(|e| Error::Refused(format!("create: {e} ({})", e.desc())))?;
            println!(
                "id={} netns={} latency_ns={}",
                c.id, c.netns_inode, c.latency_ns
            );
            Ok(())
        }
        Cmd::Probe {
            what,
            mode,
            family,
            sock_type,
            protocol,
        } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            match what.as_str() {
                "readonly" => {
                    let (good, lines) = match probe::readonly(&dev) {
                        Ok(l) => (true, l),
                        Err(l) => (false, l),
                    };
                    for l in &lines {
                        println!("{l}");
                    }
                    if good {
                        Ok(())
                    } else {
                        Err(Error::Failed("an ioctl with a read-only argument did not give EFAULT or changed state".into()))
                    }
                }
                "bench" => {
                    let (f, ty, p) = parse_request(&family, &sock_type, &protocol)?;
                    let line = probe::bench(&dev, mode, f, ty, p)
                        .map_err(|e| Error::Refused(format!("bench: {e} ({})", e.desc())))?;
                    println!("{line}");
                    Ok(())
                }
                other => Err(Error::Usage(format!(
                    "unknown probe {other:?} (readonly | bench)"
                ))),
            }
        }
        Cmd::Release { id } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let n = if id == "all" {
                dev.release_all()
            } else {
                let id = id
                    .parse::<u64>()
                    .map_err(|_| Error::Usage(format!("not a socket id: {id:?}")))?;
                dev.release(id)
            }
            .map_err(|e| Error::Refused(format!("release: {e} ({})", e.desc())))?;
            println!("released={n}");
            Ok(())
        }
        Cmd::Reset => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            dev.reset_stats()
                .map_err(|e| Error::Refused(format!("reset: {e} ({})", e.desc())))?;
            println!("statistics reset");
            Ok(())
        }
        Cmd::Scale {
            small,
            big,
            pairs,
            rounds,
            out,
        } => {
            if small == 0 || big <= small || pairs == 0 || rounds == 0 {
                return Err(Error::Usage(
                    "need 0 < small < big, pairs > 0, rounds > 0".into(),
                ));
            }
            let dev = open_device(&cli.device, cli.device_fd)?;
            let r =
                scale::run(&dev, &cli.device, small, big, pairs, rounds).map_err(Error::Failed)?;
            out.emit(&r, "scale", || scale::print(&r, pairs, rounds))
        }
        Cmd::NetnsExit {
            small,
            big,
            rounds,
            timeout,
            out,
        } => {
            if big <= small || rounds == 0 || timeout == 0 {
                return Err(Error::Usage(
                    "need small < big, rounds > 0, timeout > 0".into(),
                ));
            }
            let dev = open_device(&cli.device, cli.device_fd)?;
            let r = netns_exit::run(
                &dev,
                small,
                big,
                rounds,
                std::time::Duration::from_secs(timeout),
            )
            .map_err(|e| e.context("netns-exit"))?;
            out.emit(&r.to_json(), "netns-exit", || netns_exit::print(&r))
        }
        Cmd::Threads {
            family,
            sock_type,
            protocol,
            threads,
            iterations,
            rounds,
            out,
        } => {
            let req = parse_request(&family, &sock_type, &protocol)?;
            if !(2..=64).contains(&threads) || iterations == 0 || rounds == 0 {
                return Err(Error::Usage(
                    "need 2..=64 threads, iterations > 0, rounds > 0".into(),
                ));
            }
            let r = threads::run(&cli.device, req, threads, iterations, rounds)?;
            out.emit(&r.to_json(), "threads", || threads::print(&r))
        }
        Cmd::Compare { out } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let rows =
                compare::run(&dev).map_err(|e| Error::Environment(format!("compare: {e}")))?;
            out.emit(&rows, "compare", || compare::print_table(&rows))?;
            Error::failed_if(
                rows.iter().filter(|r| r.verdict.is_unexpected()).count(),
                "UNEXPECTED rows",
            )
        }
        Cmd::Lifetime { json } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let steps =
                lifetime::run(&dev).map_err(|e| Error::Environment(format!("lifetime: {e}")))?;
            Output::stdout(json).emit(&steps, "lifetime", || lifetime::print(&steps))?;
            Error::failed_if(
                steps.iter().filter(|s| !s.ok).count(),
                "lifetime steps not observed",
            )
        }
        Cmd::Bench {
            family,
            sock_type,
            protocol,
            iterations,
            rounds,
            svg,
            out,
        } => {
            let (f, ty, p) = parse_request(&family, &sock_type, &protocol)?;
            let dev = open_device(&cli.device, cli.device_fd)?;
            let r = bench::run(&dev, f, ty, p, iterations, rounds)
                .map_err(|e| bench_failed("bench", e))?;
            out.emit(&r, "bench", || bench::print(&r))?;
            if let Some(path) = svg {
                bench::plot(&r, &path)
                    .map_err(|e| Error::Environment(format!("plot {path}: {e}")))?;
                if !out.json {
                    println!("plot: {path}");
                }
            }
            Ok(())
        }
        Cmd::CensusBench {
            iterations,
            rounds,
            out,
        } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let r = census_bench::run(&dev, iterations, rounds)
                .map_err(|e| bench_failed("census-bench", e))?;
            out.emit(&r, "census-bench", || census_bench::print(&r))
        }
        Cmd::Trace { json, raw, from } => {
            let r =
                match from {
                    Some(path) => trace::analyse(std::fs::read_to_string(&path).map_err(|e| {
                        Error::Environment(format!("--from {}: {e}", path.display()))
                    })?),
                    None => {
                        let dev = open_device(&cli.device, cli.device_fd)?;
                        trace::run(&dev).map_err(|e| Error::Tracing(format!("trace: {e}")))?
                    }
                };
            Output::stdout(json).emit(&r, "trace", || trace::print(&r))?;
            // After the results: a file that cannot be written does not hide them.
            if let Some(path) = raw {
                std::fs::write(&path, &r.raw)
                    .map_err(|e| Error::Environment(format!("--raw {}: {e}", path.display())))?;
            }
            Error::failed_if(
                r.checks.iter().filter(|(_, ok)| !ok).count(),
                "expected trace frames missing",
            )
        }
        Cmd::Fuzz {
            seed,
            count,
            fd,
            make_it_fail,
            json,
        } => {
            let dev = match fd {
                Some(fd) => Device::from_fd(fd).map_err(Error::Device)?,
                None => open_device(&cli.device, cli.device_fd)?,
            };
            let r = fuzz::run(&dev, seed, count, make_it_fail)
                .map_err(|e| Error::Environment(format!("fuzz: {e}")))?;
            Output::stdout(json).emit(&r, "fuzz", || fuzz::print(&r))?;
            if r.violations.is_empty() {
                Ok(())
            } else {
                Err(Error::Failed(format!(
                    "{} undocumented results",
                    r.violations.len()
                )))
            }
        }
        Cmd::Stress {
            threads,
            seconds,
            netns,
            seed,
        } => {
            if threads == 0 || seconds == 0 || seconds > 3600 {
                return Err(Error::Usage(
                    "need threads >= 1 and 1..=3600 seconds".into(),
                ));
            }
            let r = stress::run(&cli.device, &netns, threads, seconds, seed)
                .map_err(|e| Error::Environment(format!("stress: {e}")))?;
            println!("stress: {} threads x {:.0} s: {} ops ({} creates, {} releases, {} full reads, {} text commands), {:.0} ops/s",
                r.threads, r.seconds, r.ops, r.creates, r.releases, r.reads, r.texts, r.ops as f64 / r.seconds);
            for u in &r.unexpected {
                println!("  UNEXPECTED: {u}");
            }
            if r.unexpected.is_empty() {
                Ok(())
            } else {
                Err(Error::Failed(format!(
                    "{} unexpected errors",
                    r.unexpected.len()
                )))
            }
        }
        Cmd::Failnth { max_points, json } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let sweeps = failnth::run(&dev, &cli.device, max_points)
                .map_err(|e| Error::Environment(format!("failnth: {e}")))?;
            Output::stdout(json).emit(&sweeps, "failnth", || failnth::print(&sweeps))?;
            let bad: usize = sweeps.iter().map(|s| s.problems.len()).sum();
            if bad == 0 {
                Ok(())
            } else {
                Err(Error::Failed(format!("{bad} problems")))
            }
        }
        Cmd::Census {
            action,
            netns,
            output,
        } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            if let Some(a) = action {
                dev.census(a == "on")
                    .map_err(|e| Error::Refused(format!("census {a}: {e} ({})", e.desc())))?;
                println!("census {a}");
                return Ok(());
            }
            let inum = match &netns {
                Some(p) => Some(std::os::unix::fs::MetadataExt::ino(
                    &std::fs::metadata(p)
                        .map_err(|e| Error::Environment(format!("--netns {}: {e}", p.display())))?,
                )),
                None => None,
            };
            let text = dev
                .read_report()
                .map_err(|e| Error::Device(format!("read {}: {e}", cli.device)))?;
            let mut c = census::parse(&text)
                .map_err(|e| Error::MalformedReport(format!("{}: {e}", cli.device)))?;
            if let Some(i) = inum {
                c.only_netns(i);
            }
            output.emit(&c, "census", || c.print())?;
            Error::failed_if(
                usize::from(c.check.get("result").is_some_and(|r| r == "MISMATCH")),
                "census cross-check mismatch (census_check result=MISMATCH)",
            )
        }
        Cmd::Devtest { shared } => {
            let dev = open_device(&cli.device, cli.device_fd)?;
            let mut t = tap::Tap::default();
            let res = devtest::run(&dev, &mut t, shared);
            if let Err(e) = &res {
                t.fail("devtest ran to the end", e);
            }
            println!("# devtest: {} passed, {} failed", t.n - t.failed, t.failed);
            if t.failed > 0 {
                Err(Error::Failed(format!("{} devtest checks failed", t.failed)))
            } else {
                Ok(())
            }
        }
    }
}

/// Family, type and protocol from names or numbers; a usage error naming what is unknown.
fn parse_request(family: &str, sock_type: &str, protocol: &str) -> Result<(i32, i32, i32), Error> {
    let unknown = |what: &str, v: &str| Error::Usage(format!("unknown {what} {v:?}"));
    let f = names::family_from_str(family).ok_or_else(|| unknown("family", family))?;
    let ty = names::type_from_str(sock_type).ok_or_else(|| unknown("type", sock_type))?;
    let p = names::protocol_from_str(protocol).ok_or_else(|| unknown("protocol", protocol))?;
    Ok((f, ty, p))
}

/// The device, or the exit code of a missing one.
/// The device: the inherited descriptor `fd` if given, else `path` opened.
fn open_device(path: &str, fd: Option<i32>) -> Result<Device, Error> {
    match fd {
        Some(fd) => Device::from_fd(fd),
        None => Device::open(path),
    }
    .map_err(Error::Device)
}

/// A benchmark's error as its exit code (usage, environment, refused) and message.
fn bench_failed(what: &str, e: bench::BenchError) -> Error {
    let msg = format!("{what}: {e}");
    match e {
        bench::BenchError::Usage(_) => Error::Usage(msg),
        bench::BenchError::Socket { .. } => Error::Environment(msg),
        bench::BenchError::Module { .. } => Error::Refused(msg),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's whole message: what is wrong, the usage, where to read more (--help and
            // --version go to stdout and succeed).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(Error::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("userspace_test: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
