//! `compare`: runs the request matrix through socket() and through the module and judges every row.

use super::Global;
use crate::compare;
use crate::error::Error;
use crate::output::Output;

// The arguments of `compare` (its help text is the doc comment of `Cmd::Compare` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub out: Output,
}

/// Runs the request matrix through socket() and through the module and judges every row.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { out } = args;
    let dev = g.open_device()?;
    let rows = compare::run(&dev).map_err(|e| Error::Environment(format!("compare: {e}")))?;
    out.emit(&rows, "compare", || compare::print_table(&rows))?;
    Error::failed_if(
        rows.iter().filter(|r| r.verdict.is_unexpected()).count(),
        "UNEXPECTED rows",
    )
}
