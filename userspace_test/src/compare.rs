//! `compare`: every matrix request through socket() and through the module's
//! sock_create_kern() path, in the caller's netns and a fresh one, as root and unprivileged.

use crate::device::{Device, Netns};
use crate::matrix::{Request, MATRIX};
use crate::shared::names;
use crate::sys;
use crate::verdict::{judge, Outcome, Verdict};
use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::os::fd::AsRawFd;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The request targets a fresh netns (the process enters it; the kernel path names it by
    /// fd) instead of the caller's.
    pub fresh_netns: bool,
    /// The caller keeps root's capabilities (else: uid 65534, no capabilities, using a device
    /// descriptor its privileged parent opened).
    pub privileged: bool,
}

impl Context {
    pub fn name(&self) -> String {
        format!("{}/{}", if self.fresh_netns { "fresh-netns" } else { "caller-netns" }, if self.privileged { "root" } else { "unprivileged" })
    }
}

pub const CONTEXTS: [Context; 4] = [
    Context { fresh_netns: false, privileged: true },
    Context { fresh_netns: true, privileged: true },
    Context { fresh_netns: false, privileged: false },
    Context { fresh_netns: true, privileged: false },
];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub context: Context,
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    pub note: String,
    pub netns: u64,
    pub user: Outcome,
    pub kernel: Outcome,
    pub verdict: Verdict,
}

/// "sockets: used" once it has stopped moving: sockets closed earlier (netlink's are freed
/// after an RCU grace period) must not be counted against the next measurement.
fn settled_sockets_used() -> Result<i64, String> {
    let mut last = sys::sockets_used()?;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(2));
        let now = sys::sockets_used()?;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

/// The median of three sockstat deltas: "sockets: used" is per netns but shared with every
/// other process there, so one noisy sample does not decide.
fn median3(mut d: [i64; 3]) -> i64 {
    d.sort_unstable();
    d[1]
}

fn user_path(req: &Request) -> Result<Outcome, String> {
    let mut deltas = [0i64; 3];
    let mut first = None;
    for d in deltas.iter_mut() {
        let before = settled_sockets_used()?;
        match sys::user_socket(req.family, req.sock_type, req.protocol, sys::sockets_used) {
            Ok((s, after)) => {
                *d = after? - before;
                first.get_or_insert(s);
            }
            Err(e) => return Ok(Outcome::Err { errno: e as i32, rejected_by_device: false }),
        }
    }
    let s = first.ok_or("no sample")?;
    Ok(Outcome::Ok {
        domain: s.domain,
        sock_type: s.sock_type,
        protocol: s.protocol,
        netns: s.netns,
        sockstat_delta: median3(deltas),
        nonblock: s.nonblock,
        cloexec: s.cloexec,
    })
}

fn kernel_path(dev: &Device, req: &Request, netns: Netns) -> Result<Outcome, String> {
    let mut deltas = [0i64; 3];
    let mut first = None;
    for d in deltas.iter_mut() {
        let t0 = dev.totals().map_err(|e| format!("totals: {e}"))?;
        let before = settled_sockets_used()?;
        match dev.create(req.family, req.sock_type, req.protocol, netns, false) {
            Ok(c) => {
                *d = sys::sockets_used()? - before;
                let info = dev.info(c.id).map_err(|e| format!("info {}: {e}", c.id))?;
                dev.release(c.id).map_err(|e| format!("release {}: {e}", c.id))?;
                first.get_or_insert(info);
            }
            Err(e) => {
                let t1 = dev.totals().map_err(|e| format!("totals: {e}"))?;
                return Ok(Outcome::Err { errno: e as i32, rejected_by_device: t1.rejected > t0.rejected });
            }
        }
    }
    let info = first.ok_or("no sample")?;
    Ok(Outcome::Ok {
        domain: info.family,
        sock_type: info.sock_type,
        protocol: info.protocol,
        netns: info.netns_inode,
        sockstat_delta: median3(deltas),
        nonblock: false,
        cloexec: false,
    })
}

