//! Verdicts of `compare`: every row is "same", an expected difference (each asserted from what
//! was observed, with the kernel's reason), or UNEXPECTED.

use crate::contexts::{Context, Want};
use crate::matrix::{base_type, has_type_flags, raw_inet, Request};
use crate::shared::names::{SOCK_CLOEXEC, SOCK_NONBLOCK};
use serde::{Deserialize, Serialize};

/// One path's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Ok {
        domain: i32,
        sock_type: i32,
        protocol: i32,
        /// Netns inode: SIOCGSKNS for the user socket (`None`: not permitted, it needs
        /// CAP_NET_ADMIN), the module's report for the kernel socket.
        netns: Option<u64>,
        /// `SO_NETNS_COOKIE` of the user socket (any caller may read it); `None` for the kernel
        /// socket, which has no descriptor.
        netns_cookie: Option<u64>,
        /// Change of "sockets: used" in the target netns's /proc/net/sockstat while the
        /// socket existed.
        sockstat_delta: i64,
        /// Held contexts: the change meanwhile in the netns the kernel socket must not be in
        /// (the caller's, where the device was opened).
        other_sockstat_delta: Option<i64>,
        /// fd flags (user path only; a kernel socket has no fd).
        nonblock: bool,
        cloexec: bool,
    },
    Err {
        /// In JSON: `{"name": "EPERM", "number": 1}` (`errnum`).
        #[serde(with = "crate::errnum::object")]
        errno: i32,
        /// The device refused before sock_create_kern() (its own permission/limit checks).
        rejected_by_device: bool,
    },
}

