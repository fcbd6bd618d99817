//! `netns-exit`: runs the `netns-exit` benchmark: the module's netns teardown hook with few vs many other sockets.

use super::Global;
use crate::error::Error;
use crate::netns_exit;
use crate::output::Output;

// The arguments of `netns-exit` (its help text is the doc comment of `Cmd::NetnsExit` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    /// Other live sockets (in the caller's netns) for the small case.
    #[arg(long, default_value_t = 10)]
    pub small: usize,
    /// Other live sockets for the big case (the module needs max_sockets > big).
    #[arg(long, default_value_t = 100_000)]
    pub big: usize,
    /// Teardowns per size (the median counts).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Seconds to wait for one netns to be dismantled.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    #[command(flatten)]
    pub out: Output,
}

/// Runs the `netns-exit` benchmark: the module's netns teardown hook with few vs many other sockets.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        small,
        big,
        rounds,
        timeout,
        out,
    } = args;
    if big <= small || rounds == 0 || timeout == 0 {
        return Err(Error::Usage(
            "need small < big, rounds > 0, timeout > 0".into(),
        ));
    }
    let dev = g.open_device()?;
    let r = netns_exit::run(
        &dev,
        small,
        big,
        rounds,
        std::time::Duration::from_secs(timeout),
    )
    .map_err(|e| e.context("netns-exit"))?;
    out.emit(&r.to_json(), "netns-exit", || netns_exit::print(&r))
}
