//! `status`: reads the device's report and prints its header (version, totals, limits).

use super::Global;
use crate::error::Error;
use crate::report;
use crate::table;

// The arguments of `status` (its help text is the doc comment of `Cmd::Status` in main.rs).
#[derive(clap::Args)]
pub struct Args {}

/// Reads the device's report and prints its header (version, totals, limits).
pub fn run(_: Args, g: &Global) -> Result<(), Error> {
    let text = std::fs::read_to_string(&g.device).map_err(|e| {
        Error::Device(format!(
            "cannot read {}: {e} (is rust_sockmod loaded?)",
            g.device
        ))
    })?;
    let h = report::parse_header(&text)
        .map_err(|e| Error::MalformedReport(format!("{}: {e}", g.device)))?;
    println!("rust_sockmod {}", h.version);
    let mut t = table::new(&[], &[1]);
    for (k, v) in &h.totals {
        t.row([k.clone(), v.to_string()]);
    }
    for (k, v) in &h.limits {
        t.row([format!("limit {k}"), v.to_string()]);
    }
    t.print_indented("  ");
    Ok(())
}
