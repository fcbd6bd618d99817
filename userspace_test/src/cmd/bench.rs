//! `bench`: runs the `bench` benchmark: the per-operation cost of each creation path.

use super::{bench_failed, parse_request, Global};
use crate::bench;
use crate::error::Error;
use crate::output::Output;

// The arguments of `bench` (its help text is the doc comment of `Cmd::Bench` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// Family, type, protocol (names or numbers).
    #[arg(default_value = "inet")]
    pub family: String,
    #[arg(name = "type", default_value = "dgram")]
    pub sock_type: String,
    #[arg(default_value = "udp")]
    pub protocol: String,
    /// Operations per round and path.
    #[arg(long, default_value_t = 10_000)]
    pub iterations: usize,
    /// Rounds (interleaved across the paths).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Write an SVG plot of the distributions here.
    #[arg(long)]
    pub svg: Option<String>,
    #[command(flatten)]
    pub out: Output,
}

/// Runs the `bench` benchmark: the per-operation cost of each creation path.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        family,
        sock_type,
        protocol,
        iterations,
        rounds,
        svg,
        out,
    } = args;
    let (f, ty, p) = parse_request(&family, &sock_type, &protocol)?;
    let dev = g.open_device()?;
    let r = bench::run(&dev, f, ty, p, iterations, rounds).map_err(|e| bench_failed("bench", e))?;
    out.emit(&r, "bench", || bench::print(&r))?;
    if let Some(path) = svg {
        bench::plot(&r, &path).map_err(|e| Error::Environment(format!("plot {path}: {e}")))?;
        if !out.json {
            println!("plot: {path}");
        }
    }
    Ok(())
}
