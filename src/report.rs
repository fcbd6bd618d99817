// SPDX-License-Identifier: GPL-2.0

//! The text report of `/dev/rust_sockmod` (format: docs/interface.md, "Report format").
//!
//! The report is generated a batch of lines at a time, the module's sections under the state
//! lock, the census's without it (`src/census.rs`), and copied to userspace without it. Each open file keeps a cursor (file position, section, next key), so a
//! sequential reader resumes in O(log n) and any other offset is honoured by regenerating from
//! the start and skipping. Memory per read is bounded (one batch) however many sockets exist.

use crate::{
    names, shim,
    state::{Entry, State},
    stats::{KeyStats, StatKey, HIST_BUCKETS},
};
use core::fmt::{self, Write};
use kernel::{iov::IovIterDest, prelude::*};

/// A batch is cut after the first line that takes it past this many bytes.
const BATCH_BYTES: usize = 4096;

/// A growable text buffer; formatting fails cleanly (ENOMEM) when allocation fails.
pub(crate) struct TextBuf {
    pub(crate) bytes: KVec<u8>,
}

impl Write for TextBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| fmt::Error)
    }
}

/// Where the next batch starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    /// Socket lines from this id on.
    Sockets(u64),
    /// Statistics lines from the first key greater than this one (None: from the start).
    Stats(Option<StatKey>),
    /// The kernel socket census (`src/census.rs`).
    Census(crate::census::Stage),
    Done,
}

/// Per-open-file read state.
pub(crate) struct Cursor {
    /// File position of `batch[off]`.
    pos: i64,
    /// When the current pass over the report began; socket ages are relative to it, so one
    /// pass is self-consistent. Printed with fixed widths so byte offsets never shift.
    as_of_ns: u64,
    stage: Stage,
    batch: TextBuf,
    off: usize,
    /// The census pass of this read of the report, from its first census batch on.
    census: Option<crate::census::View>,
}

impl Cursor {
    pub(crate) fn new() -> Self {
        Self {
            pos: 0,
            as_of_ns: 0,
            stage: Stage::Header,
            batch: TextBuf { bytes: KVec::new() },
            off: 0,
            census: None,
        }
    }

    fn rewind(&mut self) {
        self.pos = 0;
        self.stage = Stage::Header;
        self.batch.bytes.clear();
        self.off = 0;
        self.census = None;
    }

    /// Makes `batch[off..]` non-empty unless the report is over. Returns false at the end.
    fn refill(&mut self) -> Result<bool> {
        if self.off < self.batch.bytes.len() {
            return Ok(true);
        }
        self.batch.bytes.clear();
        self.off = 0;
        if self.stage == Stage::Header {
            self.as_of_ns = shim::now_ns();
        }
        // A stage may end the batch with nothing in it (the module's sections hand over to the
        // census's): go on until there are bytes or the report is over.
        while self.batch.bytes.is_empty() && self.stage != Stage::Done {
            let (stage, batch, as_of) = (&mut self.stage, &mut self.batch, self.as_of_ns);
            if let Stage::Census(mut cs) = *stage {
                // Outside the state lock: the census walk can be long, and netns cleanup
                // (`.pre_exit`) takes that lock.
                crate::census::fill_section(&mut cs, &mut self.census, batch, BATCH_BYTES)?;
                *stage = match cs {
                    crate::census::Stage::Done => Stage::Done,
                    cs => Stage::Census(cs),
                };
            } else {
                crate::state::with(|s| fill(s, stage, batch, as_of))??;
            }
        }
        Ok(!self.batch.bytes.is_empty())
    }

    /// Copies report bytes from file position `*ppos` into `iov`.
    pub(crate) fn read(&mut self, ppos: &mut i64, iov: &mut IovIterDest<'_>) -> Result<usize> {
        if *ppos < 0 {
            return Err(EINVAL);
        }
        if *ppos != self.pos {
            self.rewind();
        }
        let mut copied = 0;
        while !iov.is_empty() && self.refill()? {
            let avail = &self.batch.bytes[self.off..];
            if self.pos < *ppos {
                // Skipping up to the requested offset.
                let n = avail.len().min((*ppos - self.pos) as usize);
                self.off += n;
                self.pos += n as i64;
                continue;
            }
            let n = iov.copy_to_iter(avail);
            if n == 0 {
                if copied == 0 {
                    return Err(EFAULT);
                }
                break;
            }
            self.off += n;
            self.pos += n as i64;
            copied += n;
        }
        *ppos = self.pos.min(*ppos + copied as i64);
        Ok(copied)
    }
}

