//! Thin, checked wrappers of the system calls the comparisons need.

use nix::errno::Errno;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// `SIOCGSKNS` (linux/sockios.h): an fd of a socket's network namespace.
const SIOCGSKNS: libc::c_ulong = 0x894C;

/// `SO_NETNS_COOKIE` (asm-generic/socket.h, Linux 5.14): the 64-bit cookie of the socket's
/// network namespace; needs no capability.
const SO_NETNS_COOKIE: i32 = 71;

/// What a user socket is, read back from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserSock {
    pub domain: i32,
    pub sock_type: i32,
    pub protocol: i32,
    /// Netns inode via SIOCGSKNS; `None` when that is not permitted (it needs CAP_NET_ADMIN),
    /// never a stand-in such as the process's own namespace.
    pub netns: Option<u64>,
    /// The socket's netns cookie (`SO_NETNS_COOKIE`), observed for every caller.
    pub netns_cookie: u64,
    pub nonblock: bool,
    pub cloexec: bool,
}

fn getsockopt_int(fd: i32, opt: i32) -> Result<i32, Errno> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid out pointers of the sizes passed.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&mut v as *mut i32).cast(),
            &mut len,
        )
    };
    Errno::result(rc).map(|_| v)
}

/// An errno from an I/O error, as `ENOENT: No such file or directory`.
pub fn io_errno(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => Errno::from_raw(n).to_string(),
        None => e.to_string(),
    }
}

/// The kind of namespace a `CLONE_NEW*` flag names (`NS_GET_NSTYPE`'s answer).
fn namespace_kind(t: i32) -> String {
    match t {
        libc::CLONE_NEWNET => "network".into(),
        libc::CLONE_NEWNS => "mount".into(),
        libc::CLONE_NEWUTS => "uts".into(),
        libc::CLONE_NEWIPC => "ipc".into(),
        libc::CLONE_NEWUSER => "user".into(),
        libc::CLONE_NEWPID => "pid".into(),
        libc::CLONE_NEWCGROUP => "cgroup".into(),
        0x80 => "time".into(), // CLONE_NEWTIME
        t => format!("type {t:#x}"),
    }
}

/// Opens the nsfs file a `--netns` argument names and checks that it is a network namespace
/// (`NS_GET_NSTYPE`). The error names the argument and the errno; it is the caller's
/// environment that is wrong, not the device.
pub fn open_netns_arg(path: &str) -> Result<File, String> {
    let f =
        File::open(path).map_err(|e| format!("--netns {path}: cannot open: {}", io_errno(&e)))?;
    // NS_GET_NSTYPE (linux/nsfs.h, Linux 4.11): _IO(0xb7, 0x3), the CLONE_NEW* of the namespace.
    // SAFETY: an ioctl without argument on our own descriptor.
    let t = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&f),
            nix::request_code_none!(0xb7, 0x3),
        )
    };
    match Errno::result(t) {
        Ok(libc::CLONE_NEWNET) => Ok(f),
        Ok(t) => Err(format!(
            "--netns {path}: a {} namespace, not a network namespace ({}, as the module would answer)",
            namespace_kind(t),
            Errno::EINVAL
        )),
        Err(e) => Err(format!(
            "--netns {path}: not a namespace file (NS_GET_NSTYPE: {e})"
        )),
    }
}

/// The inode of an nsfs file or fd path.
pub fn inode_of(path: &str) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| format!("{path}: {e}"))
}

/// `socket()` with raw values (invalid ones included), read back, closed; `while_open` runs
/// while the socket exists and its result is returned beside it.
pub fn user_socket<T>(
    family: i32,
    sock_type: i32,
    protocol: i32,
    while_open: impl FnOnce() -> T,
) -> Result<(UserSock, T), Errno> {
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
    let netns = if nsfd >= 0 {
        // SAFETY: a fresh fd from SIOCGSKNS, owned here.
        let ns = unsafe { File::from_raw_fd(nsfd) };
        ns.metadata().map(|m| m.ino()).ok()
    } else {
        None
    };
    let netns_cookie = netns_cookie(fd)?;
    // SAFETY: fcntl queries on a valid fd.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    let fdfl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    drop(owned);
    Ok((
        UserSock {
            domain,
            sock_type: ty,
            protocol: proto,
            netns,
            netns_cookie,
            nonblock: fl >= 0 && fl & libc::O_NONBLOCK != 0,
            cloexec: fdfl >= 0 && fdfl & libc::FD_CLOEXEC != 0,
        },
        measured,
    ))
}

