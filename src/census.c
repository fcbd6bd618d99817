// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel socket census: while it is on, every struct sock the kernel creates as a kernel
 * socket (sk_alloc with kern=1: sock_create_kern, netlink_kernel_create, inet_ctl_sock_create,
 * ...) or clones from one (a child accepted by a kernel listener) is recorded when it is made
 * and removed when it is destroyed, with the call chain that made it.
 *
 * Why C and not Rust: the handlers run in probe context (any context sock_init_data_uid,
 * sk_clone and sk_destruct run in: process, softirq, RCU callbacks) with ftrace_regs and
 * kretprobe instances, the ORC unwinder and the sock bitfields, none of which the kernel crate
 * (7.2, 7.3) wraps; the Rust side (src/census.rs) turns it on and off and formats what
 * rsm_census_fill() and rsm_census_site() copy out.
 *
 * Why an entry probe on sock_init_data_uid for creation: every family's create function
 * (inet, inet6, netlink, packet, unix, tipc, ...) calls it on the sock it just got from
 * sk_alloc, and sk_kern_sock already says whether it is a kernel socket. An entry probe has no
 * return trampoline, which a kretprobe on sk_alloc made every socket on the host pay. A clone
 * has no sock_init_data: sk_clone keeps a kretprobe (its entry handler declines unless the
 * parent is a kernel socket). A creation a probe misses is only a sock not recorded, counted
 * in `missed`.
 *
 * Why ftrace, not a kprobe, for destruction: a missed destruction would leave a freed sock in
 * the table. A kprobe that fires while any kprobe handler runs on the same CPU is skipped
 * (kprobe_running(): counted in nmissed, the handler not called), and kprobe handlers on
 * ftrace sites run with interrupts enabled: an RCU callback in softirq freeing a sock through
 * __sk_destruct while a kretprobe's return handler on sk_alloc (the first version's creation
 * probe) ran in process context was missed that way (the fuzzer found it: a NULL dereference
 * reading the freed sock's netns). An ftrace callback has a recursion guard per context
 * (task, softirq, irq, NMI), so a destruction nested in any probe handler of another context
 * is still seen.
 *
 * Why a bare ftrace_ops per function, not fprobe: the three entry probes fire for every sock
 * on the host. fprobe (the second version's) looks the ip up in its hash table and dispatches
 * to the handler on every hit; an ftrace_ops of its own per function is called straight from
 * that function's ftrace trampoline. Counted in guest instructions (QEMU -icount), fprobe's
 * layer was about 75 of the ~160 instructions of a hit (docs/census.md). The callbacks take
 * ftrace's recursion guard, as fprobe did around its handlers; a call it refuses is counted in
 * `missed` (fprobe did not count): for any sock, so an upper bound of the kernel sockets
 * missed. fprobe also tested rcu_is_watching() on every hit: here that test is left to
 * kernels where traceable code may run without RCU (census_hook_enter()). (With another
 * tracer on the same function, ftrace's list function has a guard of its own, which refuses
 * silently.) A refused destruction of a sock that may be in the table is worse, a freed sock
 * left there: it is counted in `lost_destroys`, and from then on the readers no longer look at
 * any entry.
 *
 * Memory: every entry is preallocated when the census starts (process context, GFP_KERNEL);
 * the handlers never allocate and never sleep. When the table is full a creation is counted in
 * `dropped`, never silently lost; a clone whose return probe found no free kretprobe instance
 * is counted by the kretprobe itself (`nmissed`, reported as `missed`).
 *
 * Lifetime: an entry's sk is valid while the entry is in the table, because the entry is
 * removed by the probe on sk_destruct() (every sock is freed through it, before its memory is
 * released; __sk_destruct runs after it, directly or after a grace period), under
 * census_lock, which the readers hold while they look at the sock. The sock's netns is valid
 * as long as the sock: it holds a counted or a passive (net->passive) reference.
 */
#include <linux/ctype.h>
#include <linux/ftrace.h>
#include <linux/ftrace_regs.h>
#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/trace_recursion.h>
#ifdef CONFIG_X86
#include <asm/unwind.h>
#endif
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <linux/net.h>
#include <linux/in.h>

#include "helpers.h"
#include "rsm_trace.h"

#if !IS_ENABLED(CONFIG_KRETPROBES) || !IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_ARGS)
/*
 * A kernel without kretprobes or ftrace with arguments has no census: `census on` says so
 * (EOPNOTSUPP).
 */
int rsm_census_start(u32 max)
{
	pr_info("rust_sockmod: census: needs CONFIG_KRETPROBES and CONFIG_DYNAMIC_FTRACE_WITH_ARGS\n");
	return -EOPNOTSUPP;
}

void rsm_census_stop(void)
{
}

bool rsm_census_totals(struct rsm_census_totals *t)
{
	memset(t, 0, sizeof(*t));
	return false;
}

u32 rsm_census_fill(u32 *bucket, u32 *skip, struct rsm_census_rec *out, u32 max)
{
	return 0;
}

int rsm_census_site(u32 idx, struct rsm_census_site_info *out)
{
	return -ENOENT;
}
#else

#define CENSUS_HASH_BITS 14
#define CENSUS_SITES 512
/* Room for the frames the entry handler saves (stack_trace_save: the handler's own first). */
#define CENSUS_STACK 24

struct census_entry {
	struct hlist_node node;		/* in census_hash, or in census_free */
	struct sock *sk;
	u64 created_ns;
	u64 seq;
	pid_t pid;
	u16 site;
	bool clone;
	char comm[TASK_COMM_LEN];
};

/* A call site: the chain of return addresses above the allocator. */
struct census_site {
	unsigned long frames[RSM_CENSUS_FRAMES];
	u8 nr;
	bool used;			/* the slot holds a site */
	bool own;			/* a frame is in rust_sockmod */
	bool named;			/* creator/chain below are filled (process context) */
	u64 created;
	u64 destroyed;
	char creator[RSM_CENSUS_NAME];
	char chain[RSM_CENSUS_CHAIN];
};

/* What the clone probe's entry handler hands to its return handler. */
struct census_call {
	struct sock *parent;
};

static DEFINE_MUTEX(census_mutex);	/* start/stop and site naming (process context) */
static DEFINE_SPINLOCK(census_lock);	/* everything below; taken with irqsave */
static struct census_entry *census_pool;
static u32 census_max;
static struct hlist_head census_hash[1 << CENSUS_HASH_BITS];
static struct hlist_head census_free;
static struct census_site *census_sites;
static u32 census_nsites;
static u64 census_live, census_created, census_destroyed, census_dropped, census_sites_full;
static u64 census_seq, census_started_ns;
static bool census_running;

static u32 census_bucket(const struct sock *sk)
{
	return hash_ptr(sk, CENSUS_HASH_BITS);
}

/* The entry of @sk, or NULL (census_lock held). */
static struct census_entry *census_find(const struct sock *sk)
{
	struct census_entry *e;

	hlist_for_each_entry(e, &census_hash[census_bucket(sk)], node)
		if (e->sk == sk)
			return e;
	return NULL;
}

/*
 * The index of the site of these frames, added if new; site 0 ("unknown") when the site
 * table is full (census_lock held).
 */
static u16 census_site_of(const unsigned long *frames, unsigned int nr)
{
	u32 h = 0, i, n;

	for (i = 0; i < nr; i++)
		h = hash_32(h ^ (u32)frames[i] ^ (u32)(frames[i] >> 32), 32);
	/* Open addressing over sites 1..CENSUS_SITES-1; 0 is "unknown". */
	for (n = 0; n < CENSUS_SITES - 1; n++) {
		u32 idx = 1 + (h + n) % (CENSUS_SITES - 1);
		struct census_site *s = &census_sites[idx];

		if (!s->used) {
			/* A free slot: the chain is new. */
			memcpy(s->frames, frames, nr * sizeof(*frames));
			s->nr = nr;
			s->used = true;
			for (i = 0; i < nr; i++)
				if (within_module(frames[i], THIS_MODULE))
					s->own = true;
			census_nsites++;
			return idx;
		}
		if (s->nr == nr && !memcmp(s->frames, frames, nr * sizeof(*frames)))
			return idx;
	}
	census_sites_full++;
	return 0;
}

/* Takes @e out of the table, counted as destroyed (census_lock held). */
static void census_unlink(struct census_entry *e)
{
	hlist_del(&e->node);
	census_live--;
	census_destroyed++;
	census_sites[e->site].destroyed++;
	e->sk = NULL;
	hlist_add_head(&e->node, &census_free);
}

/*
 * Records @sk, made by the call chain @frames (or a clone of @parent), in the table; @known is
 * the chain's site when the caller already knows it (a memo hit), else -1. Returns the site
 * the sock was recorded under, or -1 if it was not recorded (census_lock not held; any context).
 */
static int census_insert(struct sock *sk, const unsigned long *frames, unsigned int nr,
			 struct sock *parent, int known)
{
	struct census_entry *e, *p;
	unsigned long flags;
	int ret = -1;
	u16 site = 0;

	spin_lock_irqsave(&census_lock, flags);
	if (!census_running)
		goto out;
	e = census_find(sk);
	if (e) {
		/*
		 * Recorded already: initialised twice, or a destruction the probes missed and the
		 * memory reused. The old entry goes (counted as destroyed), the new one is recorded.
		 */
		pr_warn_ratelimited("rust_sockmod: census: a sock recorded twice (seq %llu)\n", e->seq);
		census_unlink(e);
	}
	census_created++;
	if (hlist_empty(&census_free)) {
		census_dropped++;
		goto out;
	}
	if (parent) {
		/* A child accepted by a kernel listener: its creator is the listener's. */
		p = census_find(parent);
		site = p ? p->site : 0;
	} else {
		site = known > 0 ? known : census_site_of(frames, nr);
	}
	ret = site;
	census_sites[site].created++;
	e = hlist_entry(census_free.first, struct census_entry, node);
	hlist_del(&e->node);
	e->sk = sk;
	e->created_ns = ktime_get_ns();
	e->seq = ++census_seq;
	e->site = site;
	e->clone = parent != NULL;
	if (in_task()) {
		e->pid = task_tgid_nr(current);
		memcpy(e->comm, current->comm, TASK_COMM_LEN);
		e->comm[TASK_COMM_LEN - 1] = 0;
	} else {
		e->pid = 0;
		strscpy(e->comm, in_serving_softirq() ? "[softirq]" : "[irq]", TASK_COMM_LEN);
	}
	hlist_add_head(&e->node, &census_hash[census_bucket(sk)]);
	census_live++;
	if (trace_kernel_socket_create_enabled())
		trace_kernel_socket_create(sock_net(sk)->ns.inum, sk->sk_family, e->seq, e->pid);
out:
	spin_unlock_irqrestore(&census_lock, flags);
	return ret;
}

#if defined(CONFIG_X86) && defined(CONFIG_UNWINDER_ORC)
/*
 * Saves the return addresses above the probed function (up to RSM_CENSUS_FRAMES) into
 * @frames, and into @slots where on the stack each was read. The unwinder starts from the
 * probe's registers, so the probe's own frames (handler, ftrace trampolines) are neither
 * walked nor kept, and it stops after the frames a site keeps: this walk is most of what a
 * kernel socket costs (docs/census.md). *@memo_ok says whether the chain can be memoised:
 * task context, every address read from a slot of the current task's stack above @regs->sp,
 * each slot above the last (no exception frame, no return trampoline of a kretprobe or the
 * function graph tracer in between).
 */
static unsigned int census_walk(struct pt_regs *regs, unsigned long *frames,
				unsigned long **slots, bool *memo_ok)
{
	unsigned long top = (unsigned long)task_stack_page(current) + THREAD_SIZE;
	unsigned long addr, prev = regs->ip, *slot;
	struct unwind_state state;
	unsigned int n = 0;

	*memo_ok = in_task();
	for (unwind_start(&state, current, regs, NULL);
	     !unwind_done(&state) && n < RSM_CENSUS_FRAMES; unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		/*
		 * A function calling itself from one call site: keep the frame once. Its skipped
		 * slot would not be re-read by the memo, so such a chain is not memoised.
		 */
		if (addr == prev) {
			*memo_ok = false;
			continue;
		}
		slot = state.regs ? NULL : (unsigned long *)state.sp - 1;
		if (!slot || (unsigned long)slot < regs->sp || (unsigned long)(slot + 1) > top ||
		    (n && slot <= slots[n - 1]) || READ_ONCE_NOCHECK(*slot) != addr)
			*memo_ok = false;
		slots[n] = slot;
		frames[n++] = addr;
		prev = addr;
	}
	return n;
}

/*
 * One memo hit in this many is walked anyway and compared (the memo's audit). A walk is ~5,400
 * guest instructions against ~3,400 for a whole sock_create_kern()+sock_release(): at one in
 * 64 the audit alone added 2.5% to that loop, at one in 256 it adds 0.6%.
 */
#define CENSUS_AUDIT 256

/*
 * The last chain a CPU walked in task context, and where its return addresses were read
 * from. A creation by the same task at the same stack pointer whose slots still hold the same
 * return addresses has the same chain: with ORC, a frame's size is a function of its return
 * address, so each slot found by the walk is again where the next return address is, and the
 * walk would read exactly these values. The exceptions are frame-pointer-based ORC frames (a
 * caller that realigns its stack, or allocas: the random stack offset at syscall entry):
 * another path reaching the same stack pointer through one, with the old return address left
 * in its padding, would be taken for the memoised one; the audit below is there for that.
 * A hit is a loop creating sockets from one place, where the walk was most of the cost. The
 * memo is recorded and used only in task context, on the CPU it was recorded on, with
 * preemption disabled (ftrace's recursion guard disables it), so it needs no lock. One hit in
 * CENSUS_AUDIT is walked anyway and compared: a difference is counted (`memo_wrong`, which
 * tests require to stay 0) and the walk's chain is used.
 */
struct census_memo {
	const struct task_struct *task;
	unsigned long sp;
	u64 gen;			/* census_gen when it was recorded */
	unsigned long *slots[RSM_CENSUS_FRAMES];
	unsigned long frames[RSM_CENSUS_FRAMES];
	unsigned int nr;
	int site;
	u64 hits, audits, wrong;	/* read by rsm_census_totals() from any CPU */
};

static DEFINE_PER_CPU(struct census_memo, census_memo);
/* Which start of the census a memo belongs to: its site index means nothing in another. */
static u64 census_gen;

/*
 * Whether @m holds the chain of a creation whose probe saw stack pointer @sp (task context,
 * preemption disabled).
 */
static bool census_memo_match(const struct census_memo *m, unsigned long sp)
{
	unsigned long top = (unsigned long)task_stack_page(current) + THREAD_SIZE;
	unsigned int i;

	if (m->gen != census_gen || m->task != current || m->sp != sp || !m->nr)
		return false;
	/*
	 * Read only inside the current task's stack, above the probe's stack pointer: the slots
	 * were recorded in increasing order, so the first and the last bound them all. Read as
	 * the unwinder reads (NOCHECK): after another path, a slot may lie in a live frame's
	 * KASAN redzone, which is stack memory all the same.
	 */
	if ((unsigned long)m->slots[0] < sp || (unsigned long)(m->slots[m->nr - 1] + 1) > top)
		return false;
	for (i = 0; i < m->nr; i++)
		if (READ_ONCE_NOCHECK(*m->slots[i]) != m->frames[i])
			return false;
	return true;
}

/*
 * Records the kernel sock @sk with the call chain above the probed function (at @ip, entered
 * with @fregs): from the memo when it matches, else walked (and memoised when it can be).
 */
static void census_record(struct sock *sk, unsigned long ip, struct ftrace_regs *fregs)
{
	unsigned long sp = ftrace_regs_get_stack_pointer(fregs);
	unsigned long frames[RSM_CENSUS_FRAMES], *slots[RSM_CENSUS_FRAMES];
	struct census_memo *m = NULL;
	struct pt_regs tmp, *regs;
	bool memo_ok, audit = false;
	unsigned int nr;
	int site;

	if (in_task()) {
		m = this_cpu_ptr(&census_memo);
		if (census_memo_match(m, sp)) {
			WRITE_ONCE(m->hits, m->hits + 1);
			if (m->hits % CENSUS_AUDIT) {
				census_insert(sk, m->frames, m->nr, NULL, m->site);
				return;
			}
			audit = true;
		}
	}
	regs = ftrace_partial_regs(fregs, &tmp);
	nr = census_walk(regs, frames, slots, &memo_ok);
	if (audit) {
		WRITE_ONCE(m->audits, m->audits + 1);
		if (nr != m->nr || memcmp(frames, m->frames, nr * sizeof(*frames))) {
			WRITE_ONCE(m->wrong, m->wrong + 1);
			pr_warn_ratelimited("rust_sockmod: census: a memoised chain differs from the walk (%pS)\n",
					    (void *)frames[0]);
		}
	}
	site = census_insert(sk, frames, nr, NULL, -1);
	if (m) {
		/* Site 0 is "unknown" (the site table full): that goes on through the walk. */
		m->nr = 0;
		if (memo_ok && site > 0 && nr) {
			m->task = current;
			m->sp = sp;
			m->gen = census_gen;
			memcpy(m->slots, slots, nr * sizeof(*slots));
			memcpy(m->frames, frames, nr * sizeof(*frames));
			m->site = site;
			m->nr = nr;
		}
	}
}

/* The memo's counters, summed over CPUs (racy reads of counters: a report, not a decision). */
static void census_memo_totals(struct rsm_census_totals *t)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct census_memo *m = per_cpu_ptr(&census_memo, cpu);

		t->memo_hits += READ_ONCE(m->hits);
		t->memo_audits += READ_ONCE(m->audits);
		t->memo_wrong += READ_ONCE(m->wrong);
	}
}

