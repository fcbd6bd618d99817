//! `failnth`: fails each allocation of each device operation in turn (fail-nth) and judges the results.

use super::Global;
use crate::error::Error;
use crate::failnth;
use crate::output::Output;

// The arguments of `failnth` (its help text is the doc comment of `Cmd::Failnth` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// Give up an operation after this many fault points (a safety bound).
    #[arg(long, default_value_t = 500)]
    pub max_points: u32,
    #[arg(long)]
    pub json: bool,
}

/// Fails each allocation of each device operation in turn (fail-nth) and judges the results.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { max_points, json } = args;
    let dev = g.open_device()?;
    let sweeps = failnth::run(&dev, &g.device, max_points)
        .map_err(|e| Error::Environment(format!("failnth: {e}")))?;
    Output::stdout(json).emit(&sweeps, "failnth", || failnth::print(&sweeps))?;
    let bad: usize = sweeps.iter().map(|s| s.problems.len()).sum();
    if bad == 0 {
        Ok(())
    } else {
        Err(Error::Failed(format!("{bad} problems")))
    }
}
