//! `reset`: zeroes the module's statistics (RSM_IOC_RESET_STATS).

use super::Global;
use crate::error::Error;

// The arguments of `reset` (its help text is the doc comment of `Cmd::Reset` in main.rs).
#[derive(clap::Args)]
pub struct Args {}

/// Zeroes the module's statistics (RSM_IOC_RESET_STATS).
pub fn run(_: Args, g: &Global) -> Result<(), Error> {
    let dev = g.open_device()?;
    dev.reset_stats()
        .map_err(|e| Error::Refused(format!("reset: {e} ({})", e.desc())))?;
    println!("statistics reset");
    Ok(())
}
