// SPDX-License-Identifier: GPL-2.0

//! The C the module calls that `kernel::bindings` does not offer in every supported kernel: the
//! shim in `src/helpers.c` (static inlines, macros, fields of `struct net`, sock accessors, the
//! pernet ops) and exported functions declared here (7.2's bindings include no netns header).
//! Only the RAII wrappers (`netns`, `ksocket`), `pernet` and the safe functions below call these.

use kernel::{
    bindings,
    ffi::{c_char, c_int, c_uint, c_ulong},
};

/// Mirror of `struct rsm_sock_info` in `src/helpers.h`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub(crate) struct RsmSockInfo {
    pub(crate) family: c_int,
    pub(crate) sock_type: c_int,
    pub(crate) protocol: c_int,
    pub(crate) state: c_int,
    pub(crate) ino: c_ulong,
    pub(crate) netns_inum: c_uint,
    pub(crate) net_refcnt: bool,
    /// The socket cookie (`ss -e` prints it as `sk:` in hex).
    pub(crate) cookie: u64,
    /// The bound address, network order (inet: the first 4 bytes).
    pub(crate) local_addr: [u8; 16],
    /// The bound port, host order; 0 while unbound and for families without ports.
    pub(crate) local_port: u16,
}

/// `TASK_COMM_LEN`.
pub(crate) const COMM_LEN: usize = bindings::TASK_COMM_LEN as usize;

// The kernel structs below cross only as pointers, never by value; `improper_ctypes` fires
// because bindgen renders `lockdep_map` as an empty struct when lockdep is off.
#[allow(improper_ctypes)]
extern "C" {
    // src/helpers.c: static inlines (get_net, put_net, maybe_get_net, check_net).
    /// One more count on a netns whose count is non-zero.
    pub(crate) fn rsm_get_net(net: *mut bindings::net);
    pub(crate) fn rsm_put_net(net: *mut bindings::net);
    /// A counted reference on `current->nsproxy->net_ns`.
    pub(crate) fn rsm_current_net() -> *mut bindings::net;
    /// A counted reference, or NULL once the count is zero (cleanup_net queued or running).
    pub(crate) fn rsm_maybe_get_net(net: *mut bindings::net) -> *mut bindings::net;
    /// Whether the count is non-zero.
    pub(crate) fn rsm_net_alive(net: *const bindings::net) -> bool;
    // Fields of `struct net`, opaque in 7.2's bindings (which include no netns header); none
    // changes after set-up except the sysctl, read once (READ_ONCE).
    pub(crate) fn rsm_net_inum(net: *const bindings::net) -> c_uint;
    pub(crate) fn rsm_net_user_ns(net: *const bindings::net) -> *mut bindings::user_namespace;
    pub(crate) fn rsm_sock_somaxconn(sock: *mut bindings::socket) -> c_int;
    // `struct pernet_operations` (absent from 7.2's bindings) with `.init`/`.pre_exit` calling
    // `pernet::rust_sockmod_net_init`/`_pre_exit`.
    pub(crate) fn rsm_register_pernet() -> c_int;
    pub(crate) fn rsm_unregister_pernet();
    /// The netns of the nsfs file at `path` (`/proc/PID/ns/net`, `/run/netns/NAME`): a counted
    /// reference or an ERR_PTR. Looked up with `kern_path` as stat(2) would (search
    /// permission, the ptrace check of `/proc/PID/ns` links), never opened: a FIFO or device
    /// runs no open and gets EINVAL like any file that is not a network namespace
    /// (`linux/namei.h`, `d_inode`, `get_proc_ns` are out of both kernels' bindings).
    pub(crate) fn rsm_get_net_ns_by_path(path: *const c_char) -> *mut bindings::net;
    /// Fields of `struct sock` (opaque in 7.2's bindings; READ_ONCE, bitfields, SOCK_INODE's
    /// container_of) and the cookie (`sock_diag_save_cookie`, which generates it).
    pub(crate) fn rsm_sock_info(sock: *mut bindings::socket, out: *mut RsmSockInfo);
    /// `sock_net(sock->sk)`, no reference taken.
    pub(crate) fn rsm_sock_net(sock: *mut bindings::socket) -> *mut bindings::net;
    /// `get_task_comm` (a macro) into `TASK_COMM_LEN` bytes.
    fn rsm_current_comm(comm: *mut c_char);
    /// `file_ns_capable(file, &init_user_ns, cap)` (`init_user_ns` is not in 7.2's bindings).
    fn rsm_file_capable_init_ns(file: *const bindings::file, cap: c_int) -> bool;
    /// `cond_resched` (a macro).
    fn rsm_cond_resched();
    /// `__ratelimit` on a `DEFINE_RATELIMIT_STATE` (a static initialiser): one per 200 ms.
    fn rsm_reason_ratelimit() -> bool;

    // Exported by the kernel, absent from kernel::bindings (all of them in 7.2, the first in
    // 7.3 too): net/core/sock.c, net/core/net_namespace.c.
    pub(crate) fn sk_net_refcnt_upgrade(sk: *mut bindings::sock);
    pub(crate) fn get_net_ns_by_fd(fd: c_int) -> *mut bindings::net;
    pub(crate) fn get_net_ns_by_pid(pid: bindings::pid_t) -> *mut bindings::net;
}

