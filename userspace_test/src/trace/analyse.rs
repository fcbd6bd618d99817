//! Analysis of parsed frames: each path's graphs below its root, the chains and where they
//! join, the timing medians, the frames only one path has, and the checks.

use super::noise::tracing_machinery;
use super::parse::{callers, parse, Frame};
use super::PAIRS;
use serde::Serialize;

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
    pub(super) fn of(syscalls: &[Vec<Frame>], kernels: &[Vec<Frame>]) -> Self {
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

pub(super) fn names(g: &[Frame]) -> std::collections::BTreeSet<String> {
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
