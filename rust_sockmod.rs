// SPDX-License-Identifier: GPL-2.0

//! rust_sockmod: creates sockets from inside the kernel with `sock_create_kern()` in a network
//! namespace the user chooses, keeps them, and shows them and their creation statistics
//! through the misc device `/dev/rust_sockmod`.
//!
//! A file per concept: `uapi` (ioctl ABI, shared with userspace_test), `names` (family/type/
//! protocol names, shared too), `ffi` (the C shim `src/helpers.c`), `netns` and `ksocket`
//! (RAII wrappers of the only raw kernel pointers), `miscdev` (owner-setting registration),
//! `stats`, `state` (table + counters under one mutex), `ops` (create/release), `commands`
//! (text interface), `ioctl` (binary interface), `report` (read), `device` (file operations).

use kernel::prelude::*;

#[path = "src/bench.rs"]
mod bench;
#[path = "src/commands.rs"]
mod commands;
#[path = "src/device.rs"]
mod device;
#[path = "src/ffi.rs"]
mod ffi;
#[path = "src/ioctl.rs"]
mod ioctl;
#[path = "src/ksocket.rs"]
mod ksocket;
#[path = "src/miscdev.rs"]
mod miscdev;
// Shared with userspace_test, which needs `pub`.
#[allow(unreachable_pub)]
#[path = "src/names.rs"]
mod names;
#[path = "src/netns.rs"]
mod netns;
#[path = "src/ops.rs"]
mod ops;
#[path = "src/pernet.rs"]
mod pernet;
#[path = "src/report.rs"]
mod report;
#[path = "src/state.rs"]
mod state;
#[path = "src/stats.rs"]
mod stats;
// Shared with userspace_test, which needs `pub`.
#[allow(unreachable_pub)]
#[path = "src/uapi.rs"]
mod uapi;

/// The `_IO*` encoders `uapi` expects from its crate.
mod ioc {
    pub(crate) use kernel::ioctl::{_IO, _IOR, _IOWR};
}

/// Version shown in the report header.
pub(crate) const VERSION: &str = "0.2.0";

module! {
    type: RustSockmod,
    name: "rust_sockmod",
    authors: ["rust_sockmod developers"],
    description: "Kernel sockets via sock_create_kern() in a chosen netns, shown in /dev/rust_sockmod",
    license: "GPL",
    params: {
        max_sockets: u32 {
            default: 65536,
            description: "Maximum number of live kernel sockets (beyond it: ENOSPC)",
        },
    },
}

/// Fields drop in declaration order: the device goes first (no file can be open then: the fops
/// owner pins the module), then the pernet hooks (unregistering runs `.pre_exit` for every
/// netns, which releases every socket still held while each protocol's per-netns state is
/// there), then the state.
#[pin_data]
struct RustSockmod {
    #[pin]
    _dev: miscdev::OwnedMiscRegistration<device::SockmodFile>,
    _pernet: pernet::PernetRegistration,
    _state: state::StateGuard,
}

impl kernel::InPlaceModule for RustSockmod {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // probes.mk: 7.3 returns the value, 7.2 a reference.
        #[cfg(rsm_param_value_copy)]
        let max_sockets = module_parameters::max_sockets.value();
        #[cfg(not(rsm_param_value_copy))]
        let max_sockets = *module_parameters::max_sockets.value();
        state::init(max_sockets);
        try_pin_init!(Self {
            _state: state::StateGuard,
            _pernet: pernet::PernetRegistration::register()?,
            _dev <- miscdev::OwnedMiscRegistration::register(c"rust_sockmod", 0o600, module),
        })
    }
}
