// SPDX-License-Identifier: GPL-2.0

//! `KernelSocket`: a `struct socket` made by `sock_create_kern()`, released on drop.

use crate::{ffi, netns::NetRef};
use kernel::{bindings, error::to_result, prelude::*};

/// What a socket is, read from the socket itself.
pub(crate) type SockInfo = ffi::RsmSockInfo;

/// A kernel socket owned by the module.
///
/// # Invariants
///
/// `sock` is a socket returned by a successful `sock_create_kern()`, owned by this value and
/// released exactly once, in `drop`. Its netns stays alive while it exists: either the socket
/// holds a counted reference (`hold_netns`), or the module's pernet exit hook drops the socket
/// before the netns is freed.
pub(crate) struct KernelSocket {
    sock: *mut bindings::socket,
}

// SAFETY: A kernel socket may be used and released from any process-context thread.
unsafe impl Send for KernelSocket {}
// SAFETY: `&KernelSocket` only reads socket fields that the kernel keeps stable.
unsafe impl Sync for KernelSocket {}

impl KernelSocket {
    /// `sock_create_kern(net, family, type, protocol)`; the kernel's errno on failure.
    pub(crate) fn create(net: &NetRef, family: i32, sock_type: i32, protocol: i32) -> Result<Self> {
        let mut sock: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `net` is a live netns (we hold a reference for the duration of the call) and
        // `sock` is a valid out pointer. The kernel validates family/type/protocol itself.
        to_result(unsafe {
            bindings::sock_create_kern(net.as_ptr(), family, sock_type, protocol, &mut sock)
        })?;
        if sock.is_null() {
            return Err(EINVAL);
        }
        // INVARIANT: `sock_create_kern` succeeded and handed the socket over to us.
        Ok(Self { sock })
    }

    /// Makes the socket pin its netns like a user socket does.
    pub(crate) fn hold_netns(&self) {
        // SAFETY: The socket is live (type invariant) and was created as a kernel socket, so
        // its `sk` does not hold a netns reference yet; `sk_net_refcnt_upgrade` takes one.
        unsafe { ffi::rsm_sk_net_refcnt_upgrade(self.sock) };
    }

    /// Binds to the any-address of its family (inet, inet6) and `port`.
    pub(crate) fn bind_any(&self, port: u16) -> Result {
        // SAFETY: The socket is live (type invariant); the helper builds a valid sockaddr.
        to_result(unsafe { ffi::rsm_bind_any(self.sock, port) })
    }

    /// `kernel_listen(sock, backlog)`.
    pub(crate) fn listen(&self, backlog: i32) -> Result {
        // SAFETY: The socket is live (type invariant); kernel_listen validates the rest.
        to_result(unsafe { bindings::kernel_listen(self.sock, backlog) })
    }

    /// Family, type, protocol, state, inode and netns as the socket itself reports them.
    pub(crate) fn info(&self) -> SockInfo {
        let mut info = SockInfo::default();
        // SAFETY: The socket is live (type invariant); `info` is a valid out pointer.
        unsafe { ffi::rsm_sock_info(self.sock, &mut info) };
        info
    }

    /// The socket's netns, as an identity only (never dereferenced by the caller).
    pub(crate) fn net_id(&self) -> usize {
        // SAFETY: The socket is live (type invariant).
        unsafe { ffi::rsm_sock_net(self.sock) as usize }
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the socket and release it exactly once; its
        // netns is still alive (see the invariant).
        unsafe { bindings::sock_release(self.sock) };
    }
}
