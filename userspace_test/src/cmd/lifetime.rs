//! `lifetime`: shows what keeps a network namespace alive, step by step.

use super::Global;
use crate::error::Error;
use crate::lifetime;
use crate::output::Output;

// The arguments of `lifetime` (its help text is the doc comment of `Cmd::Lifetime` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Shows what keeps a network namespace alive, step by step.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { json } = args;
    let dev = g.open_device()?;
    let steps = lifetime::run(&dev).map_err(|e| Error::Environment(format!("lifetime: {e}")))?;
    Output::stdout(json).emit(&steps, "lifetime", || lifetime::print(&steps))?;
    Error::failed_if(
        steps.iter().filter(|s| !s.ok).count(),
        "lifetime steps not observed",
    )
}
