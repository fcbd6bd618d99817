//! Thin, checked wrappers of the system calls the comparisons need.

use nix::errno::Errno;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// `SIOCGSKNS` (linux/sockios.h): an fd of a socket's network namespace.
const SIOCGSKNS: libc::c_ulong = 0x894C;

/// What a user socket is, read back from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserSock {
    pub domain: i32,
    pub sock_type: i32,
    pub protocol: i32,
    /// Netns inode (via SIOCGSKNS, or the process's when that is not permitted).
    pub netns: u64,
    pub netns_via_siocgskns: bool,
    pub nonblock: bool,
    pub cloexec: bool,
}

fn getsockopt_int(fd: i32, opt: i32) -> Result<i32, Errno> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid out pointers of the sizes passed.
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&mut v as *mut i32).cast(), &mut len) };
    Errno::result(rc).map(|_| v)
}

/// The inode of an nsfs file or fd path.
pub fn inode_of(path: &str) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.ino()).map_err(|e| format!("{path}: {e}"))
}

/// `socket()` with raw values (invalid ones included), read back, closed; `while_open` runs
/// while the socket exists and its result is returned beside it.
pub fn user_socket<T>(family: i32, sock_type: i32, protocol: i32, while_open: impl FnOnce() -> T) -> Result<(UserSock, T), Errno> {
    // SAFETY: plain system call; the returned fd is owned below.
    let fd = Errno::result(unsafe { libc::socket(family, sock_type, protocol) })?;
    let measured = while_open();
    // SAFETY: `fd` was just returned by socket() and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let domain = getsockopt_int(fd, libc::SO_DOMAIN)?;
    let ty = getsockopt_int(fd, libc::SO_TYPE)?;
    let proto = getsockopt_int(fd, libc::SO_PROTOCOL)?;
    // SAFETY: SIOCGSKNS takes no argument and returns a new fd or -1.
    let nsfd = unsafe { libc::ioctl(fd, SIOCGSKNS as _) };
    let (netns, via) = if nsfd >= 0 {
        // SAFETY: a fresh fd from SIOCGSKNS, owned here.
        let ns = unsafe { File::from_raw_fd(nsfd) };
        (ns.metadata().map(|m| m.ino()).unwrap_or(0), true)
    } else {
        (inode_of("/proc/self/ns/net").unwrap_or(0), false)
    };
    // SAFETY: fcntl queries on a valid fd.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    let fdfl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    drop(owned);
    Ok((UserSock {
        domain,
        sock_type: ty,
        protocol: proto,
        netns,
        netns_via_siocgskns: via,
        nonblock: fl >= 0 && fl & libc::O_NONBLOCK != 0,
        cloexec: fdfl >= 0 && fdfl & libc::FD_CLOEXEC != 0,
    }, measured))
}

/// "sockets: used" of /proc/self/net/sockstat (the current netns).
pub fn sockets_used() -> Result<i64, String> {
    let mut s = String::new();
    File::open("/proc/self/net/sockstat").and_then(|mut f| f.read_to_string(&mut s)).map_err(|e| format!("sockstat: {e}"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("sockets: used "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "sockstat: no 'sockets: used' line".to_string())
}

/// A new, empty network namespace, returned as an open nsfs fd; this process stays where it was.
pub fn fresh_netns() -> Result<File, String> {
    let home = File::open("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"))?;
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare(CLONE_NEWNET): {e} (needs root)"))?;
    let fresh = File::open("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"));
    nix::sched::setns(&home, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns back: {e}"))?;
    fresh
}

pub fn enter_netns(ns: &File) -> Result<(), String> {
    nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {e}"))
}

/// Becomes uid/gid 65534 with no supplementary groups; the kernel then clears every capability.
pub fn drop_privileges() -> Result<(), String> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
    setresgid(Gid::from_raw(65534), Gid::from_raw(65534), Gid::from_raw(65534)).map_err(|e| format!("setresgid: {e}"))?;
    setresuid(Uid::from_raw(65534), Uid::from_raw(65534), Uid::from_raw(65534)).map_err(|e| format!("setresuid: {e}"))?;
    // SAFETY: capget-free check: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 65534 {
        return Err("still privileged after setresuid".into());
    }
    Ok(())
}

/// Runs `f` in a forked child and returns what it serialised; the child's failure is an error.
/// Only call while the process is single-threaded.
pub fn in_child<T: serde::de::DeserializeOwned>(f: impl FnOnce() -> Result<serde_json::Value, String>) -> Result<T, String> {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, pipe, ForkResult};
    let (r, w) = pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: the caller guarantees the process is single-threaded, so the child may run
    // arbitrary code; it leaves with _exit and never returns into the caller.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(r);
            let out = match f() {
                Ok(v) => serde_json::json!({ "ok": v }),
                Err(e) => serde_json::json!({ "err": e }),
            };
            let mut wf = File::from(w);
            let code = if std::io::Write::write_all(&mut wf, out.to_string().as_bytes()).is_ok() { 0 } else { 1 };
            drop(wf);
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(w);
            let mut s = String::new();
            File::from(r).read_to_string(&mut s).map_err(|e| format!("read from child: {e}"))?;
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, 0)) => {}
                other => return Err(format!("child ended badly: {other:?}")),
            }
            let v: serde_json::Value = serde_json::from_str(&s).map_err(|e| format!("child output: {e}"))?;
            match (v.get("ok"), v.get("err")) {
                (Some(ok), _) => serde_json::from_value(ok.clone()).map_err(|e| format!("child output: {e}")),
                (_, Some(e)) => Err(e.as_str().unwrap_or("child failed").to_string()),
                _ => Err("child output: neither ok nor err".into()),
            }
        }
    }
}