/// Runs the matrix in one context (in a forked child, which may drop privileges).
fn run_context(dev: &Device, fresh: &std::fs::File, ctx: Context) -> Result<Vec<Row>, String> {
    sys::in_child(|| {
        let netns = if ctx.fresh_netns {
            sys::enter_netns(fresh)?;
            Netns::Fd(fresh.as_raw_fd())
        } else {
            Netns::Caller
        };
        let want = sys::inode_of("/proc/self/ns/net")?;
        if !ctx.privileged {
            sys::drop_privileges()?;
        }
        let mut rows = Vec::new();
        for req in MATRIX {
            let user = user_path(req)?;
            let kernel = kernel_path(dev, req, netns)?;
            let verdict = judge(req, ctx.privileged, want, &user, &kernel);
            rows.push(Row {
                context: ctx,
                family: req.family,
                sock_type: req.sock_type,
                protocol: req.protocol,
                note: req.note.into(),
                netns: want,
                user,
                kernel,
                verdict,
            });
        }
        serde_json::to_value(rows).map_err(|e| e.to_string())
    })
}

pub fn run(dev: &Device) -> Result<Vec<Row>, String> {
    let fresh = sys::fresh_netns()?;
    let mut rows = Vec::new();
    for ctx in CONTEXTS {
        rows.extend(run_context(dev, &fresh, ctx)?);
    }
    Ok(rows)
}

fn short(o: &Outcome) -> String {
    match o {
        Outcome::Ok { protocol, nonblock, cloexec, .. } => {
            let mut s = format!("ok proto={protocol}");
            if *nonblock {
                s.push_str(" O_NONBLOCK");
            }
            if *cloexec {
                s.push_str(" FD_CLOEXEC");
            }
            s
        }
        Outcome::Err { errno, rejected_by_device } => {
            format!("{}{}", Errno::from_raw(*errno), if *rejected_by_device { " (device)" } else { "" })
        }
    }
}

fn type_label(t: i32) -> String {
    let mut s = names::type_name(t).to_string();
    if s == "?" {
        s = t.to_string();
    }
    for (n, f) in names::TYPE_FLAGS {
        if t & f != 0 {
            s.push('|');
            s.push_str(n);
        }
    }
    s
}

/// The readable table, with reasons as numbered footnotes.
pub fn print_table(rows: &[Row]) {
    let mut reasons: Vec<String> = Vec::new();
    println!("{:<25} {:<10} {:<17} {:<8} {:<26} {:<26} verdict", "context", "family", "type", "proto", "socket()", "sock_create_kern()");
    for r in rows {
        let fam = match names::family_name(r.family) {
            "?" => r.family.to_string(),
            n => n.to_string(),
        };
        let note = r.verdict.text().to_string();
        let idx = match reasons.iter().position(|x| *x == note) {
            Some(i) => i + 1,
            None => {
                reasons.push(note);
                reasons.len()
            }
        };
        println!(
            "{:<25} {:<10} {:<17} {:<8} {:<26} {:<26} {} [{}]",
            r.context.name(),
            fam,
            type_label(r.sock_type),
            r.protocol,
            short(&r.user),
            short(&r.kernel),
            r.verdict.label(),
            idx
        );
    }
    println!();
    for (i, reason) in reasons.iter().enumerate() {
        println!("[{}] {reason}", i + 1);
    }
    let unexpected = rows.iter().filter(|r| r.verdict.is_unexpected()).count();
    let expected = rows.iter().filter(|r| matches!(r.verdict, Verdict::Expected(_))).count();
    println!(
        "\ncompare: {} rows ({} requests x {} contexts): {} same, {} expected differences, {} UNEXPECTED",
        rows.len(),
        MATRIX.len(),
        CONTEXTS.len(),
        rows.len() - unexpected - expected,
        expected,
        unexpected
    );
}
