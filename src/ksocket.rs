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
/// holds a counted reference (created with `hold`), or whoever drops it holds one (a
/// [`NetRef`]), or it is dropped by the module's pernet `.pre_exit` hook, which runs before any
/// pernet `.exit` of the dying netns (see `src/pernet.rs`).
pub(crate) struct KernelSocket {
    sock: *mut bindings::socket,
}

// SAFETY: A kernel socket may be used and released from any process-context thread.
unsafe impl Send for KernelSocket {}
// SAFETY: Through `&KernelSocket` only what userspace may do concurrently from several threads
// on one socket file happens: `kernel_bind` and `kernel_listen` (the protocol serialises them
// with the socket lock, as for bind(2)/listen(2) racing on a shared fd) and reads of fields
// (`info`, `net_id`). Release needs ownership (`drop`).
unsafe impl Sync for KernelSocket {}

impl KernelSocket {
    /// `sock_create_kern(net, family, type, protocol)`; the kernel's errno on failure. With
    /// `hold`, the socket then takes a counted reference on `net` (`sk_net_refcnt_upgrade`),
    /// like a user socket: it pins its netns.
    pub(crate) fn create(
        net: &NetRef,
        family: i32,
        sock_type: i32,
        protocol: i32,
        hold: bool,
    ) -> Result<Self> {
        let mut sock: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `net` is a live netns (we hold a reference for the duration of the call) and
        // `sock` is a valid out pointer. The kernel validates family/type/protocol itself.
        to_result(unsafe {
            bindings::sock_create_kern(net.as_ptr(), family, sock_type, protocol, &mut sock)
        })?;
        if sock.is_null() {
            return Err(EINVAL);
        }
        if hold {
            // SAFETY: `sock` was just created by `sock_create_kern` (kern=1), so its `sk` holds
            // no netns reference yet; upgraded exactly once, here, before anyone else sees it.
            unsafe { ffi::rsm_sk_net_refcnt_upgrade(sock) };
        }
        // INVARIANT: `sock_create_kern` succeeded and handed the socket over to us; the caller's
        // `net` keeps the netns alive until the socket is in the table or dropped.
        Ok(Self { sock })
    }

    /// Binds to the any-address of its family (inet, inet6) and `port`.
    pub(crate) fn bind_any(&self, port: u16) -> Result {
        // SAFETY: The socket is live (type invariant); the helper builds a valid sockaddr.
        to_result(unsafe { ffi::rsm_bind_any(self.sock, port) })
    }

    /// `listen(backlog)` as listen(2) does it: the backlog clamped to the netns's somaxconn.
    pub(crate) fn listen(&self, backlog: i32) -> Result {
        // SAFETY: The socket is live (type invariant); kernel_listen validates the rest.
        to_result(unsafe { ffi::rsm_listen_clamped(self.sock, backlog) })
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

    /// A counted reference on the socket's netns, unless that netns is being dismantled (then
    /// its pernet `.pre_exit` hook releases the socket).
    pub(crate) fn net_ref(&self) -> Option<NetRef> {
        // SAFETY: The socket is live (type invariant), so its netns has not run its pernet
        // `.exit` hooks yet and its memory is valid.
        unsafe { NetRef::try_get(ffi::rsm_sock_net(self.sock)) }
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the socket and release it exactly once; its
        // netns is still alive (see the invariant).
        unsafe { bindings::sock_release(self.sock) };
    }
}
