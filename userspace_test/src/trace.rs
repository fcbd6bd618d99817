//! `trace`: one creation through each path under tracefs function_graph (graph roots
//! `__x64_sys_socket` and `sock_create_kern`) plus kprobe stack traces for the callers the
//! graph tracer cannot see (the noinstr syscall entry), printed side by side.

use crate::device::{Device, Netns};
use crate::table;
use serde::Serialize;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

const T: &str = "/sys/kernel/tracing";
/// Frames that only interrupts leave in a process's graph (with their subtrees).
const IRQ_NOISE: &[&str] = &[
    "__hrtimer_rearm_deferred",
    "irq_exit_rcu",
    "handle_softirqs",
    "__irq_exit_rcu",
];
/// Other frames an interrupt leaves beside the interrupted function's own calls: its exit
/// (`irqentry_exit` and what it calls where traced; a debug kernel shows `idle_cpu` and
/// `rcu_irq_exit_check_preempt` there instead of `raw_irqentry_exit_cond_resched`).
const IRQ_EXIT: &[&str] = &[
    "raw_irqentry_exit_cond_resched",
    "irqentry_exit",
    "irqentry_exit_to_user_mode",
    "idle_cpu",
    "rcu_irq_exit_check_preempt",
];

/// A kprobe's handler: tracing itself, never a path's own call. (Not every name with
/// "kprobe" in it: slub's `slab_attach_kprobe_locked` is a real call; nor a stack walk by
/// itself: a debug kernel's allocations record their callers with `stack_trace_save`.)
fn tracing_machinery(name: &str) -> bool {
    PROBE_FRAMES.contains(&name) || name.starts_with("kprobe_") || name == "get_kprobe"
}

/// A preemption (at an interrupt's exit, or where the task gives way): `__schedule` is
/// notrace, so its callees land at the depth where the task was, beside its own calls. The
/// debug kernel's shapes: `rcu_note_context_switch, _raw_spin_lock_nested, update_rq_clock,
/// pick_task_fair, put_prev_task_fair, set_next_task_fair, __srcu_check_read_flavor,
/// __traceiter_sched_switch, finish_task_switch` (switched out and back) or `...,
/// pick_task_fair, __balance_callbacks, _raw_spin_unlock` (kept running).
const SCHED_FRAMES: &[&str] = &[
    "preempt_schedule_irq",
    "rcu_note_context_switch",
    "_raw_spin_lock_nested",
    "update_rq_clock",
    "__srcu_check_read_flavor",
    "__traceiter_sched_switch",
    "finish_task_switch",
    "__balance_callbacks",
];

/// A frame a preemption leaves (see [`SCHED_FRAMES`]).
fn sched_frame(name: &str) -> bool {
    SCHED_FRAMES.contains(&name)
        || name.starts_with("pick_task_")
        || name.starts_with("put_prev_task_")
        || name.starts_with("set_next_task_")
}

/// A frame an interrupt or a preemption leaves at the depth of the interrupted function's
/// calls.
fn irq_frame(name: &str) -> bool {
    name == "irq_enter_rcu"
        || IRQ_NOISE.contains(&name)
        || IRQ_EXIT.contains(&name)
        || name.starts_with("__sysvec_")
        || sched_frame(name)
}

/// Frames of the tracing machinery at the top of a kprobe stack trace.
const PROBE_FRAMES: &[&str] = &[
    "kprobe_trace_func",
    "kprobe_dispatcher",
    "kprobe_ftrace_handler",
    "arch_ftrace_ops_list_func",
    "ftrace_regs_call",
    "ftrace_call",
    "ftrace_caller",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub depth: usize,
    pub func: String,
    /// Time in the function, children included, as function_graph measured it (ns); `None`
    /// when the graph was cut before its end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ns: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Chain {
    /// Callers, outermost first (from the kprobe stack trace), then the graph below the root.
    pub callers: Vec<String>,
    pub graph: Vec<Frame>,
}

/// Where each path's time goes, by function_graph's durations (medians over the traced pairs,
/// ns; the tracer's own per-call overhead included, alike on both paths).
#[derive(Debug, Default, Serialize)]
pub struct Timing {
    pub pairs: usize,
    /// `__x64_sys_socket` (the syscall body; entry/exit are noinstr, outside the graph).
    pub syscall_ns: u64,
    /// `sock_create_kern`.
    pub kernel_ns: u64,
    /// `__sock_create` under each (protocol lookup, security hooks, `inet_create`, ...).
    pub syscall_create_ns: u64,
    pub kernel_create_ns: u64,
    /// Descriptor and file: `sock_map_fd` (or `get_unused_fd_flags` + `sock_alloc_file` +
    /// `fd_install` where it is inlined); the syscall path only.
    pub fd_and_file_ns: u64,
    /// The rest of each root (flag checks, protocol update, the call itself).
    pub syscall_other_ns: u64,
    pub kernel_other_ns: u64,
}

