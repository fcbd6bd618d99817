//! `census-bench`: measures what the kernel socket census costs (census off against on).

use super::{bench_failed, Global};
use crate::census_bench;
use crate::error::Error;
use crate::output::Output;

// The arguments of `census-bench` (its help text is the doc comment of `Cmd::CensusBench` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Also measure a bpftrace process running this script (census off) in every round.
    #[arg(long, value_name = "SCRIPT")]
    pub bpftrace: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub out: Output,
}

/// Measures what the kernel socket census costs (census off against on).
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        iterations,
        rounds,
        bpftrace,
        out,
    } = args;
    let dev = g.open_device()?;
    let r = census_bench::run(&dev, iterations, rounds, bpftrace.as_deref())
        .map_err(|e| bench_failed("census-bench", e))?;
    out.emit(&r, "census-bench", || census_bench::print(&r))
}
