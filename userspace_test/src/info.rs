//! `info ID`: what `RSM_IOC_INFO` says of one kernel socket, with the keys that join it to
//! `ss -e` (ino, cookie as `sk:` hex, the bound local address).

use crate::device::Device;
use crate::shared::{names, uapi::RsmInfo};
use serde::Serialize;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Info {
    pub id: u64,
    pub netns_inode: u64,
    pub family: String,
    pub sock_type: String,
    pub protocol: String,
    pub state: String,
    pub hold: bool,
    /// `ss -e`'s `ino:`.
    pub ino: u64,
    /// `ss -e`'s `sk:`, in hex as it prints it.
    pub cookie: String,
    /// `0.0.0.0:8080`, `[::]:9000`; null while unbound.
    pub local: Option<String>,
    pub creator_pid: i32,
    pub latency_ns: u64,
}

/// The bound address (`None` while unbound or for families without ports).
pub fn local(i: &RsmInfo) -> Option<String> {
    if i.local_port == 0 {
        return None;
    }
    match i.family {
        libc::AF_INET => {
            let a = Ipv4Addr::new(
                i.local_addr[0],
                i.local_addr[1],
                i.local_addr[2],
                i.local_addr[3],
            );
            Some(format!("{a}:{}", i.local_port))
        }
        libc::AF_INET6 => Some(format!(
            "[{}]:{}",
            Ipv6Addr::from(i.local_addr),
            i.local_port
        )),
        _ => None,
    }
}

pub fn of(i: &RsmInfo) -> Info {
    let named = |n: &str, v: i32| format!("{n}({v})");
    Info {
        id: i.id,
        netns_inode: i.netns_inode,
        family: named(names::family_name(i.family), i.family),
        sock_type: named(names::type_name(i.sock_type), i.sock_type),
        protocol: named(names::protocol_name(i.protocol), i.protocol),
        state: named(names::tcp_state_name(i.state), i.state),
        hold: i.holds_netns != 0,
        ino: i.sock_inode,
        cookie: format!("{:x}", i.cookie),
        local: local(i),
        creator_pid: i.creator_pid,
        latency_ns: i.latency_ns,
    }
}

pub fn get(dev: &Device, id: u64) -> Result<Info, nix::errno::Errno> {
    dev.info(id).map(|i| of(&i))
}

/// One line, `key=value`, as the report's socket line names them.
pub fn line(i: &Info) -> String {
    format!(
        "id={} netns={} family={} type={} protocol={} state={} hold={} ino={} cookie={} local={} pid={} latency_ns={}",
        i.id,
        i.netns_inode,
        i.family,
        i.sock_type,
        i.protocol,
        i.state,
        if i.hold { "yes" } else { "no" },
        i.ino,
        i.cookie,
        i.local.as_deref().unwrap_or("-"),
        i.creator_pid,
        i.latency_ns
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_join_keys() {
        let mut i = RsmInfo {
            id: 7,
            family: libc::AF_INET6,
            sock_type: libc::SOCK_DGRAM,
            protocol: libc::IPPROTO_UDP,
            state: 7,
            sock_inode: 1335,
            cookie: 0x2f,
            local_port: 9000,
            ..Default::default()
        };
        let v = of(&i);
        assert_eq!(v.cookie, "2f");
        assert_eq!(v.local.as_deref(), Some("[::]:9000"));
        assert_eq!(
            line(&v),
            "id=7 netns=0 family=inet6(10) type=dgram(2) protocol=udp(17) state=CLOSE(7) hold=no ino=1335 cookie=2f local=[::]:9000 pid=0 latency_ns=0"
        );
        i.family = libc::AF_INET;
        i.local_addr[..4].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(local(&i).as_deref(), Some("127.0.0.1:9000"));
        i.local_port = 0;
        assert_eq!(local(&i), None);
        i.family = libc::AF_UNIX;
        i.local_port = 5;
        assert_eq!(local(&i), None);
    }
}
