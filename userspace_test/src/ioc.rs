//! The `_IO*` ioctl number encoders `uapi.rs` expects (the kernel's asm-generic layout, as
//! `kernel::ioctl` computes them in the module).

#![allow(non_snake_case, dead_code)]

const NRBITS: u32 = 8;
const TYPEBITS: u32 = 8;
const SIZEBITS: u32 = 14;
const NRSHIFT: u32 = 0;
const TYPESHIFT: u32 = NRSHIFT + NRBITS;
const SIZESHIFT: u32 = TYPESHIFT + TYPEBITS;
const DIRSHIFT: u32 = SIZESHIFT + SIZEBITS;
pub const NONE: u32 = 0;
pub const WRITE: u32 = 1;
pub const READ: u32 = 2;

pub const fn _IOC(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    (dir << DIRSHIFT) | (ty << TYPESHIFT) | (nr << NRSHIFT) | ((size as u32) << SIZESHIFT)
}
pub const fn _IO(ty: u32, nr: u32) -> u32 {
    _IOC(NONE, ty, nr, 0)
}
pub const fn _IOR<T>(ty: u32, nr: u32) -> u32 {
    _IOC(READ, ty, nr, core::mem::size_of::<T>())
}
pub const fn _IOW<T>(ty: u32, nr: u32) -> u32 {
    _IOC(WRITE, ty, nr, core::mem::size_of::<T>())
}
pub const fn _IOWR<T>(ty: u32, nr: u32) -> u32 {
    _IOC(READ | WRITE, ty, nr, core::mem::size_of::<T>())
}

#[cfg(test)]
mod tests {
    use crate::shared::uapi::*;
    use crate::shared::uapi_bench::*;

    /// The stable ioctls (`src/uapi.rs`), the ones a freeze covers.
    const STABLE: [u32; 6] = [
        RSM_IOC_CREATE,
        RSM_IOC_RELEASE,
        RSM_IOC_INFO,
        RSM_IOC_TOTALS,
        RSM_IOC_RESET_STATS,
        RSM_IOC_CENSUS,
    ];

    /// The type (magic) byte of an ioctl number.
    fn magic(cmd: u32) -> u32 {
        (cmd >> super::TYPESHIFT) & ((1 << super::TYPEBITS) - 1)
    }

    #[test]
    fn numbers_match_nix_encoding() {
        assert_eq!(
            RSM_IOC_CREATE as u64,
            nix::request_code_readwrite!(0xB5, 1, std::mem::size_of::<RsmCreate>()) as u64
        );
        assert_eq!(
            RSM_IOC_RELEASE as u64,
            nix::request_code_readwrite!(0xB5, 2, std::mem::size_of::<RsmRelease>()) as u64
        );
        assert_eq!(
            RSM_IOC_INFO as u64,
            nix::request_code_readwrite!(0xB5, 3, std::mem::size_of::<RsmInfo>()) as u64
        );
        assert_eq!(
            RSM_IOC_TOTALS as u64,
            nix::request_code_read!(0xB5, 4, std::mem::size_of::<RsmTotals>()) as u64
        );
        assert_eq!(RSM_IOC_RESET_STATS as u64, nix::request_code_none!(0xB5, 5));
        assert_eq!(RSM_IOC_CENSUS as u64, nix::request_code_none!(0xB5, 7));
        assert_eq!(
            RSM_IOC_BENCH as u64,
            nix::request_code_readwrite!(0xB6, 1, std::mem::size_of::<RsmBench>()) as u64
        );
    }

    #[test]
    fn bench_has_its_own_magic() {
        assert_ne!(RSM_BENCH_IOC_MAGIC, RSM_IOC_MAGIC);
        assert_eq!(magic(RSM_IOC_BENCH), RSM_BENCH_IOC_MAGIC);
        for cmd in STABLE {
            assert_eq!(magic(cmd), RSM_IOC_MAGIC, "{cmd:#x}");
            assert_ne!(cmd, RSM_IOC_BENCH);
        }
        // The bench's number before it had its own magic is no stable ioctl: the module
        // answers an old tool's bench call with ENOTTY.
        let old = nix::request_code_readwrite!(0xB5, 6, std::mem::size_of::<RsmBench>()) as u32;
        assert!(!STABLE.contains(&old));
        assert_ne!(old, RSM_IOC_BENCH);
    }

    #[test]
    fn structs_have_no_padding() {
        assert_eq!(std::mem::size_of::<RsmCreate>(), 8 * 4 + 3 * 8);
        assert_eq!(std::mem::size_of::<RsmRelease>(), 24);
        assert_eq!(
            std::mem::size_of::<RsmInfo>(),
            4 * 8 + 6 * 4 + 8 + 16 + 2 * 4
        );
        assert_eq!(std::mem::size_of::<RsmTotals>(), 9 * 8);
        assert_eq!(std::mem::size_of::<RsmBench>(), 6 * 4 + 4 * 8);
    }
}
