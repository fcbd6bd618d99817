//! `stress`: loads the device from several threads and namespaces at once for a bounded time.

use super::Global;
use crate::error::Error;
use crate::stress;

// The arguments of `stress` (its help text is the doc comment of `Cmd::Stress` in main.rs).
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 4)]
    pub threads: usize,
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// nsfs paths to spread the sockets over (default: the caller's).
    #[arg(long, value_delimiter = ',', default_value = "/proc/self/ns/net")]
    pub netns: Vec<String>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Loads the device from several threads and namespaces at once for a bounded time.
pub fn run(args: Args, g: &Global) -> Result<(), Error> {
    let Args {
        threads,
        seconds,
        netns,
        seed,
    } = args;
    if threads == 0 || seconds == 0 || seconds > 3600 {
        return Err(Error::Usage(
            "need threads >= 1 and 1..=3600 seconds".into(),
        ));
    }
    let r = stress::run(&g.device, &netns, threads, seconds, seed)
        .map_err(|e| Error::Environment(format!("stress: {e}")))?;
    println!("stress: {} threads x {:.0} s: {} ops ({} creates, {} releases, {} full reads, {} text commands), {:.0} ops/s",
            r.threads, r.seconds, r.ops, r.creates, r.releases, r.reads, r.texts, r.ops as f64 / r.seconds);
    for u in &r.unexpected {
        println!("  UNEXPECTED: {u}");
    }
    if r.unexpected.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "{} unexpected errors",
            r.unexpected.len()
        )))
    }
}
