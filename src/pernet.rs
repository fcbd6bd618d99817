// SPDX-License-Identifier: GPL-2.0

//! The pernet subsystem whose exit hook releases a dying netns's kernel sockets (the pattern of
//! fs/afs/main.c and net/rds/tcp.c). The ops struct lives in `src/helpers.c`; its exit hook
//! calls `ops::rust_sockmod_net_exit`.

use crate::ffi;
use kernel::{error::to_result, prelude::*};

/// Registered pernet operations, unregistered on drop.
///
/// # Invariants
///
/// `rsm_register_pernet()` succeeded and `rsm_unregister_pernet()` has not been called yet.
pub(crate) struct PernetRegistration(());

impl PernetRegistration {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Called once from the module initialiser; the ops struct is static.
        to_result(unsafe { ffi::rsm_register_pernet() })?;
        // INVARIANT: registration succeeded.
        Ok(Self(()))
    }
}

impl Drop for PernetRegistration {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; unregistered exactly once here. This runs
        // the exit hook for every live netns; by now the state is gone, so the hook finds
        // nothing to release.
        unsafe { ffi::rsm_unregister_pernet() };
    }
}
