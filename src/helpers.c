// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of rust_sockmod: only what Rust cannot reach in both 7.2 and 7.3 (src/shim.rs says
 * why for each); the logic is Rust.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/namei.h>
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/user_namespace.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "helpers.h"

/* One more count on @net, whose count is non-zero. */
void rsm_get_net(struct net *net)
{
	get_net(net);
}

void rsm_put_net(struct net *net)
{
	put_net(net);
}

/* A counted reference on the calling task's network namespace. */
struct net *rsm_current_net(void)
{
	return get_net(current->nsproxy->net_ns);
}

/* NULL once @net's count is zero (cleanup_net queued or running). */
struct net *rsm_maybe_get_net(struct net *net)
{
	return maybe_get_net(net);
}

bool rsm_net_alive(const struct net *net)
{
	return check_net(net);
}

/* Fields of struct net (opaque in 7.2's bindings). */
unsigned int rsm_net_inum(const struct net *net)
{
	return net->ns.inum;
}

/* The count of counted references (ns_ref_read from 7.3; ns.count before). */
int rsm_net_count(const struct net *net)
{
#ifdef ns_ref_read
	return ns_ref_read(net);
#else
	return refcount_read(&net->ns.count);
#endif
}

struct user_namespace *rsm_net_user_ns(const struct net *net)
{
	return net->user_ns;
}

/* Whether the opener of @file has @cap over the initial user namespace (host-wide rights). */
bool rsm_file_capable_init_ns(const struct file *file, int cap)
{
	return file_ns_capable(file, &init_user_ns, cap);
}

int rsm_sock_somaxconn(struct socket *sock)
{
	return READ_ONCE(sock_net(sock->sk)->core.sysctl_somaxconn);
}

/*
 * The netns of the nsfs file at @path, or ERR_PTR: looked up as stat(2) would, never opened
 * (a FIFO runs no open); the nsfs inode pins its namespace while we hold the path.
 */
struct net *rsm_get_net_ns_by_path(const char *path)
{
	struct net *net = ERR_PTR(-EINVAL);
	struct path p;
	int err;

	err = kern_path(path, LOOKUP_FOLLOW, &p);
	if (err)
		return ERR_PTR(err);
	if (d_inode(p.dentry)->i_sb->s_magic == NSFS_MAGIC) {
		struct ns_common *ns = get_proc_ns(d_inode(p.dentry));

		if (ns->ns_type == CLONE_NEWNET)
			net = get_net(container_of(ns, struct net, ns));
	}
	path_put(&p);
	return net;
}

/*
 * Makes a socket just made by sock_create_kern() hold a counted reference on its netns, as a
 * user socket does. Decided from the socket, not the kernel version: if sock_create_kern()
 * already took one (the upstream proposal "socket: Restore sock_create_kern()" makes it count,
 * the passive variant becoming __sock_create_kern()), sk_net_refcnt_upgrade() would WARN, so
 * nothing is done. Returns whether it upgraded.
 */
bool rsm_sock_hold_net(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (sk->sk_net_refcnt)
		return false;
	sk_net_refcnt_upgrade(sk);
	return true;
}

/* What the socket reports of itself, and what ss shows of it (sk: cookie, local address). */
void rsm_sock_info(struct socket *sock, struct rsm_sock_info *out)
{
	struct sock *sk = sock->sk;
	u32 cookie[2];

	memset(out, 0, sizeof(*out));
	out->family = sk->sk_family;
	out->type = sock->type;
	out->protocol = sk->sk_protocol;
	out->state = READ_ONCE(sk->sk_state);	/* bind/listen may change it meanwhile */
	out->ino = SOCK_INODE(sock)->i_ino;
	out->netns_inum = sock_net(sk)->ns.inum;
	out->net_refcnt = sk->sk_net_refcnt;
	sock_diag_save_cookie(sk, cookie);	/* generates it on first use, as ss would */
	out->cookie = cookie[0] | (u64)cookie[1] << 32;
	/* Lockless, as /proc/net/tcp reads it; a raw socket's inet_num is no port. */
	if (sock->type == SOCK_RAW)
		return;
	if (sk->sk_family == AF_INET) {
		out->local_port = READ_ONCE(inet_sk(sk)->inet_num);
		memcpy(out->local_addr, &inet_sk(sk)->inet_rcv_saddr, 4);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		out->local_port = READ_ONCE(inet_sk(sk)->inet_num);
		memcpy(out->local_addr, &sk->sk_v6_rcv_saddr, 16);
	}
#endif
}

/* The socket's netns (no reference taken: valid while the socket lives). */
struct net *rsm_sock_net(struct socket *sock)
{
	return sock_net(sock->sk);
}

/* The pernet hooks: src/pernet.rs says why .pre_exit and not .exit. */
static int __net_init rsm_net_init(struct net *net)
{
	rust_sockmod_net_init(net);
	return 0;
}

static void __net_exit rsm_net_pre_exit(struct net *net)
{
	rust_sockmod_net_pre_exit(net);
}

static struct pernet_operations rsm_net_ops = {
	.init = rsm_net_init,
	.pre_exit = rsm_net_pre_exit,
};

int rsm_register_pernet(void)
{
	return register_pernet_subsys(&rsm_net_ops);
}

void rsm_unregister_pernet(void)
{
	unregister_pernet_subsys(&rsm_net_ops);
}

void rsm_current_comm(char *comm)
{
	char buf[TASK_COMM_LEN];

	get_task_comm(buf, current);
	memcpy(comm, buf, TASK_COMM_LEN);
}

void rsm_cond_resched(void)
{
	cond_resched();
}

/* One refusal reason per 200 ms in the log (the tests wait that long between two). */
static DEFINE_RATELIMIT_STATE(rsm_reason_rs, HZ / 5, 1);

bool rsm_reason_ratelimit(void)
{
	return __ratelimit(&rsm_reason_rs);
}
