//! The subcommands, one file each: its clap `Args` and its `run`, from the arguments to the
//! output and the error that decides the exit code. main.rs parses and dispatches here.

pub mod bench;
pub mod census;
pub mod census_bench;
pub mod compare;
pub mod create;
pub mod devtest;
pub mod failnth;
pub mod fuzz;
pub mod info;
pub mod lifetime;
pub mod netns_exit;
pub mod probe;
pub mod release;
pub mod reset;
pub mod scale;
pub mod status;
pub mod stress;
pub mod threads;
pub mod trace;

use crate::bench::BenchError;
use crate::device::Device;
use crate::error::Error;
use crate::shared::names;

/// The options every subcommand takes (`--device`, `--device-fd`).
pub struct Global {
    /// The device's path.
    pub device: String,
    /// An inherited descriptor of the device, used instead of opening `device`.
    pub device_fd: Option<i32>,
}

impl Global {
    /// Opens the device: the inherited descriptor if given, else the path; a device error
    /// (exit 3) if that fails.
    pub fn open_device(&self) -> Result<Device, Error> {
        match self.device_fd {
            Some(fd) => Device::from_fd(fd),
            None => Device::open(&self.device),
        }
        .map_err(Error::Device)
    }
}

/// Parses family, type and protocol from names or numbers; a usage error names what is
/// unknown.
pub fn parse_request(
    family: &str,
    sock_type: &str,
    protocol: &str,
) -> Result<(i32, i32, i32), Error> {
    let unknown = |what: &str, v: &str| Error::Usage(format!("unknown {what} {v:?}"));
    let f = names::family_from_str(family).ok_or_else(|| unknown("family", family))?;
    let ty = names::type_from_str(sock_type).ok_or_else(|| unknown("type", sock_type))?;
    let p = names::protocol_from_str(protocol).ok_or_else(|| unknown("protocol", protocol))?;
    Ok((f, ty, p))
}

/// Turns a benchmark's error into the error of `what`: usage (2), environment (6) or refused
/// (5), the message prefixed with `what: `.
pub fn bench_failed(what: &str, e: BenchError) -> Error {
    let msg = format!("{what}: {e}");
    match e {
        BenchError::Usage(_) => Error::Usage(msg),
        BenchError::Socket { .. } => Error::Environment(msg),
        BenchError::Module { .. } => Error::Refused(msg),
    }
}
