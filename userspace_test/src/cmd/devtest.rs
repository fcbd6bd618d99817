//! `devtest`: checks the ioctl interface against the real device and prints TAP.

use super::Global;
use crate::devtest;
use crate::error::Error;
use crate::tap;

// The arguments of `devtest`. Not a doc comment: `Cmd::Devtest` has none, so clap would show
// one here as the help text of `devtest`.
#[derive(clap::Args)]
pub struct Args {
    /// Other openers use the device at the same time: skip the checks of global counters.
    #[arg(long)]
    pub shared: bool,
}

/// Checks the ioctl interface against the real device and prints TAP.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { shared } = args;
    let dev = g.open_device()?;
    let mut t = tap::Tap::default();
    let res = devtest::run(&dev, &mut t, shared);
    if let Err(e) = &res {
        t.fail("devtest ran to the end", e);
    }
    println!("# devtest: {} passed, {} failed", t.n - t.failed, t.failed);
    if t.failed > 0 {
        Err(Error::Failed(format!("{} devtest checks failed", t.failed)))
    } else {
        Ok(())
    }
}
