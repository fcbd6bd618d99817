//! Preemptions in the debug kernel's traces (lines from its raw traces) and a cut `--from`
//! file.

use super::analyse::*;
use super::parse::*;
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
