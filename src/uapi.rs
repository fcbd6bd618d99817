// SPDX-License-Identifier: GPL-2.0

//! The binary interface of `/dev/rust_sockmod`: ioctl numbers and argument structs.
//!
//! This file is the stable ABI, the one a freeze covers: what programs rely on (create,
//! release, info, totals, reset, census). The in-kernel benchmark is not part of it: it has its
//! own file and ioctl magic, `src/uapi_bench.rs`, and may change with any release.
//!
//! This one file is compiled into both the kernel module and `userspace_test` (which includes
//! it with `#[path]`). It needs from its crate only a module `crate::ioc` providing the
//! `_IO`/`_IOR`/`_IOWR` encoders: `kernel::ioctl` in the module, a std twin in userspace.
//! All structs are `#[repr(C)]`, made of integers only, with explicit padding, so their
//! layout is the same on both sides; reserved fields must be zero (EINVAL otherwise).

// `allow`, not `expect`: the module and userspace_test leave different items unused.
#![allow(dead_code)]

use crate::ioc::{_IO, _IOR, _IOWR};

/// The ioctl type byte of rust_sockmod.
pub const RSM_IOC_MAGIC: u32 = 0xB5;

/// `RsmCreate::netns_mode`: the caller's own network namespace.
pub const RSM_NETNS_CALLER: u32 = 0;
/// `RsmCreate::netns_mode`: the namespace of the file descriptor `netns_fd`
/// (`/proc/PID/ns/net` or an `ip netns` bind mount under `/run/netns/`).
pub const RSM_NETNS_FD: u32 = 1;
/// `RsmCreate::netns_mode`: the namespace of process `pid` (in the caller's pid namespace).
pub const RSM_NETNS_PID: u32 = 2;

/// `RsmCreate::flags`: the socket pins its netns like a user socket (`sk_net_refcnt_upgrade`).
/// Without it the socket behaves like every kernel socket: it does not pin the netns and is
/// released by the module when the netns is dismantled.
pub const RSM_CREATE_HOLD_NETNS: u32 = 1;

/// `RsmRelease::flags`: release every socket the module holds (`id` must be 0).
pub const RSM_RELEASE_ALL: u32 = 1;

/// `RSM_IOC_CREATE`: create one kernel socket.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct RsmCreate {
    /// In: address family (`AF_*`).
    pub family: i32,
    /// In: socket type (`SOCK_*`, flags such as `SOCK_NONBLOCK` allowed).
    pub sock_type: i32,
    /// In: protocol (`IPPROTO_*`, 0 for the family's default).
    pub protocol: i32,
    /// In: one of `RSM_NETNS_*`.
    pub netns_mode: u32,
    /// In: the netns file descriptor for `RSM_NETNS_FD`, else 0.
    pub netns_fd: i32,
    /// In: the process id for `RSM_NETNS_PID`, else 0.
    pub pid: i32,
    /// In: `RSM_CREATE_*` flags.
    pub flags: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// Out: the new socket's id (never reused while the module is loaded).
    pub id: u64,
    /// Out: inode number of the socket's netns (as `readlink /proc/self/ns/net` shows).
    pub netns_inode: u64,
    /// Out: time spent in `sock_create_kern()`, in nanoseconds.
    pub latency_ns: u64,
}

/// `RSM_IOC_RELEASE`: release one socket by id, or all of them.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct RsmRelease {
    /// In: the socket id (0 with `RSM_RELEASE_ALL`).
    pub id: u64,
    /// In: `RSM_RELEASE_*` flags.
    pub flags: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// Out: how many sockets were released.
    pub released: u64,
}