/// Appends lines of the module's own sections from `stage` on until the batch is full or the
/// census section is next (state lock held).
fn fill(s: &State, stage: &mut Stage, out: &mut TextBuf, as_of_ns: u64) -> Result {
    while out.bytes.len() < BATCH_BYTES && !matches!(*stage, Stage::Census(_) | Stage::Done) {
        *stage = match *stage {
            Stage::Header => {
                header(s, out, as_of_ns).map_err(|_| ENOMEM)?;
                Stage::Sockets(0)
            }
            Stage::Sockets(from) => match s.sockets().cursor_lower_bound(&from) {
                Some(c) => {
                    let (id, e) = c.current();
                    socket_line(*id, e, out, as_of_ns).map_err(|_| ENOMEM)?;
                    Stage::Sockets(*id + 1)
                }
                None => {
                    out.write_str("# stats: netns family type protocol attempts ok failed errors live released lat_ns_min lat_ns_avg lat_ns_max hist_log2_ns\n")
                        .map_err(|_| ENOMEM)?;
                    Stage::Stats(None)
                }
            },
            Stage::Stats(after) => {
                let cursor = match after {
                    None => s.stats.cursor_front(),
                    Some(k) => s.stats.cursor_lower_bound(&k),
                };
                // `lower_bound` may land on `after` itself, which was already shown.
                let next_key = match cursor {
                    Some(c) if Some(*c.current().0) == after => c.peek_next().map(|(k, _)| *k),
                    Some(c) => Some(*c.current().0),
                    None => None,
                };
                match next_key.and_then(|k| s.stats.get(&k).map(|v| (k, v))) {
                    Some((k, v)) => {
                        stat_line(&k, v, out).map_err(|_| ENOMEM)?;
                        Stage::Stats(Some(k))
                    }
                    None => Stage::Census(crate::census::Stage::Start),
                }
            }
            // Not reached: the loop stops before them.
            Stage::Census(_) | Stage::Done => break,
        };
    }
    Ok(())
}

/// Section 1: version, totals, limits, netns, time of this pass; then the title of section 2.
fn header(s: &State, out: &mut TextBuf, as_of_ns: u64) -> fmt::Result {
    use core::sync::atomic::Ordering::Relaxed;
    let t = &s.totals;
    write!(
        out,
        "# rust_sockmod {}\n\
         totals attempts={} ok={} failed={} rejected={} live={} released_user={} released_netns_exit={} released_unload={}\n\
         limits max_sockets={} max_stat_keys={} stat_keys={} stat_keys_dropped={} spare_nodes={}\n\
         netns alive={} exit_last_ns={} exit_last_sockets={}\n\
         kernel sock_create_kern_netns_ref={}\n\
         time as_of_ms={:012}\n\
         # sockets: id netns family type protocol state hold ino cookie local pid comm age_ms latency_ns\n",
        crate::VERSION,
        t.attempts,
        t.ok,
        t.failed,
        t.rejected,
        t.live,
        t.released_user,
        t.released_netns_exit,
        t.released_unload,
        s.max_sockets,
        crate::state::MAX_STAT_KEYS,
        s.n_stat_keys,
        s.stat_keys_dropped,
        s.spare_nodes(),
        crate::pernet::NETNS_ALIVE.load(Relaxed),
        crate::pernet::EXIT_LAST_NS.load(Relaxed),
        crate::pernet::EXIT_LAST_SOCKETS.load(Relaxed),
        crate::ksocket::SOCK_CREATE_KERN_NETNS_REF,
        as_of_ns / 1_000_000,
    )
}

/// `stream|nonblock(2049)`-style type names.
fn write_type(out: &mut TextBuf, t: i32) -> fmt::Result {
    out.write_str(names::type_name(t))?;
    for (name, flag) in names::TYPE_FLAGS {
        if t & flag != 0 {
            write!(out, "|{name}")?;
        }
    }
    write!(out, "({t})")
}

