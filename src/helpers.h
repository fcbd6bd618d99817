/* SPDX-License-Identifier: GPL-2.0 */
/* The C shim of rust_sockmod (src/helpers.c); the Rust side declares these in src/ffi.rs. */
#ifndef RUST_SOCKMOD_HELPERS_H
#define RUST_SOCKMOD_HELPERS_H

#include <linux/types.h>

struct file;
struct net;
struct socket;

/* Mirrored by `RsmSockInfo` in src/ffi.rs. */
struct rsm_sock_info {
	int family;
	int type;
	int protocol;
	int state;
	unsigned long ino;
	unsigned int netns_inum;
	bool net_refcnt;
};

void rsm_put_net(struct net *net);
struct net *rsm_current_net(void);
struct net *rsm_get_net_ns_by_path(const char *path);
struct net *rsm_maybe_get_net(struct net *net);
bool rsm_net_alive(const struct net *net);
struct net *rsm_get_net_ns_by_fd(int fd);
struct net *rsm_get_net_ns_by_pid(pid_t pid);
unsigned int rsm_net_inum(const struct net *net);
bool rsm_file_net_capable(const struct file *file, const struct net *net, int cap);
void rsm_sock_info(struct socket *sock, struct rsm_sock_info *out);
void rsm_sk_net_refcnt_upgrade(struct socket *sock);
int rsm_listen_clamped(struct socket *sock, int backlog);
int rsm_bind_any(struct socket *sock, u16 port);
struct net *rsm_sock_net(struct socket *sock);
int rsm_register_pernet(void);
void rsm_unregister_pernet(void);
u64 rsm_now_ns(void);
int rsm_current_tgid_comm(char *comm);
bool rsm_resched_and_signal_pending(void);

/* Implemented in Rust (src/ops.rs). */
void rust_sockmod_net_init(struct net *net);
void rust_sockmod_net_pre_exit(struct net *net);

#endif