/* Starts the memos afresh: a new census's sites and counters (census_mutex held, probes off). */
static void census_memo_reset(void)
{
	int cpu;

	census_gen++;
	for_each_possible_cpu(cpu) {
		struct census_memo *m = per_cpu_ptr(&census_memo, cpu);

		m->nr = 0;
		m->hits = m->audits = m->wrong = 0;
	}
}
#else
/*
 * The frames above the probed function at @fn, from @stack (@nr entries, as
 * stack_trace_save() saved them: the handler's and the probe core's frames, then one inside
 * @fn's first bytes, then its caller). Returns how many were copied to @out.
 */
static unsigned int census_chain(const unsigned long *stack, unsigned int nr, unsigned long fn,
				 unsigned long *out)
{
	unsigned int i, n = 0;

	for (i = 0; i < nr; i++)
		if (stack[i] - fn < 32)
			break;
	for (i++; i < nr && n < RSM_CENSUS_FRAMES; i++)
		out[n++] = stack[i];
	return n;
}

/*
 * Records the kernel sock @sk without ORC: the chain saved by stack_trace_save() from the
 * handler (its own frames first), walked every time.
 */
static void census_record(struct sock *sk, unsigned long ip, struct ftrace_regs *fregs)
{
	unsigned long stack[CENSUS_STACK], frames[RSM_CENSUS_FRAMES];
	unsigned int nr;

	nr = stack_trace_save(stack, CENSUS_STACK, 0);
	nr = census_chain(stack, nr, ip, frames);
	census_insert(sk, frames, nr, NULL, -1);
}

