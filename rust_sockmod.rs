// SPDX-License-Identifier: GPL-2.0

//! rust_sockmod: creates sockets from inside the kernel with `sock_create_kern()` in a network
//! namespace the user chooses, keeps them, and shows them and their creation statistics
//! through the misc device `/dev/rust_sockmod`.
//!
//! A file per concept: `uapi` (ioctl ABI, shared with userspace_test), `uapi_bench` (the
//! benchmark's unstable ioctl, shared too), `names` (family/type/protocol names, shared too),
//! `shim` (the C of `src/helpers.c` and what bindings lack), `netns` and `ksocket` (RAII
//! wrappers of the only raw kernel pointers), `pernet` (the netns hooks), `miscdev`
//! (owner-setting registration on 7.2), `stats`, `state` (table + counters under one mutex),
//! `ops` (create/release), `commands` (text interface), `ioctl` (binary interface), `report`
//! (read), `device` (file operations), `bench` (in-kernel timing).

use kernel::prelude::*;

#[path = "src/bench.rs"]
mod bench;
#[path = "src/census.rs"]
mod census;
#[path = "src/commands.rs"]
mod commands;
#[path = "src/device.rs"]
mod device;
#[path = "src/ioctl.rs"]
mod ioctl;
#[path = "src/ksocket.rs"]
mod ksocket;
// 7.2 only: the kernel's registration sets no fops owner there (probes.mk).
#[cfg(not(rsm_misc_sets_owner))]
#[path = "src/miscdev.rs"]
mod miscdev;
// Shared with userspace_test, which needs `pub`.
#[expect(unreachable_pub)]
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
#[path = "src/shim.rs"]
mod shim;
#[path = "src/state.rs"]
mod state;
#[path = "src/stats.rs"]
mod stats;
#[path = "src/trace.rs"]
mod trace;
// Shared with userspace_test, which needs `pub`.
#[expect(unreachable_pub)]
#[path = "src/uapi.rs"]
mod uapi;
// Shared with userspace_test too; the benchmark's unstable interface.
#[expect(unreachable_pub)]
#[path = "src/uapi_bench.rs"]
mod uapi_bench;

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
        census: u32 {
            default: 0,
            description: "1: start the kernel socket census at load (as `census on` would)",
        },
        census_max: u32 {
            default: 65536,
            description: "Kernel sockets the census can record at once (beyond it: census_dropped)",
        },
    },
}

/// The device's registration: from 7.3 the kernel's own, which sets `.owner` of the fops to
/// this module (its `#[vtable]` adds `OwnerModule`, Rust-for-Linux #1182); on 7.2 the module's
/// copy of it that sets the owner (`src/miscdev.rs`). Either way an open file pins the module.
#[cfg(rsm_misc_sets_owner)]
type DeviceRegistration = kernel::miscdevice::MiscDeviceRegistration<device::SockmodFile>;
#[cfg(not(rsm_misc_sets_owner))]
type DeviceRegistration = miscdev::OwnedMiscRegistration<device::SockmodFile>;

/// `/dev/rust_sockmod`, mode 0600 on both (the kernel's registration leaves `mode` 0, which
/// devtmpfs creates as 0600).
#[cfg(rsm_misc_sets_owner)]
fn register_device(_module: &'static ThisModule) -> impl PinInit<DeviceRegistration, Error> {
    DeviceRegistration::register(kernel::miscdevice::MiscDeviceOptions {
        name: c"rust_sockmod",
    })
}
#[cfg(not(rsm_misc_sets_owner))]
fn register_device(module: &'static ThisModule) -> impl PinInit<DeviceRegistration, Error> {
    DeviceRegistration::register(c"rust_sockmod", 0o600, module)
}

/// Fields drop in declaration order: the device goes first (no file can be open then: the fops
/// owner pins the module), then the pernet hooks (unregistering runs `.pre_exit` for every
/// netns, which releases every socket still held while each protocol's per-netns state is
/// there), then the state.
#[pin_data]
struct RustSockmod {
    #[pin]
    _dev: DeviceRegistration,
    _census: census::CensusGuard,
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
        #[cfg(rsm_param_value_copy)]
        let (census_on, census_max) = (
            module_parameters::census.value(),
            module_parameters::census_max.value(),
        );
        #[cfg(not(rsm_param_value_copy))]
        let (census_on, census_max) = (
            *module_parameters::census.value(),
            *module_parameters::census_max.value(),
        );
        census::set_max(census_max);
        let state = state::init(max_sockets);
        try_pin_init!(Self {
            _state: {
                state?;
                state::StateGuard
            },
            _pernet: pernet::PernetRegistration::register()?,
            _census: {
                match census_on {
                    0 => {}
                    1 => census::start(census_max)?,
                    _ => return Err(EINVAL),
                }
                census::CensusGuard
            },
            _dev <- register_device(module),
        })
    }
}
