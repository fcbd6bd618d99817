//! The request matrix of `compare`: (family, type, protocol) triples, valid and invalid.

use crate::shared::names::{SOCK_CLOEXEC, SOCK_NONBLOCK};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Request {
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    /// Why this row is in the matrix.
    pub note: &'static str,
}

const INET: i32 = libc::AF_INET;
const INET6: i32 = libc::AF_INET6;
const UNIX: i32 = libc::AF_UNIX;
const PACKET: i32 = libc::AF_PACKET;
const NETLINK: i32 = libc::AF_NETLINK;
const STREAM: i32 = libc::SOCK_STREAM;
const DGRAM: i32 = libc::SOCK_DGRAM;
const RAW: i32 = libc::SOCK_RAW;
const SEQPACKET: i32 = libc::SOCK_SEQPACKET;
const TCP: i32 = libc::IPPROTO_TCP;
const UDP: i32 = libc::IPPROTO_UDP;
const ICMP: i32 = libc::IPPROTO_ICMP;
const ICMPV6: i32 = libc::IPPROTO_ICMPV6;
/// Not built into the test kernel (CONFIG_IP_SCTP=n), so the kernel tries request_module.
const SCTP: i32 = libc::IPPROTO_SCTP;

const fn r(family: i32, sock_type: i32, protocol: i32, note: &'static str) -> Request {
    Request { family, sock_type, protocol, note }
}

/// The matrix: every family, type and protocol class the issue names, valid and invalid.
pub const MATRIX: &[Request] = &[
    r(INET, STREAM, 0, "default protocol"),
    r(INET, STREAM, TCP, "tcp"),
    r(INET, STREAM, UDP, "mismatched protocol"),
    r(INET, STREAM, SCTP, "protocol this kernel lacks"),
    r(INET, STREAM, -1, "negative protocol"),
    r(INET, STREAM, 1000, "protocol >= IPPROTO_MAX"),
    r(INET, STREAM | SOCK_NONBLOCK, 0, "SOCK_NONBLOCK"),
    r(INET, STREAM | SOCK_CLOEXEC, TCP, "SOCK_CLOEXEC"),
    r(INET, DGRAM, 0, "default protocol"),
    r(INET, DGRAM, UDP, "udp"),
    r(INET, DGRAM, ICMP, "ping socket (ping_group_range)"),
    r(INET, DGRAM, TCP, "mismatched protocol"),
    r(INET, DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, UDP, "both flags"),
    r(INET, RAW, ICMP, "raw icmp (CAP_NET_RAW)"),
    r(INET, RAW, UDP, "raw udp (CAP_NET_RAW)"),
    r(INET, RAW, 0, "raw, protocol 0"),
    r(INET, SEQPACKET, 0, "type inet lacks (no sctp)"),
    r(INET, 42, 0, "invalid type (>= SOCK_MAX)"),
    r(INET6, STREAM, 0, "default protocol"),
    r(INET6, STREAM, TCP, "tcp"),
    r(INET6, STREAM, UDP, "mismatched protocol"),
    r(INET6, DGRAM, 0, "default protocol"),
    r(INET6, DGRAM, UDP, "udp"),
    r(INET6, DGRAM, ICMPV6, "ping6 socket"),
    r(INET6, RAW, ICMPV6, "raw icmpv6 (CAP_NET_RAW)"),
    r(INET6, SEQPACKET, 0, "type inet6 lacks"),
    r(INET6, STREAM | SOCK_NONBLOCK, TCP, "SOCK_NONBLOCK"),
    r(UNIX, STREAM, 0, "unix stream"),
    r(UNIX, DGRAM, 0, "unix dgram"),
    r(UNIX, SEQPACKET, 0, "unix seqpacket"),
    r(UNIX, RAW, 0, "type unix lacks"),
    r(UNIX, STREAM, TCP, "protocol for unix"),
    r(UNIX, DGRAM | SOCK_CLOEXEC, 0, "SOCK_CLOEXEC"),
    r(PACKET, DGRAM, 0, "packet dgram (CAP_NET_RAW)"),
    r(PACKET, RAW, 0x0300, "packet raw ETH_P_ALL (CAP_NET_RAW)"),
    r(PACKET, STREAM, 0, "type packet lacks"),
    r(NETLINK, RAW, 0, "netlink route"),
    r(NETLINK, DGRAM, 0, "netlink route, dgram"),
    r(NETLINK, STREAM, 0, "type netlink lacks"),
    r(NETLINK, RAW, 9999, "netlink protocol >= MAX_LINKS"),
    r(libc::AF_APPLETALK, DGRAM, 0, "family this kernel lacks"),
    r(4242, STREAM, 0, "family >= NPROTO"),
    r(-1, STREAM, 0, "negative family"),
];

/// The type without SOCK_NONBLOCK / SOCK_CLOEXEC.
pub fn base_type(t: i32) -> i32 {
    t & !(SOCK_NONBLOCK | SOCK_CLOEXEC)
}

pub fn has_type_flags(t: i32) -> bool {
    t & (SOCK_NONBLOCK | SOCK_CLOEXEC) != 0
}

/// Whether the family's create function checks CAP_NET_RAW (skipped for kern=1 by inet/inet6).
pub fn raw_inet(req: &Request) -> bool {
    matches!(req.family, INET | INET6) && base_type(req.sock_type) == RAW
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_covers_what_the_issue_names() {
        assert!(MATRIX.len() >= 40, "{} rows", MATRIX.len());
        for fam in [INET, INET6, UNIX, PACKET, NETLINK, libc::AF_APPLETALK] {
            assert!(MATRIX.iter().any(|r| r.family == fam), "family {fam}");
        }
        for ty in [STREAM, DGRAM, RAW, SEQPACKET, 42] {
            assert!(MATRIX.iter().any(|r| r.sock_type == ty), "type {ty}");
        }
        assert!(MATRIX.iter().any(|r| r.sock_type & SOCK_NONBLOCK != 0));
        assert!(MATRIX.iter().any(|r| r.sock_type & SOCK_CLOEXEC != 0));
        for p in [0, TCP, UDP, ICMP, SCTP] {
            assert!(MATRIX.iter().any(|r| r.protocol == p), "protocol {p}");
        }
    }

    #[test]
    fn no_duplicate_rows() {
        for (i, a) in MATRIX.iter().enumerate() {
            for b in &MATRIX[i + 1..] {
                assert!((a.family, a.sock_type, a.protocol) != (b.family, b.sock_type, b.protocol), "{a:?}");
            }
        }
    }

    #[test]
    fn flag_helpers() {
        assert_eq!(base_type(STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC), STREAM);
        assert!(has_type_flags(DGRAM | SOCK_CLOEXEC));
        assert!(!has_type_flags(RAW));
        assert!(raw_inet(&r(INET6, RAW | SOCK_NONBLOCK, 0, "")));
        assert!(!raw_inet(&r(PACKET, RAW, 0, "")));
    }
}