fn write_fpt(out: &mut TextBuf, family: i32, sock_type: i32, protocol: i32) -> fmt::Result {
    write!(
        out,
        "family={}({}) type=",
        names::family_name(family),
        family
    )?;
    write_type(out, sock_type)?;
    write!(
        out,
        " protocol={}({})",
        names::protocol_name(protocol),
        protocol
    )
}

/// The bound address: `0.0.0.0:8080`, `[::1]:9000` (RFC 5952: the longest run of two or more
/// zero groups as `::`; `ss` prints a dual-stack `[::]` as `*`); `-` while unbound or for
/// families without ports.
fn write_local(out: &mut TextBuf, family: i32, addr: &[u8; 16], port: u16) -> fmt::Result {
    const AF_INET: i32 = kernel::bindings::AF_INET as i32;
    const AF_INET6: i32 = kernel::bindings::AF_INET6 as i32;
    if port == 0 || (family != AF_INET && family != AF_INET6) {
        return out.write_char('-');
    }
    if family == AF_INET {
        return write!(
            out,
            "{}.{}.{}.{}:{}",
            addr[0], addr[1], addr[2], addr[3], port
        );
    }
    let group = |i: usize| u16::from_be_bytes([addr[2 * i], addr[2 * i + 1]]);
    // The longest run of zero groups (the first of equal ones), if at least two long.
    let (mut best, mut best_len, mut run) = (8, 0, 0);
    for i in 0..8 {
        run = if group(i) == 0 { run + 1 } else { 0 };
        if run > best_len {
            (best, best_len) = (i + 1 - run, run);
        }
    }
    if best_len < 2 {
        best = 8;
    }
    out.write_char('[')?;
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.write_str("::")?;
            i += best_len;
            continue;
        }
        if i > 0 && i != best + best_len {
            out.write_char(':')?;
        }
        write!(out, "{:x}", group(i))?;
        i += 1;
    }
    write!(out, "]:{}", port)
}

/// Writes a NUL-terminated byte string (a comm, a symbol name) as one word: bytes that are
/// not printable ASCII, spaces included, as `_`.
pub(crate) fn write_printable(out: &mut TextBuf, bytes: &[u8]) -> fmt::Result {
    for &b in bytes.iter().take_while(|&&b| b != 0) {
        out.write_char(if b.is_ascii_graphic() { b as char } else { '_' })?;
    }
    Ok(())
}

fn socket_line(id: u64, e: &Entry, out: &mut TextBuf, as_of_ns: u64) -> fmt::Result {
    // Every table entry holds its socket (`State`'s invariants); one without is not shown.
    let Some(si) = e.info() else {
        return Ok(());
    };
    write!(out, "socket id={} netns={} ", id, si.netns_inum)?;
    write_fpt(out, si.family, si.sock_type, si.protocol)?;
    write!(
        out,
        " state={}({}) hold={} ino={} cookie={:x} local=",
        names::tcp_state_name(si.state),
        si.state,
        if si.net_refcnt { "yes" } else { "no" },
        si.ino,
        si.cookie,
    )?;
    write_local(out, si.family, &si.local_addr, si.local_port)?;
    write!(out, " pid={} comm=", e.meta.pid)?;
    write_printable(out, &e.meta.comm)?;
    let age_ms = as_of_ns.saturating_sub(e.meta.created_ns) / 1_000_000;
    writeln!(
        out,
        " age_ms={:010} latency_ns={}",
        age_ms, e.meta.latency_ns
    )
}

