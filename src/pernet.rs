// SPDX-License-Identifier: GPL-2.0

//! The pernet subsystem whose `.pre_exit` hook releases a dying netns's kernel sockets (the
//! pattern of fs/afs/main.c and net/rds/tcp.c, one phase earlier). The ops struct lives in
//! `src/helpers.c` (7.2's bindings have no `struct pernet_operations`); its callbacks call the
//! two functions below.
//!
//! Why `.pre_exit` (net/core/net_namespace.c, `cleanup_net` → `ops_undo_list`): a dying netns
//! runs the `.pre_exit` of every pernet op, then `synchronize_rcu()`, then the `.exit` (and
//! `.exit_batch`) of every op in reverse registration order. A protocol module loaded after
//! rust_sockmod — tipc, sctp, rds, ... are loaded on the first create of their family — has
//! registered its ops after ours, so its `.exit` runs first and frees the per-netns state its
//! sockets need (tipc's socket table: the use-after-free of issue 9). In `.pre_exit` no `.exit`
//! of any op has run, whatever the registration order. At unload, `unregister_pernet_subsys`
//! runs our `.pre_exit` for every netns still listed, with every protocol registered; a netns
//! whose `cleanup_net` is running already holds `pernet_ops_rwsem`, so the unregistration waits
//! for it (and so for our hook on it).

use crate::{netns::HookNet, shim, state};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::{error::to_result, ffi::c_int, prelude::*};

extern "C" {
    // src/helpers.c: the `struct pernet_operations` (absent from 7.2's bindings) whose `.init`
    // and `.pre_exit` call `rust_sockmod_net_init` and `rust_sockmod_net_pre_exit` below.
    fn rsm_register_pernet() -> c_int;
    fn rsm_unregister_pernet();
}

/// Network namespaces set up and not yet dismantled, as the pernet hooks see them (every
/// netns alive at registration, then every new one). Shown in the report.
pub(crate) static NETNS_ALIVE: AtomicU64 = AtomicU64::new(0);

/// The last teardown of a netns that held kernel sockets of this module: how long the hook
/// took (taking them out of the table and releasing them), and how many. Shown in the report
/// (`netns ... exit_last_ns= exit_last_sockets=`): what a dying netns waits for in
/// `cleanup_net`, and with it every netns dismantled after it. Two separate atomics: a reader
/// racing a teardown may pair one teardown's time with the previous one's count.
pub(crate) static EXIT_LAST_NS: AtomicU64 = AtomicU64::new(0);
pub(crate) static EXIT_LAST_SOCKETS: AtomicU64 = AtomicU64::new(0);

/// Sockets released by the hooks during unload (for the dmesg line).
static RELEASED_AT_UNLOAD: AtomicU64 = AtomicU64::new(0);
/// The ops struct is one static: at most one registration at a time.
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Registered pernet operations, unregistered on drop.
///
/// # Invariants
///
/// `rsm_register_pernet()` succeeded, `rsm_unregister_pernet()` has not been called yet, and
/// this is the only such value (`REGISTERED` is set while it exists).
pub(crate) struct PernetRegistration(());

impl PernetRegistration {
    /// Registers the hooks; EBUSY if they are registered already.
    pub(crate) fn register() -> Result<Self> {
        if REGISTERED.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: The ops struct is static and not registered (`REGISTERED` was clear).
        if let Err(e) = to_result(unsafe { rsm_register_pernet() }) {
            REGISTERED.store(false, Ordering::Release);
            return Err(e);
        }
        // INVARIANT: registration succeeded and `REGISTERED` is set.
        Ok(Self(()))
    }
}

impl Drop for PernetRegistration {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; unregistered exactly once here. This runs
        // `.pre_exit` for every listed netns: every socket still held is released by it.
        unsafe { rsm_unregister_pernet() };
        let n = RELEASED_AT_UNLOAD.swap(0, Ordering::Relaxed);
        if n > 0 {
            pr_info!("released {} sockets at unload\n", n);
        }
        REGISTERED.store(false, Ordering::Release);
    }
}

/// Called by the pernet `.init` hook (`src/helpers.c`) for every netns, existing or new.
#[no_mangle]
pub(crate) extern "C" fn rust_sockmod_net_init(_net: *mut kernel::bindings::net) {
    NETNS_ALIVE.fetch_add(1, Ordering::Relaxed);
}

/// Called by the pernet `.pre_exit` hook (`src/helpers.c`) for every netns being dismantled
/// (and for every netns at unload): releases the sockets that live in it.
///
/// # Safety
///
/// Called by that hook only, with a valid `net`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_sockmod_net_pre_exit(net: *mut kernel::bindings::net) {
    NETNS_ALIVE.fetch_sub(1, Ordering::Relaxed);
    // SAFETY: This is the `.pre_exit` hook's `net`; `net` is not kept beyond this call.
    let net = unsafe { HookNet::new(net) };
    // In cleanup_net the netns count is zero; in unregister_pernet_subsys (unload) the netns
    // lives on. (A flag set at unload would misattribute a cleanup_net already running.)
    let unloading = net.is_counted();
    let cause = if unloading {
        state::ReleaseCause::Unload
    } else {
        state::ReleaseCause::NetnsExit
    };
    let t0 = shim::now_ns();
    let busy = crate::census::Busy::new();
    // SAFETY: This is the `.pre_exit` hook of `net`: no pernet `.exit` of `net` has run, and
    // none runs before this returns (see the module documentation).
    let n = unsafe { state::release_netns(net.id(), cause) };
    drop(busy);
    if n > 0 {
        EXIT_LAST_NS.store(shim::now_ns().saturating_sub(t0), Ordering::Relaxed);
        EXIT_LAST_SOCKETS.store(n, Ordering::Relaxed);
    }
    crate::trace::netns_exit(net.inum(), n);
    if unloading {
        RELEASED_AT_UNLOAD.fetch_add(n, Ordering::Relaxed);
    } else if n > 0 {
        pr_info!("netns exit: released {} kernel sockets\n", n);
    }
}
