// SPDX-License-Identifier: GPL-2.0

//! `KernelSocket`: a `struct socket` made by `sock_create_kern()`, released on drop.

use crate::netns::{Net, NetId};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_int, c_uint, c_ulong},
    prelude::*,
    sync::aref::ARef,
};

/// What a socket is, read from the socket itself: the mirror of `struct rsm_sock_info` in
/// `src/helpers.h`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub(crate) struct SockInfo {
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

/// `struct sockaddr_in` (include/uapi/linux/in.h; not in 7.2's bindings).
#[repr(C)]
struct SockaddrIn {
    sin_family: u16,
    /// Network order.
    sin_port: u16,
    /// Network order.
    sin_addr: u32,
    zero: [u8; 8],
}
const _: () = assert!(core::mem::size_of::<SockaddrIn>() == 16);

// `struct socket` and `struct sock` cross only as pointers; `improper_ctypes` fires because
// bindgen renders `lockdep_map` as an empty struct when lockdep is off (`allow`, not `expect`:
// with lockdep on, as in the debug kernel, it does not fire).
#[allow(improper_ctypes)]
extern "C" {
    // src/helpers.c: fields of `struct sock`, opaque in 7.2's bindings.
    /// Fields of `struct sock` (READ_ONCE, bitfields, SOCK_INODE's container_of) and the
    /// cookie (`sock_diag_save_cookie`, which generates it).
    fn rsm_sock_info(sock: *mut bindings::socket, out: *mut SockInfo);
    /// `sock_net(sock->sk)`, no reference taken.
    fn rsm_sock_net(sock: *mut bindings::socket) -> *mut bindings::net;
    /// The socket's netns's `somaxconn` sysctl (READ_ONCE).
    fn rsm_sock_somaxconn(sock: *mut bindings::socket) -> c_int;
    /// `sk_net_refcnt_upgrade` unless the sock already holds a counted netns reference;
    /// whether it upgraded.
    fn rsm_sock_hold_net(sock: *mut bindings::socket) -> bool;
}

/// What `sock_create_kern()` of the kernel the module was built against gives a socket's netns:
/// `counted` when that kernel also has `__sock_create_kern()` (the passive variant, as an
/// upstream proposal renames it), else `passive` (a build-time probe, `probes.mk`).
pub(crate) const SOCK_CREATE_KERN_NETNS_REF: &str = if cfg!(rsm_sock_create_kern_counts) {
    "counted"
} else {
    "passive"
};

/// A kernel socket owned by the module's table (made from a [`FreshSocket`]).
///
/// # Invariants
///
/// `sock` is a socket returned by a successful `sock_create_kern()`, owned by this value and
/// released exactly once, in `drop`. It is dropped only while no pernet `.exit` of its netns
/// has run: either the socket holds a counted reference on its netns (created with `hold`), or
/// whoever drops it holds one (`state::Detached`, `state::InUse`), or it is dropped by the
/// module's pernet `.pre_exit` hook for its netns (`state::release_netns`). The table
/// (`src/state.rs`) is the only owner and keeps this promise; see `FreshSocket::into_kept`.
pub(crate) struct KernelSocket {
    sock: NonNull<bindings::socket>,
}

/// A socket just made by `sock_create_kern()` in a netns the caller holds a count on: it
/// borrows that reference, so it cannot outlive it, and may be dropped (released) anywhere.
pub(crate) struct FreshSocket<'net> {
    sock: KernelSocket,
    _net: PhantomData<&'net Net>,
}

// SAFETY: A kernel socket may be used and released from any process-context thread.
unsafe impl Send for KernelSocket {}
// SAFETY: Through `&KernelSocket` only what userspace may do concurrently from several threads
// on one socket file happens: `kernel_bind` and `kernel_listen` (the protocol serialises them
// with the socket lock, as for bind(2)/listen(2) racing on a shared fd) and reads of fields
// (`info`, `net_id`). Release needs ownership (`drop`).
unsafe impl Sync for KernelSocket {}

impl<'net> FreshSocket<'net> {
    /// `sock_create_kern(net, family, type, protocol)`; the kernel's errno on failure. With
    /// `hold`, the socket then takes a counted reference on `net` (`sk_net_refcnt_upgrade`),
    /// like a user socket: it pins its netns. Never inlined: the census names the module's
    /// sockets by this frame (`rust_sockmod:FreshSocket::create`).
    #[inline(never)]
    pub(crate) fn create(
        net: &'net Net,
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
        let sock = NonNull::new(sock).ok_or(EINVAL)?;
        if hold {
            // SAFETY: `sock` was just created by `sock_create_kern` and nobody else sees it yet;
            // the helper upgrades only a sock that holds no counted netns reference (a kernel
            // whose `sock_create_kern` counts is left as it is).
            unsafe { rsm_sock_hold_net(sock.as_ptr()) };
        }
        // INVARIANT: `sock_create_kern` succeeded and handed the socket over to us; the borrowed
        // `net` keeps the netns alive for as long as this value exists.
        Ok(Self {
            sock: KernelSocket { sock },
            _net: PhantomData,
        })
    }

