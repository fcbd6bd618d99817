// SPDX-License-Identifier: GPL-2.0

//! A misc device registration that pins the module while the device is open.
//!
//! `kernel::miscdevice::MiscDeviceRegistration` in 7.2 builds `file_operations` without an
//! owner (Rust-for-Linux issue #1182): `rmmod` would succeed while `/dev/rust_sockmod` is open
//! and the later `release()` would run freed code. This registration uses the same Rust
//! vtable (`MiscDeviceOptions::into_raw`) but registers it through the C shim, which gives the
//! fops `.owner = THIS_MODULE`; the VFS then holds a module reference per open file.

use crate::ffi;
use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    miscdevice::{MiscDevice, MiscDeviceOptions},
    prelude::*,
    types::Opaque,
};

/// A registered misc device, layout-identical to `MiscDeviceRegistration<T>`.
///
/// # Invariants
///
/// `inner` is registered with `misc_register()` from `register` until `drop`, and holds the
/// `struct miscdevice` built by `MiscDeviceOptions::into_raw::<T>()`.
#[repr(transparent)]
#[pin_data(PinnedDrop)]
pub(crate) struct OwnedMiscRegistration<T> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: `misc_deregister` may be called from any thread; the registration has no other state.
unsafe impl<T> Send for OwnedMiscRegistration<T> {}
// SAFETY: No `&self` method mutates anything.
unsafe impl<T> Sync for OwnedMiscRegistration<T> {}

impl<T: MiscDevice> OwnedMiscRegistration<T> {
    /// Registers the device `/dev/<name>` with the given mode (e.g. `0o600`).
    pub(crate) fn register(name: &'static CStr, mode: u16) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let opts = MiscDeviceOptions { name };
                // SAFETY: The initializer may write to `slot`, which is valid for writes.
                unsafe { slot.write(opts.into_raw::<T>()) };
                // SAFETY: `slot` holds a fully initialised miscdevice whose fops are the Rust
                // vtable for `T`. It is pinned and is deregistered in `drop` before its memory
                // goes away. The vtable's `open` casts the miscdevice pointer to
                // `&MiscDeviceRegistration<T>`, which is `#[repr(transparent)]` over
                // `Opaque<miscdevice>` exactly like `Self`, so that cast stays valid.
                to_result(unsafe { ffi::rsm_misc_register_owned(slot, mode) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T> PinnedDrop for OwnedMiscRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the device is registered, and this runs once.
        unsafe { bindings::misc_deregister(self.inner.get()) };
    }
}
