//! `trace`: traces one creation through each path (or analyses a saved trace) and prints the chains.

use super::Global;
use crate::error::Error;
use crate::output::Output;
use crate::trace;

// The arguments of `trace` (its help text is the doc comment of `Cmd::Trace` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// JSON instead of the side-by-side chains.
    #[arg(long)]
    pub json: bool,
    /// Also write the raw tracefs text the chains were read from to this file.
    #[arg(long, value_name = "FILE")]
    pub raw: Option<std::path::PathBuf>,
    /// Analyse a trace saved by --raw instead of tracing (no device, no tracefs).
    #[arg(long, value_name = "FILE", conflicts_with = "raw")]
    pub from: Option<std::path::PathBuf>,
}

/// Traces one creation through each path (or analyses a saved trace) and prints the chains.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { json, raw, from } = args;
    let r = match from {
        Some(path) => trace::analyse(
            std::fs::read_to_string(&path)
                .map_err(|e| Error::Environment(format!("--from {}: {e}", path.display())))?,
        ),
        None => {
            let dev = g.open_device()?;
            trace::run(&dev).map_err(|e| Error::Tracing(format!("trace: {e}")))?
        }
    };
    Output::stdout(json).emit(&r, "trace", || trace::print(&r))?;
    // After the results: a file that cannot be written does not hide them.
    if let Some(path) = raw {
        std::fs::write(&path, &r.raw)
            .map_err(|e| Error::Environment(format!("--raw {}: {e}", path.display())))?;
    }
    Error::failed_if(
        r.checks.iter().filter(|(_, ok)| !ok).count(),
        "expected trace frames missing",
    )
}
