//! `trace`: one creation through each path under tracefs function_graph (graph roots
//! `__x64_sys_socket` and `sock_create_kern`) plus kprobe stack traces for the callers the
//! graph tracer cannot see (the noinstr syscall entry), printed side by side.
//!
//! One file per concern: [`tracefs`] captures (the only file touching /sys/kernel/tracing),
//! [`parse`] reads its text into frames and stacks, [`noise`] names the frames of interrupts,
//! preemptions and the tracer itself, [`analyse`] turns frames into chains, timing and checks,
//! [`print`] shows them.

mod analyse;
mod noise;
mod parse;
mod print;
mod tracefs;

pub use analyse::analyse;

/// Pairs traced: the durations are medians over all of them; the first whole graph of each
/// path is the one shown. (Here, not in `tracefs`: `analyse` checks it too, and `tracefs`
/// already depends on `analyse`.)
const PAIRS: usize = 5;
pub use print::print;
pub use tracefs::run;

#[cfg(test)]
mod preemption_tests;
#[cfg(test)]
mod tests;
