// SPDX-License-Identifier: GPL-2.0

//! `NetRef`: a counted reference on a `struct net`, released on drop.

use crate::shim;
use kernel::{bindings, error::from_err_ptr, prelude::*};

/// A counted reference on a network namespace.
///
/// # Invariants
///
/// `ptr` points to a live `struct net` on which this value owns one reference (`get_net`).
pub(crate) struct NetRef {
    ptr: *mut bindings::net,
}

// SAFETY: A netns reference may be taken and dropped on any thread.
unsafe impl Send for NetRef {}
// SAFETY: `&NetRef` only reads immutable fields of the netns.
unsafe impl Sync for NetRef {}

/// Takes over the reference an `ERR_PTR`-style lookup (`get_net_ns_by_*`) returned.
fn counted(ptr: *mut bindings::net) -> Result<NetRef> {
    let ptr = from_err_ptr(ptr)?;
    if ptr.is_null() {
        return Err(EINVAL);
    }
    // INVARIANT: a non-error return of the get_net_ns_by_* family carries a counted reference.
    Ok(NetRef { ptr })
}

impl NetRef {
    /// The calling task's network namespace.
    pub(crate) fn current() -> Self {
        // SAFETY: Called in process context; `rsm_current_net` takes a reference on
        // `current->nsproxy->net_ns`, which is live while the task runs.
        let ptr = unsafe { shim::rsm_current_net() };
        // INVARIANT: `rsm_current_net` returned a counted reference.
        Self { ptr }
    }

    /// The namespace a netns file descriptor refers to (`/proc/PID/ns/net`, `/run/netns/X`).
    /// EBADF for a closed fd, EINVAL for an fd that is not a network namespace.
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: `get_net_ns_by_fd` validates the fd itself and returns a counted reference
        // or an ERR_PTR.
        counted(unsafe { shim::get_net_ns_by_fd(fd) })
    }

    /// The namespace an nsfs file at `path` refers to, looked up (never opened) with the
    /// caller's credentials; EINVAL for anything that is not a network namespace file.
    pub(crate) fn from_path(path: &CStr) -> Result<Self> {
        // SAFETY: `path` is NUL-terminated; the helper looks it up, checks the inode and drops
        // the path itself, and returns a counted reference or an ERR_PTR.
        counted(unsafe { shim::rsm_get_net_ns_by_path(path.as_char_ptr()) })
    }

    /// The namespace of process `pid` in the caller's pid namespace; ESRCH if there is none,
    /// EINVAL for a pid that cannot exist (<= 0).
    pub(crate) fn from_pid(pid: i32) -> Result<Self> {
        if pid <= 0 {
            return Err(EINVAL);
        }
        // SAFETY: `get_net_ns_by_pid` looks the task up under RCU itself and returns a counted
        // reference or an ERR_PTR.
        counted(unsafe { shim::get_net_ns_by_pid(pid) })
    }

    /// A counted reference on `net` unless it is being dismantled (its count already reached
    /// zero; its pernet exit hooks are queued or running): then `None`.
    ///
    /// # Safety
    ///
    /// `net` points to a `struct net` whose memory stays valid for the call (it is freed only
    /// after every pernet exit hook ran).
    pub(crate) unsafe fn try_get(net: *mut bindings::net) -> Option<Self> {
        // SAFETY: `net` is valid for the call (the caller's contract); `maybe_get_net` only
        // increments a non-zero count.
        let ptr = unsafe { shim::rsm_maybe_get_net(net) };
        // INVARIANT: a non-NULL return carries a counted reference.
        (!ptr.is_null()).then_some(Self { ptr })
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.ptr
    }

    /// The netns inode number (what `readlink /proc/self/ns/net` shows).
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: `ptr` is live by the type invariant; `ns.inum` never changes.
        unsafe { shim::rsm_net_inum(self.ptr) }
    }

    /// Whether the opener of `file` has `cap` over the user namespace owning this netns.
    pub(crate) fn file_capable(&self, file: &kernel::fs::LocalFile, cap: u32) -> bool {
        // SAFETY: `file` is a live file and `ptr` a live netns (type invariant), whose
        // `user_ns` is set at creation, never changes and lives as long as the netns.
        unsafe {
            bindings::file_ns_capable(file.as_ptr(), shim::rsm_net_user_ns(self.ptr), cap as i32)
        }
    }
}

impl Drop for NetRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this value owns one reference, dropped exactly once.
        unsafe { shim::rsm_put_net(self.ptr) };
    }
}
