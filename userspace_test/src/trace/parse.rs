//! Parsing of tracefs text: function_graph lines into frames with their durations, kprobe
//! stack-trace blocks into caller lists, with interrupts' and preemptions' frames dropped.

use super::noise::{irq_frame, IRQ_NOISE, PROBE_FRAMES};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub depth: usize,
    pub func: String,
    /// Time in the function, children included, as function_graph measured it (ns); `None`
    /// when the graph was cut before its end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ns: Option<u64>,
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
pub(super) fn event_name(line: &str) -> Option<&str> {
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
