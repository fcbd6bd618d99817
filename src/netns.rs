// SPDX-License-Identifier: GPL-2.0

//! `Net`: a network namespace (`struct net`), reference-counted through [`ARef`].

use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_uint},
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};

// `struct net` crosses only as a pointer; `improper_ctypes` fires because bindgen renders
// `lockdep_map` as an empty struct when lockdep is off (`allow`, not `expect`: with lockdep on,
// as in the debug kernel, it does not fire).
#[allow(improper_ctypes)]
extern "C" {
    // src/helpers.c: static inlines (get_net, put_net, maybe_get_net, check_net) and fields of
    // `struct net`, opaque in 7.2's bindings (which include no netns header); none of the
    // fields changes after set-up.
    /// One more count on a netns whose count is non-zero.
    fn rsm_get_net(net: *mut bindings::net);
    fn rsm_put_net(net: *mut bindings::net);
    /// A counted reference on `current->nsproxy->net_ns`.
    fn rsm_current_net() -> *mut bindings::net;
    /// A counted reference, or NULL once the count is zero (cleanup_net queued or running).
    fn rsm_maybe_get_net(net: *mut bindings::net) -> *mut bindings::net;
    /// Whether the count is non-zero.
    fn rsm_net_alive(net: *const bindings::net) -> bool;
    fn rsm_net_inum(net: *const bindings::net) -> c_uint;
    fn rsm_net_user_ns(net: *const bindings::net) -> *mut bindings::user_namespace;
    /// The netns of the nsfs file at `path` (`/proc/PID/ns/net`, `/run/netns/NAME`): a counted
    /// reference or an ERR_PTR. Looked up with `kern_path` as stat(2) would (search
    /// permission, the ptrace check of `/proc/PID/ns` links), never opened: a FIFO or device
    /// runs no open and gets EINVAL like any file that is not a network namespace
    /// (`linux/namei.h`, `d_inode`, `get_proc_ns` are out of both kernels' bindings).
    fn rsm_get_net_ns_by_path(path: *const c_char) -> *mut bindings::net;

    // Exported by net/core/net_namespace.c, absent from 7.2's kernel::bindings.
    fn get_net_ns_by_fd(fd: c_int) -> *mut bindings::net;
    fn get_net_ns_by_pid(pid: bindings::pid_t) -> *mut bindings::net;
}

/// A network namespace, as the kernel crate wraps its refcounted objects (`Credential`,
/// `PidNamespace`): only ever seen behind a reference that keeps its count above zero.
///
/// # Invariants
///
/// A `&Net` points to a `struct net` whose count (`ns.__ns_ref`, what `get_net` increments) is
/// non-zero for the reference's lifetime; an [`ARef<Net>`] owns one count.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

// SAFETY: A netns reference may be taken and dropped on any thread (`get_net`/`put_net` are
// atomic; the last put queues cleanup_net).
unsafe impl Send for Net {}
// SAFETY: `&Net` only reads fields that never change after set-up (inode number, owning user
// namespace) or takes counts, both safe from any thread.
unsafe impl Sync for Net {}

