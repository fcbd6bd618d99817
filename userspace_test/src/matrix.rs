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
/// Built as a module (CONFIG_IP_SCTP=m): the first sctp request on either path loads it
/// through request_module("net-pf-2-proto-132").
const SCTP: i32 = libc::IPPROTO_SCTP;
const RDM: i32 = libc::SOCK_RDM;
const L2TP: i32 = 115;
/// Not in the libc crate (linux/socket.h: AF_KCM 41).
const AF_KCM: i32 = 41;

const fn r(family: i32, sock_type: i32, protocol: i32, note: &'static str) -> Request {
    Request {
        family,
        sock_type,
        protocol,
        note,
    }
}

/// The matrix: every family, type and protocol class the issue names, valid and invalid.
pub const MATRIX: &[Request] = &[
    r(INET, STREAM, 0, "default protocol"),
    r(INET, STREAM, TCP, "tcp"),
    r(INET, STREAM, UDP, "mismatched protocol"),
    r(INET, STREAM, SCTP, "sctp: a module, loaded on demand"),
    r(INET, STREAM, -1, "negative protocol"),
    r(INET, STREAM, 1000, "protocol >= IPPROTO_MAX"),
    r(INET, STREAM | SOCK_NONBLOCK, 0, "SOCK_NONBLOCK"),
    r(INET, STREAM | SOCK_CLOEXEC, TCP, "SOCK_CLOEXEC"),
    r(INET, DGRAM, 0, "default protocol"),
    r(INET, DGRAM, UDP, "udp"),
    r(INET, DGRAM, ICMP, "ping socket (ping_group_range)"),
    r(INET, DGRAM, TCP, "mismatched protocol"),
    r(
        INET,
        DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        UDP,
        "both flags",
    ),
    r(INET, RAW, ICMP, "raw icmp (CAP_NET_RAW)"),
    r(INET, RAW, UDP, "raw udp (CAP_NET_RAW)"),
    r(INET, RAW, 0, "raw, protocol 0"),
    r(
        INET,
        SEQPACKET,
        0,
        "seqpacket/0: sctp's once sctp.ko is loaded",
    ),
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
    // Families the test kernels build as modules (kconfig/base.config), as distributions do.
    r(INET, SEQPACKET, SCTP, "sctp one-to-many (module)"),
    r(INET6, STREAM, SCTP, "sctp over inet6 (module)"),
    r(
        INET,
        DGRAM,
        L2TP,
        "l2tp_ip (module: net-pf-2-proto-115-type-2)",
    ),
    r(
        libc::AF_TIPC,
        RDM,
        0,
        "tipc (module; no net-pf alias: loaded by name)",
    ),
    r(libc::AF_TIPC, STREAM, 0, "tipc stream (module)"),
    r(libc::AF_VSOCK, STREAM, 0, "vsock (module: net-pf-40)"),
    r(AF_KCM, DGRAM, 0, "kcm (module: net-pf-41)"),
    r(
        libc::AF_RDS,
        SEQPACKET,
        0,
        "rds (module; no net-pf alias: loaded by name)",
    ),
    r(
        libc::AF_CAN,
        RAW,
        1,
        "can raw (modules can + can_raw: can-proto-1)",
    ),
    r(libc::AF_CAN, DGRAM, 2, "can bcm (module: can-proto-2)"),
    r(libc::AF_ALG, SEQPACKET, 0, "af_alg (module: net-pf-38)"),
    r(
        libc::AF_KEY,
        RAW,
        2,
        "af_key PF_KEY_V2 (module; CAP_NET_ADMIN checked in pfkey_create)",
    ),
    r(
        libc::AF_PHONET,
        DGRAM,
        0,
        "phonet (module; CAP_SYS_ADMIN checked in pn_socket_create)",
    ),
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
        for fam in [
            INET,
            INET6,
            UNIX,
            PACKET,
            NETLINK,
            libc::AF_APPLETALK,
            libc::AF_TIPC,
            libc::AF_RDS,
            libc::AF_VSOCK,
            AF_KCM,
            libc::AF_CAN,
            libc::AF_ALG,
            libc::AF_KEY,
            libc::AF_PHONET,
        ] {
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
                assert!(
                    (a.family, a.sock_type, a.protocol) != (b.family, b.sock_type, b.protocol),
                    "{a:?}"
                );
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
