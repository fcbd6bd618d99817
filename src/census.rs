// SPDX-License-Identifier: GPL-2.0

//! The kernel socket census: turns the probes of `src/census.c` on and off, and formats what
//! they recorded as the report's last section (docs/census.md).
//!
//! The section, present only while the census is on: one `kernel_socket` line per live kernel
//! socket, one `census creator=` line per creator, one `census netns=` line per netns, the
//! teardown auditor's `linger` and `pinned` lines, and `census_check`, which compares the
//! census's count of live sockets rust_sockmod itself made with the module's own table.

use crate::{
    names,
    report::{write_printable, TextBuf},
    shim, state,
};
use core::{
    fmt::{self, Write},
    sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
};
use kernel::{error::to_result, ffi::c_int, prelude::*, rbtree::RBTree};

/// Bytes of a site's creator and chain (`RSM_CENSUS_NAME`, `RSM_CENSUS_CHAIN` in
/// `src/helpers.h`).
const NAME_LEN: usize = 64;
const CHAIN_LEN: usize = 160;
/// Sites the C table holds (`CENSUS_SITES` in `src/census.c`).
const SITES: u32 = 512;
/// Records copied per report batch.
const BATCH: usize = 16;
/// `pinned` lines name at most this many sockets of one netns.
const PINNED_SHOWN: usize = 8;

/// Mirror of `struct rsm_census_totals`.
#[repr(C)]
#[derive(Default)]
struct Totals {
    live: u64,
    created: u64,
    destroyed: u64,
    dropped: u64,
    missed: u64,
    sites: u64,
    sites_full: u64,
    own_attached: u64,
    max: u64,
    started_ns: u64,
    bytes: u64,
    memo_hits: u64,
    memo_audits: u64,
    memo_wrong: u64,
    lost_destroys: u64,
}

/// Mirror of `struct rsm_census_rec`: one live kernel socket as the census sees it.
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Rec {
    seq: u64,
    age_ns: u64,
    cookie: u64,
    ino: u64,
    net_id: u64,
    netns_inum: u32,
    pid: i32,
    family: i32,
    sock_type: i32,
    protocol: i32,
    state: i32,
    net_count: i32,
    site: u16,
    local_port: u16,
    clone: u8,
    net_refcnt: u8,
    attached: u8,
    net_alive: u8,
    comm: [u8; 16],
}

/// Mirror of `struct rsm_census_site_info`.
#[repr(C)]
struct SiteInfo {
    created: u64,
    destroyed: u64,
    own: u8,
    creator: [u8; NAME_LEN],
    chain: [u8; CHAIN_LEN],
}

const _: () = assert!(core::mem::size_of::<Totals>() == 120);
const _: () = assert!(core::mem::size_of::<Rec>() == 96);
const _: () = assert!(core::mem::size_of::<SiteInfo>() == 248);

extern "C" {
    fn rsm_census_start(max: u32) -> c_int;
    fn rsm_census_stop();
    fn rsm_census_totals(t: *mut Totals) -> bool;
    fn rsm_census_fill(bucket: *mut u32, skip: *mut u32, out: *mut Rec, max: u32) -> u32;
    fn rsm_census_site(idx: u32, out: *mut SiteInfo) -> c_int;
}

/// Room in the census for this many sockets (the `census_max` parameter), set at load.
static MAX: AtomicU32 = AtomicU32::new(65536);

/// The census's room, as the module was loaded with.
pub(crate) fn max() -> u32 {
    MAX.load(Ordering::Relaxed)
}

/// Sets [`max`] (module init only).
pub(crate) fn set_max(max: u32) {
    MAX.store(max, Ordering::Relaxed);
}

/// Starts the census with room for `max` sockets (idempotent: a census already on stays as it
/// is, nothing is registered twice). Process context, no lock held.
pub(crate) fn start(max: u32) -> Result {
    // SAFETY: The C side serialises start and stop with its own mutex and checks `max`.
    to_result(unsafe { rsm_census_start(max) })
}

