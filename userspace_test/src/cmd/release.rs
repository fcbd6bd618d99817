//! `release`: releases a socket by id, or all of them, and prints how many went.

use super::Global;
use crate::error::Error;

// The arguments of `release` (its help text is the doc comment of `Cmd::Release` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// A socket id, or "all".
    pub id: String,
}

/// Releases a socket by id, or all of them, and prints how many went.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args { id } = args;
    let dev = g.open_device()?;
    let n = if id == "all" {
        dev.release_all()
    } else {
        let id = id
            .parse::<u64>()
            .map_err(|_| Error::Usage(format!("not a socket id: {id:?}")))?;
        dev.release(id)
    }
    .map_err(|e| Error::Refused(format!("release: {e} ({})", e.desc())))?;
    println!("released={n}");
    Ok(())
}