impl Timing {
    /// From the graphs of every traced pair: medians of each part.
    fn of(syscalls: &[Vec<Frame>], kernels: &[Vec<Frame>]) -> Self {
        const FD_FILE: &[&str] = &[
            "sock_map_fd",
            "get_unused_fd_flags",
            "sock_alloc_file",
            "fd_install",
        ];
        let med = |mut v: Vec<u64>| -> u64 {
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        let part =
            |gs: &[Vec<Frame>], names: &[&str]| med(gs.iter().map(|g| top_ns(g, names)).collect());
        let root = |gs: &[Vec<Frame>]| {
            med(gs
                .iter()
                .map(|g| g.first().and_then(|f| f.ns).unwrap_or(0))
                .collect())
        };
        let other = |gs: &[Vec<Frame>], names: &[&str]| {
            med(gs
                .iter()
                .map(|g| {
                    g.first()
                        .and_then(|f| f.ns)
                        .unwrap_or(0)
                        .saturating_sub(top_ns(g, names))
                })
                .collect())
        };
        let mut sys_parts = vec!["__sock_create"];
        sys_parts.extend_from_slice(FD_FILE);
        Timing {
            pairs: syscalls.len().min(kernels.len()),
            syscall_ns: root(syscalls),
            kernel_ns: root(kernels),
            syscall_create_ns: part(syscalls, &["__sock_create"]),
            kernel_create_ns: part(kernels, &["__sock_create"]),
            fd_and_file_ns: part(syscalls, FD_FILE),
            syscall_other_ns: other(syscalls, &sys_parts),
            kernel_other_ns: other(kernels, &["__sock_create"]),
        }
    }
}

/// The time of the outermost frames named in `names` (one nested in another counts once).
pub fn top_ns(graph: &[Frame], names: &[&str]) -> u64 {
    let mut inside: Option<usize> = None;
    let mut sum = 0;
    for f in graph {
        if inside.is_some_and(|d| f.depth <= d) {
            inside = None;
        }
        if inside.is_none() && names.contains(&f.func.as_str()) {
            sum += f.ns.unwrap_or(0);
            inside = Some(f.depth);
        }
    }
    sum
}

#[derive(Debug, Serialize)]
pub struct TraceResult {
    pub syscall: Chain,
    pub kernel: Chain,
    pub timing: Timing,
    pub only_syscall: Vec<String>,
    pub only_kernel: Vec<String>,
    pub checks: Vec<(String, bool)>,
    /// Of the traced pairs, how many graphs showed each path's chain whole (syscall, kernel):
    /// an interrupt, a preemption or a lost buffer page can cut one.
    pub whole: (usize, usize),
    /// The tracefs text the result was read from (`trace --raw FILE` keeps it).
    #[serde(skip)]
    pub raw: String,
}

fn write(file: &str, text: &str) -> Result<(), String> {
    let path = format!("{T}/{file}");
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| format!("{path}: {e}"))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("{path} <- {text:?}: {e}"))
}

fn append(file: &str, text: &str) -> Result<(), String> {
    let path = format!("{T}/{file}");
    let mut f = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| format!("{path}: {e}"))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("{path} <- {text:?}: {e}"))
}

/// Puts tracefs back as it was found (best effort; runs on every exit path): the settings
/// `run` changes to their defaults, `tracing_on` to the value it had.
struct Cleanup {
    tracing_on: String,
}

