//! The one error of every subcommand: what went wrong, as the exit code it ends the program
//! with (`EXIT_CODES` in main.rs) and the message printed after `userspace_test: `.

use std::fmt;

/// Ends a subcommand: the kind decides the exit code, the text is the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Failed checks: UNEXPECTED rows, steps not observed, missing frames, ... (exit 1).
    Failed(String),
    /// Bad arguments the parser let through: an unknown name, a bad id or size (exit 2).
    Usage(String),
    /// The device is missing or cannot be opened or read (exit 3).
    Device(String),
    /// The device's report is malformed (exit 4).
    MalformedReport(String),
    /// The module refused the request: its ioctl or text command failed (exit 5).
    Refused(String),
    /// The environment: a bad --netns, a failing userspace system call, output not written
    /// (exit 6).
    Environment(String),
    /// Tracing is unavailable: no tracefs, no kprobe events (exit 7).
    Tracing(String),
}

impl Error {
    /// Returns the exit code of a usage error, which clap's own errors end with too.
    pub const USAGE: u8 = 2;

    /// Returns the process exit code of this error (documented in `EXIT_CODES`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Failed(_) => 1,
            Error::Usage(_) => Self::USAGE,
            Error::Device(_) => 3,
            Error::MalformedReport(_) => 4,
            Error::Refused(_) => 5,
            Error::Environment(_) => 6,
            Error::Tracing(_) => 7,
        }
    }

    /// Returns the message, without the exit code.
    pub fn message(&self) -> &str {
        match self {
            Error::Failed(m)
            | Error::Usage(m)
            | Error::Device(m)
            | Error::MalformedReport(m)
            | Error::Refused(m)
            | Error::Environment(m)
            | Error::Tracing(m) => m,
        }
    }

    /// Prefixes the message with `what: `, keeping the exit code.
    pub fn context(self, what: &str) -> Self {
        let with = |m: String| format!("{what}: {m}");
        match self {
            Error::Failed(m) => Error::Failed(with(m)),
            Error::Usage(m) => Error::Usage(with(m)),
            Error::Device(m) => Error::Device(with(m)),
            Error::MalformedReport(m) => Error::MalformedReport(with(m)),
            Error::Refused(m) => Error::Refused(with(m)),
            Error::Environment(m) => Error::Environment(with(m)),
            Error::Tracing(m) => Error::Tracing(with(m)),
        }
    }

    /// Returns a failed check (exit 1) when `bad` things of `what` were found, else `Ok`.
    pub fn failed_if(bad: usize, what: &str) -> Result<(), Error> {
        if bad > 0 {
            Err(Error::Failed(format!("{bad} {what}")))
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    /// Turns a JSON serialisation failure into an environment error (exit 6), as output that
    /// cannot be written.
    fn from(e: serde_json::Error) -> Self {
        Error::Environment(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let m = String::new;
        let codes: Vec<u8> = [
            Error::Failed(m()),
            Error::Usage(m()),
            Error::Device(m()),
            Error::MalformedReport(m()),
            Error::Refused(m()),
            Error::Environment(m()),
            Error::Tracing(m()),
        ]
        .iter()
        .map(Error::exit_code)
        .collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn context_keeps_the_code() {
        let e = Error::Refused("RSM_IOC_TOTALS: EPERM".into()).context("netns-exit");
        assert_eq!(e.exit_code(), 5);
        assert_eq!(e.to_string(), "netns-exit: RSM_IOC_TOTALS: EPERM");
        assert_eq!(Error::failed_if(0, "rows"), Ok(()));
        assert_eq!(
            Error::failed_if(2, "UNEXPECTED rows"),
            Err(Error::Failed("2 UNEXPECTED rows".into()))
        );
    }
}
