//! Verdicts of `compare`: every row is "same", an expected difference (each asserted from what
//! was observed, with the kernel's reason), or UNEXPECTED.

use crate::matrix::{has_type_flags, raw_inet, Request};
use crate::shared::names::{SOCK_CLOEXEC, SOCK_NONBLOCK};
use serde::{Deserialize, Serialize};

/// One path's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Ok {
        domain: i32,
        sock_type: i32,
        protocol: i32,
        netns: u64,
        /// Change of "sockets: used" in /proc/net/sockstat while the socket existed.
        sockstat_delta: i64,
        /// fd flags (user path only; a kernel socket has no fd).
        nonblock: bool,
        cloexec: bool,
    },
    Err {
        errno: i32,
        /// The device refused before sock_create_kern() (its own permission/limit checks).
        rejected_by_device: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Same(String),
    Expected(String),
    Unexpected(String),
}

impl Verdict {
    pub fn is_unexpected(&self) -> bool {
        matches!(self, Verdict::Unexpected(_))
    }
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Same(_) => "same",
            Verdict::Expected(_) => "expected difference",
            Verdict::Unexpected(_) => "UNEXPECTED",
        }
    }
    pub fn text(&self) -> &str {
        match self {
            Verdict::Same(s) | Verdict::Expected(s) | Verdict::Unexpected(s) => s,
        }
    }
}

pub const FLAGS_REASON: &str = "__sys_socket strips SOCK_NONBLOCK/SOCK_CLOEXEC and sets them on the file; __sock_create (kern=1) gets them in type and fails type >= SOCK_MAX with EINVAL";
pub const RAW_REASON: &str = "kern=1 skips the CAP_NET_RAW check in inet_create/inet6_create (the device checked the opener's CAP_NET_RAW instead); socket() as this caller gets EPERM";
pub const SOCKSTAT_REASON: &str = "kernel sockets are not counted in /proc/net/sockstat (sockets: used +1 for the user socket, +0 for the kernel socket: sock_inuse_add only for sk_net_refcnt sockets)";
pub const PACKET_NOTE: &str = "packet_create checks CAP_NET_RAW of the calling task even for kern=1: both EPERM, the kernel one from packet_create (an attempt, not a device refusal)";

fn errno_name(e: i32) -> String {
    format!("{} ({e})", nix::errno::Errno::from_raw(e))
}

