// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C shim in `src/helpers.c` (static-inline kernel helpers and the pernet
//! hook). Only the RAII wrappers (`netns`, `ksocket`, `miscdev`) call these.

use kernel::{
    bindings,
    ffi::{c_char, c_int, c_uint, c_ulong},
};

/// Mirror of `struct rsm_sock_info` in `src/helpers.c`.
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
}

/// `TASK_COMM_LEN`.
pub(crate) const COMM_LEN: usize = 16;

// The kernel structs below cross only as pointers, never by value; `improper_ctypes` fires
// because bindgen renders `lockdep_map` as an empty struct when lockdep is off.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rsm_put_net(net: *mut bindings::net);
    pub(crate) fn rsm_current_net() -> *mut bindings::net;
    pub(crate) fn rsm_get_net_ns_by_fd(fd: c_int) -> *mut bindings::net;
    pub(crate) fn rsm_get_net_ns_by_pid(pid: c_int) -> *mut bindings::net;
    pub(crate) fn rsm_sk_net_refcnt_upgrade(sock: *mut bindings::socket);
    pub(crate) fn rsm_listen_clamped(sock: *mut bindings::socket, backlog: c_int) -> c_int;
    pub(crate) fn rsm_maybe_get_net(net: *mut bindings::net) -> *mut bindings::net;
    pub(crate) fn rsm_net_alive(net: *const bindings::net) -> bool;
    pub(crate) fn rsm_bind_any(sock: *mut bindings::socket, port: u16) -> c_int;
    pub(crate) fn rsm_get_net_ns_by_path(path: *const c_char) -> *mut bindings::net;
    pub(crate) fn rsm_net_inum(net: *const bindings::net) -> c_uint;
    pub(crate) fn rsm_file_net_capable(
        file: *const bindings::file,
        net: *const bindings::net,
        cap: c_int,
    ) -> bool;
    pub(crate) fn rsm_sock_info(sock: *mut bindings::socket, out: *mut RsmSockInfo);
    pub(crate) fn rsm_sock_net(sock: *mut bindings::socket) -> *mut bindings::net;
    pub(crate) fn rsm_register_pernet() -> c_int;
    pub(crate) fn rsm_unregister_pernet();
    pub(crate) fn rsm_now_ns() -> u64;
    pub(crate) fn rsm_current_tgid_comm(comm: *mut c_char) -> c_int;
    pub(crate) fn rsm_resched_and_signal_pending() -> bool;
}

/// Monotonic clock in nanoseconds.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_ns()` has no preconditions.
    unsafe { rsm_now_ns() }
}

/// The caller's tgid and comm.
pub(crate) fn current_tgid_comm() -> (i32, [u8; COMM_LEN]) {
    let mut comm = [0u8; COMM_LEN];
    // SAFETY: `comm` is a writable buffer of TASK_COMM_LEN bytes, as get_task_comm requires.
    let tgid = unsafe { rsm_current_tgid_comm(comm.as_mut_ptr().cast()) };
    (tgid, comm)
}

/// Reschedules if needed; true if a signal is pending (long loops stop then).
pub(crate) fn resched_and_signal_pending() -> bool {
    // SAFETY: Called in process context without locks held, as cond_resched() requires.
    unsafe { rsm_resched_and_signal_pending() }
}
