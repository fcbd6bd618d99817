//! The module's own definitions, compiled here from the module's source files: the ioctl ABI
//! (`src/uapi.rs`), the benchmark's unstable ioctl (`src/uapi_bench.rs`) and the
//! family/type/protocol names (`src/names.rs`).

#[path = "../../src/uapi.rs"]
pub mod uapi;

#[path = "../../src/uapi_bench.rs"]
pub mod uapi_bench;

#[path = "../../src/names.rs"]
pub mod names;

#[cfg(test)]
mod tests {
    use super::names::*;

    #[test]
    fn families_by_name_and_number() {
        assert_eq!(family_from_str("inet"), Some(libc::AF_INET));
        assert_eq!(family_from_str("af_inet6"), Some(libc::AF_INET6));
        assert_eq!(family_from_str("packet"), Some(libc::AF_PACKET));
        assert_eq!(family_from_str("netlink"), Some(libc::AF_NETLINK));
        assert_eq!(family_from_str("4242"), Some(4242));
        assert_eq!(family_from_str("bogus"), None);
        assert_eq!(family_name(libc::AF_UNIX), "unix");
        assert_eq!(family_name(99), "?");
    }

    #[test]
    fn types_with_flags() {
        assert_eq!(type_from_str("stream"), Some(libc::SOCK_STREAM));
        assert_eq!(
            type_from_str("dgram|nonblock"),
            Some(libc::SOCK_DGRAM | libc::SOCK_NONBLOCK)
        );
        assert_eq!(
            type_from_str("raw|cloexec|nonblock"),
            Some(libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
        );
        assert_eq!(type_from_str("stream|bogus"), None);
        assert_eq!(SOCK_NONBLOCK, libc::SOCK_NONBLOCK);
        assert_eq!(SOCK_CLOEXEC, libc::SOCK_CLOEXEC);
        assert_eq!(
            type_name(libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK),
            "seqpacket"
        );
        assert_eq!(
            type_name(42),
            "?",
            "42 & 0xf would be SOCK_PACKET; it is not"
        );
    }

    #[test]
    fn protocols_and_numbers() {
        assert_eq!(protocol_from_str("tcp"), Some(libc::IPPROTO_TCP));
        assert_eq!(protocol_from_str("ipproto_udp"), Some(libc::IPPROTO_UDP));
        assert_eq!(protocol_from_str("icmpv6"), Some(libc::IPPROTO_ICMPV6));
        assert_eq!(protocol_from_str("-1"), Some(-1));
        assert_eq!(parse_int("2147483648"), None);
        assert_eq!(parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("12a"), None);
        assert_eq!(tcp_state_name(10), "LISTEN");
    }

    #[test]
    fn tables_match_libc() {
        for (name, v) in FAMILIES {
            let want = match *name {
                "unspec" => libc::AF_UNSPEC,
                "unix" => libc::AF_UNIX,
                "inet" => libc::AF_INET,
                "netlink" => libc::AF_NETLINK,
                "packet" => libc::AF_PACKET,
                "inet6" => libc::AF_INET6,
                "vsock" => libc::AF_VSOCK,
                "bluetooth" => libc::AF_BLUETOOTH,
                "key" => libc::AF_KEY,
                "rds" => libc::AF_RDS,
                "can" => libc::AF_CAN,
                "tipc" => libc::AF_TIPC,
                "phonet" => libc::AF_PHONET,
                "alg" => libc::AF_ALG,
                "kcm" => 41, // AF_KCM (not in libc)
                _ => panic!("{name}"),
            };
            assert_eq!(*v, want, "{name}");
        }
    }
}
