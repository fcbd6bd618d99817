# SPDX-License-Identifier: GPL-2.0
# rust_sockmod: out-of-tree Rust kernel module + userspace comparison tool.
#
#   make            build rust_sockmod.ko against $(KDIR) (default: the cached test kernel)
#   make demo       set up if needed, boot the VM, load the module, show /dev/rust_sockmod
#   make test       set up if needed, build everything, run host tests and VM tests
#   make test KERNEL=debian, make demo KERNEL=debian: the same on Debian's own kernel image
#                   (scripts/debian-kernel.sh: no kernel build; the module built for that image)
#   make test-debug the suite on the debug kernel (KASAN, lockdep, kmemleak) at CI scale
#   make soak       every part on the debug kernel, hardening at full scale (by hand, ~1 h)
#   make bench      benchmarks in the VM (table scale; the two paths for UDP, TCP, unix)
#   make mutants    break scratch copies on purpose; the suite must fail on each
#   make deb        the Debian packages in dist/: rust-sockmod-dkms (DKMS source form) and
#                   rust-sockmod-tools (userspace_test as /usr/bin/rust-sockmod); docs/install.md
#   make deb-test   the DKMS package end to end in a VM: Debian's kernel over a trixie root
#   make clean | modules_install | rust-analyzer
#
# Crate root: rust_sockmod.o (see Kbuild) -- named here so the kernel's rust-analyzer
# generator recognises rust_sockmod.rs as a crate root.

RSM_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rust_sockmod
KDIR ?= $(RSM_CACHE)/kernel/normal
LLVM ?= -22
RUSTC ?= /usr/bin/rustc
BINDGEN ?= $(RSM_CACHE)/tools/bin/bindgen
# clippy-driver is rustc plus the lints: the module is always built through it (CLIPPY=0 skips).
CLIPPY ?= 1
CLIPPY_DRIVER ?= /usr/bin/clippy-driver
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM) RUSTC=$(RUSTC) BINDGEN=$(BINDGEN) \
	CLIPPY=$(CLIPPY) CLIPPY_DRIVER=$(CLIPPY_DRIVER)

.PHONY: all modules clean modules_install rust-analyzer setup kernel kernel-debug demo test test-debug soak bench userspace mutants deb deb-test

all: modules

modules:
	@test -f $(KDIR)/Module.symvers || { echo "[rust_sockmod] FAILED: no built kernel at $(KDIR): run 'make kernel' or pass KDIR=..." >&2; exit 1; }
	$(KMAKE) modules

clean:
	$(KMAKE) clean 2>/dev/null || rm -f *.o *.ko *.mod *.mod.c .*.cmd Module.symvers modules.order src/*.o src/.*.cmd
	cd userspace_test && cargo clean 2>/dev/null || true

modules_install:
	$(KMAKE) modules_install

rust-analyzer:
	$(KMAKE) rust-analyzer

setup:
	bash scripts/setup.sh

kernel: setup
	bash scripts/build-kernel.sh normal

kernel-debug: setup
	bash scripts/build-kernel.sh debug

userspace:
	cd userspace_test && cargo build --release --locked

demo:
	$(if $(KREL),RSM_DEBIAN_KREL=$(KREL)) bash scripts/demo.sh $(if $(filter debian,$(KERNEL)),debian,normal)

# KERNEL: empty (the project's own kernel, KVER selects it) or debian (Debian's own image).
ifneq ($(filter-out debian,$(KERNEL)),)
$(error KERNEL=$(KERNEL): use KERNEL=debian, or no KERNEL for the project's own kernel (KVER=... selects its series))
endif

# KREL (with KERNEL=debian): that Debian image instead of the newest, e.g. 7.2.12+deb13-amd64.
test:
	$(if $(KREL),RSM_DEBIAN_KREL=$(KREL)) bash scripts/test.sh $(if $(filter debian,$(KERNEL)),debian,normal)

test-debug:
	bash scripts/test.sh debug

soak:
	RSM_PLAN=soak bash scripts/test.sh debug

bench:
	$(if $(KREL),RSM_DEBIAN_KREL=$(KREL)) bash scripts/bench.sh $(if $(filter debian,$(KERNEL)),debian,normal)

mutants:
	bash scripts/mutants.sh

deb:
	bash scripts/deb.sh

deb-test: setup
	bash scripts/deb-test.sh
