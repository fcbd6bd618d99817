// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of rust_sockmod: static-inline kernel helpers that kernel::bindings cannot reach,
 * fields of structs that are opaque to bindgen, and the pernet ops. Every function is a thin
 * wrapper; the logic is Rust.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/magic.h>
#include <linux/proc_ns.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "helpers.h"

/* ---- network namespaces --------------------------------------------------------------- */

void rsm_put_net(struct net *net)
{
	put_net(net);
}

/* A counted reference on the calling task's network namespace. */
struct net *rsm_current_net(void)
{
	return get_net(current->nsproxy->net_ns);
}

/*
 * The netns that an nsfs file at @path refers to (/proc/PID/ns/net, /run/netns/NAME): a counted
 * reference, or ERR_PTR. The path is only looked up (as stat(2) would, with the caller's
 * credentials: search permission, and the ptrace check the /proc/PID/ns links apply when
 * followed), never opened, so a FIFO, tty, device or socket path runs no open of its own and
 * gets -EINVAL at once, like any file that is not a network namespace. The looked-up nsfs inode
 * holds a reference on its namespace while we hold the path, so get_net() is safe. (No open
 * also means no security_file_open/fanotify open event: an LSM that mediates opening nsfs files
 * is not asked; the capability check over the target netns's user namespace still applies.)
 */
struct net *rsm_get_net_ns_by_path(const char *path)
{
	struct net *net = ERR_PTR(-EINVAL);
	struct inode *inode;
	struct path p;
	int err;

	err = kern_path(path, LOOKUP_FOLLOW, &p);
	if (err)
		return ERR_PTR(err);
	inode = d_inode(p.dentry);
	if (inode->i_sb->s_magic == NSFS_MAGIC) {
		struct ns_common *ns = get_proc_ns(inode);

		if (ns->ns_type == CLONE_NEWNET)
			net = get_net(container_of(ns, struct net, ns));
	}
	path_put(&p);
	return net;
}

/* Whether @net's count is non-zero (false once its cleanup_net is queued or running). */
bool rsm_net_alive(const struct net *net)
{
	return check_net(net);
}

/*
 * A counted reference on @net unless it is already being dismantled (refcount zero: cleanup_net
 * is queued or running), then NULL.
 */
struct net *rsm_maybe_get_net(struct net *net)
{
	return maybe_get_net(net);
}

/* get_net_ns_by_fd/_by_pid are exported but not in kernel::bindings: thin wrappers. */
struct net *rsm_get_net_ns_by_fd(int fd)
{
	return get_net_ns_by_fd(fd);
}

struct net *rsm_get_net_ns_by_pid(pid_t pid)
{
	return get_net_ns_by_pid(pid);
}

/* The number `readlink /proc/self/ns/net` shows. */
unsigned int rsm_net_inum(const struct net *net)
{
	return net->ns.inum;
}

/* CAP over the user namespace owning @net, checked against the opener's credentials. */
bool rsm_file_net_capable(const struct file *file, const struct net *net, int cap)
{
	return file_ns_capable(file, net->user_ns, cap);
}

/* ---- sockets -------------------------------------------------------------------------- */

void rsm_sock_info(struct socket *sock, struct rsm_sock_info *out)
{
	struct sock *sk = sock->sk;

	out->family = sk->sk_family;
	out->type = sock->type;
	out->protocol = sk->sk_protocol;
	out->state = READ_ONCE(sk->sk_state);	/* bind/listen may change it meanwhile */
	out->ino = SOCK_INODE(sock)->i_ino;
	out->netns_inum = sock_net(sk)->ns.inum;
	out->net_refcnt = sk->sk_net_refcnt;
}

/* Makes a kernel socket hold a counted (tracked) reference on its netns, like a user socket. */
void rsm_sk_net_refcnt_upgrade(struct socket *sock)
{
	sk_net_refcnt_upgrade(sock->sk);
}

/*
 * listen() as listen(2) does it (__sys_listen_socket): the backlog clamped to the socket's
 * netns's net.core.somaxconn, compared as unsigned so that a negative one is clamped too.
 * kernel_listen() alone passes it through, and inet_listen() stores it as u32.
 */
int rsm_listen_clamped(struct socket *sock, int backlog)
{
	int somaxconn = READ_ONCE(sock_net(sock->sk)->core.sysctl_somaxconn);

	if ((unsigned int)backlog > somaxconn)
		backlog = somaxconn;
	return kernel_listen(sock, backlog);
}

/*
 * Binds an AF_INET/AF_INET6 socket to the any-address and @port (host order): -EAFNOSUPPORT
 * for other families; otherwise kernel_bind()'s own result.
 */
int rsm_bind_any(struct socket *sock, u16 port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };

	switch (sock->sk->sk_family) {
	case AF_INET:
		return kernel_bind(sock, (struct sockaddr_unsized *)&a4, sizeof(a4));
	case AF_INET6:
		return kernel_bind(sock, (struct sockaddr_unsized *)&a6, sizeof(a6));
	default:
		return -EAFNOSUPPORT;
	}
}

/* The socket's netns (no reference taken: valid while the socket lives). */
struct net *rsm_sock_net(struct socket *sock)
{
	return sock_net(sock->sk);
}

/* ---- pernet hooks ----------------------------------------------------------------------- */

static int __net_init rsm_net_init(struct net *net)
{
	rust_sockmod_net_init(net);
	return 0;
}

/*
 * .pre_exit, not .exit: cleanup_net() (net/core/net_namespace.c, ops_undo_list) runs the
 * .pre_exit of every pernet op, then synchronize_rcu(), then the .exit of every op in reverse
 * registration order. A protocol module loaded after rust_sockmod (tipc, sctp, ... on first use)
 * registers its ops after ours, so its .exit runs before ours would and frees the per-netns
 * state (tipc's socket table) that releasing one of its sockets needs. In .pre_exit no .exit
 * has run yet, so every protocol's per-netns state is still there. (unregister_pernet_subsys at
 * unload runs our .pre_exit for every netns as well, with every protocol still registered.)
 */
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

/* ---- the calling task ------------------------------------------------------------------- */

u64 rsm_now_ns(void)
{
	return ktime_get_ns();
}

/* The caller's tgid (as its own pid namespace sees it) and comm (TASK_COMM_LEN bytes). */
int rsm_current_tgid_comm(char *comm)
{
	char buf[TASK_COMM_LEN];

	get_task_comm(buf, current);
	memcpy(comm, buf, TASK_COMM_LEN);
	return task_tgid_vnr(current);
}

/* Gives the CPU away if needed; true when the caller should stop for a signal. */
bool rsm_resched_and_signal_pending(void)
{
	cond_resched();
	return signal_pending(current);
}
