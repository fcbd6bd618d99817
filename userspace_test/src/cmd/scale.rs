//! `scale`: runs the `scale` benchmark: create+release cost with few vs many live sockets.

use super::Global;
use crate::error::Error;
use crate::output::Output;
use crate::scale;

// The arguments of `scale` (its help text is the doc comment of `Cmd::Scale` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// Live sockets for the small case.
    #[arg(long, default_value_t = 10)]
    pub small: usize,
    /// Live sockets for the big case.
    #[arg(long, default_value_t = 100_000)]
    pub big: usize,
    /// create+release pairs per round.
    #[arg(long, default_value_t = 2000)]
    pub pairs: usize,
    /// Rounds per case (the median round counts).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    #[command(flatten)]
    pub out: Output,
}

/// Runs the `scale` benchmark: create+release cost with few vs many live sockets.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        small,
        big,
        pairs,
        rounds,
        out,
    } = args;
    if small == 0 || big <= small || pairs == 0 || rounds == 0 {
        return Err(Error::Usage(
            "need 0 < small < big, pairs > 0, rounds > 0".into(),
        ));
    }
    let dev = g.open_device()?;
    let r = scale::run(&dev, &g.device, small, big, pairs, rounds).map_err(Error::Failed)?;
    out.emit(&r, "scale", || scale::print(&r, pairs, rounds))
}