/// Judges one row. `privileged`: the caller has root's capabilities; `want_netns`: the
/// namespace the request targeted.
pub fn judge(req: &Request, privileged: bool, want_netns: u64, user: &Outcome, kern: &Outcome) -> Verdict {
    use Outcome::{Err as E, Ok as O};
    if let E { errno, rejected_by_device: true } = kern {
        return Verdict::Unexpected(format!("the device refused ({}) a request its opener may make", errno_name(*errno)));
    }
    // The family must be the one asked for and the netns the one targeted. The type may differ
    // from the request on both paths alike (unix_create turns SOCK_RAW into SOCK_DGRAM), so
    // types are compared between the paths, below.
    let ident_ok = |o: &Outcome| match o {
        O { domain, sock_type, protocol, netns, .. } => {
            if *domain != req.family {
                Some(format!("socket is {domain}/{sock_type}/{protocol}, asked family {}", req.family))
            } else if *netns != want_netns {
                Some(format!("socket in netns {netns}, asked {want_netns}"))
            } else {
                None
            }
        }
        E { .. } => None,
    };
    for o in [user, kern] {
        if let Some(why) = ident_ok(o) {
            return Verdict::Unexpected(why);
        }
    }
    if has_type_flags(req.sock_type) {
        return match (user, kern) {
            (O { nonblock, cloexec, .. }, E { errno: libc::EINVAL, .. })
                if *nonblock == (req.sock_type & SOCK_NONBLOCK != 0) && *cloexec == (req.sock_type & SOCK_CLOEXEC != 0) =>
            {
                Verdict::Expected(FLAGS_REASON.into())
            }
            _ => Verdict::Unexpected(format!("flags row: user {user:?}, kernel {kern:?}")),
        };
    }
    if raw_inet(req) && !privileged {
        return match (user, kern) {
            (E { errno: libc::EPERM, .. }, O { .. }) => Verdict::Expected(RAW_REASON.into()),
            (E { errno: a, .. }, E { errno: b, .. }) if a == b && *a != libc::EPERM => {
                Verdict::Same(format!("{}: refused before the CAP_NET_RAW check", errno_name(*a)))
            }
            _ => Verdict::Unexpected(format!("raw row as unprivileged: user {user:?}, kernel {kern:?}")),
        };
    }
    match (user, kern) {
        (E { errno: a, .. }, E { errno: b, .. }) if a == b => {
            if req.family == libc::AF_PACKET && *a == libc::EPERM && !privileged {
                Verdict::Same(format!("{}; {PACKET_NOTE}", errno_name(*a)))
            } else {
                Verdict::Same(errno_name(*a))
            }
        }
        (
            O { sock_type: tu, protocol: pu, sockstat_delta: su, .. },
            O { sock_type: tk, protocol: pk, sockstat_delta: sk, .. },
        ) => {
            if (tu, pu) != (tk, pk) {
                Verdict::Unexpected(format!("type/protocol {tu}/{pu} (user) vs {tk}/{pk} (kernel)"))
            } else if (*su, *sk) != (1, 0) {
                Verdict::Unexpected(format!("sockstat delta {su} (user) / {sk} (kernel), expected 1 / 0"))
            } else {
                Verdict::Expected(SOCKSTAT_REASON.into())
            }
        }
        _ => Verdict::Unexpected(format!("user {user:?} vs kernel {kern:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::MATRIX;

    fn ok(domain: i32, ty: i32, proto: i32, delta: i64) -> Outcome {
        Outcome::Ok { domain, sock_type: ty, protocol: proto, netns: 7, sockstat_delta: delta, nonblock: false, cloexec: false }
    }
    fn err(e: i32) -> Outcome {
        Outcome::Err { errno: e, rejected_by_device: false }
    }
    fn req(f: i32, t: i32, p: i32) -> Request {
        Request { family: f, sock_type: t, protocol: p, note: "" }
    }

    #[test]
    fn same_errno_is_same() {
        let v = judge(&req(2, 1, 17), true, 7, &err(libc::EPROTONOSUPPORT), &err(libc::EPROTONOSUPPORT));
        assert_eq!(v.label(), "same");
        assert!(v.text().contains("EPROTONOSUPPORT"));
    }

    #[test]
    fn different_errno_is_unexpected() {
        assert!(judge(&req(2, 1, 17), true, 7, &err(libc::EINVAL), &err(libc::EPROTONOSUPPORT)).is_unexpected());
    }

    #[test]
    fn both_ok_needs_the_sockstat_difference() {
        let r = req(2, 1, 6);
        assert_eq!(judge(&r, true, 7, &ok(2, 1, 6, 1), &ok(2, 1, 6, 0)), Verdict::Expected(SOCKSTAT_REASON.into()));
        assert!(judge(&r, true, 7, &ok(2, 1, 6, 1), &ok(2, 1, 6, 1)).is_unexpected());
        assert!(judge(&r, true, 7, &ok(2, 1, 6, 1), &ok(2, 1, 17, 0)).is_unexpected());
        assert!(judge(&r, true, 7, &ok(2, 2, 6, 1), &ok(2, 1, 6, 0)).is_unexpected(), "types differ");
        assert!(judge(&r, true, 7, &ok(10, 1, 6, 1), &ok(10, 1, 6, 0)).is_unexpected(), "wrong family");
        // unix_create turns SOCK_RAW into SOCK_DGRAM on both paths: not a difference.
        let u = req(1, 3, 0);
        assert_eq!(judge(&u, true, 7, &ok(1, 2, 0, 1), &ok(1, 2, 0, 0)).label(), "expected difference");
    }

    #[test]
    fn wrong_netns_is_unexpected() {
        let mut k = ok(2, 1, 6, 0);
        if let Outcome::Ok { netns, .. } = &mut k {
            *netns = 8;
        }
        assert!(judge(&req(2, 1, 6), true, 7, &ok(2, 1, 6, 1), &k).text().contains("netns 8"));
    }

    #[test]
    fn flags_rows_need_einval_and_fd_flags() {
        let r = req(2, 1 | SOCK_NONBLOCK, 0);
        let mut u = ok(2, 1, 6, 1);
        assert!(judge(&r, true, 7, &u, &err(libc::EINVAL)).is_unexpected(), "fd flag not observed");
        if let Outcome::Ok { nonblock, .. } = &mut u {
            *nonblock = true;
        }
        assert_eq!(judge(&r, true, 7, &u, &err(libc::EINVAL)), Verdict::Expected(FLAGS_REASON.into()));
        assert!(judge(&r, true, 7, &u, &ok(2, 1, 6, 0)).is_unexpected());
    }

    #[test]
    fn raw_unprivileged_needs_eperm_and_success() {
        let r = req(2, 3, 1);
        assert_eq!(judge(&r, false, 7, &err(libc::EPERM), &ok(2, 3, 1, 0)), Verdict::Expected(RAW_REASON.into()));
        assert!(judge(&r, false, 7, &err(libc::EPERM), &err(libc::EPERM)).is_unexpected());
        // Refused before the capability check (inet raw with protocol 0): the same errno.
        assert_eq!(judge(&req(2, 3, 0), false, 7, &err(93), &err(93)).label(), "same");
        // As root both succeed: the ordinary sockstat difference.
        assert_eq!(judge(&r, true, 7, &ok(2, 3, 1, 1), &ok(2, 3, 1, 0)).label(), "expected difference");
    }

    #[test]
    fn device_refusal_is_unexpected() {
        let k = Outcome::Err { errno: libc::EPERM, rejected_by_device: true };
        assert!(judge(&req(2, 1, 0), true, 7, &err(libc::EPERM), &k).is_unexpected());
    }

    #[test]
    fn packet_unprivileged_note() {
        let v = judge(&req(libc::AF_PACKET, 2, 0), false, 7, &err(libc::EPERM), &err(libc::EPERM));
        assert!(v.text().contains("packet_create"));
    }

    #[test]
    fn every_matrix_row_can_be_judged() {
        for r in MATRIX {
            let _ = judge(r, true, 7, &err(libc::EINVAL), &err(libc::EINVAL));
        }
    }
}
