//! `threads`: runs the `threads` benchmark: create+release throughput of N threads against 1.

use super::{parse_request, Global};
use crate::error::Error;
use crate::output::Output;
use crate::threads;

// The arguments of `threads` (its help text is the doc comment of `Cmd::Threads` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// Family, type, protocol (names or numbers).
    #[arg(default_value = "inet")]
    pub family: String,
    #[arg(name = "type", default_value = "dgram")]
    pub sock_type: String,
    #[arg(default_value = "udp")]
    pub protocol: String,
    /// Threads of the parallel case (compared with 1).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Pairs per thread and round.
    #[arg(long, default_value_t = 5000)]
    pub iterations: usize,
    /// Rounds (each: 1 and N threads, both paths; the median counts).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    #[command(flatten)]
    pub out: Output,
}

/// Runs the `threads` benchmark: create+release throughput of N threads against 1.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        family,
        sock_type,
        protocol,
        threads,
        iterations,
        rounds,
        out,
    } = args;
    let req = parse_request(&family, &sock_type, &protocol)?;
    if !(2..=64).contains(&threads) || iterations == 0 || rounds == 0 {
        return Err(Error::Usage(
            "need 2..=64 threads, iterations > 0, rounds > 0".into(),
        ));
    }
    let r = threads::run(&g.device, req, threads, iterations, rounds)?;
    out.emit(&r.to_json(), "threads", || threads::print(&r))
}