impl Cleanup {
    /// Notes what must be restored; call before changing anything.
    fn new() -> Self {
        let tracing_on = fs::read_to_string(format!("{T}/tracing_on"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "1".to_string());
        Self { tracing_on }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = write("tracing_on", "0");
        let _ = write("current_tracer", "nop");
        let _ = write("set_graph_function", "");
        let _ = write("set_ftrace_pid", "");
        let _ = write("set_event_pid", "");
        let _ = write("max_graph_depth", "0");
        let _ = write("options/funcgraph-irqs", "1");
        let _ = remove_probes();
        let _ = write("trace", "");
        let _ = write("tracing_on", &self.tracing_on);
    }
}

/// Disables the two kprobe events, detaches their triggers and deletes them (those already
/// gone are skipped). Every step is tried; the first error is returned.
fn remove_probes() -> Result<(), String> {
    let mut first = Ok(());
    for ev in ["rsm_user", "rsm_kern"] {
        if !Path::new(&format!("{T}/events/kprobes/{ev}")).exists() {
            continue;
        }
        for step in [
            write(&format!("events/kprobes/{ev}/enable"), "0"),
            write(&format!("events/kprobes/{ev}/trigger"), "!stacktrace"),
            append("kprobe_events", &format!("-:{ev}\n")),
        ] {
            if first.is_ok() {
                first = step;
            }
        }
    }
    first
}

fn ensure_tracefs() -> Result<(), String> {
    if Path::new(&format!("{T}/trace")).exists() {
        return Ok(());
    }
    nix::mount::mount(
        Some("nodev"),
        T,
        Some("tracefs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| {
        format!("no tracefs at {T} and mounting it failed: {e} (needs root and CONFIG_FTRACE)")
    })
}

/// Parses function_graph output into (depth, function) frames, keeping stack-trace blocks
/// apart: returns the frames and the stack traces by probe name.
pub fn parse(trace: &str) -> (Vec<Frame>, Vec<(String, Vec<String>)>) {
    let mut frames: Vec<Frame> = Vec::new();
    let mut stacks: Vec<(String, Vec<String>)> = Vec::new();
    let mut pending_probe: Option<String> = None;
    let mut in_stack = false;
    // Depth of an interrupt that arrived inside a traced function: its frames (irq_enter_rcu,
    // the handlers, softirqs, the exit, with their subtrees) belong to neither path. The
    // footprint ends at the first frame at that depth that is not an interrupt's: the
    // interrupted function's next call, kept (an exit frame this list does not know stays
    // visible as noise rather than hiding the path's own calls).
    let mut irq_at: Option<usize> = None;
    // A preemption inside that footprint took the runqueue lock (`_raw_spin_lock_nested`):
    // the `_raw_spin_unlock*` that releases it is the scheduler's too.
    let mut rq_locked = false;
    let mut noise_at: Option<usize> = None;
    // Functions entered and not yet left: (depth, index in `frames`).
    let mut open: Vec<(usize, Option<usize>)> = Vec::new();
    for line in trace.lines() {
        if let Some(rest) = line.trim_start().strip_prefix("=> ") {
            if in_stack {
                if let Some((_, s)) = stacks.last_mut() {
                    s.push(rest.trim().to_string());
                }
            }
            continue;
        }
        if line.contains("<stack trace>") {
            in_stack = true;
            stacks.push((pending_probe.take().unwrap_or_default(), Vec::new()));
            continue;
        }
        in_stack = false;
        let Some((head, body)) = line.split_once('|') else {
            // An event line of another tracer (nop): `task-pid [cpu] flags time: name: (...)`.
            if let Some(name) = event_name(line) {
                pending_probe = Some(name.to_string());
            }
            continue;
        };
        let depth = (body.len() - body.trim_start().len()).saturating_sub(2) / 2;
        let body = body.trim();
        let ns = duration_ns(head);
        if body == "}" || body.starts_with("} /*") {
            // Closes the frame opened at this depth; a brace of a filtered-out frame (an
            // interrupt's) finds none there and closes nothing.
            while open.last().is_some_and(|&(d, _)| d > depth) {
                open.pop();
            }
            if open.last().is_some_and(|&(d, _)| d == depth) {
                if let Some((_, Some(i))) = open.pop() {
                    frames[i].ns = ns;
                }
            }
            continue;
        }
        if let Some(c) = body.strip_prefix("/* ") {
            if let Some((probe, _)) = c.split_once(':') {
                pending_probe = Some(probe.to_string());
            }
            continue;
        }
        if let Some(name) = body
            .strip_suffix("() {")
            .or_else(|| body.strip_suffix("();"))
        {
            if let Some(d) = irq_at {
                if depth > d {
                    continue;
                }
                if depth == d && irq_frame(name) {
                    rq_locked = match name {
                        "_raw_spin_lock_nested" => true,
                        "finish_task_switch" => false,
                        _ => rq_locked,
                    };
                    continue;
                }
                if depth == d && rq_locked && name.starts_with("_raw_spin_unlock") {
                    rq_locked = false;
                    continue;
                }
                irq_at = None;
                rq_locked = false;
            }
            // An interrupt's footprint starts at irq_enter_rcu, a preemption's at its first
            // frame (either may come without the other).
            if matches!(
                name,
                "irq_enter_rcu" | "preempt_schedule_irq" | "rcu_note_context_switch"
            ) {
                irq_at = Some(depth);
                rq_locked = false;
                continue;
            }

            if let Some(d) = noise_at {
                if depth > d {
                    continue;
                }
                noise_at = None;
            }
            if IRQ_NOISE.contains(&name) || name.starts_with("__sysvec_") {
                noise_at = Some(depth);
                continue;
            }
            let opens = body.ends_with('{');
            frames.push(Frame {
                depth,
                func: name.to_string(),
                ns: if opens { None } else { ns },
            });
            if opens {
                open.push((depth, Some(frames.len() - 1)));
            }
        }
    }
    (frames, stacks)
}

/// The event name of a trace line outside function_graph (`... 38.533463: rsm_user: (...)`).
fn event_name(line: &str) -> Option<&str> {
    if line.starts_with('#') {
        return None;
    }
    let (before, _) = line.split_once(": (")?;
    before.rsplit(' ').next().filter(|n| !n.is_empty())
}

/// The duration function_graph prints left of the `|` (`  5.127 us`, `+ 74.010 us`, with an
/// overhead mark), in ns.
pub fn duration_ns(head: &str) -> Option<u64> {
    let t = head.rsplit_once(')').map_or(head, |(_, t)| t);
    let t = t
        .trim()
        .trim_start_matches(['+', '!', '#', '*', '@', '$'])
        .trim();
    let us: f64 = t.strip_suffix("us")?.trim().parse().ok()?;
    Some((us * 1000.0).round() as u64)
}

/// The graph below the first frame named `root`, depths made relative to it.
#[cfg(test)]
pub fn subtree(frames: &[Frame], root: &str) -> Vec<Frame> {
    subtrees(frames, root)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Every graph below a frame named `root`, depths made relative to it.
pub fn subtrees(frames: &[Frame], root: &str) -> Vec<Vec<Frame>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = frames[i..].iter().position(|f| f.func == root) {
        let start = i + p;
        let d0 = frames[start].depth;
        let end = frames[start + 1..]
            .iter()
            .position(|f| f.depth <= d0)
            .map_or(frames.len(), |q| start + 1 + q);
        out.push(
            frames[start..end]
                .iter()
                .map(|f| Frame {
                    depth: f.depth - d0,
                    ..f.clone()
                })
                .collect(),
        );
        i = end;
    }
    out
}

/// Callers from a kprobe stack trace, outermost first, without the probe machinery.
pub fn callers(stack: &[String], probed: &str) -> Vec<String> {
    let from = stack.iter().position(|f| f == probed).unwrap_or(0);
    let mut v: Vec<String> = stack
        .get(from + 1..)
        .unwrap_or_default()
        .iter()
        .filter(|f| !PROBE_FRAMES.contains(&f.as_str()))
        .map(|f| demangle(f))
        .collect();
    v.reverse();
    v
}

/// Rust symbols in kernel stacks are v0-mangled; show them readable (`+0x..` offsets dropped).
pub fn demangle(sym: &str) -> String {
    let name = sym.split(&['+', ' '][..]).next().unwrap_or(sym);
    let d = format!("{:#}", rustc_demangle::demangle(name));
    if d != name {
        d
    } else {
        name.to_string()
    }
}

/// Whether `path` appears as a chain of descendants (each strictly deeper than the previous,
/// inside its subtree).
pub fn has_chain(graph: &[Frame], path: &[&str]) -> bool {
    fn find(graph: &[Frame], start: usize, min_depth: usize, path: &[&str]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return true;
        };
        for i in start..graph.len() {
            if graph[i].depth < min_depth {
                return false;
            }
            if graph[i].func == *first {
                let end = graph[i + 1..]
                    .iter()
                    .position(|f| f.depth <= graph[i].depth)
                    .map_or(graph.len(), |p| i + 1 + p);
                if find(&graph[..end], i + 1, graph[i].depth + 1, rest) {
                    return true;
                }
            }
        }
        false
    }
    find(graph, 0, 0, path)
}