/// `RSM_IOC_INFO`: what one live socket is.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct RsmInfo {
    /// In: the socket id.
    pub id: u64,
    /// Out: inode number of the socket's netns.
    pub netns_inode: u64,
    /// Out: inode number of the socket itself (sockfs).
    pub sock_inode: u64,
    /// Out: creation latency in ns.
    pub latency_ns: u64,
    /// Out: the socket's family, as the socket reports it.
    pub family: i32,
    /// Out: the socket's type (`sock->type`).
    pub sock_type: i32,
    /// Out: the socket's protocol (`sk->sk_protocol`).
    pub protocol: i32,
    /// Out: `sk->sk_state`.
    pub state: i32,
    /// Out: 1 if the socket holds a counted reference on its netns.
    pub holds_netns: u32,
    /// Out: pid (tgid) of the creator.
    pub creator_pid: i32,
    /// Out: the socket cookie (`ss -e` shows it as `sk:` in hex).
    pub cookie: u64,
    /// Out: the bound local address, network order (AF_INET: the first 4 bytes).
    pub local_addr: [u8; 16],
    /// Out: the bound local port (host order); 0 while unbound or for families without ports.
    pub local_port: u32,
    /// Zero.
    pub reserved: u32,
}

/// `RSM_IOC_TOTALS`: the header counters.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct RsmTotals {
    pub attempts: u64,
    pub ok: u64,
    pub failed: u64,
    /// Requests refused before `sock_create_kern()` (EPERM, ENOSPC, bad netns, ...).
    pub rejected: u64,
    pub live: u64,
    pub released_user: u64,
    pub released_netns_exit: u64,
    pub released_unload: u64,
    pub max_sockets: u64,
}

/// Asserts at compile time, on both sides, that each struct has its ABI size and that its
/// fields, every one listed, fill it without padding: what lets the module and userspace copy
/// it as bytes (`FromBytes`/`AsBytes` in `src/ioctl.rs` rest on this). Also used by
/// `src/uapi_bench.rs` (as `super::uapi::abi_layout!`).
macro_rules! abi_layout {
    ($($t:ident = $size:literal { $($f:ident),+ $(,)? })+) => {$(
        const _: () = {
            /// Returns the size of the field `select` reads.
            const fn field_size<T, F>(_select: fn(&T) -> &F) -> usize {
                core::mem::size_of::<F>()
            }
            assert!(
                core::mem::size_of::<$t>() == $size,
                concat!(stringify!($t), " changed size: that changes the ABI")
            );
            assert!(
                0 $(+ field_size::<$t, _>(|s| &s.$f))+ == $size,
                concat!(stringify!($t), ": its listed fields do not fill it (padding, or a field not listed)")
            );
        };
    )+};
}
pub(crate) use abi_layout;

abi_layout! {
    RsmCreate = 56 {
        family, sock_type, protocol, netns_mode, netns_fd, pid, flags, reserved,
        id, netns_inode, latency_ns,
    }
    RsmRelease = 24 { id, flags, reserved, released }
    RsmInfo = 88 {
        id, netns_inode, sock_inode, latency_ns, family, sock_type, protocol, state,
        holds_netns, creator_pid, cookie, local_addr, local_port, reserved,
    }
    RsmTotals = 72 {
        attempts, ok, failed, rejected, live, released_user, released_netns_exit,
        released_unload, max_sockets,
    }
}

pub const RSM_IOC_CREATE: u32 = _IOWR::<RsmCreate>(RSM_IOC_MAGIC, 1);
pub const RSM_IOC_RELEASE: u32 = _IOWR::<RsmRelease>(RSM_IOC_MAGIC, 2);
pub const RSM_IOC_INFO: u32 = _IOWR::<RsmInfo>(RSM_IOC_MAGIC, 3);
pub const RSM_IOC_TOTALS: u32 = _IOR::<RsmTotals>(RSM_IOC_MAGIC, 4);
/// Zero the statistics (totals except `live`, and the per-key table).
pub const RSM_IOC_RESET_STATS: u32 = _IO(RSM_IOC_MAGIC, 5);
// Number 6 stays unused: it was the benchmark's, which now has its own magic
// (`src/uapi_bench.rs`); a tool built against the old number gets ENOTTY.
/// Turn the kernel socket census on (`arg` 1) or off (`arg` 0); the argument is the value
/// itself, not a pointer. Needs CAP_NET_ADMIN over the initial user namespace.
pub const RSM_IOC_CENSUS: u32 = _IO(RSM_IOC_MAGIC, 7);
