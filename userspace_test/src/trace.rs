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
/// The last frame of an interrupt's footprint in a function_graph trace.
const IRQ_EXIT: &[&str] = &[
    "raw_irqentry_exit_cond_resched",
    "irqentry_exit",
    "irqentry_exit_to_user_mode",
];
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

/// Puts tracefs back as it was found (best effort; runs on every exit path).
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = write("tracing_on", "0");
        let _ = write("current_tracer", "nop");
        let _ = write("set_graph_function", "");
        let _ = write("set_ftrace_pid", "");
        let _ = write("set_event_pid", "");
        let _ = write("max_graph_depth", "0");
        let _ = write("options/funcgraph-irqs", "1");
        for ev in ["rsm_user", "rsm_kern"] {
            let _ = write(&format!("events/kprobes/{ev}/enable"), "0");
            let _ = write(&format!("events/kprobes/{ev}/trigger"), "!stacktrace");
            let _ = append("kprobe_events", &format!("-:{ev}\n"));
        }
        let _ = write("trace", "");
    }
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
    // Depth of an interrupt that arrived inside a traced function: its frames (irq_enter_rcu
    // up to the irqentry exit, softirqs included) belong to neither path.
    let mut irq_at: Option<usize> = None;
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
                if depth > d || (depth == d && !IRQ_EXIT.contains(&name)) {
                    continue;
                }
                irq_at = None;
                if depth == d {
                    continue; // the exit frame itself
                }
            }
            if name == "irq_enter_rcu" {
                irq_at = Some(depth);
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
    let mut v: Vec<String> = stack[from + 1..]
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

/// Pairs traced: the first shows the chains; the durations are medians over all of them.
const PAIRS: usize = 5;

pub fn run(dev: &Device) -> Result<TraceResult, String> {
    ensure_tracefs()?;
    let _cleanup = Cleanup;
    let pid = std::process::id().to_string();
    write("tracing_on", "0")?;
    write("trace", "")?;
    write("current_tracer", "function_graph")?;
    write("max_graph_depth", "12")?;
    // Interrupts that happen to arrive during the creation are not part of either path.
    write("options/funcgraph-irqs", "0")?;
    write("set_graph_function", "__x64_sys_socket sock_create_kern")?;
    write("set_ftrace_pid", &pid)?;
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
    write("tracing_on", "1")?;
    for _ in 0..PAIRS {
        // SAFETY: plain system call; the fd is closed right away.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
        let created = dev.create(libc::AF_INET, libc::SOCK_STREAM, 0, Netns::Caller, false);
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            let _ = write("tracing_on", "0");
            return Err(format!("socket(): {e}"));
        }
        // SAFETY: `fd` is ours.
        unsafe { libc::close(fd) };
        let c = created.map_err(|e| format!("RSM_IOC_CREATE: {e}"))?;
        dev.release(c.id).map_err(|e| format!("release: {e}"))?;
    }
    write("tracing_on", "0")?;
    let text = fs::read_to_string(format!("{T}/trace")).map_err(|e| format!("{T}/trace: {e}"))?;
    let (frames, stacks) = parse(&text);
    let stack_of = |probe: &str, probed: &str| {
        stacks
            .iter()
            .find(|(p, _)| p == probe)
            .map(|(_, s)| callers(s, probed))
            .unwrap_or_default()
    };
    let syscall = Chain {
        callers: stack_of("rsm_user", "__x64_sys_socket"),
        graph: subtree(&frames, "__x64_sys_socket"),
    };
    let kernel = Chain {
        callers: stack_of("rsm_kern", "sock_create_kern"),
        graph: subtree(&frames, "sock_create_kern"),
    };
    let timing = Timing::of(
        &subtrees(&frames, "__x64_sys_socket"),
        &subtrees(&frames, "sock_create_kern"),
    );
    let (nu, nk) = (names(&shown(&syscall.graph)), names(&shown(&kernel.graph)));
    let only_syscall: Vec<String> = nu.difference(&nk).cloned().collect();
    let only_kernel: Vec<String> = nk.difference(&nu).cloned().collect();
    let checks = vec![
        (
            "syscall entry: entry_SYSCALL_64 -> do_syscall_64 -> __x64_sys_socket".to_string(),
            syscall.callers.iter().any(|f| f.starts_with("entry_SYSCALL_64")) && syscall.callers.iter().any(|f| f == "do_syscall_64"),
        ),
        ("__x64_sys_socket -> __sys_socket -> __sock_create -> inet_create".to_string(), has_chain(&syscall.graph, &["__x64_sys_socket", "__sys_socket", "__sock_create", "inet_create"])),
        ("sock_create_kern -> __sock_create -> inet_create".to_string(), has_chain(&kernel.graph, &["sock_create_kern", "__sock_create", "inet_create"])),
        ("only the syscall path allocates a file and installs an fd (sock_alloc_file, fd_install)".to_string(), nu.contains("sock_alloc_file") && !nk.contains("sock_alloc_file") && !nk.contains("fd_install")),
        ("the module path is entered through ioctl".to_string(), kernel.callers.iter().any(|f| f.contains("sys_ioctl"))),
        (
            format!("durations: {PAIRS} pairs of each path timed, the syscall's descriptor and file and both __sock_create measured"),
            timing.pairs == PAIRS && timing.syscall_ns > 0 && timing.kernel_ns > 0 && timing.fd_and_file_ns > 0
                && timing.syscall_create_ns > 0 && timing.kernel_create_ns > 0,
        ),
    ];
    Ok(TraceResult {
        syscall,
        kernel,
        timing,
        only_syscall,
        only_kernel,
        checks,
    })
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
