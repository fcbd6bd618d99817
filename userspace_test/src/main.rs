//! userspace_test: drives /dev/rust_sockmod and compares its sock_create_kern() path with the
//! ordinary socket() system call.

mod bench;
mod census;
mod census_bench;
mod cmd;
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
use device::DEFAULT_DEVICE;
use error::Error;
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
    Status(cmd::status::Args),
    /// What the module says of one kernel socket (RSM_IOC_INFO): family, type, state, and the
    /// keys that join it to `ss -e` (ino, cookie as sk:, the bound local address).
    Info(cmd::info::Args),
    /// Create one kernel socket through the ioctl interface and print its id.
    Create(cmd::create::Args),
    /// Release a socket by id, or all of them (RSM_IOC_RELEASE); prints how many went.
    Release(cmd::release::Args),
    /// Zero the statistics: totals but `live`, and the per-key records (RSM_IOC_RESET_STATS).
    Reset(cmd::reset::Args),
    /// Benchmark: create+release cost with few vs many live sockets, and a full read of the
    /// report at that size. Prints figures and the ratio; asserts only correctness.
    Scale(cmd::scale::Args),
    /// Benchmark: how long the module's netns teardown hook (.pre_exit) takes for a netns with
    /// one kernel socket, with `small` and with `big` other kernel sockets live (the report's
    /// exit_last_ns). Each round dismantles a fresh netns; exit 1 if a teardown does not
    /// happen within --timeout or releases other than that one socket.
    NetnsExit(cmd::netns_exit::Args),
    /// Benchmark: throughput of create+release pairs (RSM_IOC_BENCH) with N threads against 1,
    /// through the module's full path and the bare kernel loop; each thread has its own
    /// descriptor; rounds interleaved, one run. Prints threadsN_over_threads1 for both.
    Threads(cmd::threads::Args),
    /// Run the request matrix through socket() and through the module, in the caller's and a
    /// fresh netns, as root and unprivileged; judge every row. Exit 1 on any UNEXPECTED row.
    Compare(cmd::compare::Args),
    /// Show what keeps a network namespace alive: a user socket, a default kernel socket, a
    /// "hold" kernel socket. Exit 1 if any step is not observed.
    Lifetime(cmd::lifetime::Args),
    /// Per-operation cost of socket()+close() vs sock_create_kern()+sock_release() (in-kernel
    /// loop, bare and with the module's bookkeeping) vs the ioctl round trip; one run.
    Bench(cmd::bench::Args),
    /// Trace one creation through each path (tracefs function_graph + kprobe stacks) and print
    /// the two call chains side by side. Exit 1 if an expected frame is missing.
    Trace(cmd::trace::Args),
    /// Send seeded random and mutated ioctls, text commands and reads to the device; every
    /// call must succeed or return a documented errno. Exit 1 otherwise.
    Fuzz(cmd::fuzz::Args),
    /// Systematic allocation failures (/proc/thread-self/fail-nth): each fault point of each
    /// device operation (creates by ioctl and text, report read, open, release) is failed once
    /// in turn; every result must be success or a documented errno, counters must add up and
    /// nothing may stay live. Exit 1 otherwise. Set failslab's ignore-gfp-wait and cache-filter
    /// to N first (debugfs) so that GFP_KERNEL slab allocations count.
    Failnth(cmd::failnth::Args),
    /// Threads creating, releasing, reading and writing text commands at once across the given
    /// namespaces for a bounded time; exit 1 on any error the load does not explain.
    Stress(cmd::stress::Args),
    /// Reproductions needing more than a shell (one line each; exit 1 if the module gets it
    /// wrong, 5 if it refuses): `readonly` (ioctl arguments in read-only memory must give
    /// EFAULT and change nothing), `bench` (one 3-pair RSM_IOC_BENCH with --mode).
    Probe(cmd::probe::Args),
    /// The kernel socket census: every kernel socket made since it started, who made it, in
    /// which netns, and the namespaces that linger or are pinned by kernel sockets.
    Census(cmd::census::Args),
    /// What the kernel socket census costs: socket()+close() and the module's raw
    /// sock_create_kern()+sock_release() loop with the census off and on, alternating rounds;
    /// ratios of medians (`census_on_over_off`); with --bpftrace, the same loops with a bpftrace
    /// script keeping its own table instead. Leaves the census off.
    CensusBench(cmd::census_bench::Args),
    /// Check the ioctl interface against the real device (TAP output).
    Devtest(cmd::devtest::Args),
}

/// Runs the subcommand; an error carries its exit code and message.
fn run(cli: Cli) -> Result<(), Error> {
    let g = cmd::Global {
        device: cli.device,
        device_fd: cli.device_fd,
    };
    match cli.cmd {
        Cmd::Status(a) => cmd::status::run(a, &g),
        Cmd::Info(a) => cmd::info::run(a, &g),
        Cmd::Create(a) => cmd::create::run(a, &g),
        Cmd::Release(a) => cmd::release::run(a, &g),
        Cmd::Reset(a) => cmd::reset::run(a, &g),
        Cmd::Scale(a) => cmd::scale::run(a, &g),
        Cmd::NetnsExit(a) => cmd::netns_exit::run(a, &g),
        Cmd::Threads(a) => cmd::threads::run(a, &g),
        Cmd::Compare(a) => cmd::compare::run(a, &g),
        Cmd::Lifetime(a) => cmd::lifetime::run(a, &g),
        Cmd::Bench(a) => cmd::bench::run(a, &g),
        Cmd::Trace(a) => cmd::trace::run(a, &g),
        Cmd::Fuzz(a) => cmd::fuzz::run(a, &g),
        Cmd::Failnth(a) => cmd::failnth::run(a, &g),
        Cmd::Stress(a) => cmd::stress::run(a, &g),
        Cmd::Probe(a) => cmd::probe::run(a, &g),
        Cmd::Census(a) => cmd::census::run(a, &g),
        Cmd::CensusBench(a) => cmd::census_bench::run(a, &g),
        Cmd::Devtest(a) => cmd::devtest::run(a, &g),
    }
}

/// Parses the command line, runs the subcommand and exits with its error's code (clap's: 2).
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
