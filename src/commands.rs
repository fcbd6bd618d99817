// SPDX-License-Identifier: GPL-2.0

//! The text command interface on `write()`, for people at a shell:
//!
//! ```text
//! create FAMILY TYPE [PROTOCOL] [netns=PATH | netns=fd:N | pid=N] [hold]
//! bind ID PORT            (inet/inet6: the any-address)
//! listen ID [BACKLOG]
//! release ID
//! release all
//! reset stats
//! ```
//!
//! FAMILY, TYPE and PROTOCOL are names (`inet`, `stream|nonblock`, `tcp`) or numbers. One
//! command per write; a trailing newline is allowed. Anything else is EINVAL.

use crate::names;
use crate::ops::{CreateReq, NetnsSel};
use kernel::{prelude::*, str::CString};

/// Longest accepted command, newline included.
pub(crate) const MAX_COMMAND_LEN: usize = 256;

pub(crate) enum Command {
    Create(CreateReq),
    Bind(u64, u16),
    Listen(u64, i32),
    Release(u64),
    ReleaseAll,
    ResetStats,
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |v, b| v.checked_mul(10)?.checked_add(u64::from(b - b'0')))
}

fn parse_create<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<CreateReq> {
    let family = words.next().and_then(names::family_from_str).ok_or(EINVAL)?;
    let sock_type = words.next().and_then(names::type_from_str).ok_or(EINVAL)?;
    let mut req = CreateReq { family, sock_type, protocol: 0, netns: NetnsSel::Caller, hold: false };
    let mut have_protocol = false;
    let mut have_netns = false;
    for w in words {
        if w == "hold" && !req.hold {
            req.hold = true;
        } else if let Some(v) = w.strip_prefix("netns=").filter(|_| !have_netns) {
            have_netns = true;
            req.netns = match v.strip_prefix("fd:") {
                Some(fd) => NetnsSel::Fd(names::parse_int(fd).ok_or(EINVAL)?),
                None if v.starts_with('/') => NetnsSel::Path(CString::try_from_fmt(fmt!("{v}"))?),
                None => return Err(EINVAL),
            };
        } else if let Some(v) = w.strip_prefix("pid=").filter(|_| !have_netns) {
            have_netns = true;
            req.netns = NetnsSel::Pid(names::parse_int(v).ok_or(EINVAL)?);
        } else if !have_protocol && !have_netns && !req.hold {
            have_protocol = true;
            req.protocol = names::protocol_from_str(w).ok_or(EINVAL)?;
        } else {
            return Err(EINVAL);
        }
    }
    Ok(req)
}

fn parse_bind_listen<'a>(verb: &str, mut words: impl Iterator<Item = &'a str>) -> Result<Command> {
    let id = words.next().and_then(parse_u64).ok_or(EINVAL)?;
    let arg = words.next();
    if words.next().is_some() {
        return Err(EINVAL);
    }
    let num = |s: &str| names::parse_int(s).ok_or(EINVAL);
    match (verb, arg) {
        ("bind", Some(p)) => Ok(Command::Bind(id, u16::try_from(num(p)?).map_err(|_| EINVAL)?)),
        ("listen", None) => Ok(Command::Listen(id, 16)),
        ("listen", Some(b)) => Ok(Command::Listen(id, num(b)?)),
        _ => Err(EINVAL),
    }
}

/// Parses one command. EINVAL for anything malformed, over-long or not UTF-8.
pub(crate) fn parse(bytes: &[u8]) -> Result<Command> {
    if bytes.len() > MAX_COMMAND_LEN {
        return Err(EINVAL);
    }
    let text = core::str::from_utf8(bytes).map_err(|_| EINVAL)?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.contains(['\n', '\0']) {
        return Err(EINVAL);
    }
    let mut words = text.split_ascii_whitespace();
    let cmd = match (words.next(), words.clone().next()) {
        (Some("create"), _) => return Ok(Command::Create(parse_create(words)?)),
        (Some(verb @ ("bind" | "listen")), Some(_)) => return parse_bind_listen(verb, words),
        (Some("release"), Some("all")) => Command::ReleaseAll,
        (Some("release"), Some(id)) => Command::Release(parse_u64(id).ok_or(EINVAL)?),
        (Some("reset"), Some("stats")) => Command::ResetStats,
        _ => return Err(EINVAL),
    };
    // Exactly two words for the other commands.
    words.next();
    if words.next().is_some() {
        return Err(EINVAL);
    }
    Ok(cmd)
}
