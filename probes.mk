# SPDX-License-Identifier: GPL-2.0
# Build-time probes of the kernel tree the module is built against (included by Kbuild): one
# source for every supported series. Each probe greps the target tree ($(srctree)) and passes a
# --cfg to rustc; the code selects with #[cfg(...)]. Every probe is listed here, with what it
# detects and where it is used.
#
# rsm_param_value_copy (7.3 and later)
#   kernel::module_param's value() returns the parameter by value (T: Copy) instead of &T;
#   value_ref() is the old accessor. Detected by "pub fn value_ref" in
#   rust/kernel/module_param.rs. Used in rust_sockmod.rs (max_sockets).
#
# rsm_misc_sets_owner (7.3 and later)
#   kernel::miscdevice's #[vtable] adds `type OwnerModule` and the registration sets
#   fops.owner = THIS_MODULE itself (Rust-for-Linux #1182). Detected by "OwnerModule" in
#   rust/kernel/miscdevice.rs. Used in rust_sockmod.rs: the kernel's MiscDeviceRegistration
#   there, src/miscdev.rs (which sets the same owner) only without it.
#
# rsm_sock_create_kern_counts (none yet: the upstream proposal "socket: Restore
# sock_create_kern()", Kuniyuki Iwashima, v2 May 2025)
#   sock_create_kern() takes a counted netns reference, and the passive variant is renamed
#   __sock_create_kern(). Detected by "__sock_create_kern" in include/linux/net.h. Used only to
#   say so (the report's `kernel sock_create_kern_netns_ref=` line; t_netns.sh compares it with
#   what a created socket holds): `hold` decides from the socket itself (src/helpers.c,
#   rsm_sock_hold_net), so the module builds and behaves on either.
#
# Not probed, because one source serves both: 7.2's kernel::bindings include no netns or
# genetlink header (struct net, struct sock and struct pernet_operations are opaque or absent,
# get_net_ns_by_fd/pid and sockaddr_in missing), 7.3's do. The module therefore reads struct
# net and struct sock fields and registers its pernet ops through src/helpers.c, and declares
# the exported functions it needs in src/shim.rs, on both. Checked alike in both (7.2.13 vs
# 7.3.4): the C API it calls (kernel_bind takes struct sockaddr_unsized in both), the
# kernel-crate helpers it uses (kernel::error::from_err_ptr, Task::tgid_nr_ns/active_pid_ns/
# signal_pending, #[kunit_tests], jump_label::static_branch_unlikely), CREATE_RUST_TRACE_POINTS,
# the pernet teardown order (every .pre_exit before any .exit).

rsm_probe = $(shell grep -qs '$(1)' $(srctree)/$(2) && echo y)

ifeq ($(call rsm_probe,pub fn value_ref,rust/kernel/module_param.rs),y)
rustflags-y += --cfg rsm_param_value_copy
endif

ifeq ($(call rsm_probe,__sock_create_kern,include/linux/net.h),y)
rustflags-y += --cfg rsm_sock_create_kern_counts
endif

ifeq ($(call rsm_probe,OwnerModule,rust/kernel/miscdevice.rs),y)
rustflags-y += --cfg rsm_misc_sets_owner
endif
