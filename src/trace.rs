// SPDX-License-Identifier: GPL-2.0

//! The module's tracepoints (`src/rsm_trace.h`: `rust_sockmod:create`, `:release`,
//! `:netns_exit`). `kernel::tracepoint::declare_trace!` finds tracepoints in
//! `kernel::bindings`, which an out-of-tree module cannot extend, so this is the same
//! expansion with the symbols declared here: a static branch on the tracepoint's key (a no-op
//! while it is off), then the C `rust_do_trace_*` function `CREATE_TRACE_POINTS` generated.

use kernel::{bindings, ffi::c_int};

macro_rules! tracepoints {
    ($($(#[$attr:meta])* fn $name:ident($($arg:ident : $ty:ty),* $(,)?) => $key:ident, $call:ident;)*) => {
        // The tracepoint structs and entry points `src/rsm_trace.c` defines. The kernel writes
        // the structs (`static mut`, as bindgen declares them); Rust only takes their address.
        // (`allow`, not `expect`: `improper_ctypes` fires only without lockdep, see shim.rs.)
        #[cfg(CONFIG_TRACEPOINTS)]
        #[allow(improper_ctypes)]
        extern "C" {
            $(
                static mut $key: bindings::tracepoint;
                fn $call($($arg: $ty),*);
            )*
        }
        $(
            $(#[$attr])*
            #[inline(always)]
            pub(crate) fn $name($($arg: $ty),*) {
                #[cfg(CONFIG_TRACEPOINTS)]
                {
                    // SAFETY: Reading the static key of a tracepoint is always allowed.
                    let on = unsafe {
                        kernel::jump_label::static_branch_unlikely!(
                            $key,
                            bindings::tracepoint,
                            key
                        )
                    };
                    if on {
                        // SAFETY: The entry point takes plain integers and may be called from
                        // any context the tracepoint may fire in (process context here).
                        unsafe { $call($($arg),*) };
                    }
                }
                #[cfg(not(CONFIG_TRACEPOINTS))]
                {
                    $(let _ = $arg;)*
                }
            }
        )*
    };
}

tracepoints! {
    /// A `sock_create_kern()` made by the module (id 0 and `err` < 0 when it failed).
    fn create(netns: u32, family: c_int, sock_type: c_int, protocol: c_int, id: u64, err: c_int,
              latency_ns: u64) => __tracepoint_create, rust_do_trace_create;
    /// A socket leaving the table: `cause` 0 user, 1 netns exit, 2 unload.
    fn release(id: u64, cause: c_int) => __tracepoint_release, rust_do_trace_release;
    /// A netns's `.pre_exit` hook and how many sockets it released.
    fn netns_exit(netns: u32, count: u64) => __tracepoint_netns_exit, rust_do_trace_netns_exit;
}
