// SPDX-License-Identifier: GPL-2.0

//! Safe helpers over the kernel facilities the kernel crate lacks in some supported kernel: the
//! clock, the caller's tgid and comm, a capability check over the initial user namespace,
//! rescheduling, rate-limited messages. Their C side is in `src/helpers.c`; the extern block
//! is private, as are those of the other wrappers (`netns.rs`: `struct net`; `ksocket.rs`:
//! `struct socket`; `pernet.rs`: the pernet ops; `census.rs`; `trace.rs`), so the compiler
//! keeps every raw call inside the file that wraps it.

use kernel::{
    bindings,
    ffi::{c_char, c_int},
};

/// `TASK_COMM_LEN`.
pub(crate) const COMM_LEN: usize = bindings::TASK_COMM_LEN as usize;

// `struct file` crosses only as a pointer; `improper_ctypes` fires because bindgen renders
// some of its members' types as empty structs in some configurations (`allow`, not `expect`:
// not in every kernel configuration).
#[allow(improper_ctypes)]
extern "C" {
    // src/helpers.c: macros and what 7.2's bindings lack.
    /// `get_task_comm` (a macro) into `TASK_COMM_LEN` bytes.
    fn rsm_current_comm(comm: *mut c_char);
    /// `file_ns_capable(file, &init_user_ns, cap)` (`init_user_ns` is not in 7.2's bindings).
    fn rsm_file_capable_init_ns(file: *const bindings::file, cap: c_int) -> bool;
    /// `cond_resched` (a macro).
    fn rsm_cond_resched();
    /// `__ratelimit` on a `DEFINE_RATELIMIT_STATE` (a static initialiser): one per 200 ms.
    fn rsm_reason_ratelimit() -> bool;
}

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