/// `SO_NETNS_COOKIE` of a socket.
pub fn netns_cookie(fd: i32) -> Result<u64, Errno> {
    let mut v: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid out pointers of the sizes passed.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            (&mut v as *mut u64).cast(),
            &mut len,
        )
    };
    Errno::result(rc).map(|_| v)
}

/// The cookie of the netns `ns` names, read from a unix socket made there (the process enters
/// it for the socket() call and comes back; needs CAP_SYS_ADMIN).
pub fn cookie_of_netns(ns: &File) -> Result<u64, String> {
    in_netns(ns, || {
        let (s, ()) = user_socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0, || ())
            .map_err(|e| format!("probe socket: {e}"))?;
        Ok(s.netns_cookie)
    })
}

/// A new, empty network namespace, returned as an open nsfs fd; this process stays where it was.
pub fn fresh_netns() -> Result<File, String> {
    let home = File::open("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"))?;
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("unshare(CLONE_NEWNET): {e} (needs root)"))?;
    let fresh = File::open("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"));
    nix::sched::setns(&home, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("setns back: {e}"))?;
    fresh
}

pub fn enter_netns(ns: &File) -> Result<(), String> {
    nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {e}"))
}

/// Runs `f` inside the netns `ns` and comes back to the current one, whatever `f` returned.
pub fn in_netns<T>(ns: &File, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let home = File::open("/proc/thread-self/ns/net")
        .map_err(|e| format!("/proc/thread-self/ns/net: {e}"))?;
    enter_netns(ns)?;
    let r = f();
    enter_netns(&home).map_err(|e| format!("back home: {e}"))?;
    r
}

/// Drops CAP_NET_RAW from every capability set of this process (and its bounding set) and
/// keeps the others: uid 0 with CAP_NET_ADMIN but without CAP_NET_RAW.
pub fn drop_net_raw() -> Result<(), String> {
    const CAP_NET_RAW: u32 = 13;
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    // _LINUX_CAPABILITY_VERSION_3: two Data words (capabilities 0-31 and 32-63).
    let mut hdr = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: PR_CAPBSET_DROP takes a capability number; no pointers.
    Errno::result(unsafe {
        libc::prctl(libc::PR_CAPBSET_DROP, CAP_NET_RAW as libc::c_ulong, 0, 0, 0)
    })
    .map_err(|e| format!("PR_CAPBSET_DROP: {e}"))?;
    // SAFETY: capget with a v3 header and room for its two data words.
    Errno::result(unsafe {
        libc::syscall(libc::SYS_capget, &mut hdr as *mut Header, data.as_mut_ptr())
    })
    .map_err(|e| format!("capget: {e}"))?;
    let bit = 1u32 << CAP_NET_RAW;
    data[0].effective &= !bit;
    data[0].permitted &= !bit;
    data[0].inheritable &= !bit;
    // SAFETY: capset with the v3 header and the two data words read above.
    Errno::result(unsafe {
        libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr())
    })
    .map_err(|e| format!("capset: {e}"))?;
    // The kernel's view: CapEff of /proc/self/status without bit 13.
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
    match eff {
        Some(e) if e & (1 << CAP_NET_RAW) == 0 && e & (1 << 12) != 0 => Ok(()),
        other => Err(format!("CapEff after dropping CAP_NET_RAW: {other:x?}")),
    }
}

/// A process parked in a network namespace, so that the namespace can be named by pid and by
/// `/proc/PID/ns/net`, and its sockstat read from outside. Killed and reaped on drop.
pub struct NetnsSitter {
    pid: nix::unistd::Pid,
}

