//! `probe`: runs one of the single observations the boundary tests need (`readonly`, `bench`).

use super::{parse_request, Global};
use crate::error::Error;
use crate::probe;

// The arguments of `probe` (its help text is the doc comment of `Cmd::Probe` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// readonly | bench
    pub what: String,
    /// For `bench`: the RSM_BENCH_* mode.
    #[arg(long, default_value_t = 0)]
    pub mode: u32,
    #[arg(default_value = "inet")]
    pub family: String,
    #[arg(name = "type", default_value = "dgram")]
    pub sock_type: String,
    #[arg(default_value = "0")]
    pub protocol: String,
}

/// Runs one of the single observations the boundary tests need (`readonly`, `bench`).
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        what,
        mode,
        family,
        sock_type,
        protocol,
    } = args;
    let dev = g.open_device()?;
    match what.as_str() {
        "readonly" => {
            let (good, lines) = match probe::readonly(&dev) {
                Ok(l) => (true, l),
                Err(l) => (false, l),
            };
            for l in &lines {
                println!("{l}");
            }
            if good {
                Ok(())
            } else {
                Err(Error::Failed(
                    "an ioctl with a read-only argument did not give EFAULT or changed state"
                        .into(),
                ))
            }
        }
        "bench" => {
            let (f, ty, p) = parse_request(&family, &sock_type, &protocol)?;
            let line = probe::bench(&dev, mode, f, ty, p)
                .map_err(|e| Error::Refused(format!("bench: {e} ({})", e.desc())))?;
            println!("{line}");
            Ok(())
        }
        other => Err(Error::Usage(format!(
            "unknown probe {other:?} (readonly | bench)"
        ))),
    }
}