/// Stops the census: no probe is left registered and every entry is freed.
pub(crate) fn stop() {
    // SAFETY: Callable at any time in process context; a no-op while off.
    unsafe { rsm_census_stop() }
}

/// Stops the census at unload (a field of the module, dropped before the module's code goes).
pub(crate) struct CensusGuard;

impl Drop for CensusGuard {
    fn drop(&mut self) {
        stop();
    }
}

fn totals() -> Option<Totals> {
    let mut t = Totals::default();
    // SAFETY: `t` is a valid, writable `struct rsm_census_totals`.
    unsafe { rsm_census_totals(&mut t) }.then_some(t)
}

fn site(idx: u32) -> Option<SiteInfo> {
    let mut s = SiteInfo {
        created: 0,
        destroyed: 0,
        own: 0,
        creator: [0; NAME_LEN],
        chain: [0; CHAIN_LEN],
    };
    // SAFETY: `s` is a valid, writable `struct rsm_census_site_info`.
    (unsafe { rsm_census_site(idx, &mut s) } == 0).then_some(s)
}

/// Operations that change how many sockets the module owns in flight, outside its table (a
/// create before the table has it, a release after the table let it go, a bench loop): while
/// any runs, or if one ran meanwhile, the cross-check says `busy` instead of judging.
static BUSY: AtomicUsize = AtomicUsize::new(0);
static BUSY_GEN: AtomicU64 = AtomicU64::new(0);

/// Marks such an operation for as long as it lives.
pub(crate) struct Busy(());