fn names(g: &[Frame]) -> std::collections::BTreeSet<String> {
    g.iter().map(|f| f.func.clone()).collect()
}

/// How deep below `__sock_create` the chains are shown and compared (both paths alike).
pub const JOIN_DEPTH: usize = 2;

/// The frames shown: everything outside `__sock_create`'s subtree, and that subtree down to
/// `JOIN_DEPTH` levels, so both paths are cut at the same depth relative to where they join.
pub fn shown(g: &[Frame]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut join: Option<usize> = None;
    for f in g {
        if let Some(d) = join {
            if f.depth <= d {
                join = None;
            } else if f.depth - d > JOIN_DEPTH {
                continue;
            }
        }
        if f.func == "__sock_create" && join.is_none() {
            join = Some(f.depth);
        }
        out.push(f.clone());
    }
    out
}

/// Pairs traced: the durations are medians over all of them; the first whole graph of each
/// path is the one shown.
const PAIRS: usize = 5;

/// Levels of calls the graph records below each root: enough for the chains, the join and the
/// descriptor and file. Each recorded call returns through `return_to_handler`, and an
/// interrupt that saves a stack trace (KASAN, kmemleak, slub_debug=U record callers) while the
/// CPU is in that trampoline's retpoline tail makes the ORC unwinder print "WARNING: stack
/// going in the wrong direction? at return_to_handler+0x46" (1 trace in 20 on the debug kernel
/// at depth 12). Depth 6 records 689 calls per 5 pairs there instead of 8,814.
const GRAPH_DEPTH: usize = 6;

