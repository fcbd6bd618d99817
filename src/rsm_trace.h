/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rust_sockmod's tracepoints (events/rust_sockmod/ in tracefs), declared the kernel's way; the
 * Rust side calls them through src/trace.rs. Fields are plain integers: the record is copied.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rust_sockmod

#undef TRACE_INCLUDE_FILE
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_FILE rsm_trace
#define TRACE_INCLUDE_PATH .

#if !defined(_RUST_SOCKMOD_RSM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RUST_SOCKMOD_RSM_TRACE_H

#include <linux/tracepoint.h>

/*
 * A sock_create_kern() made by the module: id 0 and a negative errno when it failed, or when
 * it was undone because the reply could not be copied (then the errno is the copy's).
 */
TRACE_EVENT(create,
	TP_PROTO(u32 netns, int family, int type, int protocol, u64 id, int err, u64 latency_ns),
	TP_ARGS(netns, family, type, protocol, id, err, latency_ns),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(int, family)
		__field(int, type)
		__field(int, protocol)
		__field(u64, id)
		__field(int, err)
		__field(u64, latency_ns)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->family = family;
		__entry->type = type;
		__entry->protocol = protocol;
		__entry->id = id;
		__entry->err = err;
		__entry->latency_ns = latency_ns;
	),
	TP_printk("netns=%u family=%d type=%d protocol=%d id=%llu errno=%d latency_ns=%llu",
		  __entry->netns, __entry->family, __entry->type, __entry->protocol,
		  __entry->id, __entry->err, __entry->latency_ns)
);

/* A socket leaving the table, and why. */
TRACE_EVENT(release,
	TP_PROTO(u64 id, int cause),
	TP_ARGS(id, cause),
	TP_STRUCT__entry(
		__field(u64, id)
		__field(int, cause)
	),
	TP_fast_assign(
		__entry->id = id;
		__entry->cause = cause;
	),
	TP_printk("id=%llu cause=%s", __entry->id,
		  __print_symbolic(__entry->cause, { 0, "user" }, { 1, "netns_exit" }, { 2, "unload" }))
);

/*
 * The pernet .pre_exit hook of a netns being dismantled (or of each netns at unload), and the
 * sockets it released.
 */
TRACE_EVENT(netns_exit,
	TP_PROTO(u32 netns, u64 count),
	TP_ARGS(netns, count),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(u64, count)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->count = count;
	),
	TP_printk("netns=%u count=%llu", __entry->netns, __entry->count)
);

/*
 * A kernel socket the census recorded, as the family's create function initialises it (seq:
 * its census number; pid 0 outside a task). Its type and protocol: in the report, and in
 * kernel_socket_destroy.
 */
TRACE_EVENT(kernel_socket_create,
	TP_PROTO(u32 netns, int family, u64 seq, int pid),
	TP_ARGS(netns, family, seq, pid),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(int, family)
		__field(u64, seq)
		__field(int, pid)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->family = family;
		__entry->seq = seq;
		__entry->pid = pid;
	),
	TP_printk("netns=%u family=%d seq=%llu pid=%d",
		  __entry->netns, __entry->family, __entry->seq, __entry->pid)
);

/* A census socket destroyed (sk_destruct), and how long it lived. */
TRACE_EVENT(kernel_socket_destroy,
	TP_PROTO(u32 netns, int family, int type, int protocol, u64 seq, u64 age_ns),
	TP_ARGS(netns, family, type, protocol, seq, age_ns),
	TP_STRUCT__entry(
		__field(u32, netns)
		__field(int, family)
		__field(int, type)
		__field(int, protocol)
		__field(u64, seq)
		__field(u64, age_ns)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->family = family;
		__entry->type = type;
		__entry->protocol = protocol;
		__entry->seq = seq;
		__entry->age_ns = age_ns;
	),
	TP_printk("netns=%u family=%d type=%d protocol=%d seq=%llu age_ns=%llu",
		  __entry->netns, __entry->family, __entry->type, __entry->protocol,
		  __entry->seq, __entry->age_ns)
);

#endif /* _RUST_SOCKMOD_RSM_TRACE_H */

#include <trace/define_trace.h>
