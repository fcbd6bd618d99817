//! Printing of a trace's result: the two chains side by side, the timing table and the
//! checks.

use super::analyse::{names, shown, Chain, Timing, TraceResult};
use crate::table;

/// Prints the two chains side by side, marking where they join and what only one has, then
/// the timing and the checks.
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