static void census_memo_totals(struct rsm_census_totals *t)
{
}

static void census_memo_reset(void)
{
}
#endif

static struct kretprobe census_rp_clone;

/* sk_clone(sk, priority, lock) (sk_clone_lock(sk, priority) in 7.2): a kern parent's child. */
static int census_clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct census_call *c = (struct census_call *)ri->data;
	struct sock *parent = (struct sock *)regs_get_kernel_argument(regs, 0);

	if (!parent->sk_kern_sock)
		return 1;
	c->parent = parent;
	return 0;
}

static int census_clone_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct census_call *c = (struct census_call *)ri->data;
	struct sock *sk = (struct sock *)regs_return_value(regs);

	if (sk)
		census_insert(sk, NULL, 0, c->parent, -1);
	return 0;
}

/* Removes @sk's entry, if it has one: the sock is being destroyed (any context). */
static void census_remove(struct sock *sk)
{
	struct census_entry *e;
	unsigned long flags;

	/*
	 * Not gated on sk_kern_sock: MPTCP's accept clears it on a child cloned from a kernel
	 * listener, which the census recorded. An empty bucket needs no lock: a sock's entry is
	 * inserted before the sock can be destroyed.
	 */
	if (hlist_empty(&census_hash[census_bucket(sk)]))
		return;
	spin_lock_irqsave(&census_lock, flags);
	e = census_find(sk);
	if (e) {
		/* Guarded: its arguments (a clock read) would be computed with the event off. */
		if (trace_kernel_socket_destroy_enabled())
			trace_kernel_socket_destroy(sock_net(sk)->ns.inum, sk->sk_family,
						    sk->sk_type, sk->sk_protocol, e->seq,
						    ktime_get_ns() - e->created_ns);
		census_unlink(e);
	}
	spin_unlock_irqrestore(&census_lock, flags);
}

