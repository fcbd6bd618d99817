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
//! census on|off
//! ```
//!
//! FAMILY, TYPE and PROTOCOL are names (`inet`, `stream|nonblock`, `tcp`) or numbers. A write
//! holds one command or several, each ended by a newline (the last one's is optional); the
//! device runs them in order (`src/device.rs`). Anything else is EINVAL.

use crate::names;
use crate::ops::{CreateReq, NetnsSel};
use kernel::{prelude::*, str::CString};

/// Longest accepted command, newline included.
pub(crate) const MAX_COMMAND_LEN: usize = 256;
/// Longest accepted write (several newline-separated commands).
pub(crate) const MAX_WRITE_LEN: usize = 4096;

pub(crate) enum Command {
    Create(CreateReq),
    Bind(u64, u16),
    Listen(u64, i32),
    Release(u64),
    ReleaseAll,
    ResetStats,
    /// Turn the kernel socket census on (true) or off.
    Census(bool),
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |v, b| {
        v.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

fn parse_create<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<CreateReq> {
    let family = words
        .next()
        .and_then(names::family_from_str)
        .ok_or(EINVAL)?;
    let sock_type = words.next().and_then(names::type_from_str).ok_or(EINVAL)?;
    let mut req = CreateReq {
        family,
        sock_type,
        protocol: 0,
        netns: NetnsSel::Caller,
        hold: false,
    };
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
        ("bind", Some(p)) => Ok(Command::Bind(
            id,
            u16::try_from(num(p)?).map_err(|_| EINVAL)?,
        )),
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
        (Some("census"), Some("on")) => Command::Census(true),
        (Some("census"), Some("off")) => Command::Census(false),
        _ => return Err(EINVAL),
    };
    // Exactly two words for the other commands.
    words.next();
    if words.next().is_some() {
        return Err(EINVAL);
    }
    Ok(cmd)
}

#[kunit_tests(rust_sockmod_commands)]
mod tests {
    use super::*;
    use crate::names;

    fn create(text: &str) -> Result<CreateReq> {
        match parse(text.as_bytes())? {
            Command::Create(req) => Ok(req),
            _ => Err(EPERM),
        }
    }

    #[test]
    fn create_by_name_and_number() -> Result {
        let req = create("create inet stream tcp\n")?;
        assert_eq!(
            (req.family, req.sock_type, req.protocol, req.hold),
            (2, 1, 6, false)
        );
        assert!(matches!(req.netns, NetnsSel::Caller));
        let req = create("create 10 dgram|nonblock|cloexec 17 hold")?;
        assert_eq!(req.family, 10);
        assert_eq!(
            req.sock_type,
            2 | names::SOCK_NONBLOCK | names::SOCK_CLOEXEC
        );
        assert_eq!((req.protocol, req.hold), (17, true));
        let req = create("create af_unix sock_seqpacket")?;
        assert_eq!((req.family, req.sock_type, req.protocol), (1, 5, 0));
        Ok(())
    }

    #[test]
    fn create_netns_forms() -> Result {
        assert!(matches!(
            create("create inet dgram netns=fd:7")?.netns,
            NetnsSel::Fd(7)
        ));
        assert!(matches!(
            create("create inet dgram pid=42 hold")?.netns,
            NetnsSel::Pid(42)
        ));
        match create("create inet dgram udp netns=/run/netns/a")?.netns {
            NetnsSel::Path(p) => assert_eq!(p.to_bytes(), b"/run/netns/a"),
            _ => assert!(false),
        }
        for bad in [
            "create inet dgram netns=run/netns/a",
            "create inet dgram netns=fd:x",
            "create inet dgram netns=fd:3 pid=4",
            "create inet dgram pid=4 netns=/a",
            "create inet dgram hold udp",
            "create inet dgram netns=/a udp",
            "create inet dgram hold hold",
            "create inet dgram udp tcp",
        ] {
            assert!(create(bad).err() == Some(EINVAL));
        }
        Ok(())
    }

    #[test]
    fn other_verbs() -> Result {
        assert!(matches!(parse(b"bind 3 8080")?, Command::Bind(3, 8080)));
        assert!(matches!(parse(b"listen 3")?, Command::Listen(3, 16)));
        assert!(matches!(parse(b"listen 3 -1\n")?, Command::Listen(3, -1)));
        assert!(matches!(parse(b"release all")?, Command::ReleaseAll));
        assert!(matches!(parse(b"census on\n")?, Command::Census(true)));
        assert!(matches!(parse(b"census off")?, Command::Census(false)));
        for bad in [&b"census"[..], b"census On", b"census on now", b"census 1"] {
            assert!(parse(bad).is_err());
        }
        assert!(matches!(
            parse(b"release 18446744073709551615")?,
            Command::Release(u64::MAX)
        ));
        assert!(matches!(parse(b"reset stats\n")?, Command::ResetStats));
        Ok(())
    }

    #[test]
    fn malformed_is_einval() {
        let long = [b'x'; MAX_COMMAND_LEN + 1];
        let bad: [&[u8]; 17] = [
            b"",
            b"\n",
            b"create",
            b"create inet",
            b"create nosuchfamily stream",
            b"create inet stream|sometimes",
            b"release",
            b"release 1 2",
            b"release 18446744073709551616",
            b"release -1",
            b"reset",
            b"bind 1",
            b"bind 1 65536",
            b"listen x",
            b"release 1\nrelease 2",
            b"release 1\0",
            b"release \xff",
        ];
        for text in bad {
            assert!(parse(text).err() == Some(EINVAL));
        }
        assert!(parse(&long).err() == Some(EINVAL));
    }

    #[test]
    fn names_round_trip() {
        for &(name, v) in names::FAMILIES {
            assert_eq!(names::family_from_str(name), Some(v));
            assert_eq!(names::family_name(v), name);
        }
        for &(name, v) in names::TYPES {
            assert_eq!(names::type_from_str(name), Some(v));
            assert_eq!(names::type_name(v | names::SOCK_NONBLOCK), name);
        }
        for &(name, v) in names::PROTOCOLS {
            assert_eq!(names::protocol_from_str(name), Some(v));
        }
        assert_eq!(names::family_name(4242), "?");
        assert_eq!(names::parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(names::parse_int("2147483648"), None);
        assert_eq!(names::parse_int("+1"), None);
    }
}
