//! Tests of parsing and analysis on function_graph and kprobe samples.

use super::analyse::*;
use super::parse::*;

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