/* Calls the ftrace callbacks refused: ftrace's recursion guard (or RCU not watching). */
static atomic_long_t census_hook_missed;
/* Refused destructions of socks that may be in the table: entries no longer read if not 0. */
static atomic_long_t census_lost_destroys;

/*
 * The recursion guard's bit for this hit, or -1 (counted) if the hit is to be skipped.
 *
 * The callbacks need RCU watching (the tracepoints they fire, and the unwinder's module lookup,
 * rely on it). The three probed functions are ordinary traceable code, and on an architecture
 * with ARCH_WANTS_NO_INSTR (x86) RCU watches wherever traceable code runs: the code that runs
 * without it (entry, NMI entry, idle) is noinstr and cannot reach them. ftrace's own function
 * tracer, kprobes on ftrace and livepatch rely on that with no test of their own;
 * CONFIG_FTRACE_VALIDATE_RCU_IS_WATCHING makes the recursion guard check it on every hit (a
 * WARN_ONCE), and the project's debug kernel has it on. So the test is made only where that
 * promise is not given: rcu_is_watching() on every hit cost the test kernel's kernel loop about
 * 0.06 of its timed on/off ratio under TCG, 24 instructions counted (docs/census.md).
 */
static __always_inline int census_hook_enter(unsigned long ip, unsigned long parent_ip)
{
	int bit = -1;

	if (IS_ENABLED(CONFIG_ARCH_WANTS_NO_INSTR) || likely(rcu_is_watching()))
		bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (unlikely(bit < 0))
		atomic_long_inc(&census_hook_missed);
	return bit;
}