impl Busy {
    pub(crate) fn new() -> Self {
        BUSY.fetch_add(1, Ordering::AcqRel);
        BUSY_GEN.fetch_add(1, Ordering::AcqRel);
        Self(())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What one pass over the census found, kept by the reader's cursor from the section's first
/// batch to its last (the per-netns audit marks each socket line).
pub(crate) struct View {
    totals: Totals,
    check: Check,
    netns: RBTree<u32, NsAgg>,
    creators: KVec<CreatorSum>,
}

/// A creator's sockets: live now, created and destroyed since the census started.
struct CreatorSum {
    name: [u8; NAME_LEN],
    live: u64,
    created: u64,
    destroyed: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Ok(u64),
    Mismatch(u64, u64),
    Busy,
}

#[derive(Default)]
struct NsAgg {
    live: u64,
    counted: u64,
    passive: u64,
    alive: bool,
    refs: i32,
    pins: KVec<u64>,
}

impl NsAgg {
    /// The netns is dismantled or being dismantled, and census sockets still live in it.
    fn lingering(&self) -> bool {
        !self.alive
    }

    /// Every counted reference the netns has left is held by a census socket: nothing else
    /// (no process, mount or file) keeps it, so it is these sockets that keep it alive.
    fn pinned(&self) -> bool {
        self.alive && self.counted > 0 && self.refs as u64 == self.counted
    }
}

/// Where the census section is in a reader's pass.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The section header and the pass that builds the [`View`].
    Start,
    /// Socket lines from hash bucket `.0`, entry `.1` on.
    Sockets(u32, u32),
    /// Creator lines from the `.0`-th creator of the view on.
    Creators(u32),
    /// Per-netns and audit lines from the first netns above `.0` (None: from the start).
    Netns(Option<u32>),
    Done,
}

/// Copies records from `*cursor` on into `buf` (at most [`BATCH`]); empty at the end.
fn fill(cursor: &mut (u32, u32), buf: &mut [Rec; BATCH]) -> usize {
    // SAFETY: The cursor words and `buf` are valid and writable for `BATCH` records.
    let n =
        unsafe { rsm_census_fill(&mut cursor.0, &mut cursor.1, buf.as_mut_ptr(), BATCH as u32) };
    n as usize
}

/// Counts the module's table's sockets made since `since_ns`, for the cross-check.
fn table_since(since_ns: u64) -> Result<u64> {
    state::with(|s| {
        s.sockets()
            .iter()
            .filter(|(_, e)| e.meta.created_ns >= since_ns)
            .count() as u64
    })
}

/// One pass over the census: totals, cross-check, per-netns and per-site counts; None while
/// the census is off. Takes the state lock only to count the module's table.
fn take_view() -> Result<Option<View>> {
    // The cross-check is judged only if no operation that changes what either side counts ran
    // around the two counts (every such operation holds a `Busy` for its whole length).
    let gen = BUSY_GEN.load(Ordering::Acquire);
    let quiet = BUSY.load(Ordering::Acquire) == 0;
    let Some(totals) = totals() else {
        return Ok(None);
    };
    let table = table_since(totals.started_ns)?;
    let check =
        if !quiet || BUSY.load(Ordering::Acquire) != 0 || BUSY_GEN.load(Ordering::Acquire) != gen {
            Check::Busy
        } else if totals.own_attached == table {
            Check::Ok(table)
        } else {
            Check::Mismatch(totals.own_attached, table)
        };
    let mut netns: RBTree<u32, NsAgg> = RBTree::new();
    let mut site_live = KVec::new();
    site_live.resize(SITES as usize, 0u32, GFP_KERNEL)?;
    let mut cursor = (0, 0);
    let mut buf = [Rec::default(); BATCH];
    loop {
        let n = fill(&mut cursor, &mut buf);
        if n == 0 {
            break;
        }
        for r in &buf[..n] {
            if let Some(l) = site_live.get_mut(usize::from(r.site)) {
                *l += 1;
            }
            if netns.get(&r.netns_inum).is_none() {
                netns.try_create_and_insert(r.netns_inum, NsAgg::default(), GFP_KERNEL)?;
            }
            if let Some(a) = netns.get_mut(&r.netns_inum) {
                a.live += 1;
                a.alive = r.net_alive != 0;
                a.refs = r.net_count;
                if r.net_refcnt != 0 {
                    a.counted += 1;
                    if a.pins.len() < PINNED_SHOWN {
                        a.pins.push(r.cookie, GFP_KERNEL)?;
                    }
                } else {
                    a.passive += 1;
                }
            }
        }
        let _ = shim::resched_and_signal_pending();
    }
    let creators = creator_sums(&site_live)?;
    Ok(Some(View {
        totals,
        check,
        netns,
        creators,
    }))
}

/// Appends census lines from `stage` on until `out` holds `limit` bytes or the section ends
/// (state lock not held).
pub(crate) fn fill_section(
    stage: &mut Stage,
    view: &mut Option<View>,
    out: &mut TextBuf,
    limit: usize,
) -> Result {
    while out.bytes.len() < limit && *stage != Stage::Done {
        *stage = match *stage {
            Stage::Start => {
                *view = take_view()?;
                match view {
                    None => {
                        out.write_str("# census: off\n").map_err(|_| ENOMEM)?;
                        Stage::Done
                    }
                    Some(v) => {
                        header(v, out).map_err(|_| ENOMEM)?;
                        Stage::Sockets(0, 0)
                    }
                }
            }
            Stage::Sockets(b, k) => {
                // (Never without a view: `Start` made it; a rewind resets both.)
                let Some(v) = view.as_ref() else {
                    *stage = Stage::Done;
                    break;
                };
                let mut cursor = (b, k);
                let mut buf = [Rec::default(); BATCH];
                let n = fill(&mut cursor, &mut buf);
                for r in &buf[..n] {
                    socket_line(v, r, out).map_err(|_| ENOMEM)?;
                }
                if n == 0 {
                    Stage::Creators(0)
                } else {
                    Stage::Sockets(cursor.0, cursor.1)
                }
            }
            Stage::Creators(i) => {
                // (Never without a view: `Start` made it; a rewind resets both.)
                let Some(v) = view.as_ref() else {
                    *stage = Stage::Done;
                    break;
                };
                match v.creators.get(i as usize) {
                    Some(c) => {
                        creator_line(c, out).map_err(|_| ENOMEM)?;
                        Stage::Creators(i + 1)
                    }
                    None => Stage::Netns(None),
                }
            }
            Stage::Netns(after) => {
                // (Never without a view: `Start` made it; a rewind resets both.)
                let Some(v) = view.as_ref() else {
                    *stage = Stage::Done;
                    break;
                };
                let next = match after {
                    None => v.netns.iter().next(),
                    Some(a) => v.netns.iter().find(|(k, _)| **k > a),
                };
                match next {
                    Some((k, a)) => {
                        netns_lines(*k, a, out).map_err(|_| ENOMEM)?;
                        Stage::Netns(Some(*k))
                    }
                    None => Stage::Done,
                }
            }
            Stage::Done => Stage::Done,
        };
    }
    Ok(())
}

fn header(v: &View, out: &mut TextBuf) -> fmt::Result {
    let t = &v.totals;
    write!(
        out,
        "# census: on since_ms={} (sockets created before it started are not known)\n\
         census_totals live={} created={} destroyed={} dropped={} missed={} sites={} sites_full={} max={} memory_bytes={} \
         memo_hits={} memo_audits={} memo_wrong={} lost_destroys={}\n",
        t.started_ns / 1_000_000,
        t.live,
        t.created,
        t.destroyed,
        t.dropped,
        t.missed,
        t.sites,
        t.sites_full,
        t.max,
        t.bytes,
        t.memo_hits,
        t.memo_audits,
        t.memo_wrong,
        t.lost_destroys,
    )?;
    if t.lost_destroys > 0 {
        out.write_str(
            "# census: a destruction was missed, so an entry may point at freed memory: \
             no entry is read (census off, then on)\n",
        )?;
    }
    match v.check {
        Check::Ok(n) => writeln!(out, "census_check own={n} table={n} result=ok"),
        Check::Mismatch(own, table) => {
            writeln!(out, "census_check own={own} table={table} result=MISMATCH")
        }
        Check::Busy => {
            out.write_str("census_check result=busy (a create or release ran meanwhile)\n")
        }
    }?;
    out.write_str("# kernel_sockets: seq netns family type protocol state netns_ref ino cookie port creator chain pid comm age_ms clone audit\n")
}

fn socket_line(v: &View, r: &Rec, out: &mut TextBuf) -> fmt::Result {
    let site = site(u32::from(r.site));
    write!(out, "kernel_socket seq={} netns={} ", r.seq, r.netns_inum)?;
    write!(
        out,
        "family={}({}) type={}({}) protocol={}({})",
        names::family_name(r.family),
        r.family,
        names::type_name(r.sock_type),
        r.sock_type,
        names::protocol_name_in(r.family, r.protocol),
        r.protocol
    )?;
    write!(
        out,
        " state={}({}) netns_ref={} ino={} cookie={:x} port={} creator=",
        names::tcp_state_name(r.state),
        r.state,
        if r.net_refcnt != 0 {
            "counted"
        } else {
            "passive"
        },
        r.ino,
        r.cookie,
        r.local_port,
    )?;
    match &site {
        Some(s) => write_printable(out, &s.creator)?,
        None => out.write_str("unknown")?,
    }
    out.write_str(" chain=")?;
    match &site {
        Some(s) => write_printable(out, &s.chain)?,
        None => out.write_char('-')?,
    }
    write!(out, " pid={} comm=", r.pid)?;
    write_printable(out, &r.comm)?;
    let audit = match v.netns.get(&r.netns_inum) {
        Some(a) if a.lingering() => "lingering",
        Some(a) if a.pinned() && r.net_refcnt != 0 => "pinning",
        _ => "-",
    };
    writeln!(
        out,
        " age_ms={} clone={} audit={}",
        r.age_ns / 1_000_000,
        if r.clone != 0 { "yes" } else { "no" },
        audit
    )
}

/// One `census creator=` line (sites with one creator summed).
fn creator_line(c: &CreatorSum, out: &mut TextBuf) -> fmt::Result {
    out.write_str("census creator=")?;
    write_printable(out, &c.name)?;
    writeln!(
        out,
        " live={} created={} destroyed={}",
        c.live, c.created, c.destroyed
    )
}

/// The sites' counts summed per creator, in the order of their first site.
fn creator_sums(site_live: &[u32]) -> Result<KVec<CreatorSum>> {
    let mut sums: KVec<CreatorSum> = KVec::new();
    for i in 0..SITES {
        let Some(s) = site(i) else {
            continue;
        };
        let live = u64::from(site_live.get(i as usize).copied().unwrap_or(0));
        if live == 0 && s.created == 0 {
            continue;
        }
        match sums.iter_mut().find(|c| c.name == s.creator) {
            Some(c) => {
                c.live += live;
                c.created += s.created;
                c.destroyed += s.destroyed;
            }
            None => sums.push(
                CreatorSum {
                    name: s.creator,
                    live,
                    created: s.created,
                    destroyed: s.destroyed,
                },
                GFP_KERNEL,
            )?,
        }
    }
    Ok(sums)
}

fn netns_lines(inum: u32, a: &NsAgg, out: &mut TextBuf) -> fmt::Result {
    writeln!(
        out,
        "census netns={} live={} counted={} passive={} refs={} alive={}",
        inum,
        a.live,
        a.counted,
        a.passive,
        a.refs,
        if a.alive { "yes" } else { "no" }
    )?;
    if a.lingering() {
        writeln!(out, "linger netns={} sockets={}", inum, a.live)?;
    }
    if a.pinned() {
        write!(out, "pinned netns={} refs={} pinned_by=", inum, a.refs)?;
        for (n, c) in a.pins.iter().enumerate() {
            write!(out, "{}cookie:{:x}", if n > 0 { "," } else { "" }, c)?;
        }
        if a.counted as usize > a.pins.len() {
            write!(out, ",+{}", a.counted as usize - a.pins.len())?;
        }
        out.write_char('\n')?;
    }
    Ok(())
}

#[kunit_tests(rust_sockmod_census)]
mod tests {
    use super::*;