fn stat_line(k: &StatKey, v: &KeyStats, out: &mut TextBuf) -> fmt::Result {
    write!(out, "stat netns={} ", k.netns_inum)?;
    write_fpt(out, k.family, k.sock_type, k.protocol)?;
    write!(
        out,
        " attempts={} ok={} failed={} errors=",
        v.attempts,
        v.ok,
        v.failed()
    )?;
    let mut any = false;
    for &(errno, n) in v.errnos.iter().filter(|(e, _)| *e != 0) {
        if any {
            out.write_char(',')?;
        }
        any = true;
        match Error::from_errno(-errno).name() {
            Some(name) => write!(out, "{}:{}", name.to_str().unwrap_or("?"), n)?,
            None => write!(out, "E{}:{}", errno, n)?,
        }
    }
    if v.errno_other > 0 {
        write!(out, "{}other:{}", if any { "," } else { "" }, v.errno_other)?;
        any = true;
    }
    if !any {
        out.write_char('-')?;
    }
    let lat = &v.latency;
    write!(
        out,
        " live={} released={} lat_ns_min={} lat_ns_avg={} lat_ns_max={} hist_log2_ns=",
        v.live,
        v.released,
        if lat.count == 0 { 0 } else { lat.min },
        lat.avg(),
        lat.max
    )?;
    let mut first = true;
    for (b, &n) in lat
        .hist
        .iter()
        .enumerate()
        .take(HIST_BUCKETS)
        .filter(|(_, &n)| n != 0)
    {
        write!(out, "{}{}:{}", if first { "" } else { "," }, b, n)?;
        first = false;
    }
    if first {
        out.write_char('-')?;
    }
    out.write_char('\n')
}

#[kunit_tests(rust_sockmod_report)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut TextBuf) -> fmt::Result) -> Result<KVec<u8>> {
        let mut out = TextBuf { bytes: KVec::new() };
        f(&mut out).map_err(|_| ENOMEM)?;
        Ok(out.bytes)
    }

    #[test]
    fn stat_line_format() -> Result {
        let key = StatKey {
            netns_inum: 4026531840,
            family: 2,
            sock_type: 2 | 0o4000,
            protocol: 17,
        };
        let mut v = KeyStats::default();
        assert_eq!(
            &text(|o| stat_line(&key, &v, o))?[..],
            b"stat netns=4026531840 family=inet(2) type=dgram|nonblock(2050) protocol=udp(17) \
              attempts=0 ok=0 failed=0 errors=- live=0 released=0 lat_ns_min=0 lat_ns_avg=0 \
              lat_ns_max=0 hist_log2_ns=-\n"
        );
        v.record(0, 1500);
        v.record(97, 3000);
        for errno in [1, 2, 3, 4] {
            v.record(errno, 1);
        }
        let line = text(|o| stat_line(&key, &v, o))?;
        let want: &[u8] =
            b" attempts=6 ok=1 failed=5 errors=EAFNOSUPPORT:1,EPERM:1,ENOENT:1,ESRCH:1,\
              other:1 live=1 released=0 lat_ns_min=1 lat_ns_avg=750 lat_ns_max=3000 \
              hist_log2_ns=0:4,10:1,11:1\n";
        assert!(line.ends_with(want));
        Ok(())
    }

    #[test]
    fn local_address_as_ss_prints_it() -> Result {
        let local = |family, addr: [u8; 16], port| text(|o| write_local(o, family, &addr, port));
        let mut a = [0u8; 16];
        assert_eq!(&local(2, a, 0)?[..], b"-");
        assert_eq!(&local(1, a, 80)?[..], b"-");
        assert_eq!(&local(2, a, 8080)?[..], b"0.0.0.0:8080");
        a[..4].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(&local(2, a, 1)?[..], b"127.0.0.1:1");
        assert_eq!(&local(10, [0; 16], 9000)?[..], b"[::]:9000");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(&local(10, v6, 22)?[..], b"[::1]:22");
        v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        assert_eq!(&local(10, v6, 443)?[..], b"[2001:db8::1:0:0:1]:443");
        v6 = [0xfe, 0x80, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7];
        assert_eq!(&local(10, v6, 5)?[..], b"[fe80:1:2:3:4:5:6:7]:5");
        v6 = [0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0];
        assert_eq!(&local(10, v6, 6)?[..], b"[1:0:2::3:0:0]:6");
        Ok(())
    }

    #[test]
    fn unknown_names_show_numbers() -> Result {
        assert_eq!(
            &text(|o| write_fpt(o, 4242, 99, -7))?[..],
            b"family=?(4242) type=?(99) protocol=?(-7)"
        );
        Ok(())
    }
}