/*
 * sock_init_data_uid(sock, sk, uid)'s ftrace callback: every family's create function
 * initialises its new sock there (sock_init_data() wraps it), in the function that called
 * sk_alloc(), before anything can free it. A kernel sock (sk_kern_sock, set by
 * sk_alloc(..., kern=1)) is recorded with the call chain above; a user sock costs this test.
 * An entry probe, so no return probe (a kretprobe on sk_alloc cost every socket on the host
 * its return trampoline).
 */
static void census_hook_init(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op,
			     struct ftrace_regs *fregs)
{
	int bit = census_hook_enter(ip, parent_ip);
	struct sock *sk;

	if (bit < 0)
		return;
	sk = (struct sock *)ftrace_regs_get_argument(fregs, 1);
	if (sk && sk->sk_kern_sock)
		census_record(sk, ip, fregs);
	ftrace_test_recursion_unlock(bit);
}

/*
 * Every sock is freed at the end of __sk_destruct(&sk->sk_rcu), reached from sk_destruct(sk)
 * directly or after a grace period (SOCK_RCU_FREE, reuseport). A compiler may inline either
 * into its caller (clang inlines sk_destruct into __sk_free in 7.3), so both are probed; the
 * first to fire removes the entry. rsm_census_start() checks that one of them does.
 */
static void census_destruct(unsigned long ip, unsigned long parent_ip, struct sock *sk)
{
	int bit = census_hook_enter(ip, parent_ip);

	if (bit < 0) {
		/* Not removed: if it was recorded, its entry now points at freed memory. */
		if (!hlist_empty(&census_hash[census_bucket(sk)])) {
			atomic_long_inc(&census_lost_destroys);
			pr_warn_ratelimited("rust_sockmod: census: a destruction was missed: the table is no longer read (census off, then on)\n");
		}
		return;
	}
	census_remove(sk);
	ftrace_test_recursion_unlock(bit);
}

static void census_hook_destruct(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op,
				 struct ftrace_regs *fregs)
{
	census_destruct(ip, parent_ip, (struct sock *)ftrace_regs_get_argument(fregs, 0));
}

static void census_hook_destruct_rcu(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct rcu_head *head = (struct rcu_head *)ftrace_regs_get_argument(fregs, 0);

	census_destruct(ip, parent_ip, container_of(head, struct sock, sk_rcu));
}

static struct ftrace_ops census_ops_init = {
	.func = census_hook_init,
	.flags = FTRACE_OPS_FL_SAVE_ARGS,
};

static struct kretprobe census_rp_clone = {
	.entry_handler = census_clone_entry,
	.handler = census_clone_ret,
	.data_size = sizeof(struct census_call),
	.maxactive = 64,
};

static struct ftrace_ops census_ops_destruct = {
	.func = census_hook_destruct,
	.flags = FTRACE_OPS_FL_SAVE_ARGS,
};

static struct ftrace_ops census_ops_destruct_rcu = {
	.func = census_hook_destruct_rcu,
	.flags = FTRACE_OPS_FL_SAVE_ARGS,
};

/*
 * Whether the destruct probes see a sock freed without a grace period: a kernel TCP socket
 * made and released here must have left the table when sock_release() returns. If the
 * compiler inlined both probed functions into their callers, it has not, and the census
 * would keep pointers to freed socks: it refuses to run (census_mutex held, probes on).
 */