    fn agg(alive: bool, refs: i32, counted: u64, passive: u64) -> NsAgg {
        NsAgg {
            live: counted + passive,
            counted,
            passive,
            alive,
            refs,
            pins: KVec::new(),
        }
    }

    #[test]
    fn audit_verdicts() {
        // Dismantled (no counted reference left) with sockets in it: lingering, never pinned.
        assert!(agg(false, 0, 0, 3).lingering());
        assert!(!agg(false, 0, 1, 0).pinned());
        // Alive, every reference held by census sockets: pinned by them.
        assert!(agg(true, 1, 1, 4).pinned());
        assert!(agg(true, 2, 2, 0).pinned());
        // Something else holds it too (a process, a mount): not pinned by the sockets.
        assert!(!agg(true, 2, 1, 0).pinned());
        // Only passive sockets: they pin nothing.
        assert!(!agg(true, 1, 0, 5).pinned());
        assert!(!agg(true, 1, 0, 5).lingering());
    }

    #[test]
    fn netlink_protocols_by_their_own_names() {
        assert_eq!(names::protocol_name_in(16, 0), "route");
        assert_eq!(names::protocol_name_in(16, 15), "kobject_uevent");
        assert_eq!(names::protocol_name_in(2, 17), "udp");
        assert_eq!(names::protocol_name_in(16, 99), "?");
    }

    #[test]
    fn record_layout_matches_c() {
        // The offsets `src/census.c` checks with BUILD_BUG_ON on its side.
        assert_eq!(core::mem::offset_of!(Rec, netns_inum), 40);
        assert_eq!(core::mem::offset_of!(Rec, site), 68);
        assert_eq!(core::mem::offset_of!(Rec, comm), 76);
        assert_eq!(core::mem::offset_of!(SiteInfo, creator), 17);
    }
}
