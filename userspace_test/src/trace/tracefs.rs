//! tracefs I/O: mounting it, setting the tracers, kprobe events and filters up, capturing
//! the traced pairs, and putting everything back as it was found.

use super::analyse::{analyse, TraceResult};
use super::PAIRS;
use crate::device::{Device, Netns};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

const T: &str = "/sys/kernel/tracing";

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
