// SPDX-License-Identifier: GPL-2.0

//! File operations of `/dev/rust_sockmod`: read = the report, write = text commands,
//! ioctl = the binary interface.

use crate::{
    commands::{self, Command},
    ioctl, ops,
    report::Cursor,
    shim,
};
use kernel::{
    fs::{File, Kiocb, LocalFile},
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceRegistration},
    new_mutex,
    prelude::*,
    sync::Mutex,
};

/// Per-open-file data: the read cursor.
#[pin_data]
pub(crate) struct SockmodFile {
    #[pin]
    cursor: Mutex<Cursor>,
}

/// Parses and runs one text command (a trailing newline allowed).
fn run(file: &LocalFile, line: &[u8]) -> Result {
    if line.len() > commands::MAX_COMMAND_LEN {
        shim::pr_info_ratelimited("text command refused: too long");
        return Err(EINVAL);
    }
    let cmd = commands::parse(line).inspect_err(|_| {
        shim::pr_info_ratelimited("text command refused: malformed");
    })?;
    match cmd {
        Command::Create(req) => ops::create(file, &req, |_| Ok(())).map(|_| ()),
        Command::Bind(id, port) => ops::bind(file, id, port),
        Command::Listen(id, backlog) => ops::listen(file, id, backlog),
        Command::Release(id) => ops::release(file, id).map(|_| ()),
        Command::ReleaseAll => ops::release_all(file).map(|_| ()),
        Command::ResetStats => ops::reset_stats(file),
        Command::Census(on) => ops::census(file, on),
    }
}

#[vtable]
impl MiscDevice for SockmodFile {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(SockmodFile { cursor <- new_mutex!(Cursor::new()) }),
            GFP_KERNEL,
        )
    }

    fn read_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        let mut cursor = me.cursor.lock();
        cursor.read(kiocb.ki_pos_mut(), iov)
    }

    fn write_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let len = iov.len();
        if len == 0 || len > commands::MAX_WRITE_LEN {
            shim::pr_info_ratelimited("text command refused: empty or over 4096 bytes");
            return Err(EINVAL);
        }
        let mut buf = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        if iov.copy_from_iter(&mut buf) != len {
            return Err(EFAULT);
        }
        // SAFETY: A kiocb handed to write_iter references its file, which the VFS keeps alive
        // (positive refcount) for the whole call; the only fdget_pos region that may be active
        // is the one of this write() on the current thread, which `LocalFile` allows.
        let file = unsafe { LocalFile::from_raw_file((*kiocb.as_raw()).ki_filp) };
        // Newline-separated commands, run in order. The first that fails ends the write: its
        // error if it is the first, else a short write up to it (a writer that retries the
        // rest then gets the error).
        let mut done = 0;
        for line in buf.split_inclusive(|&b| b == b'\n') {
            // A signal between commands ends the write too (up to 4096 bytes of them).
            let res = if done > 0 && shim::resched_and_signal_pending() {
                Err(EINTR)
            } else {
                run(file, line)
            };
            if let Err(e) = res {
                return if done == 0 { Err(e) } else { Ok(done) };
            }
            done += line.len();
        }
        Ok(done)
    }

    fn ioctl(_me: Pin<&SockmodFile>, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl::dispatch(file, cmd, arg)
    }
}