// SAFETY: `inc_ref` and `dec_ref` are `get_net` and `put_net`; a `&Net` implies a non-zero
// count (type invariant), so `get_net` never revives a dying namespace.
unsafe impl AlwaysRefCounted for Net {
    fn inc_ref(&self) {
        // SAFETY: The count is non-zero while `&self` lives (type invariant).
        unsafe { rsm_get_net(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one count on `obj` (the trait's contract), dropped once here.
        unsafe { rsm_put_net(obj.as_ptr().cast()) };
    }
}

/// A network namespace's identity: the address of its `struct net`, compared and ordered,
/// never dereferenced. The table indexes sockets by it; it keeps nothing alive, and no `&Net`
/// can be made from it, so a namespace whose count may be zero is never used through it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct NetId(usize);

impl NetId {
    /// Returns the identity of the `struct net` at `net`.
    pub(crate) fn of_ptr(net: *const bindings::net) -> Self {
        Self(net as usize)
    }
}

/// Takes over the counted reference `ptr` carries; `None` for NULL.
///
/// # Safety
///
/// A non-NULL `ptr` points to a live `struct net` and carries one count, which the caller
/// gives up.
unsafe fn adopt(ptr: *mut bindings::net) -> Option<ARef<Net>> {
    // SAFETY: The count is the caller's to give (the function's contract), and `Net` is
    // `repr(transparent)` over `struct net`.
    NonNull::new(ptr).map(|p| unsafe { ARef::from_raw(p.cast()) })
}

/// Takes over the counted reference an `ERR_PTR`-style lookup (`get_net_ns_by_*`) returned.
fn counted(ptr: *mut bindings::net) -> Result<ARef<Net>> {
    // SAFETY: A non-error return of the get_net_ns_by_* family carries a counted reference.
    unsafe { adopt(from_err_ptr(ptr)?) }.ok_or(EINVAL)
}

impl Net {
    /// Returns a counted reference on the calling task's network namespace.
    pub(crate) fn current() -> Result<ARef<Self>> {
        // SAFETY: Called in process context; `rsm_current_net` takes a reference on
        // `current->nsproxy->net_ns`, which is live while the task runs, and returns it.
        unsafe { adopt(rsm_current_net()) }.ok_or(EINVAL)
    }

    /// Looks up the namespace a netns file descriptor refers to (`/proc/PID/ns/net`,
    /// `/run/netns/X`): EBADF for a closed fd, EINVAL for an fd that is not a network namespace.
    pub(crate) fn from_fd(fd: i32) -> Result<ARef<Self>> {
        // SAFETY: `get_net_ns_by_fd` validates the fd itself and returns a counted reference
        // or an ERR_PTR.
        counted(unsafe { get_net_ns_by_fd(fd) })
    }

    /// Looks up the namespace an nsfs file at `path` refers to (never opened, looked up with
    /// the caller's credentials): EINVAL for anything that is not a network namespace file.
    pub(crate) fn from_path(path: &CStr) -> Result<ARef<Self>> {
        // SAFETY: `path` is NUL-terminated; the helper looks it up, checks the inode and drops
        // the path itself, and returns a counted reference or an ERR_PTR.
        counted(unsafe { rsm_get_net_ns_by_path(path.as_char_ptr()) })
    }

    /// Looks up the namespace of process `pid` in the caller's pid namespace: ESRCH if there
    /// is none, EINVAL for a pid that cannot exist (<= 0).
    pub(crate) fn from_pid(pid: i32) -> Result<ARef<Self>> {
        if pid <= 0 {
            return Err(EINVAL);
        }
        // SAFETY: `get_net_ns_by_pid` looks the task up under RCU itself and returns a counted
        // reference or an ERR_PTR.
        counted(unsafe { get_net_ns_by_pid(pid) })
    }

    /// Takes a counted reference on `net` unless it is being dismantled (its count already
    /// reached zero; its pernet exit hooks are queued or running): then `None`.
    ///
    /// This is the only way from a netns pointer whose count may be zero (a socket's
    /// `sk_net`, which kernel sockets hold only passively) to a `Net`: no `&Net` is ever made
    /// for such a pointer before the count is known to be non-zero.
    ///
    /// # Safety
    ///
    /// `net` points to a `struct net` whose memory stays valid for the call (it is freed only
    /// after every pernet exit hook ran).
    pub(crate) unsafe fn try_get(net: *mut bindings::net) -> Option<ARef<Self>> {
        // SAFETY: `net` is valid for the call (the caller's contract); `maybe_get_net` only
        // increments a non-zero count, and returns NULL otherwise.
        unsafe { adopt(rsm_maybe_get_net(net)) }
    }

    /// Returns the raw `struct net` pointer, for the C helpers.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// Returns the netns inode number (what `readlink /proc/self/ns/net` shows).
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: The netns is live (type invariant); `ns.inum` never changes.
        unsafe { rsm_net_inum(self.as_ptr()) }
    }

    /// Returns whether the opener of `file` has `cap` over the user namespace owning this
    /// netns.
    pub(crate) fn file_capable(&self, file: &kernel::fs::LocalFile, cap: u32) -> bool {
        // SAFETY: `file` is a live file and the netns is live (type invariant); its `user_ns`
        // is set at creation, never changes and lives as long as the netns.
        unsafe {
            bindings::file_ns_capable(file.as_ptr(), rsm_net_user_ns(self.as_ptr()), cap as i32)
        }
    }
}

/// The netns a pernet hook (`src/pernet.rs`) is called with: valid for the call, its count
/// possibly zero (in `cleanup_net`), so it gives identity and fixed fields, never a `&Net`.
pub(crate) struct HookNet<'a> {
    ptr: NonNull<bindings::net>,
    _hook: PhantomData<&'a bindings::net>,
}

impl HookNet<'_> {
    /// Wraps the `net` a pernet hook received.
    ///
    /// # Safety
    ///
    /// `net` is the non-NULL argument of a pernet `.init` or `.pre_exit` hook, and the value
    /// does not outlive that call.
    pub(crate) unsafe fn new(net: *mut bindings::net) -> Self {
        Self {
            // SAFETY: The hook's `net` is never NULL (the caller's contract).
            ptr: unsafe { NonNull::new_unchecked(net) },
            _hook: PhantomData,
        }
    }

    /// Returns the namespace's identity.
    pub(crate) fn id(&self) -> NetId {
        NetId::of_ptr(self.ptr.as_ptr())
    }

    /// Returns the netns inode number.
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: The `struct net` is valid during the hook (`new`'s contract); `ns.inum`
        // never changes.
        unsafe { rsm_net_inum(self.ptr.as_ptr()) }
    }

    /// Returns whether the namespace's count is non-zero: true when the hook runs because the
    /// module unregisters its ops (unload), false in `cleanup_net`.
    pub(crate) fn is_counted(&self) -> bool {
        // SAFETY: The `struct net` is valid during the hook (`new`'s contract).
        unsafe { rsm_net_alive(self.ptr.as_ptr()) }
    }
}