/// One socket() and one RSM_IOC_CREATE, each released at once.
fn pair(dev: &Device) -> Result<(), String> {
    // SAFETY: plain system call; the fd is closed right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
    let created = dev.create(libc::AF_INET, libc::SOCK_STREAM, 0, Netns::Caller, false);
    if fd < 0 {
        return Err(format!("socket(): {}", std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
    let c = created.map_err(|e| format!("RSM_IOC_CREATE: {e}"))?;
    dev.release(c.id)
        .map(drop)
        .map_err(|e| format!("release: {e}"))
}

/// Runs `pairs` pairs with tracing on and returns the trace text (tracing off again on every
/// path).
fn capture(dev: &Device, pairs: usize) -> Result<String, String> {
    write("trace", "")?;
    write("tracing_on", "1")?;
    let done = (0..pairs).try_for_each(|_| pair(dev));
    write("tracing_on", "0")?;
    done?;
    fs::read_to_string(format!("{T}/trace")).map_err(|e| format!("{T}/trace: {e}"))
}

/// Two captures, never at once: the callers from kprobe stack traces under the nop tracer,
/// then the graphs under function_graph without the probes (only disabled, a probe with a
/// trigger still fires, and its handler landed in the graph: the "no kprobe handler" check).
pub fn run(dev: &Device) -> Result<TraceResult, String> {
    ensure_tracefs()?;
    let _cleanup = Cleanup::new();
    let pid = std::process::id().to_string();
    write("tracing_on", "0")?;
    write("current_tracer", "nop")?;
    write("set_event_pid", &pid)?;
    append(
        "kprobe_events",
        "p:rsm_user __x64_sys_socket\np:rsm_kern sock_create_kern\n",
    )
    .map_err(|e| format!("{e} (CONFIG_KPROBE_EVENTS?)"))?;
    for ev in ["rsm_user", "rsm_kern"] {
        write(&format!("events/kprobes/{ev}/trigger"), "stacktrace")?;
        write(&format!("events/kprobes/{ev}/enable"), "1")?;
    }
    let stacks = capture(dev, 1)?;
    // A disabled event whose trigger is still attached keeps its kprobe firing (trigger
    // mode): the probes go entirely before the graph capture.
    remove_probes()?;
    write("current_tracer", "function_graph")?;
    write("max_graph_depth", &GRAPH_DEPTH.to_string())?;
    // Interrupts that happen to arrive during the creation are not part of either path.
    write("options/funcgraph-irqs", "0")?;
    write("set_graph_function", "__x64_sys_socket sock_create_kern")?;
    write("set_ftrace_pid", &pid)?;
    let graphs = capture(dev, PAIRS)?;
    Ok(analyse(stacks + &graphs))
}

/// The chains, timing and checks of a captured trace (`run`'s, or one saved by `--raw`).
pub fn analyse(text: String) -> TraceResult {
    let (frames, stacks) = parse(&text);
    let stack_of = |probe: &str, probed: &str| {
        stacks
            .iter()
            .find(|(p, _)| p == probe)
            .map(|(_, s)| callers(s, probed))
            .unwrap_or_default()
    };
    const SYSCALL_CHAIN: &[&str] = &[
        "__x64_sys_socket",
        "__sys_socket",
        "__sock_create",
        "inet_create",
    ];
    const KERNEL_CHAIN: &[&str] = &["sock_create_kern", "__sock_create", "inet_create"];
    let (sys_graphs, kern_graphs) = (
        subtrees(&frames, "__x64_sys_socket"),
        subtrees(&frames, "sock_create_kern"),
    );
    let (sys_whole, sys_n) = first_whole(&sys_graphs, SYSCALL_CHAIN);
    let (kern_whole, kern_n) = first_whole(&kern_graphs, KERNEL_CHAIN);
    let syscall = Chain {
        callers: stack_of("rsm_user", "__x64_sys_socket"),
        graph: sys_whole,
    };
    let kernel = Chain {
        callers: stack_of("rsm_kern", "sock_create_kern"),
        graph: kern_whole,
    };
    let timing = Timing::of(&sys_graphs, &kern_graphs);
    let (nu, nk) = (names(&shown(&syscall.graph)), names(&shown(&kernel.graph)));
    let only_syscall: Vec<String> = nu.difference(&nk).cloned().collect();
    let only_kernel: Vec<String> = nk.difference(&nu).cloned().collect();
    let machinery: std::collections::BTreeSet<&str> = sys_graphs
        .iter()
        .chain(&kern_graphs)
        .flatten()
        .map(|f| f.func.as_str())
        .filter(|n| tracing_machinery(n))
        .collect();
    let checks = vec![
        (
            "syscall entry: entry_SYSCALL_64 -> do_syscall_64 -> __x64_sys_socket".to_string(),
            syscall.callers.iter().any(|f| f.starts_with("entry_SYSCALL_64")) && syscall.callers.iter().any(|f| f == "do_syscall_64"),
        ),
        (format!("{} ({sys_n} of {} traced pairs whole)", SYSCALL_CHAIN.join(" -> "), sys_graphs.len()), sys_n > 0),
        (format!("{} ({kern_n} of {} traced pairs whole)", KERNEL_CHAIN.join(" -> "), kern_graphs.len()), kern_n > 0),
        ("only the syscall path allocates a file and installs an fd (sock_alloc_file, fd_install)".to_string(), nu.contains("sock_alloc_file") && !nk.contains("sock_alloc_file") && !nk.contains("fd_install")),
        (
            format!(
                "the graphs hold no kprobe handler{}",
                machinery.iter().fold(String::new(), |a, n| format!(
                    "{a}{}{n}",
                    if a.is_empty() { ": " } else { ", " }
                ))
            ),
            machinery.is_empty(),
        ),
        ("the module path is entered through ioctl".to_string(), kernel.callers.iter().any(|f| f.contains("sys_ioctl"))),
        (
            format!("durations: {PAIRS} pairs of each path timed, the syscall's descriptor and file and both __sock_create measured"),
            timing.pairs == PAIRS && timing.syscall_ns > 0 && timing.kernel_ns > 0 && timing.fd_and_file_ns > 0
                && timing.syscall_create_ns > 0 && timing.kernel_create_ns > 0,
        ),
    ];
    TraceResult {
        syscall,
        kernel,
        timing,
        only_syscall,
        only_kernel,
        checks,
        whole: (sys_n, kern_n),
        raw: text,
    }
}

/// The first graph that holds `chain` whole (else the first graph, so that what was cut is
/// shown), and how many of `graphs` hold it.
pub fn first_whole(graphs: &[Vec<Frame>], chain: &[&str]) -> (Vec<Frame>, usize) {
    let whole: Vec<&Vec<Frame>> = graphs.iter().filter(|g| has_chain(g, chain)).collect();
    let shown = whole
        .first()
        .copied()
        .or(graphs.first())
        .cloned()
        .unwrap_or_default();
    (shown, whole.len())
}

pub fn print(r: &TraceResult) {
    let fmt = |c: &Chain, other: &std::collections::BTreeSet<String>| -> Vec<String> {
        let mut v: Vec<String> = c.callers.iter().map(|f| format!("{f}  [caller]")).collect();
        for f in &c.graph {
            let mark = if f.func == "__sock_create" {
                "  <== paths join"
            } else if !other.contains(&f.func) {
                "  * only here"
            } else {
                ""
            };
            v.push(format!("{}{}{}", "  ".repeat(f.depth), f.func, mark));
        }
        v
    };
    let (su, sk) = (
        Chain {
            callers: r.syscall.callers.clone(),
            graph: shown(&r.syscall.graph),
        },
        Chain {
            callers: r.kernel.callers.clone(),
            graph: shown(&r.kernel.graph),
        },
    );
    let left = fmt(&su, &names(&sk.graph));
    let right = fmt(&sk, &names(&su.graph));
    let mut t = table::side_by_side(
        "socket(AF_INET, SOCK_STREAM, 0)",
        "RSM_IOC_CREATE -> sock_create_kern(net, AF_INET, SOCK_STREAM, 0)",
    );
    for i in 0..left.len().max(right.len()) {
        let cell = |v: &[String]| v.get(i).cloned().unwrap_or_default();
        t.row([cell(&left), cell(&right)]);
    }
    t.print();
    print_timing(&r.timing);
    println!("\nonly in the syscall path: {}", r.only_syscall.join(", "));
    println!("only in the kernel path:  {}", r.only_kernel.join(", "));
    let mut t = table::new(&[], &[]);
    for (what, ok) in &r.checks {
        t.row([table::status(*ok), what.as_str()]);
    }
    t.print();
}

/// Where the time goes, and the syscall path's extra time attributed.
pub fn print_timing(t: &Timing) {
    let us = |ns: u64| format!("{:.1}", ns as f64 / 1000.0);
    println!(
        "\ntime per path (function_graph durations, µs, median of {} pairs; tracer overhead included on both):",
        t.pairs
    );
    let mut tab = table::new(&["", "socket()", "RSM_IOC_CREATE"], &[1, 2]);
    tab.row([
        "whole: __x64_sys_socket | sock_create_kern".to_string(),
        us(t.syscall_ns),
        us(t.kernel_ns),
    ]);
    tab.row([
        "protocol create: __sock_create".to_string(),
        us(t.syscall_create_ns),
        us(t.kernel_create_ns),
    ]);
    tab.row([
        "descriptor and file: sock_map_fd".to_string(),
        us(t.fd_and_file_ns),
        "-".to_string(),
    ]);
    tab.row([
        "the rest of the root".to_string(),
        us(t.syscall_other_ns),
        us(t.kernel_other_ns),
    ]);
    tab.print();
    let extra = t.syscall_ns as i64 - t.kernel_ns as i64;
    let pct = |ns: i64| {
        if extra > 0 {
            format!("{:.0}%", 100.0 * ns as f64 / extra as f64)
        } else {
            "-".into()
        }
    };
    let create = t.syscall_create_ns as i64 - t.kernel_create_ns as i64;
    let rest = t.syscall_other_ns as i64 - t.kernel_other_ns as i64;
    println!(
        "the syscall body's extra {} µs: descriptor and file {} ({}), __sock_create {:+.1} µs ({}), the rest {:+.1} µs ({}); \
         syscall entry/exit (entry_SYSCALL_64, do_syscall_64) run noinstr, outside the graph: `bench` measures them",
        us(extra.max(0) as u64),
        us(t.fd_and_file_ns),
        pct(t.fd_and_file_ns as i64),
        create as f64 / 1000.0,
        pct(create),
        rest as f64 / 1000.0,
        pct(rest),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = " 0)               |  /* rsm_user: (__x64_sys_socket+0x4/0x30) */
         python3-89      [000] ...1.    38.533463: <stack trace>
 => kprobe_trace_func
 => ftrace_regs_call
 => __x64_sys_socket
 => do_syscall_64
 => entry_SYSCALL_64_after_hwframe
 0)               |  __x64_sys_socket() {
 0)               |    __sys_socket() {
 0)   5.127 us    |      update_socket_protocol();
 0)   1.000 us    |      irq_enter_rcu();
 0)               |      __sysvec_apic_timer_interrupt() {
 0)   1.000 us    |        hrtimer_interrupt();
 0)   1.000 us    |      }
 0)               |      handle_softirqs() {
 0)   1.000 us    |        run_timer_softirq();
 0)   1.000 us    |      }
 0)   1.000 us    |      raw_irqentry_exit_cond_resched();
 0)               |      __hrtimer_rearm_deferred() {
 0)   1.000 us    |        tick_program_event();
 0)   1.000 us    |      }
 0)               |      __sock_create() {
 0)   1.513 us    |        security_socket_create();
 0)               |        inet_create() {
 0)               |          sk_alloc() {
 0)   1.000 us    |            sk_prot_alloc();
 0)   1.000 us    |          }
 0)   9.000 us    |        }
 0) + 74.010 us   |      }
 0)   3.000 us    |      sock_alloc_file();
 0) + 80.010 us   |    }
 0) + 90.010 us   |  }
 0)   1.000 us    |  other();
