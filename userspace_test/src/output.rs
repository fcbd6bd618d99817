//! The one place that decides between JSON and a table and writes either: every `--json` and
//! `--json-out` of every subcommand goes through [`Output::emit`].

use crate::error::Error;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The output options of the subcommands that print one result: a table, or JSON.
#[derive(clap::Args, Debug)]
pub struct Output {
    /// JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON to this file (one run, both forms).
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
}

impl Output {
    /// Builds the output of a subcommand with only its own `--json` flag (whose help text is
    /// its own): JSON on stdout or the table, no file.
    pub fn stdout(json: bool) -> Self {
        Self {
            json,
            json_out: None,
        }
    }

    /// Writes a result: the JSON into `json_out` when given, then the JSON on stdout with
    /// `--json`, else the table (`table`); `what` names the result in a write error.
    pub fn emit<T: Serialize>(&self, v: &T, what: &str, table: impl FnOnce()) -> Result<(), Error> {
        if let Some(path) = &self.json_out {
            write_json(path, v, what)?;
        }
        if self.json {
            println!("{}", to_json(v)?);
            return Ok(());
        }
        table();
        Ok(())
    }
}

/// Serialises `v` as the pretty JSON every subcommand prints.
fn to_json<T: Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string_pretty(v).map_err(|e| Error::Environment(e.to_string()))
}

/// Writes the JSON of `what` to the `--json-out` file.
fn write_json<T: Serialize>(path: &Path, v: &T, what: &str) -> Result<(), Error> {
    std::fs::write(path, to_json(v)? + "\n")
        .map_err(|e| Error::Environment(format!("{what}: {}: {e}", path.display())))
}
