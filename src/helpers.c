// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of rust_sockmod: static-inline kernel helpers that kernel::bindings cannot reach,
 * and the misc registration with .owner = THIS_MODULE (the Rust MiscDeviceRegistration of
 * 7.2 leaves fops.owner unset, Rust-for-Linux issue #1182, so rmmod could free the module's
 * code while /dev/rust_sockmod is open). Every function is a thin wrapper; the logic is Rust.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/proc_ns.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "helpers.h"

/* ---- misc device ---------------------------------------------------------------------- */

static struct file_operations rsm_fops;

/*
 * Registers @misc with a module-owned copy of its fops: the VFS then takes a reference on this
 * module for every open file (fops_get in misc_open), so rmmod fails with EBUSY while the
 * device is open instead of freeing code that a release() would still run.
 */
int rsm_misc_register_owned(struct miscdevice *misc, umode_t mode)
{
	rsm_fops = *misc->fops;
	rsm_fops.owner = THIS_MODULE;
	misc->fops = &rsm_fops;
	misc->mode = mode;
	return misc_register(misc);
}

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
 * The netns that an nsfs file at @path refers to (/proc/PID/ns/net, /run/netns/NAME), opened
 * with the caller's credentials: a counted reference, or ERR_PTR (-EINVAL when the file is not
 * a network namespace, the open's errno otherwise). Same checks as get_net_ns_by_fd().
 */
struct net *rsm_get_net_ns_by_path(const char *path)
{
	struct file *file = filp_open(path, O_RDONLY | O_CLOEXEC, 0);
	struct net *net = ERR_PTR(-EINVAL);
	struct inode *inode;

	if (IS_ERR(file))
		return ERR_CAST(file);
	inode = file_inode(file);
	if (inode->i_sb->s_magic == NSFS_MAGIC) {
		struct ns_common *ns = get_proc_ns(inode);

		if (ns->ns_type == CLONE_NEWNET)
			net = get_net(container_of(ns, struct net, ns));
	}
	fput(file);
	return net;
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
	out->state = sk->sk_state;
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

/* ---- pernet exit hook ------------------------------------------------------------------ */

static int __net_init rsm_net_init(struct net *net)
{
	rust_sockmod_net_init(net);
	return 0;
}

static void __net_exit rsm_net_exit(struct net *net)
{
	rust_sockmod_net_exit(net);
}

static struct pernet_operations rsm_net_ops = {
	.init = rsm_net_init,
	.exit = rsm_net_exit,
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