static int census_selftest(void)
{
	struct socket *sock;
	struct sock *sk;
	unsigned long flags;
	struct census_entry *e;
	bool seen, gone;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (err)
		return err;
	sk = sock->sk;
	spin_lock_irqsave(&census_lock, flags);
	seen = census_find(sk) != NULL;
	spin_unlock_irqrestore(&census_lock, flags);
	sock_release(sock);
	spin_lock_irqsave(&census_lock, flags);
	/* Compared by address only: if it is still here, the sock is freed memory. */
	e = census_find(sk);
	gone = !e;
	if (e)
		census_unlink(e);
	spin_unlock_irqrestore(&census_lock, flags);
	if (!seen) {
		pr_warn("rust_sockmod: census: the sock_init_data_uid probe did not see a kernel socket\n");
		return -EOPNOTSUPP;
	}
	if (!gone) {
		pr_warn("rust_sockmod: census: sk_destruct and __sk_destruct are both inlined here: a freed socket would go unseen\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Frees the table (census_mutex held, probes unregistered). */
static void census_free_all(void)
{
	unsigned long flags;

	spin_lock_irqsave(&census_lock, flags);
	census_running = false;
	spin_unlock_irqrestore(&census_lock, flags);
	kvfree(census_pool);
	kvfree(census_sites);
	census_pool = NULL;
	census_sites = NULL;
}

/*
 * Registers @ops on the function @sym: the filter names it (every function of that name: the
 * three probed are unique in 7.2 and 7.3's vmlinux, and the self-test checks what they see).
 */
static int census_hook(struct ftrace_ops *ops, const char *sym)
{
	char buf[64];
	int err;

	/* A copy: the filter parser may cut its buffer (strsep on ':'). */
	if (strscpy(buf, sym, sizeof(buf)) < 0)
		return -EINVAL;
	err = ftrace_set_filter(ops, (unsigned char *)buf, strlen(buf), 1);
	if (!err) {
		err = register_ftrace_function(ops);
		if (err)
			ftrace_free_filter(ops);
	}
	return err;
}

/* Unregisters @ops: when it returns, no callback of it runs any more. */
static void census_unhook(struct ftrace_ops *ops)
{
	unregister_ftrace_function(ops);
	ftrace_free_filter(ops);
}

/* Registers @rp: a kretprobe is registered again only with its address and miss counts reset. */
static int census_register_kretprobe(struct kretprobe *rp)
{
	rp->nmissed = 0;
	rp->kp.addr = NULL;
	rp->kp.flags = 0;
	rp->kp.nmissed = 0;
	return register_kretprobe(rp);
}

/*
 * Starts the census with room for @max sockets: allocates the table, then registers the
 * probes (destruct first, so that no recorded sock can be freed unseen). 0 if it was already
 * on (nothing registered twice); a negative errno, with nothing left registered, otherwise.
 */
int rsm_census_start(u32 max)
{
	static const char *const clone_syms[] = { "sk_clone", "sk_clone_lock" };
	unsigned long flags;
	int err, i;
	u32 b;

	BUILD_BUG_ON(sizeof(struct rsm_census_totals) != 120);
	BUILD_BUG_ON(sizeof(struct rsm_census_rec) != 96);
	BUILD_BUG_ON(sizeof(struct rsm_census_site_info) != 248);
	/* The same offsets as src/census.rs's KUnit test checks on the Rust side. */
	BUILD_BUG_ON(offsetof(struct rsm_census_rec, netns_inum) != 40);
	BUILD_BUG_ON(offsetof(struct rsm_census_rec, site) != 68);
	BUILD_BUG_ON(offsetof(struct rsm_census_rec, comm) != 76);
	BUILD_BUG_ON(offsetof(struct rsm_census_site_info, creator) != 17);
	if (!max)
		return -EINVAL;
	mutex_lock(&census_mutex);
	if (census_running) {
		err = 0;
		goto out;
	}
	census_pool = kvcalloc(max, sizeof(*census_pool), GFP_KERNEL);
	census_sites = kvcalloc(CENSUS_SITES, sizeof(*census_sites), GFP_KERNEL);
	if (!census_pool || !census_sites) {
		kvfree(census_pool);
		kvfree(census_sites);
		census_pool = NULL;
		census_sites = NULL;
		err = -ENOMEM;
		goto out;
	}
	spin_lock_irqsave(&census_lock, flags);
	for (b = 0; b < ARRAY_SIZE(census_hash); b++)
		INIT_HLIST_HEAD(&census_hash[b]);
	INIT_HLIST_HEAD(&census_free);
	for (b = 0; b < max; b++)
		hlist_add_head(&census_pool[b].node, &census_free);
	census_max = max;
	census_nsites = 0;
	census_live = census_created = census_destroyed = census_dropped = 0;
	census_sites_full = 0;
	atomic_long_set(&census_hook_missed, 0);
	atomic_long_set(&census_lost_destroys, 0);
	strscpy(census_sites[0].creator, "unknown", RSM_CENSUS_NAME);
	census_sites[0].named = true;
	census_started_ns = ktime_get_ns();
	census_memo_reset();
	census_running = true;
	spin_unlock_irqrestore(&census_lock, flags);

	err = census_hook(&census_ops_destruct, "sk_destruct");
	if (err)
		goto free;
	err = census_hook(&census_ops_destruct_rcu, "__sk_destruct");
	if (err)
		goto unreg_destruct;
	err = census_hook(&census_ops_init, "sock_init_data_uid");
	if (err)
		goto unreg_destruct_rcu;
	/* 7.3 has sk_clone (sk_clone_lock is an inline wrapper of it), 7.2 sk_clone_lock. */
	for (i = 0; i < ARRAY_SIZE(clone_syms); i++) {
		census_rp_clone.kp.symbol_name = clone_syms[i];
		err = census_register_kretprobe(&census_rp_clone);
		if (err != -ENOENT && err != -EINVAL)
			break;
	}
	if (err)
		goto unreg_init;
	err = census_selftest();
	if (err)
		goto unreg_clone;
	goto out;

unreg_clone:
	unregister_kretprobe(&census_rp_clone);
unreg_init:
	census_unhook(&census_ops_init);
unreg_destruct_rcu:
	census_unhook(&census_ops_destruct_rcu);
unreg_destruct:
	census_unhook(&census_ops_destruct);
free:
	pr_info("rust_sockmod: census: not started (%d)\n", err);
	census_free_all();
out:
	mutex_unlock(&census_mutex);
	return err;
}

/*
 * Stops the census: unregisters the probes (after which no handler runs) and frees every
 * entry. Nothing happens if it is off.
 */
void rsm_census_stop(void)
{
	mutex_lock(&census_mutex);
	if (census_running) {
		/* Creations first, the destructor last: nothing recorded escapes unseen. */
		unregister_kretprobe(&census_rp_clone);
		census_unhook(&census_ops_init);
		census_unhook(&census_ops_destruct_rcu);
		census_unhook(&census_ops_destruct);
		census_free_all();
	}
	mutex_unlock(&census_mutex);
}

/* The census's totals; false (and *t zeroed) when it is off. */
bool rsm_census_totals(struct rsm_census_totals *t)
{
	unsigned long flags;
	u32 b;

	memset(t, 0, sizeof(*t));
	mutex_lock(&census_mutex);
	if (!census_running) {
		mutex_unlock(&census_mutex);
		return false;
	}
	spin_lock_irqsave(&census_lock, flags);
	t->live = census_live;
	t->created = census_created;
	t->destroyed = census_destroyed;
	t->dropped = census_dropped;
	t->sites = census_nsites;
	t->sites_full = census_sites_full;
	t->max = census_max;
	t->started_ns = census_started_ns;
	t->bytes = (u64)census_max * sizeof(struct census_entry) +
		   CENSUS_SITES * sizeof(struct census_site) + sizeof(census_hash);
	t->lost_destroys = atomic_long_read(&census_lost_destroys);
	/* The module's own sockets still attached to a struct socket (src/census.rs). */
	for (b = 0; b < ARRAY_SIZE(census_hash) && !t->lost_destroys; b++) {
		struct census_entry *e;

		hlist_for_each_entry(e, &census_hash[b], node)
			if (census_sites[e->site].own && !e->clone && READ_ONCE(e->sk->sk_socket))
				t->own_attached++;
	}
	spin_unlock_irqrestore(&census_lock, flags);
	census_memo_totals(t);
	t->missed = census_rp_clone.nmissed + census_rp_clone.kp.nmissed +
		    atomic_long_read(&census_hook_missed);
	mutex_unlock(&census_mutex);
	return true;
}

/* A record of @e as the report shows it (census_lock held: the sock and its netns valid). */
static void census_rec_fill(struct rsm_census_rec *r, struct census_entry *e, u64 now)
{
	struct sock *sk = e->sk;
	struct socket *sock = READ_ONCE(sk->sk_socket);
	struct net *net = sock_net(sk);
	u32 cookie[2];

	memset(r, 0, sizeof(*r));
	r->seq = e->seq;
	r->age_ns = now - e->created_ns;
	r->pid = e->pid;
	memcpy(r->comm, e->comm, TASK_COMM_LEN);
	r->site = e->site;
	r->clone = e->clone;
	r->family = sk->sk_family;
	r->type = sk->sk_type;
	r->protocol = sk->sk_protocol;
	r->state = READ_ONCE(sk->sk_state);
	r->net_refcnt = sk->sk_net_refcnt;
	r->attached = sock != NULL;
	/* The socket inode is freed after a grace period: readable with interrupts off. */
	r->ino = sock ? SOCK_INODE(sock)->i_ino : 0;
	/* Generated on first use, as ss would (no sleeping, no allocation). */
	sock_diag_save_cookie(sk, cookie);
	r->cookie = cookie[0] | (u64)cookie[1] << 32;
	r->netns_inum = net->ns.inum;
	r->net_id = (u64)(unsigned long)net;
	r->net_alive = check_net(net);
	r->net_count = rsm_net_count(net);
	if (sk->sk_family == AF_INET || sk->sk_family == AF_INET6)
		r->local_port = READ_ONCE(inet_sk(sk)->inet_num);
}

/*
 * Copies up to @max records from the table, from bucket *@bucket, entry *@skip of it on, and
 * advances the cursor; returns how many it copied (0: the end). A table changing between two
 * calls may show a socket twice or not at all, as /proc/net/tcp may.
 */
u32 rsm_census_fill(u32 *bucket, u32 *skip, struct rsm_census_rec *out, u32 max)
{
	unsigned long flags;
	u64 now = ktime_get_ns();
	u32 n = 0;

	mutex_lock(&census_mutex);
	/* After a lost destruction an entry may point at freed memory: none is read. */
	if (!census_running || atomic_long_read(&census_lost_destroys))
		goto out;
	spin_lock_irqsave(&census_lock, flags);
	while (*bucket < ARRAY_SIZE(census_hash) && n < max) {
		struct census_entry *e;
		bool full = false;
		u32 i = 0;

		hlist_for_each_entry(e, &census_hash[*bucket], node) {
			if (i++ < *skip)
				continue;
			if (n == max) {
				full = true;
				break;
			}
			census_rec_fill(&out[n++], e, now);
			(*skip)++;
		}
		if (full)
			break;
		(*bucket)++;
		*skip = 0;
	}
	spin_unlock_irqrestore(&census_lock, flags);
out:
	mutex_unlock(&census_mutex);
	return n;
}

/* Whether a frame's function is socket core: the creator is the first frame that is not. */
static bool census_core(const char *fn)
{
	static const char *const core[] = {
		"sk_alloc", "sk_clone", "sk_clone_lock", "sk_prot_alloc", "sock_init_data",
		"sock_init_data_uid",
		"__sock_create", "sock_create_kern", "__sock_create_kern", "sock_create",
		"sock_create_lite", "inet_create", "inet6_create", "__netlink_create",
		"netlink_create", "__netlink_kernel_create", "netlink_kernel_create",
		"inet_ctl_sock_create", "udp_sock_create4", "udp_sock_create6",
		"udp_sock_create", "unix_create", "unix_create1", "packet_create",
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(core); i++)
		if (!strcmp(fn, core[i]))
			return true;
	return false;
}

/*
 * A readable function name from a kallsyms one: C names as they are; Rust v0 names
 * (_R...) as their last two identifiers ("FreshSocket::create").
 */
static void census_demangle(const char *sym, char *out, size_t len)
{
	const char *ids[2] = { NULL, NULL };
	int lens[2] = { 0, 0 };
	const char *p = sym + 2;

	if (strncmp(sym, "_R", 2)) {
		strscpy(out, sym, len);
		return;
	}
	while (*p) {
		if (*p == 'B' || *p == 's') {
			/* A back reference or a disambiguator: base-62 digits up to '_'. */
			const char *q = p + 1;

			while (isalnum(*q))
				q++;
			if (*q == '_') {
				p = q + 1;
				continue;
			}
			p++;
		} else if (isdigit(*p)) {
			int n = 0;

			while (isdigit(*p) && n < 1000)
				n = n * 10 + (*p++ - '0');
			if (*p == '_')
				p++;
			if (n > strnlen(p, n))
				break;
			ids[0] = ids[1];
			lens[0] = lens[1];
			ids[1] = p;
			lens[1] = n;
			p += n;
		} else {
			p++;
		}
	}
	if (!ids[1]) {
		strscpy(out, sym, len);
		return;
	}
	if (ids[0])
		snprintf(out, len, "%.*s::%.*s", lens[0], ids[0], lens[1], ids[1]);
	else
		snprintf(out, len, "%.*s", lens[1], ids[1]);
}

/*
 * "module:function" of a frame (vmlinux for the kernel image) into @mod_fn, and the function
 * alone into @fn.
 */
static void census_name(unsigned long addr, char *mod_fn, size_t mlen, char *fn, size_t flen)
{
	char sym[KSYM_SYMBOL_LEN];
	char *sp, *mod = "vmlinux";

	sprint_symbol_no_offset(sym, addr);
	/* "function [module]" or "function", or a bare address. */
	sp = strchr(sym, ' ');
	if (sp) {
		*sp = 0;
		mod = sp + 1;
		if (*mod == '[')
			mod++;
		mod[strcspn(mod, "] ")] = 0;
	}
	census_demangle(sym, fn, flen);
	snprintf(mod_fn, mlen, "%s:%s", mod, fn);
}

/*
 * Copies site @idx's creator, chain and counters to @out, naming the site first if that was
 * not done yet (process context). -ENOENT past the last site or when the census is off.
 */
int rsm_census_site(u32 idx, struct rsm_census_site_info *out)
{
	unsigned long frames[RSM_CENSUS_FRAMES];
	struct census_site *s;
	unsigned long flags;
	unsigned int nr, i;
	bool named;
	int err = 0;

	memset(out, 0, sizeof(*out));
	mutex_lock(&census_mutex);
	if (!census_running || idx >= CENSUS_SITES) {
		err = -ENOENT;
		goto out;
	}
	s = &census_sites[idx];
	spin_lock_irqsave(&census_lock, flags);
	named = s->named;
	nr = s->nr;
	memcpy(frames, s->frames, sizeof(frames));
	spin_unlock_irqrestore(&census_lock, flags);
	if (!s->used && idx) {
		err = -ENOENT;		/* an unused slot */
		goto out;
	}
	if (!named) {
		/* Symbolised here, never in the handlers. Only census_mutex writes the names. */
		char fn[64], mod_fn[RSM_CENSUS_NAME], *c = s->chain;
		size_t left = RSM_CENSUS_CHAIN;
		bool have_creator = false;

		s->chain[0] = 0;
		for (i = 0; i < nr; i++) {
			int w;

			census_name(frames[i], mod_fn, sizeof(mod_fn), fn, sizeof(fn));
			if (!have_creator && !census_core(fn)) {
				strscpy(s->creator, mod_fn, RSM_CENSUS_NAME);
				have_creator = true;
			}
			if (i < RSM_CENSUS_CHAIN_FRAMES && left > 1) {
				w = snprintf(c, left, "%s%s", i ? "<" : "", fn);
				if (w >= left)
					w = left - 1;
				c += w;
				left -= w;
			}
		}
		if (!have_creator)
			strscpy(s->creator, nr ? mod_fn : "unknown", RSM_CENSUS_NAME);
		if (!nr)
			strscpy(s->chain, "-", RSM_CENSUS_CHAIN);
		s->named = true;
	}
	spin_lock_irqsave(&census_lock, flags);
	out->created = s->created;
	out->destroyed = s->destroyed;
	out->own = s->own;
	spin_unlock_irqrestore(&census_lock, flags);
	memcpy(out->creator, s->creator, RSM_CENSUS_NAME);
	memcpy(out->chain, s->chain, RSM_CENSUS_CHAIN);
out:
	mutex_unlock(&census_mutex);
	return err;
}
#endif /* CONFIG_KRETPROBES */
