// SPDX-License-Identifier: GPL-2.0

//! The in-kernel benchmark's binary interface: `RSM_IOC_BENCH`, its modes and its struct.
//!
//! UNSTABLE: this is not part of the device's ABI. A reviewer asked to freeze the ABI freezes
//! `src/uapi.rs` only; the benchmark follows the create path's implementation step by step and
//! may change with any release. Use it with the `userspace_test` of the same release.
//!
//! It has its own ioctl magic, [`RSM_BENCH_IOC_MAGIC`], rather than a number under the stable
//! `RSM_IOC_MAGIC`: the stable magic then holds only frozen ioctls, and a bench call the module
//! no longer knows fails with ENOTTY instead of being misread. A tool built when the bench was
//! number 6 under the stable magic gets ENOTTY for it now; when the struct or the meaning of the
//! modes changes again, the number under this magic changes with it.
//!
//! Like `src/uapi.rs`, this file is compiled into both the kernel module and `userspace_test`
//! (with `#[path]`); it needs from its crate the module `crate::ioc` (the `_IO*` encoders) and
//! `src/uapi.rs` as its sibling module `uapi` (for the layout assertions).

// `allow`, not `expect`: the module and userspace_test leave different items unused.
#![allow(dead_code)]

use crate::ioc::_IOWR;

/// The ioctl type byte of rust_sockmod's benchmark (the stable interface's is `0xB5`).
pub const RSM_BENCH_IOC_MAGIC: u32 = 0xB6;

/// `RsmBench::mode`: bare `sock_create_kern()` + `sock_release()` in a loop.
pub const RSM_BENCH_RAW: u32 = 0;
/// `RsmBench::mode`: the module's full path per iteration (netns, permission, slot, table,
/// statistics, then release by id) — what an ioctl create+release costs minus the syscall.
pub const RSM_BENCH_BOOKKEEPING: u32 = 1;
/// `RsmBench::mode`s that attribute the bookkeeping: each is a raw pair plus one of its steps,
/// so its excess over `RSM_BENCH_RAW` is that step's cost. NETNS: the caller's netns resolved
/// (reference taken and dropped). PERMISSION: the CAP_NET_ADMIN check. CLOCK: the two clock
/// reads around `sock_create_kern()` and the creator's pid and comm. TABLE: the socket kept in
/// and released from the table (slot; one lock to take a spare node pair, one to record with
/// its statistics, one to release; the `Arc`). TABLE_NODE and TABLE_LOCK are parts of TABLE:
/// the three allocations and frees a create makes when no spare pair is kept (table node,
/// netns-index node, `Arc`), and three empty lock round trips. NETNS + PERMISSION + CLOCK +
/// TABLE cover the BOOKKEEPING path.
pub const RSM_BENCH_STEP_NETNS: u32 = 2;
pub const RSM_BENCH_STEP_PERMISSION: u32 = 3;
pub const RSM_BENCH_STEP_CLOCK: u32 = 4;
pub const RSM_BENCH_STEP_TABLE: u32 = 5;
pub const RSM_BENCH_STEP_TABLE_NODE: u32 = 6;
pub const RSM_BENCH_STEP_TABLE_LOCK: u32 = 7;
/// Largest valid `RsmBench::mode`.
pub const RSM_BENCH_MODE_MAX: u32 = RSM_BENCH_STEP_TABLE_LOCK;
/// Largest `RsmBench::iterations`.
pub const RSM_BENCH_MAX_ITERATIONS: u32 = 100_000;

/// `RSM_IOC_BENCH`: time `iterations` create+release pairs inside the kernel, in the
/// caller's netns.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct RsmBench {
    /// In: family, type, protocol of every socket.
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    /// In: `RSM_BENCH_RAW`, `RSM_BENCH_BOOKKEEPING` or one of the `RSM_BENCH_STEP_*` modes.
    pub mode: u32,
    /// In: number of pairs, 1..=`RSM_BENCH_MAX_ITERATIONS`.
    pub iterations: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// In: user address of `iterations` u64s that receive each pair's ns, or 0.
    pub samples: u64,
    /// Out: sum, min and max of the per-pair times, in ns.
    pub total_ns: u64,
    pub min_ns: u64,
    pub max_ns: u64,
}

super::uapi::abi_layout! {
    RsmBench = 56 {
        family, sock_type, protocol, mode, iterations, reserved, samples, total_ns, min_ns,
        max_ns,
    }
}

/// Times create+release pairs inside the kernel ([`RsmBench`]): number 1 of the bench's magic.
pub const RSM_IOC_BENCH: u32 = _IOWR::<RsmBench>(RSM_BENCH_IOC_MAGIC, 1);
