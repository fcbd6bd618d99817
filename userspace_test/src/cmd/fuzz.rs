//! `fuzz`: sends seeded random and mutated inputs to the device and judges every result.

use super::Global;
use crate::device::Device;
use crate::error::Error;
use crate::fuzz;
use crate::output::Output;

// The arguments of `fuzz` (its help text is the doc comment of `Cmd::Fuzz` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// The seed (the same seed sends the same inputs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of inputs.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// Use this already-open descriptor of the device (e.g. one a privileged parent opened).
    #[arg(long)]
    pub fd: Option<i32>,
    /// Mark this process for fault injection (/proc/self/make-it-fail) before fuzzing, so
    /// failslab / fail_page_alloc with task-filter hit its system calls only.
    #[arg(long)]
    pub make_it_fail: bool,
    #[arg(long)]
    pub json: bool,
}

/// Sends seeded random and mutated inputs to the device and judges every result.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        seed,
        count,
        fd,
        make_it_fail,
        json,
    } = args;
    let dev = match fd {
        Some(fd) => Device::from_fd(fd).map_err(Error::Device)?,
        None => g.open_device()?,
    };
    let r = fuzz::run(&dev, seed, count, make_it_fail)
        .map_err(|e| Error::Environment(format!("fuzz: {e}")))?;
    Output::stdout(json).emit(&r, "fuzz", || fuzz::print(&r))?;
    if r.violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "{} undocumented results",
            r.violations.len()
        )))
    }
}
