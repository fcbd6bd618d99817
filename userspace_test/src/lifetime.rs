//! `lifetime`: what keeps a network namespace alive, shown live. Each namespace is made by a
//! child that leaves it behind and exits; a default-model kernel socket in it serves as the
//! probe: the module releases it ("released by netns exit") exactly when the netns dies.

use crate::device::{Device, Netns};
use crate::sys;
use crate::table;
use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct Step {
    pub what: String,
    pub observed: String,
    pub ok: bool,
}

/// One row per step: `ok`/`FAIL`, what should happen, what was observed.
pub fn print(steps: &[Step]) {
    let mut t = table::new(&[], &[]);
    for s in steps {
        t.row([table::status(s.ok), s.what.as_str(), s.observed.as_str()]);
    }
    t.print();
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Made {
    netns: u64,
    probe: u64,
    hold: u64,
}

/// In a child: a new netns, a default kernel probe socket in it, optionally a "hold" kernel
/// socket and a user socket (sent back over `chan`); then the child exits.
fn make(dev: &Device, chan: Option<&OwnedFd>, hold: bool) -> Result<Made, String> {
    sys::in_child(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("unshare: {e}"))?;
        let netns = sys::inode_of("/proc/self/ns/net")?;
        let probe = dev
            .create(libc::AF_INET, libc::SOCK_DGRAM, 0, Netns::Caller, false)
            .map_err(|e| format!("probe: {e}"))?
            .id;
        let hold = if hold {
            dev.create(libc::AF_INET, libc::SOCK_STREAM, 0, Netns::Caller, true)
                .map_err(|e| format!("hold: {e}"))?
                .id
        } else {
            0
        };
        if let Some(chan) = chan {
            // SAFETY: plain system call; the fd is sent, then closed by `owned`.
            let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
            // SAFETY: fresh fd from socket().
            let owned = unsafe {
                OwnedFd::from_raw_fd(Errno::result(fd).map_err(|e| format!("socket: {e}"))?)
            };
            let fds = [owned.as_raw_fd()];
            sendmsg::<()>(
                chan.as_raw_fd(),
                &[IoSlice::new(b"s")],
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::empty(),
                None,
            )
            .map_err(|e| format!("sendmsg: {e}"))?;
        }
        serde_json::to_value(Made { netns, probe, hold }).map_err(|e| e.to_string())
    })
}

fn recv_fd(chan: &OwnedFd) -> Result<OwnedFd, String> {
    let mut buf = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([i32; 1]);
    let msg = recvmsg::<()>(
        chan.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(|e| format!("recvmsg: {e}"))?;
    for c in msg.cmsgs().map_err(|e| format!("cmsgs: {e}"))? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this fd for us.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err("no fd received".into())
}

/// Polls until socket `id` is gone from the module (its netns was dismantled) or `secs` pass.
fn ms(d: Option<Duration>) -> String {
    d.map_or("never (15 s)".into(), |d| {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    })
}

fn gone_within(dev: &Device, id: u64, secs: u64) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        if dev.info(id) == Err(Errno::ENOENT) {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn alive(dev: &Device, id: u64) -> bool {
    dev.info(id).is_ok()
}

pub fn run(dev: &Device) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut step = |what: &str, observed: String, ok: bool| {
        steps.push(Step {
            what: what.into(),
            observed,
            ok,
        })
    };
    let exits0 = dev.totals().map_err(|e| e.to_string())?.released_netns_exit;

    // 1. Only a user socket: the netns survives its last process; it dies when the socket closes.
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| format!("socketpair: {e}"))?;
    let m = make(dev, Some(&b), false)?;
    let user = recv_fd(&a)?;
    std::thread::sleep(Duration::from_millis(500));
    step(
        "user socket only: netns outlives its last process",
        format!(
            "netns {} alive 0.5 s after the child exited (probe {} still live)",
            m.netns, m.probe
        ),
        alive(dev, m.probe),
    );
    drop(user);
    let t = gone_within(dev, m.probe, 15);
    step(
        "user socket only: closing it dismantles the netns",
        format!("probe released by netns exit after {}", ms(t)),
        t.is_some(),
    );

    // 2. Only a default kernel socket: the netns dies with its last process.
    let m = make(dev, None, false)?;
    let t = gone_within(dev, m.probe, 15);
    step(
        "default kernel socket only: netns dismantled when its process exits",
        format!(
            "netns {}: kernel socket {} released by netns exit after {}",
            m.netns,
            m.probe,
            ms(t)
        ),
        t.is_some(),
    );

    // 3. A "hold" kernel socket pins the netns until it is released.
    let m = make(dev, None, true)?;
    std::thread::sleep(Duration::from_millis(500));
    let pinned = alive(dev, m.probe) && alive(dev, m.hold);
    let holds = dev
        .info(m.hold)
        .map(|i| i.holds_netns == 1)
        .unwrap_or(false);
    step(
        "hold kernel socket: netns survives its last process",
        format!(
            "netns {}: hold socket {} (holds_netns={holds}) and probe {} live 0.5 s after exit",
            m.netns, m.hold, m.probe
        ),
        pinned && holds,
    );
    dev.release(m.hold)
        .map_err(|e| format!("release hold: {e}"))?;
    let t = gone_within(dev, m.probe, 15);
    step(
        "hold kernel socket: releasing it dismantles the netns",
        format!("probe released by netns exit after {}", ms(t)),
        t.is_some(),
    );

    let exits = dev.totals().map_err(|e| e.to_string())?.released_netns_exit - exits0;
    step(
        "the module counted exactly the three probes as released by netns exit",
        format!("released_netns_exit +{exits}"),
        exits == 3,
    );
    Ok(steps)
}