/// In JSON: `{"kind": "same" | "expected_difference" | "unexpected", "reason": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "reason")]
pub enum Verdict {
    #[serde(rename = "same")]
    Same(String),
    #[serde(rename = "expected_difference")]
    Expected(String),
    #[serde(rename = "unexpected")]
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
pub const HELD_REASON: &str = "a kernel socket made with hold (sk_net_refcnt_upgrade) is counted in its netns's sockstat like a user socket: +1 in the target netns, +0 in the device opener's (independent of the module's report)";
pub const NO_RAW_REASON: &str = "the device refuses SOCK_RAW and AF_PACKET requests of a descriptor opened without CAP_NET_RAW, before the family sees them (EPERM, counted in rejected, not in attempts)";
pub const PACKET_NOTE: &str = "packet_create checks CAP_NET_RAW of the calling task even for kern=1: both EPERM, the kernel one from packet_create (an attempt, not a device refusal)";

fn errno_name(e: i32) -> String {
    format!("{} ({e})", nix::errno::Errno::from_raw(e))
}

/// The device's own CAP_NET_RAW rule (ops::check_permission): SOCK_RAW of any family, and
/// every AF_PACKET request.
pub fn device_needs_net_raw(req: &Request) -> bool {
    base_type(req.sock_type) & 0xf == libc::SOCK_RAW || req.family == libc::AF_PACKET
}

/// Where a successful socket is: `None` if in the targeted netns by every observation made.
fn misplaced(o: &Outcome, want: &Want, kernel: bool, held: bool) -> Option<String> {
    let Outcome::Ok {
        netns,
        netns_cookie,
        sockstat_delta,
        other_sockstat_delta,
        ..
    } = o
    else {
        return None;
    };
    let side = if kernel { "kernel" } else { "user" };
    match netns {
        Some(n) if *n != want.inode => {
            return Some(format!("{side} socket in netns {n}, asked {}", want.inode))
        }
        None if kernel => return Some("the module reported no netns".into()),
        _ => {}
    }
    match netns_cookie {
        Some(c) if *c != want.cookie => {
            return Some(format!(
                "{side} socket's netns cookie {c}, the target's is {}",
                want.cookie
            ))
        }
        None if !kernel => return Some("user socket's netns cookie not observed".into()),
        _ => {}
    }
    if kernel && held && (*sockstat_delta, *other_sockstat_delta) != (1, Some(0)) {
        return Some(format!(
            "held kernel socket counted +{sockstat_delta} in the target netns's sockstat and {other_sockstat_delta:?} in the caller's: expected +1 and Some(0)"
        ));
    }
    None
}

/// Judges one row, made in `ctx` for the netns `want`.
pub fn judge(req: &Request, ctx: &Context, want: &Want, user: &Outcome, kern: &Outcome) -> Verdict {
    use Outcome::{Err as E, Ok as O};
    let no_raw = !ctx.opener_net_raw && device_needs_net_raw(req);
    if let E {
        errno,
        rejected_by_device: true,
    } = kern
    {
        if !no_raw {
            return Verdict::Unexpected(format!(
                "the device refused ({}) a request its opener may make",
                errno_name(*errno)
            ));
        }
    }
    // The family must be the one asked for and the netns the one targeted. The type may differ
    // from the request on both paths alike (unix_create turns SOCK_RAW into SOCK_DGRAM), so
    // types are compared between the paths, below.
    for (o, kernel) in [(user, false), (kern, true)] {
        if let O {
            domain,
            sock_type,
            protocol,
            ..
        } = o
        {
            if *domain != req.family {
                return Verdict::Unexpected(format!(
                    "socket is {domain}/{sock_type}/{protocol}, asked family {}",
                    req.family
                ));
            }
        }
        if let Some(why) = misplaced(o, want, kernel, ctx.held()) {
            return Verdict::Unexpected(why);
        }
    }
    if no_raw {
        return match kern {
            E { errno: libc::EPERM, rejected_by_device: true } => Verdict::Expected(NO_RAW_REASON.into()),
            _ => Verdict::Unexpected(format!("a request needing CAP_NET_RAW from an opener without it was not refused by the device: kernel {kern:?}")),
        };
    }
    let privileged = ctx.privileged;
    if has_type_flags(req.sock_type) {
        return match (user, kern) {
            (
                O {
                    nonblock, cloexec, ..
                },
                E {
                    errno: libc::EINVAL,
                    ..
                },
            ) if *nonblock == (req.sock_type & SOCK_NONBLOCK != 0)
                && *cloexec == (req.sock_type & SOCK_CLOEXEC != 0) =>
            {
                Verdict::Expected(FLAGS_REASON.into())
            }
            _ => Verdict::Unexpected(format!("flags row: user {user:?}, kernel {kern:?}")),
        };
    }
    if raw_inet(req) && !privileged {
        return match (user, kern) {
            (
                E {
                    errno: libc::EPERM, ..
                },
                O { .. },
            ) => Verdict::Expected(RAW_REASON.into()),
            (E { errno: a, .. }, E { errno: b, .. }) if a == b && *a != libc::EPERM => {
                Verdict::Same(format!(
                    "{}: refused before the CAP_NET_RAW check",
                    errno_name(*a)
                ))
            }
            _ => Verdict::Unexpected(format!(
                "raw row as unprivileged: user {user:?}, kernel {kern:?}"
            )),
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
            O {
                sock_type: tu,
                protocol: pu,
                sockstat_delta: su,
                ..
            },
            O {
                sock_type: tk,
                protocol: pk,
                sockstat_delta: sk,
                ..
            },
        ) => {
            if (tu, pu) != (tk, pk) {
                Verdict::Unexpected(format!(
                    "type/protocol {tu}/{pu} (user) vs {tk}/{pk} (kernel)"
                ))
            } else if ctx.held() {
                // misplaced() has checked the kernel socket's +1 / +0.
                if *su == 1 {
                    Verdict::Same(HELD_REASON.into())
                } else {
                    Verdict::Unexpected(format!("sockstat delta {su} (user), expected 1"))
                }
            } else if (*su, *sk) != (1, 0) {
                Verdict::Unexpected(format!(
                    "sockstat delta {su} (user) / {sk} (kernel), expected 1 / 0"
                ))
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
    use crate::contexts::Target;
    use crate::matrix::MATRIX;

    const W: Want = Want {
        inode: 7,
        cookie: 70,
    };

    fn ctx(privileged: bool) -> Context {
        Context {
            target: Target::Caller,
            privileged,
            opener_net_raw: true,
        }
    }

    fn ok(domain: i32, ty: i32, proto: i32, delta: i64) -> Outcome {
        Outcome::Ok {
            domain,
            sock_type: ty,
            protocol: proto,
            netns: Some(7),
            netns_cookie: Some(70),
            sockstat_delta: delta,
            other_sockstat_delta: None,
            nonblock: false,
            cloexec: false,
        }
    }

    fn kernel(domain: i32, ty: i32, proto: i32, delta: i64, caller: Option<i64>) -> Outcome {
        Outcome::Ok {
            domain,
            sock_type: ty,
            protocol: proto,
            netns: Some(7),
            netns_cookie: None,
            sockstat_delta: delta,
            other_sockstat_delta: caller,
            nonblock: false,
            cloexec: false,
        }
    }
    fn err(e: i32) -> Outcome {
        Outcome::Err {
            errno: e,
            rejected_by_device: false,
        }
    }
    fn req(f: i32, t: i32, p: i32) -> Request {
        Request {
            family: f,
            sock_type: t,
            protocol: p,
            note: "",
        }
    }

    #[test]
    fn same_errno_is_same() {
        let v = judge(
            &req(2, 1, 17),
            &ctx(true),
            &W,
            &err(libc::EPROTONOSUPPORT),
            &err(libc::EPROTONOSUPPORT),
        );
        assert_eq!(v.label(), "same");
        assert!(v.text().contains("EPROTONOSUPPORT"));
    }

    #[test]
    fn different_errno_is_unexpected() {
        assert!(judge(
            &req(2, 1, 17),
            &ctx(true),
            &W,
            &err(libc::EINVAL),
            &err(libc::EPROTONOSUPPORT)
        )
        .is_unexpected());
    }

    #[test]
    fn both_ok_needs_the_sockstat_difference() {
        let r = req(2, 1, 6);
        assert_eq!(
            judge(&r, &ctx(true), &W, &ok(2, 1, 6, 1), &ok(2, 1, 6, 0)),
            Verdict::Expected(SOCKSTAT_REASON.into())
        );
        assert!(judge(&r, &ctx(true), &W, &ok(2, 1, 6, 1), &ok(2, 1, 6, 1)).is_unexpected());
        assert!(judge(&r, &ctx(true), &W, &ok(2, 1, 6, 1), &ok(2, 1, 17, 0)).is_unexpected());
        assert!(
            judge(&r, &ctx(true), &W, &ok(2, 2, 6, 1), &ok(2, 1, 6, 0)).is_unexpected(),
            "types differ"
        );
        assert!(
            judge(&r, &ctx(true), &W, &ok(10, 1, 6, 1), &ok(10, 1, 6, 0)).is_unexpected(),
            "wrong family"
        );
        // unix_create turns SOCK_RAW into SOCK_DGRAM on both paths: not a difference.
        let u = req(1, 3, 0);
        assert_eq!(
            judge(&u, &ctx(true), &W, &ok(1, 2, 0, 1), &ok(1, 2, 0, 0)).label(),
            "expected difference"
        );
    }

    #[test]
    fn wrong_netns_is_unexpected() {
        let mut k = ok(2, 1, 6, 0);
        if let Outcome::Ok { netns, .. } = &mut k {
            *netns = Some(8);
        }
        assert!(judge(&req(2, 1, 6), &ctx(true), &W, &ok(2, 1, 6, 1), &k)
            .text()
            .contains("netns 8"));
    }

    #[test]
    fn flags_rows_need_einval_and_fd_flags() {
        let r = req(2, 1 | SOCK_NONBLOCK, 0);
        let mut u = ok(2, 1, 6, 1);
        assert!(
            judge(&r, &ctx(true), &W, &u, &err(libc::EINVAL)).is_unexpected(),
            "fd flag not observed"
        );
        if let Outcome::Ok { nonblock, .. } = &mut u {
            *nonblock = true;
        }
        assert_eq!(
            judge(&r, &ctx(true), &W, &u, &err(libc::EINVAL)),
            Verdict::Expected(FLAGS_REASON.into())
        );
        assert!(judge(&r, &ctx(true), &W, &u, &ok(2, 1, 6, 0)).is_unexpected());
    }

    #[test]
    fn raw_unprivileged_needs_eperm_and_success() {
        let r = req(2, 3, 1);
        assert_eq!(
            judge(&r, &ctx(false), &W, &err(libc::EPERM), &ok(2, 3, 1, 0)),
            Verdict::Expected(RAW_REASON.into())
        );
        assert!(judge(&r, &ctx(false), &W, &err(libc::EPERM), &err(libc::EPERM)).is_unexpected());
        // Refused before the capability check (inet raw with protocol 0): the same errno.
        assert_eq!(
            judge(&req(2, 3, 0), &ctx(false), &W, &err(93), &err(93)).label(),
            "same"
        );
        // As root both succeed: the ordinary sockstat difference.
        assert_eq!(
            judge(&r, &ctx(true), &W, &ok(2, 3, 1, 1), &ok(2, 3, 1, 0)).label(),
            "expected difference"
        );
    }

    #[test]
    fn device_refusal_is_unexpected() {
        let k = Outcome::Err {
            errno: libc::EPERM,
            rejected_by_device: true,
        };
        assert!(judge(&req(2, 1, 0), &ctx(true), &W, &err(libc::EPERM), &k).is_unexpected());
    }

    #[test]
    fn packet_unprivileged_note() {
        let v = judge(
            &req(libc::AF_PACKET, 2, 0),
            &ctx(false),
            &W,
            &err(libc::EPERM),
            &err(libc::EPERM),
        );
        assert!(v.text().contains("packet_create"));
    }

    #[test]
    fn every_matrix_row_can_be_judged() {
        for r in MATRIX {
            let _ = judge(r, &ctx(true), &W, &err(libc::EINVAL), &err(libc::EINVAL));
        }
    }

    #[test]
    fn user_netns_is_observed_not_assumed() {
        let r = req(2, 2, 17);
        let mut u = ok(2, 2, 17, 1);
        if let Outcome::Ok {
            netns,
            netns_cookie,
            ..
        } = &mut u
        {
            *netns = None; // SIOCGSKNS not permitted: fine, the cookie still decides
            *netns_cookie = Some(71);
        }
        assert!(judge(&r, &ctx(false), &W, &u, &kernel(2, 2, 17, 0, None))
            .text()
            .contains("cookie 71"));
        if let Outcome::Ok { netns_cookie, .. } = &mut u {
            *netns_cookie = None;
        }
        assert!(judge(&r, &ctx(false), &W, &u, &kernel(2, 2, 17, 0, None))
            .text()
            .contains("not observed"));
    }

    #[test]
    fn named_netns_needs_the_held_socket_counted_there_only() {
        let named = Context {
            target: Target::NamedPid,
            privileged: true,
            opener_net_raw: true,
        };
        let r = req(2, 1, 6);
        assert_eq!(
            judge(
                &r,
                &named,
                &W,
                &ok(2, 1, 6, 1),
                &kernel(2, 1, 6, 1, Some(0))
            ),
            Verdict::Same(HELD_REASON.into())
        );
        // Created in the caller's netns although the module reports the named one.
        assert!(judge(
            &r,
            &named,
            &W,
            &ok(2, 1, 6, 1),
            &kernel(2, 1, 6, 0, Some(1))
        )
        .is_unexpected());
        assert!(judge(&r, &named, &W, &ok(2, 1, 6, 1), &kernel(2, 1, 6, 1, None)).is_unexpected());
    }

    #[test]
    fn opener_without_net_raw_needs_a_device_refusal() {
        let noraw = Context {
            target: Target::Caller,
            privileged: true,
            opener_net_raw: false,
        };
        let refused = Outcome::Err {
            errno: libc::EPERM,
            rejected_by_device: true,
        };
        for r in [
            req(2, 3, 1),
            req(libc::AF_PACKET, 2, 0),
            req(1, 3, 0),
            req(16, 3, 0),
        ] {
            assert_eq!(
                judge(&r, &noraw, &W, &err(libc::EPERM), &refused),
                Verdict::Expected(NO_RAW_REASON.into())
            );
            assert!(
                judge(
                    &r,
                    &noraw,
                    &W,
                    &err(libc::EPERM),
                    &kernel(r.family, 3, 1, 0, None)
                )
                .is_unexpected(),
                "{r:?}"
            );
            assert!(
                judge(&r, &noraw, &W, &err(libc::EPERM), &err(libc::EPERM)).is_unexpected(),
                "not by the device: {r:?}"
            );
        }
        // Other requests from that descriptor: the device must not refuse them.
        assert!(judge(&req(2, 1, 6), &noraw, &W, &ok(2, 1, 6, 1), &refused).is_unexpected());
        assert_eq!(
            judge(
                &req(2, 1, 6),
                &noraw,
                &W,
                &ok(2, 1, 6, 1),
                &kernel(2, 1, 6, 0, None)
            )
            .label(),
            "expected difference"
        );
    }

    #[test]
    fn json_shapes_read_well_in_jq() {
        use serde_json::json;
        for (v, kind) in [
            (Verdict::Same("r".into()), "same"),
            (Verdict::Expected("r".into()), "expected_difference"),
            (Verdict::Unexpected("r".into()), "unexpected"),
        ] {
            let j = serde_json::to_value(&v).unwrap();
            assert_eq!(j, json!({"kind": kind, "reason": "r"}));
            assert_eq!(serde_json::from_value::<Verdict>(j).unwrap(), v);
        }
        let refused = Outcome::Err {
            errno: libc::EPERM,
            rejected_by_device: true,
        };
        let j = serde_json::to_value(&refused).unwrap();
        assert_eq!(
            j,
            json!({"Err": {"errno": {"name": "EPERM", "number": 1}, "rejected_by_device": true}})
        );
        // compare's contexts hand their rows over as JSON: the shapes must read back.
        assert_eq!(serde_json::from_value::<Outcome>(j).unwrap(), refused);
        let o = ok(2, 1, 6, 1);
        let j = serde_json::to_value(&o).unwrap();
        assert_eq!(serde_json::from_value::<Outcome>(j).unwrap(), o);
    }
}
