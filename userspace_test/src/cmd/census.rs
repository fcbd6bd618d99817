//! `census`: shows the kernel socket census, or turns it on or off.

use super::Global;
use crate::census;
use crate::error::Error;
use crate::output::Output;

// The arguments of `census` (its help text is the doc comment of `Cmd::Census` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// `on` or `off`: turn the census on or off (RSM_IOC_CENSUS) instead of showing it.
    #[arg(value_parser = ["on", "off"])]
    pub action: Option<String>,
    /// Only the sockets and findings of this netns (an nsfs path: /run/netns/NAME,
    /// /proc/PID/ns/net).
    #[arg(long, value_name = "PATH")]
    pub netns: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub output: Output,
}

/// Shows the kernel socket census, or turns it on or off.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        action,
        netns,
        output,
    } = args;
    let dev = g.open_device()?;
    if let Some(a) = action {
        dev.census(a == "on")
            .map_err(|e| Error::Refused(format!("census {a}: {e} ({})", e.desc())))?;
        println!("census {a}");
        return Ok(());
    }
    let inum = match &netns {
        Some(p) => Some(std::os::unix::fs::MetadataExt::ino(
            &std::fs::metadata(p)
                .map_err(|e| Error::Environment(format!("--netns {}: {e}", p.display())))?,
        )),
        None => None,
    };
    let text = dev
        .read_report()
        .map_err(|e| Error::Device(format!("read {}: {e}", g.device)))?;
    let mut c =
        census::parse(&text).map_err(|e| Error::MalformedReport(format!("{}: {e}", g.device)))?;
    if let Some(i) = inum {
        c.only_netns(i);
    }
    output.emit(&c, "census", || c.print())?;
    Error::failed_if(
        usize::from(c.check.get("result").is_some_and(|r| r == "MISMATCH")),
        "census cross-check mismatch (census_check result=MISMATCH)",
    )
}