/// `struct sockaddr_in` (include/uapi/linux/in.h; not in 7.2's bindings).
#[repr(C)]
pub(crate) struct SockaddrIn {
    pub(crate) sin_family: u16,
    /// Network order.
    pub(crate) sin_port: u16,
    /// Network order.
    pub(crate) sin_addr: u32,
    pub(crate) zero: [u8; 8],
}
const _: () = assert!(core::mem::size_of::<SockaddrIn>() == 16);

/// Monotonic clock in nanoseconds (`CLOCK_MONOTONIC`, what `kernel::time::Monotonic` reads).
/// The report prints absolute stamps, which `kernel::time::Instant` does not expose.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get()` has no preconditions.
    let t = unsafe { bindings::ktime_get() };
    t as u64
}

/// The caller's tgid (as its own pid namespace sees it) and comm.
pub(crate) fn current_tgid_comm() -> (i32, [u8; COMM_LEN]) {
    let task = kernel::current!();
    let tgid = task.tgid_nr_ns(task.active_pid_ns());
    let mut comm = [0u8; COMM_LEN];
    // SAFETY: `comm` is a writable buffer of TASK_COMM_LEN bytes, as get_task_comm requires.
    unsafe { rsm_current_comm(comm.as_mut_ptr().cast()) };
    (tgid, comm)
}

/// Tells whether the opener of `file` has `cap` over the initial user namespace (rights over
/// the whole host, not one container).
pub(crate) fn file_capable_host(file: &kernel::fs::LocalFile, cap: u32) -> bool {
    // SAFETY: `file` is live for the call; the helper only reads its opener's credentials and
    // the static `init_user_ns`.
    unsafe { rsm_file_capable_init_ns(file.as_ptr(), cap as c_int) }
}

/// Reschedules if needed; true if a signal is pending (long loops stop then).
pub(crate) fn resched_and_signal_pending() -> bool {
    // SAFETY: Called in process context without locks held, as cond_resched() requires.
    unsafe { rsm_cond_resched() };
    kernel::current!().signal_pending()
}

/// A one-line reason in dmesg, under the kernel's rate limit (`__ratelimit`), so that no input
/// can flood the log.
pub(crate) fn pr_info_ratelimited(reason: &str) {
    // SAFETY: The ratelimit state is a static of the shim; `__ratelimit` locks it itself.
    if unsafe { rsm_reason_ratelimit() } {
        kernel::pr_info!("{}\n", reason);
    }
}
