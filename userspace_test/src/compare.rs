//! `compare`: every matrix request through socket() and through the module's
//! sock_create_kern() path, in the contexts of `contexts.rs`: the caller's netns, a fresh one
//! entered, a fresh one named from outside (by fd, path and pid), as root, unprivileged, and
//! with a device descriptor opened without CAP_NET_RAW.

use crate::contexts::{Context, Target, Want, CONTEXTS};
use crate::device::{Device, Netns};
use crate::matrix::{Request, MATRIX};
use crate::shared::names;
use crate::sys;
use crate::table;
use crate::verdict::{judge, Outcome, Verdict};
use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub context: Context,
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    pub note: String,
    /// The targeted netns, as observed from objects made there.
    pub want: Want,
    pub user: Outcome,
    pub kernel: Outcome,
    pub verdict: Verdict,
}

/// One netns's /proc/net/sockstat, opened once (so that it stays readable after the process
/// drops its privileges) and read anew from offset 0 each time (a seq_file regenerates).
struct Sockstat {
    file: File,
    name: String,
}

impl Sockstat {
    fn open(path: &str) -> Result<Self, String> {
        File::open(path)
            .map(|file| Self {
                file,
                name: path.into(),
            })
            .map_err(|e| format!("{path}: {e}"))
    }

    /// "sockets: used".
    fn used(&self) -> Result<i64, String> {
        use std::io::{Read, Seek, SeekFrom};
        let mut s = String::new();
        let mut f = &self.file;
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.read_to_string(&mut s))
            .map_err(|e| format!("{}: {e}", self.name))?;
        s.lines()
            .find_map(|l| l.strip_prefix("sockets: used "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("{}: no 'sockets: used' line", self.name))
    }

    /// "sockets: used" once it has stopped moving: sockets closed earlier (netlink's are freed
    /// after an RCU grace period) must not be counted against the next measurement.
    fn settled(&self) -> Result<i64, String> {
        let mut last = self.used()?;
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(2));
            let now = self.used()?;
            if now == last {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }

