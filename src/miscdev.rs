// SPDX-License-Identifier: GPL-2.0

//! A misc device registration that pins the module while the device is open.
//!
//! `kernel::miscdevice::MiscDeviceRegistration` in 7.2 builds `file_operations` without an
//! owner (Rust-for-Linux issue #1182): `rmmod` would succeed while `/dev/rust_sockmod` is open
//! and the later `release()` would run freed code. This registration copies the same Rust
//! vtable (`MiscDeviceOptions::into_raw`) into a `file_operations` of its own, sets
//! `.owner = THIS_MODULE` on it, and registers that: the VFS then holds a module reference per
//! open file. Each registration owns its fops, so any number of them may coexist.

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    prelude::*,
    types::Opaque,
};

/// A registered misc device with module-owned file operations.
///
/// # Invariants
///
/// `inner` is registered with `misc_register()` from `register` until `drop`, holds the
/// `struct miscdevice` built by `MiscDeviceOptions::into_raw::<T>()` with its `fops` pointing
/// at `fops`: the Rust vtable for `T` with `.owner` set to the registering module.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct OwnedMiscRegistration<T> {
    // First field: the vtable's `open` casts the `struct miscdevice *` to
    // `&MiscDeviceRegistration<T>`, which must then be the start of this struct (checked below).
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    #[pin]
    fops: Opaque<bindings::file_operations>,
    _t: PhantomData<T>,
}

// The layout the vtable relies on: `MiscDeviceRegistration<T>` is a transparent wrapper of the
// `struct miscdevice`, and ours starts with the same.
const _: () = {
    type Mine = OwnedMiscRegistration<crate::device::SockmodFile>;
    type Theirs = MiscDeviceRegistration<crate::device::SockmodFile>;
    assert!(core::mem::offset_of!(Mine, inner) == 0);
    assert!(core::mem::size_of::<Theirs>() == core::mem::size_of::<bindings::miscdevice>());
    assert!(core::mem::align_of::<Theirs>() == core::mem::align_of::<bindings::miscdevice>());
};

// SAFETY: `misc_deregister` may be called from any thread; the registration has no other state.
unsafe impl<T> Send for OwnedMiscRegistration<T> {}
// SAFETY: No `&self` method mutates anything.
unsafe impl<T> Sync for OwnedMiscRegistration<T> {}

impl<T: MiscDevice> OwnedMiscRegistration<T> {
    /// Registers the device `/dev/<name>` with the given mode (e.g. `0o600`), owned by `module`.
    pub(crate) fn register(
        name: &'static CStr,
        mode: u16,
        module: &'static ThisModule,
    ) -> impl PinInit<Self, Error> {
        let raw = MiscDeviceOptions { name }.into_raw::<T>();
        // SAFETY: `into_raw` points `fops` at the vtable of `T`, a constant with `'static`
        // lifetime; it is only read (copied).
        let mut fops = unsafe { core::ptr::read(raw.fops) };
        fops.owner = module.as_ptr();
        try_pin_init!(&this in Self {
            fops: Opaque::new(fops),
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                // SAFETY: `this` is the pinned address being initialised; `fops` was
                // initialised above (fields are initialised in the order written), and it stays
                // at this address until `drop`.
                let fops_ptr = unsafe { (*this.as_ptr()).fops.get() };
                let mut misc = raw;
                misc.fops = fops_ptr;
                misc.mode = mode;
                // SAFETY: The initializer may write to `slot`, which is valid for writes.
                unsafe { slot.write(misc) };
                // SAFETY: `slot` holds a fully initialised miscdevice whose fops are the Rust
                // vtable for `T` plus an owner. It is pinned and is deregistered in `drop`
                // before its memory (and `fops`) goes away; the layout the vtable's `open`
                // relies on is checked at compile time above.
                to_result(unsafe { bindings::misc_register(slot) })
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