";

    #[test]
    fn parses_graph_and_stack() {
        let (frames, stacks) = parse(SAMPLE);
        assert_eq!(
            frames[0],
            Frame {
                depth: 0,
                func: "__x64_sys_socket".into(),
                ns: Some(90_010),
            }
        );
        assert_eq!(
            frames[3],
            Frame {
                depth: 2,
                func: "__sock_create".into(),
                ns: Some(74_010),
            }
        );
        assert_eq!(stacks.len(), 1);
        assert_eq!(stacks[0].0, "rsm_user");
        assert_eq!(
            callers(&stacks[0].1, "__x64_sys_socket"),
            vec!["entry_SYSCALL_64_after_hwframe", "do_syscall_64"]
        );
        let g = subtree(&frames, "__x64_sys_socket");
        assert_eq!(g.len(), 9, "{g:?}");
        assert!(has_chain(
            &g,
            &[
                "__x64_sys_socket",
                "__sys_socket",
                "__sock_create",
                "inet_create"
            ]
        ));
        assert!(!has_chain(
            &g,
            &["__x64_sys_socket", "sock_alloc_file", "inet_create"]
        ));
        assert!(
            !has_chain(&g, &["__x64_sys_socket", "other"]),
            "other is outside the subtree"
        );
        assert!(
            !g.iter().any(|f| f.func.contains("irq")
                || f.func.contains("hrtimer")
                || f.func.contains("tick")),
            "interrupt frames dropped: {g:?}"
        );
        let s = shown(&g);
        assert!(
            s.iter().any(|f| f.func == "inet_create"),
            "depth 1 below the join is shown"
        );
        assert!(
            s.iter().any(|f| f.func == "sk_alloc"),
            "depth 2 below the join is shown"
        );
        assert!(
            !s.iter().any(|f| f.func == "sk_prot_alloc"),
            "depth 3 below the join is cut"
        );
        assert!(
            s.iter().any(|f| f.func == "sock_alloc_file"),
            "after the join is shown"
        );
    }

    /// A debug kernel's interrupt footprint (no traced irqentry exit; `idle_cpu` and
    /// `rcu_irq_exit_check_preempt` last) must not hide the calls after it.
    #[test]
    fn debug_kernel_interrupt_keeps_the_next_calls() {
        let t = " 0)               |  __x64_sys_socket() {
 0)               |    __sys_socket() {
 0)               |      __sock_create() {
 0)   1.000 us    |        inet_create();
 0)   9.000 us    |      }
 0)   6.099 us    |      irq_enter_rcu();
 0)               |      __hrtimer_rearm_deferred() {
 0)   4.066 us    |        do_raw_spin_lock();
 0) + 87.841 us   |      }
 0)               |      handle_softirqs() {
 0)   7.792 us    |        note_gp_changes();
 0) ! 377.393 us  |      }
 0)   4.096 us    |      idle_cpu();
 0)   7.652 us    |      rcu_irq_exit_check_preempt();
 0)               |      sock_alloc_file() {
 0)   1.000 us    |        alloc_file_pseudo();
 0)   2.000 us    |      }
 0)   3.000 us    |      fd_install();
 0) + 80.010 us   |    }
 0) + 90.010 us   |  }
