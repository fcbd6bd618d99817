//! `/dev/rust_sockmod` through its ioctl interface.

use crate::shared::uapi::*;
use nix::errno::Errno;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;

pub const DEFAULT_DEVICE: &str = "/dev/rust_sockmod";

pub struct Device {
    file: File,
}

/// Where a kernel socket is to be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Netns {
    Caller,
    Fd(i32),
    Pid(i32),
}

impl Device {
    pub fn open(path: &str) -> Result<Self, String> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map(|file| Self { file })
            .map_err(|e| format!("cannot open {path}: {e} (is rust_sockmod loaded? are you root?)"))
    }

    /// Uses an inherited descriptor of the device (checked to be a character device).
    pub fn from_fd(fd: i32) -> Result<Self, String> {
        use std::os::fd::FromRawFd;
        use std::os::unix::fs::FileTypeExt;
        // SAFETY: the caller names a descriptor it owns and hands over to us.
        let file = unsafe { File::from_raw_fd(fd) };
        match file.metadata() {
            Ok(m) if m.file_type().is_char_device() => Ok(Self { file }),
            Ok(_) => {
                std::mem::forget(file);
                Err(format!("fd {fd} is not a character device"))
            }
            Err(e) => {
                std::mem::forget(file);
                Err(format!("fd {fd}: {e}"))
            }
        }
    }

    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// A raw ioctl: the kernel's errno on failure.
    pub fn ioctl_raw(&self, cmd: u32, arg: *mut libc::c_void) -> Result<i32, Errno> {
        // SAFETY: The caller passes a pointer matching `cmd`'s struct, or a deliberately bad one
        // (the module copies with copy_{from,to}_user, which fault safely).
        let rc = unsafe { libc::ioctl(self.fd(), cmd as libc::c_ulong, arg) };
        Errno::result(rc)
    }

    fn ioctl<T>(&self, cmd: u32, v: &mut T) -> Result<(), Errno> {
        self.ioctl_raw(cmd, (v as *mut T).cast()).map(|_| ())
    }

    pub fn create(
        &self,
        family: i32,
        sock_type: i32,
        protocol: i32,
        netns: Netns,
        hold: bool,
    ) -> Result<RsmCreate, Errno> {
        let (netns_mode, netns_fd, pid) = match netns {
            Netns::Caller => (RSM_NETNS_CALLER, 0, 0),
            Netns::Fd(fd) => (RSM_NETNS_FD, fd, 0),
            Netns::Pid(pid) => (RSM_NETNS_PID, 0, pid),
        };
        let mut c = RsmCreate {
            family,
            sock_type,
            protocol,
            netns_mode,
            netns_fd,
            pid,
            flags: if hold { RSM_CREATE_HOLD_NETNS } else { 0 },
            ..Default::default()
        };
        self.ioctl(RSM_IOC_CREATE, &mut c).map(|_| c)
    }

    /// Opens the same device again with this process's current credentials (which the module
    /// checks as the opener's), through `/proc/self/fd`.
    pub fn reopen(&self) -> Result<Self, String> {
        let path = format!("/proc/self/fd/{}", self.fd());
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map(|file| Self { file })
            .map_err(|e| format!("reopen {path}: {e}"))
    }

    /// One text command (one write); the kernel's errno on failure.
    pub fn command(&self, line: &str) -> Result<(), Errno> {
        use std::io::Write;
        match (&self.file).write(line.as_bytes()) {
            Ok(n) if n == line.len() => Ok(()),
            Ok(_) => Err(Errno::EIO),
            Err(e) => Err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
        }
    }

    /// The whole report, read with pread from offset 0 (the descriptor's cursor is untouched).
    pub fn read_report(&self) -> Result<String, Errno> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe {
                libc::pread(
                    self.fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    out.len() as libc::off_t,
                )
            };
            let n = Errno::result(n)? as usize;
            if n == 0 {
                return String::from_utf8(out).map_err(|_| Errno::EILSEQ);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// The report's first bytes (one read at offset 0: section 1 and a few socket lines), for
    /// the header alone without formatting every socket line of a big table.
    pub fn read_head(&self) -> Result<String, Errno> {
        let mut buf = vec![0u8; 4096];
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::pread(self.fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        buf.truncate(Errno::result(n)? as usize);
        // A read may end inside a multi-byte name; the header is ASCII.
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// The newest socket this process created: after a text `create` (which replies with no
    /// id), the highest id among the report's socket lines with this process's pid.
    pub fn newest_socket_id(&self) -> Result<u64, String> {
        let me = format!("pid={}", std::process::id());
        self.read_report()
            .map_err(|e| format!("read the report: {e}"))?
            .lines()
            .filter_map(|l| l.strip_prefix("socket id="))
            .filter(|l| l.split_whitespace().any(|kv| kv == me))
            .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
            .max()
            .ok_or_else(|| format!("no socket line with {me} in the report"))
    }

    pub fn release(&self, id: u64) -> Result<u64, Errno> {
        let mut r = RsmRelease {
            id,
            ..Default::default()
        };
        self.ioctl(RSM_IOC_RELEASE, &mut r).map(|_| r.released)
    }

    pub fn release_all(&self) -> Result<u64, Errno> {
        let mut r = RsmRelease {
            flags: RSM_RELEASE_ALL,
            ..Default::default()
        };
        self.ioctl(RSM_IOC_RELEASE, &mut r).map(|_| r.released)
    }

    pub fn info(&self, id: u64) -> Result<RsmInfo, Errno> {
        let mut i = RsmInfo {
            id,
            ..Default::default()
        };
        self.ioctl(RSM_IOC_INFO, &mut i).map(|_| i)
    }

    pub fn totals(&self) -> Result<RsmTotals, Errno> {
        let mut t = RsmTotals::default();
        self.ioctl(RSM_IOC_TOTALS, &mut t).map(|_| t)
    }

    /// Turns the kernel socket census on or off (`RSM_IOC_CENSUS`, the argument by value).
    pub fn census(&self, on: bool) -> Result<(), Errno> {
        self.ioctl_raw(RSM_IOC_CENSUS, usize::from(on) as *mut libc::c_void)
            .map(|_| ())
    }

    pub fn reset_stats(&self) -> Result<(), Errno> {
        self.ioctl_raw(RSM_IOC_RESET_STATS, std::ptr::null_mut())
            .map(|_| ())
    }
}
