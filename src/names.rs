// SPDX-License-Identifier: GPL-2.0

//! Names of socket families, types, protocols and states, shared (with `#[path]`) by the
//! module (text commands, report) and `userspace_test` (arguments, tables). No allocation,
//! no std: plain tables.

// `allow`, not `expect`: which of these the module leaves unused is not what userspace_test
// leaves unused, and either may use them all one day.
#![allow(dead_code)]

/// (name, AF_* value).
pub const FAMILIES: &[(&str, i32)] = &[
    ("unspec", 0),
    ("unix", 1),
    ("inet", 2),
    ("netlink", 16),
    ("packet", 17),
    ("inet6", 10),
    ("vsock", 40),
    ("bluetooth", 31),
    ("key", 15),
    ("rds", 21),
    ("can", 29),
    ("tipc", 30),
    ("phonet", 35),
    ("alg", 38),
    ("kcm", 41),
];

/// (name, SOCK_* value).
pub const TYPES: &[(&str, i32)] = &[
    ("stream", 1),
    ("dgram", 2),
    ("raw", 3),
    ("rdm", 4),
    ("seqpacket", 5),
    ("dccp", 6),
    ("packet", 10),
];

/// Type flags accepted with a `|` after the type name, e.g. `stream|nonblock`.
pub const SOCK_NONBLOCK: i32 = 0o4000;
pub const SOCK_CLOEXEC: i32 = 0o2000000;
pub const SOCK_TYPE_MASK: i32 = 0xf;
pub const TYPE_FLAGS: &[(&str, i32)] = &[("nonblock", SOCK_NONBLOCK), ("cloexec", SOCK_CLOEXEC)];

/// (name, IPPROTO_* value); the name is what `/etc/protocols` calls it.
pub const PROTOCOLS: &[(&str, i32)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("tcp", 6),
    ("udp", 17),
    ("ipv6", 41),
    ("gre", 47),
    ("icmpv6", 58),
    ("sctp", 132),
    ("udplite", 136),
    ("mptcp", 262),
    ("l2tp", 115),
    ("raw", 255),
];

/// TCP states (`sk_state`), which every inet socket uses.
pub const TCP_STATES: &[(&str, i32)] = &[
    ("ESTABLISHED", 1),
    ("SYN_SENT", 2),
    ("SYN_RECV", 3),
    ("FIN_WAIT1", 4),
    ("FIN_WAIT2", 5),
    ("TIME_WAIT", 6),
    ("CLOSE", 7),
    ("CLOSE_WAIT", 8),
    ("LAST_ACK", 9),
    ("LISTEN", 10),
    ("CLOSING", 11),
    ("NEW_SYN_RECV", 12),
];

fn by_name(table: &[(&'static str, i32)], name: &str) -> Option<i32> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn by_value(table: &[(&'static str, i32)], value: i32) -> Option<&'static str> {
    table.iter().find(|(_, v)| *v == value).map(|(n, _)| *n)
}

/// Parses a decimal number (with an optional leading '-').
pub fn parse_int(s: &str) -> Option<i32> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v * 10 + i64::from(b - b'0');
    }
    let v = if neg { -v } else { v };
    i32::try_from(v).ok()
}

/// A family by name (`inet`, `af_inet`) or number.
pub fn family_from_str(s: &str) -> Option<i32> {
    by_name(FAMILIES, s.strip_prefix("af_").unwrap_or(s)).or_else(|| parse_int(s))
}

/// A type by name or number, with `|nonblock` / `|cloexec` flags.
pub fn type_from_str(s: &str) -> Option<i32> {
    let mut parts = s.split('|');
    let base = parts.next()?;
    let mut v =
        by_name(TYPES, base.strip_prefix("sock_").unwrap_or(base)).or_else(|| parse_int(base))?;
    for flag in parts {
        v |= by_name(TYPE_FLAGS, flag)?;
    }
    Some(v)
}

/// A protocol by name or number.
pub fn protocol_from_str(s: &str) -> Option<i32> {
    by_name(PROTOCOLS, s.strip_prefix("ipproto_").unwrap_or(s)).or_else(|| parse_int(s))
}

pub fn family_name(v: i32) -> &'static str {
    by_value(FAMILIES, v).unwrap_or("?")
}

/// The base type's name (the SOCK_NONBLOCK/SOCK_CLOEXEC flags are not part of it; any other
/// unknown bit makes it "?").
pub fn type_name(v: i32) -> &'static str {
    by_value(TYPES, v & !(SOCK_NONBLOCK | SOCK_CLOEXEC)).unwrap_or("?")
}

pub fn protocol_name(v: i32) -> &'static str {
    by_value(PROTOCOLS, v).unwrap_or("?")
}

/// Netlink protocols (`include/uapi/linux/netlink.h`): the kernel's own netlink sockets carry
/// these numbers, which the inet names above would misread.
pub const NETLINK_PROTOCOLS: &[(&str, i32)] = &[
    ("route", 0),
    ("usersock", 2),
    ("firewall", 3),
    ("sock_diag", 4),
    ("nflog", 5),
    ("xfrm", 6),
    ("selinux", 7),
    ("iscsi", 8),
    ("audit", 9),
    ("fib_lookup", 10),
    ("connector", 11),
    ("netfilter", 12),
    ("ip6_fw", 13),
    ("dnrtmsg", 14),
    ("kobject_uevent", 15),
    ("generic", 16),
    ("scsitransport", 18),
    ("ecryptfs", 19),
    ("rdma", 20),
    ("crypto", 21),
    ("smc", 22),
];

/// The name of protocol `v` as family `family` numbers it: netlink's own table for
/// `AF_NETLINK` (16), the inet names otherwise.
pub fn protocol_name_in(family: i32, v: i32) -> &'static str {
    match family {
        16 => by_value(NETLINK_PROTOCOLS, v).unwrap_or("?"),
        _ => protocol_name(v),
    }
}

pub fn tcp_state_name(v: i32) -> &'static str {
    by_value(TCP_STATES, v).unwrap_or("?")
}