";
        let (frames, _) = parse(t);
        let names: Vec<&str> = frames.iter().map(|f| f.func.as_str()).collect();
        assert_eq!(
            names,
            [
                "__x64_sys_socket",
                "__sys_socket",
                "__sock_create",
                "inet_create",
                "sock_alloc_file",
                "alloc_file_pseudo",
                "fd_install"
            ]
        );
        assert_eq!(
            frames[4].ns,
            Some(2_000),
            "sock_alloc_file closed by its own brace"
        );
        assert_eq!(frames[1].ns, Some(80_010));
    }

    /// The callers come from a capture under the nop tracer, the graph from a later one.
    #[test]
    fn callers_from_a_nop_capture() {
        let text = format!(
            "# tracer: nop
  userspace_test-123     [000] ...1.    38.533463: rsm_user: (__x64_sys_socket+0x4/0x90)
  userspace_test-123     [000] ...1.    38.533470: <stack trace>
 => kprobe_trace_func
 => __x64_sys_socket
 => do_syscall_64
 => entry_SYSCALL_64_after_hwframe
  userspace_test-123     [000] ...1.    38.533500: rsm_kern: (sock_create_kern+0x4/0x40)
  userspace_test-123     [000] ...1.    38.533510: <stack trace>
 => kprobe_dispatcher
 => sock_create_kern
 => rust_sockmod::ioctl::create
 => __x64_sys_ioctl
 => do_syscall_64
# tracer: function_graph
{SAMPLE}"
        );
        let (_, stacks) = parse(&text);
        let names: Vec<&str> = stacks.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["rsm_user", "rsm_kern", "rsm_user"]);
        assert_eq!(
            callers(&stacks[1].1, "sock_create_kern"),
            [
                "do_syscall_64",
                "__x64_sys_ioctl",
                "rust_sockmod::ioctl::create"
            ]
        );
        let r = analyse(text);
        assert_eq!(
            r.kernel.callers,
            [
                "do_syscall_64",
                "__x64_sys_ioctl",
                "rust_sockmod::ioctl::create"
            ]
        );
        assert_eq!(event_name("# tracer: nop"), None);
    }

    /// A probe that fires inside a graphed function puts its handler in the graph: the check
    /// names it; a slub hook point named after kprobes and a stack walk alone are not.
    #[test]
    fn machinery_in_the_graph_is_named() {
        let machinery = |text: &str| {
            analyse(text.to_string())
                .checks
                .into_iter()
                .find(|(what, _)| what.contains("no kprobe handler"))
                .unwrap()
        };
        let (what, ok) = machinery(SAMPLE);
        assert!(ok, "{what}");
        let dirty = SAMPLE.replace(
            " 0)   5.127 us    |      update_socket_protocol();",
            " 0)               |      kprobe_ftrace_handler() {
 0)   1.000 us    |        get_kprobe();
 0)   1.000 us    |        stack_trace_save();
 0)   3.000 us    |      }
 0)   1.000 us    |      slab_attach_kprobe_locked();",
        );
        let (what, ok) = machinery(&dirty);
        assert!(!ok);
        assert!(
            what.ends_with(": get_kprobe, kprobe_ftrace_handler"),
            "{what}"
        );
    }

    #[test]
    fn first_whole_skips_a_cut_graph() {
        let (frames, _) = parse(SAMPLE);
        let whole = subtree(&frames, "__x64_sys_socket");
        // A pair whose graph was cut below __sys_socket (as an interrupt or a lost page can).
        let cut: Vec<Frame> = whole.iter().take(2).cloned().collect();
        let chain = [
            "__x64_sys_socket",
            "__sys_socket",
            "__sock_create",
            "inet_create",
        ];
        assert!(!has_chain(&cut, &chain));
        let (g, n) = first_whole(&[cut.clone(), whole.clone(), whole.clone()], &chain);
        assert_eq!((g, n), (whole.clone(), 2));
        let (g, n) = first_whole(&[cut.clone(), cut.clone()], &chain);
        assert_eq!((g, n), (cut, 0), "none whole: the first shown, counted 0");
        assert_eq!(first_whole(&[], &chain), (Vec::new(), 0));
    }

    #[test]
    fn durations_and_attribution() {
        assert_eq!(duration_ns(" 0) + 74.010 us   "), Some(74_010));
        assert_eq!(duration_ns(" 1)   0.456 us    "), Some(456));
        assert_eq!(duration_ns(" 1) ! 123.5 us    "), Some(123_500));
        assert_eq!(duration_ns(" 0)               "), None);
        let (frames, _) = parse(SAMPLE);
        let g = subtree(&frames, "__x64_sys_socket");
        let ns = |f: &str| g.iter().find(|x| x.func == f).and_then(|x| x.ns);
        assert_eq!(ns("__sys_socket"), Some(80_010));
        assert_eq!(ns("inet_create"), Some(9_000));
        assert_eq!(ns("sk_alloc"), Some(1_000));
        assert_eq!(ns("sock_alloc_file"), Some(3_000));
        // Two pairs: the medians of one graph seen twice are its values.
        let mut k = subtree(&frames, "__sock_create");
        k.insert(
            0,
            Frame {
                depth: 0,
                func: "sock_create_kern".into(),
                ns: Some(80_000),
            },
        );
        for f in k.iter_mut().skip(1) {
            f.depth += 1;
        }
        let t = Timing::of(&[g.clone(), g], &[k.clone(), k]);
        assert_eq!((t.pairs, t.syscall_ns, t.kernel_ns), (2, 90_010, 80_000));
        assert_eq!((t.syscall_create_ns, t.kernel_create_ns), (74_010, 74_010));
        assert_eq!(t.fd_and_file_ns, 3_000);
        assert_eq!(
            (t.syscall_other_ns, t.kernel_other_ns),
            (90_010 - 77_010, 80_000 - 74_010)
        );
        assert_eq!(subtrees(&frames, "__x64_sys_socket").len(), 1);
    }

    #[test]
    fn demangles_rust_frames() {
        assert_eq!(demangle("do_syscall_64+0x5d/0x150"), "do_syscall_64");
        let m = "_RNvCs1234567_12rust_sockmod6create";
        assert_eq!(demangle(m), "rust_sockmod::create");
    }
}