    /// After a socket's release: waits (up to 3 s) until "sockets: used" is back at `before`;
    /// false if it is not. Protocols that free their sock after an RCU grace period (netlink,
    /// sctp, tipc) decrement it later; a decrement landing inside the next measurement would
    /// cancel that socket's +1.
    fn back_to(&self, before: i64) -> Result<bool, String> {
        for _ in 0..3000 {
            if self.used()? <= before {
                return Ok(true);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(false)
    }
}

/// The median of three sockstat deltas: "sockets: used" is per netns but shared with every
/// other process there, so one noisy sample does not decide.
fn median3(mut d: [i64; 3]) -> i64 {
    d.sort_unstable();
    d[1]
}

fn user_path(req: &Request, own: &Sockstat) -> Result<Outcome, String> {
    let mut deltas = [0i64; 3];
    let mut first = None;
    for d in deltas.iter_mut() {
        let before = own.settled()?;
        match sys::user_socket(req.family, req.sock_type, req.protocol, || own.used()) {
            Ok((s, after)) => {
                *d = after? - before;
                first.get_or_insert(s);
                own.back_to(before)?;
            }
            Err(e) => {
                return Ok(Outcome::Err {
                    errno: e as i32,
                    rejected_by_device: false,
                })
            }
        }
    }
    let s = first.ok_or("no sample")?;
    Ok(Outcome::Ok {
        domain: s.domain,
        sock_type: s.sock_type,
        protocol: s.protocol,
        netns: s.netns,
        netns_cookie: Some(s.netns_cookie),
        sockstat_delta: median3(deltas),
        other_sockstat_delta: None,
        nonblock: s.nonblock,
        cloexec: s.cloexec,
    })
}

/// How the kernel path names the target, and where its sockstat is read.
struct KernelTarget {
    /// `Err(path)`: by path, through the text interface.
    naming: Result<Netns, String>,
    /// The target netns's sockstat.
    sockstat: Sockstat,
    /// Held contexts (`Context::held`): the socket is made with `hold`, which counts it in its
    /// netns's "sockets: used" like a user socket, and `other` is the sockstat of the netns it
    /// must not appear in (the caller's, where the device was opened).
    other: Option<Sockstat>,
}

fn kernel_path(dev: &Device, req: &Request, kt: &KernelTarget) -> Result<Outcome, String> {
    let mut deltas = [0i64; 3];
    let mut other_deltas = [0i64; 3];
    let mut first = None;
    let hold = kt.other.is_some();
    for i in 0..3 {
        let t0 = dev.totals().map_err(|e| format!("totals: {e}"))?;
        let before = kt.sockstat.settled()?;
        let other_before = kt.other.as_ref().map(Sockstat::settled).transpose()?;
        let created = match &kt.naming {
            Ok(netns) => dev
                .create(req.family, req.sock_type, req.protocol, *netns, hold)
                .map(|c| c.id),
            Err(path) => match dev.command(&format!(
                "create {} {} {} netns={path}{}\n",
                req.family,
                req.sock_type,
                req.protocol,
                if hold { " hold" } else { "" }
            )) {
                Ok(()) => Ok(dev
                    .newest_socket_id()
                    .map_err(|e| format!("the text create's socket: {e}"))?),
                Err(e) => Err(e),
            },
        };
        match created {
            Ok(id) => {
                deltas[i] = kt.sockstat.used()? - before;
                if let (Some(o), Some(b)) = (&kt.other, other_before) {
                    other_deltas[i] = o.used()? - b;
                }
                let info = dev.info(id).map_err(|e| format!("info {id}: {e}"))?;
                dev.release(id).map_err(|e| format!("release {id}: {e}"))?;
                first.get_or_insert(info);
                // A held socket's count must come back with its release (its netns reference and
                // sock_inuse_add(-1) go with the sock); a leak on release fails here.
                if !kt.sockstat.back_to(before)? && hold {
                    return Err(format!(
                        "{}: held kernel socket {id} still counted 3 s after its release",
                        kt.sockstat.name
                    ));
                }
                if let (Some(o), Some(b)) = (&kt.other, other_before) {
                    if other_deltas[i] != 0 {
                        o.back_to(b)?;
                    }
                }
            }
            Err(e) => {
                // A device refusal: counted in `rejected`, not in `attempts` (sock_create_kern()
                // never ran).
                let t1 = dev.totals().map_err(|e| format!("totals: {e}"))?;
                let by_device = t1.rejected > t0.rejected && t1.attempts == t0.attempts;
                return Ok(Outcome::Err {
                    errno: e as i32,
                    rejected_by_device: by_device,
                });
            }
        }
    }
    let info = first.ok_or("no sample")?;
    Ok(Outcome::Ok {
        domain: info.family,
        sock_type: info.sock_type,
        protocol: info.protocol,
        netns: Some(info.netns_inode),
        netns_cookie: None,
        sockstat_delta: median3(deltas),
        other_sockstat_delta: kt.other.as_ref().map(|_| median3(other_deltas)),
        nonblock: false,
        cloexec: false,
    })
}

/// The fresh netns of the named contexts and a process parked in it.
struct Fresh {
    ns: File,
    want: Want,
    sitter: sys::NetnsSitter,
}

/// Runs the matrix in one context (in a forked child, which may enter a netns and drop
/// privileges).
fn run_context(dev: &Device, fresh: &Fresh, ctx: Context) -> Result<Vec<Row>, String> {
    sys::in_child(|| {
        let (ours, _) = sys::user_socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0, || ())
            .map_err(|e| format!("probe socket: {e}"))?;
        let own = Want {
            inode: sys::inode_of("/proc/self/ns/net")?,
            cookie: ours.netns_cookie,
        };
        let fd = Netns::Fd(fresh.ns.as_raw_fd());
        let pid = fresh.sitter.pid();
        // The parent (`userspace_test compare`) never leaves the caller's netns, where the
        // device was opened.
        let caller_sockstat = format!("/proc/{}/net/sockstat", nix::unistd::getppid());
        let (want, naming) = match ctx.target {
            Target::Caller => (own, Ok(Netns::Caller)),
            // Entered: "the caller's netns" is now the fresh one, not the opener's.
            Target::Entered => {
                sys::enter_netns(&fresh.ns)?;
                (fresh.want, Ok(Netns::Caller))
            }
            Target::NamedFd => (fresh.want, Ok(fd)),
            Target::NamedPath => (fresh.want, Err(format!("/proc/{pid}/ns/net"))),
            Target::NamedPid => (fresh.want, Ok(Netns::Pid(pid))),
        };
        // Opened before any privilege is dropped.
        let own_sockstat = Sockstat::open("/proc/self/net/sockstat")?;
        let kt = if ctx.held() {
            KernelTarget {
                naming,
                sockstat: Sockstat::open(&format!("/proc/{pid}/net/sockstat"))?,
                other: Some(Sockstat::open(&caller_sockstat)?),
            }
        } else {
            KernelTarget {
                naming,
                sockstat: Sockstat::open("/proc/self/net/sockstat")?,
                other: None,
            }
        };
        let reopened;
        let dev = if ctx.opener_net_raw {
            dev
        } else {
            sys::drop_net_raw()?;
            reopened = dev.reopen()?;
            &reopened
        };
        if !ctx.privileged {
            sys::drop_privileges()?;
        }
        let mut rows = Vec::new();
        for req in MATRIX {
            // Named: the user socket is made in the target, whose sockstat the kernel path reads.
            let user = if ctx.named() {
                sys::in_netns(&fresh.ns, || user_path(req, &kt.sockstat))?
            } else {
                user_path(req, &own_sockstat)?
            };
            let kernel = kernel_path(dev, req, &kt)?;
            let verdict = judge(req, &ctx, &want, &user, &kernel);
            rows.push(Row {
                context: ctx,
                family: req.family,
                sock_type: req.sock_type,
                protocol: req.protocol,
                note: req.note.into(),
                want,
                user,
                kernel,
                verdict,
            });
        }
        serde_json::to_value(rows).map_err(|e| e.to_string())
    })
}

pub fn run(dev: &Device) -> Result<Vec<Row>, String> {
    let ns = sys::fresh_netns()?;
    let want = Want {
        inode: ns.metadata().map_err(|e| e.to_string())?.ino(),
        cookie: sys::cookie_of_netns(&ns)?,
    };
    let sitter = sys::NetnsSitter::spawn(&ns)?;
    let fresh = Fresh { ns, want, sitter };
    let mut rows = Vec::new();
    for ctx in CONTEXTS {
        rows.extend(run_context(dev, &fresh, ctx)?);
    }
    Ok(rows)
}

fn short(o: &Outcome) -> String {
    match o {
        Outcome::Ok {
            protocol,
            nonblock,
            cloexec,
            ..
        } => {
            let mut s = format!("ok proto={protocol}");
            if *nonblock {
                s.push_str(" O_NONBLOCK");
            }
            if *cloexec {
                s.push_str(" FD_CLOEXEC");
            }
            s
        }
        Outcome::Err {
            errno,
            rejected_by_device,
        } => {
            format!(
                "{}{}",
                Errno::from_raw(*errno),
                if *rejected_by_device { " (device)" } else { "" }
            )
        }
    }
}

/// A type's name with its flags (`stream|nonblock`), or its number.
pub fn type_label(t: i32) -> String {
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
    let mut t = table::new(
        &[
            "context",
            "family",
            "type",
            "proto",
            "socket()",
            "sock_create_kern()",
            "verdict",
        ],
        &[],
    );
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
        t.row([
            r.context.name(),
            fam,
            type_label(r.sock_type),
            r.protocol.to_string(),
            short(&r.user),
            short(&r.kernel),
            format!("{} [{idx}]", r.verdict.label()),
        ]);
    }
    t.print();
    println!();
    for (i, reason) in reasons.iter().enumerate() {
        println!("[{}] {reason}", i + 1);
    }
    let unexpected = rows.iter().filter(|r| r.verdict.is_unexpected()).count();
    let expected = rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Expected(_)))
        .count();
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