impl NetnsSitter {
    /// Only call while the process is single-threaded.
    pub fn spawn(ns: &File) -> Result<Self, String> {
        use nix::unistd::{fork, ForkResult};
        // SAFETY: single-threaded caller (contract above); the child only enters the netns
        // and sleeps until killed, leaving with _exit.
        match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
            ForkResult::Child => {
                // SAFETY: PR_SET_PDEATHSIG takes a signal number: the sitter dies with compare
                // (it would otherwise keep the device and the netns open).
                unsafe {
                    libc::prctl(
                        libc::PR_SET_PDEATHSIG,
                        libc::SIGKILL as libc::c_ulong,
                        0,
                        0,
                        0,
                    )
                };
                let code = if enter_netns(ns).is_ok() { 0 } else { 1 };
                if code == 0 {
                    loop {
                        // SAFETY: pause has no preconditions.
                        unsafe { libc::pause() };
                    }
                }
                // SAFETY: leaving the forked child without running the parent's destructors.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                let s = Self { pid: child };
                let want = ns.metadata().map(|m| m.ino()).map_err(|e| e.to_string())?;
                for _ in 0..500 {
                    if inode_of(&format!("/proc/{child}/ns/net")).ok() == Some(want) {
                        return Ok(s);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Err(format!("process {child} did not enter netns {want}"))
            }
        }
    }

    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }
}

impl Drop for NetnsSitter {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(self.pid, None);
    }
}

/// Becomes uid/gid 65534 with no supplementary groups; the kernel then clears every capability.
pub fn drop_privileges() -> Result<(), String> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
    setresgid(
        Gid::from_raw(65534),
        Gid::from_raw(65534),
        Gid::from_raw(65534),
    )
    .map_err(|e| format!("setresgid: {e}"))?;
    setresuid(
        Uid::from_raw(65534),
        Uid::from_raw(65534),
        Uid::from_raw(65534),
    )
    .map_err(|e| format!("setresuid: {e}"))?;
    // SAFETY: capget-free check: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 65534 {
        return Err("still privileged after setresuid".into());
    }
    Ok(())
}

/// Runs `f` in a forked child and returns what it serialised; the child's failure is an error.
/// Only call while the process is single-threaded.
pub fn in_child<T: serde::de::DeserializeOwned>(
    f: impl FnOnce() -> Result<serde_json::Value, String>,
) -> Result<T, String> {
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
            let code = if std::io::Write::write_all(&mut wf, out.to_string().as_bytes()).is_ok() {
                0
            } else {
                1
            };
            drop(wf);
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(w);
            let mut s = String::new();
            File::from(r)
                .read_to_string(&mut s)
                .map_err(|e| format!("read from child: {e}"))?;
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, 0)) => {}
                other => return Err(format!("child ended badly: {other:?}")),
            }
            let v: serde_json::Value =
                serde_json::from_str(&s).map_err(|e| format!("child output: {e}"))?;
            match (v.get("ok"), v.get("err")) {
                (Some(ok), _) => {
                    serde_json::from_value(ok.clone()).map_err(|e| format!("child output: {e}"))
                }
                (_, Some(e)) => Err(e.as_str().unwrap_or("child failed").to_string()),
                _ => Err("child output: neither ok nor err".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_netns_argument_is_named_with_its_errno() {
        let e = open_netns_arg("/nonexistent/netns").unwrap_err();
        assert_eq!(
            e,
            "--netns /nonexistent/netns: cannot open: ENOENT: No such file or directory"
        );
        let e = open_netns_arg("/proc/self/status").unwrap_err();
        assert!(
            e.starts_with("--netns /proc/self/status: not a namespace file (NS_GET_NSTYPE: ENOTTY"),
            "{e}"
        );
        // The process's own namespaces (readable by any process on Linux >= 4.11).
        if File::open("/proc/self/ns/net").is_ok() {
            assert!(open_netns_arg("/proc/self/ns/net").is_ok());
            let e = open_netns_arg("/proc/self/ns/mnt").unwrap_err();
            assert!(
                e.contains("a mount namespace, not a network namespace (EINVAL"),
                "{e}"
            );
        }
    }
}