    /// The socket's netns, as an identity only.
    pub(crate) fn net_id(&self) -> NetId {
        self.sock.net_id()
    }

    /// Hands the socket over to the table, without the borrowed netns reference.
    ///
    /// # Safety
    ///
    /// The caller puts the result into the module's table under the state lock before the
    /// borrowed [`Net`] is released, so that the pernet `.pre_exit` hook of its netns finds it
    /// (the [`KernelSocket`] invariant).
    pub(crate) unsafe fn into_kept(self) -> KernelSocket {
        self.sock
    }
}

impl KernelSocket {
    /// Binds to the any-address of its family (inet, inet6) and `port`; EAFNOSUPPORT for the
    /// other families, otherwise `kernel_bind()`'s own result.
    pub(crate) fn bind_any(&self, port: u16) -> Result {
        const AF_INET: u16 = bindings::AF_INET as u16;
        const AF_INET6: u16 = bindings::AF_INET6 as u16;
        let mut a4 = SockaddrIn {
            sin_family: AF_INET,
            sin_port: port.to_be(),
            sin_addr: 0,
            zero: [0; 8],
        };
        let mut a6: bindings::sockaddr_in6 = pin_init::zeroed();
        let (addr, len) = match self.info().family as u16 {
            AF_INET => (
                (&raw mut a4).cast::<bindings::sockaddr_unsized>(),
                size_of_val(&a4),
            ),
            AF_INET6 => {
                a6.sin6_family = AF_INET6;
                a6.sin6_port = port.to_be();
                (
                    (&raw mut a6).cast::<bindings::sockaddr_unsized>(),
                    size_of_val(&a6),
                )
            }
            // (7.2's kernel::error::code has no EAFNOSUPPORT.)
            _ => return Err(Error::from_errno(-(bindings::EAFNOSUPPORT as i32))),
        };
        // SAFETY: The socket is live (type invariant); `addr` points to a sockaddr of the
        // socket's family, `len` bytes long, valid for the call.
        to_result(unsafe { bindings::kernel_bind(self.sock.as_ptr(), addr, len as i32) })
    }

    /// `listen(backlog)` as listen(2) does it (`__sys_listen_socket`): the backlog clamped to
    /// the netns's `net.core.somaxconn`, compared as unsigned so that a negative one is clamped
    /// too (`kernel_listen()` alone passes it through, and `inet_listen()` stores it as u32).
    pub(crate) fn listen(&self, backlog: i32) -> Result {
        // SAFETY: The socket is live (type invariant), so is its netns.
        let somaxconn = unsafe { rsm_sock_somaxconn(self.sock.as_ptr()) };
        let backlog = if backlog as u32 > somaxconn as u32 {
            somaxconn
        } else {
            backlog
        };
        // SAFETY: The socket is live (type invariant); kernel_listen validates the rest.
        to_result(unsafe { bindings::kernel_listen(self.sock.as_ptr(), backlog) })
    }

    /// Family, type, protocol, state, inode and netns as the socket itself reports them.
    pub(crate) fn info(&self) -> SockInfo {
        let mut info = SockInfo::default();
        // SAFETY: The socket is live (type invariant); `info` is a valid out pointer.
        unsafe { rsm_sock_info(self.sock.as_ptr(), &mut info) };
        info
    }

    /// The socket's netns, as an identity only (never dereferenced by the caller).
    pub(crate) fn net_id(&self) -> NetId {
        // SAFETY: The socket is live (type invariant).
        NetId::of_ptr(unsafe { rsm_sock_net(self.sock.as_ptr()) })
    }

    /// A counted reference on the socket's netns, unless that netns is being dismantled (then
    /// its pernet `.pre_exit` hook releases the socket).
    pub(crate) fn net_ref(&self) -> Option<ARef<Net>> {
        // SAFETY: The socket is live (type invariant) and its `sk` holds a passive reference on
        // its netns (`sk_alloc` → `net_passive_inc` for kernel sockets), so the `struct net`
        // memory stays valid whatever its count.
        unsafe { Net::try_get(rsm_sock_net(self.sock.as_ptr())) }
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the socket and release it exactly once; its
        // netns is still alive (see the invariant).
        unsafe { bindings::sock_release(self.sock.as_ptr()) };
    }
}
