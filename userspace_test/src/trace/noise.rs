//! Noise filtering: the frames an interrupt, a preemption or the tracing machinery itself
//! leave in a traced process's graph, which belong to neither creation path.

/// Frames that only interrupts leave in a process's graph (with their subtrees).
pub(super) const IRQ_NOISE: &[&str] = &[
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
pub(super) fn tracing_machinery(name: &str) -> bool {
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
pub(super) fn irq_frame(name: &str) -> bool {
    name == "irq_enter_rcu"
        || IRQ_NOISE.contains(&name)
        || IRQ_EXIT.contains(&name)
        || name.starts_with("__sysvec_")
        || sched_frame(name)
}

/// Frames of the tracing machinery at the top of a kprobe stack trace.
pub(super) const PROBE_FRAMES: &[&str] = &[
    "kprobe_trace_func",
    "kprobe_dispatcher",
    "kprobe_ftrace_handler",
    "arch_ftrace_ops_list_func",
    "ftrace_regs_call",
    "ftrace_call",
    "ftrace_caller",
];