#[cfg(test)]
/// Preemptions in the debug kernel's traces (lines from its raw traces) and a cut `--from` file.
mod preemption_tests {
    use super::*;
    const SCHED: &[&str] = &[
        "preempt_schedule_irq",
        "rcu_note_context_switch",
        "_raw_spin_lock_nested",
        "update_rq_clock",
        "pick_task_fair",
        "__balance_callbacks",
    ];
    fn leaked(t: &str) -> Vec<String> {
        parse(t)
            .0
            .into_iter()
            .filter(|f| SCHED.contains(&f.func.as_str()))
            .map(|f| format!("{}@{}", f.func, f.depth))
            .collect()
    }
    /// raw-2.txt lines 456-520: preempt_schedule_irq after the debug kernel's irq exit.
    #[test]
    fn preemption_in_irq_exit_is_dropped_form1() {
        let t = r#" 0)               |  sock_create_kern() {
 0)               |    __sock_create() {
 0) + 13.701 us   |      irq_enter_rcu();
 0)               |      __hrtimer_rearm_deferred() {
 0)               |        _raw_spin_lock() {
 0)   5.689 us    |          do_raw_spin_lock();
 0) + 24.146 us   |        }
 0) ! 151.766 us  |        }
 0)               |        rcu_core_si() {
 0)               |          rcu_core() {
 0)   7.311 us    |            note_gp_changes();
 0) ! 151.026 us  |            rcu_report_qs_rdp();
 0)   6.069 us    |            rcu_segcblist_nextgp();
 0)   4.176 us    |            rcu_check_gp_start_stall();
 0)   4.016 us    |            rcu_segcblist_ready_cbs();
 0) ! 210.504 us  |          }
 0) ! 219.437 us  |        }
 0) ! 390.893 us  |      }
 0)   4.176 us    |      idle_cpu();
 0)   4.397 us    |      rcu_irq_exit_check_preempt();
 0)               |      preempt_schedule_irq() {
 0)               |        rcu_note_context_switch() {
 0)   4.186 us    |          rcu_qs();
 0) + 13.930 us   |        }
 0)               |        _raw_spin_lock_nested() {
 0)   4.257 us    |          do_raw_spin_lock();
 0) + 14.422 us   |        }
 0)               |        update_rq_clock() {
 0)   3.995 us    |          arch_scale_cpu_capacity();
 0) + 13.900 us   |        }
 0)               |        pick_task_fair() {
 0)               |          update_curr() {
 0)   5.489 us    |            update_se();
 0)   3.816 us    |            update_deadline();
 0)   6.059 us    |            dl_server_update();
 0) + 33.069 us   |          }
 0)   4.286 us    |          pick_next_entity();
 0) + 51.247 us   |        }
 0) + 29.014 us   |        __balance_callbacks();
 0)               |        _raw_spin_unlock() {
 0)   4.527 us    |          do_raw_spin_unlock();
 0) + 13.830 us   |        }
 0) ! 185.406 us  |      }
 0)               |      alloc_inode() {
"#;
        let (frames, _) = parse(t);
        assert!(
            frames
                .iter()
                .any(|f| f.func == "alloc_inode" && f.depth == 2),
            "{frames:?}"
        );
        assert_eq!(leaked(t), Vec::<String>::new());
    }
    /// raw-34.txt lines 201-238: __schedule callees directly at the irq depth (no preempt_schedule_irq frame).
    #[test]
    fn preemption_in_irq_exit_is_dropped_form2() {
        let t = r#" 1)               |  __x64_sys_socket() {
 1)               |    __sys_socket() {
 1)   4.066 us    |      update_socket_protocol();
 1)   4.907 us    |        irq_enter_rcu();
 1)   3.115 us    |        idle_cpu();
 1)               |        __hrtimer_rearm_deferred() {
 1)               |          _raw_spin_lock() {
 1)   2.143 us    |            do_raw_spin_lock();
 1)   7.491 us    |          }
 1)               |          tick_program_event() {
 1)   6.300 us    |            clockevents_program_event();
 1) + 10.906 us   |          }
 1)               |          _raw_spin_unlock() {
 1)   2.134 us    |            do_raw_spin_unlock();
 1)   6.810 us    |          }
 1) + 35.363 us   |        }
 1)               |        rcu_note_context_switch() {
 1)   2.694 us    |          rcu_qs();
 1)   9.063 us    |        }
 1)               |        _raw_spin_lock_nested() {
 1)   2.533 us    |          do_raw_spin_lock();
 1)   8.262 us    |        }
 1)               |        update_rq_clock() {
 1)   2.424 us    |          arch_scale_cpu_capacity();
 1)   8.202 us    |        }
 1)               |        pick_task_fair() {
 1)               |          update_curr() {
 1)   3.225 us    |            update_se();
 1)   2.424 us    |            update_deadline();
 1)   3.345 us    |            dl_server_update();
 1) + 19.840 us   |          }
 1)   2.584 us    |          pick_next_entity();
 1) + 31.167 us   |        }
 1)   4.947 us    |        __balance_callbacks();
 1)               |        _raw_spin_unlock() {
 1)   2.694 us    |          do_raw_spin_unlock();
 1)   7.922 us    |        }
 1)               |      __sock_create() {
"#;
        assert_eq!(leaked(t), Vec::<String>::new());
    }
    /// A truncated --from file: a <stack trace> line with no frames.
    #[test]
    fn empty_stack_does_not_panic() {
        let t = r#"  userspace_test-123     [000] .....    96.634290: rsm_user: (__x64_sys_socket+0x4/0x90)
  userspace_test-123     [000] .....    96.636464: <stack trace>
"#;
        let r = analyse(t.to_string());
        assert!(r.syscall.callers.is_empty());
    }
}
