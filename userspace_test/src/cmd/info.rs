//! `info`: prints what the module says of one kernel socket (RSM_IOC_INFO).

use super::Global;
use crate::error::Error;
use crate::info;
use crate::output::Output;

// The arguments of `info` (its help text is the doc comment of `Cmd::Info` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// The socket id (from `create` or the report).
    pub id: u64,
    /// JSON instead of one key=value line.
    #[arg(long)]
    pub json: bool,
}

/// Prints what the module says of one kernel socket (RSM_IOC_INFO).
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { id, json } = args;
    let dev = g.open_device()?;
    let i = info::get(&dev, id)
        .map_err(|e| Error::Refused(format!("info {id}: {e} ({})", e.desc())))?;
    Output::stdout(json).emit(&i, "info", || println!("{}", info::line(&i)))
}
