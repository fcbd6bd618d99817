/* SPDX-License-Identifier: GPL-2.0 */
/* The C shim of rust_sockmod (src/helpers.c); the Rust side declares these in src/shim.rs. */
#ifndef RUST_SOCKMOD_HELPERS_H
#define RUST_SOCKMOD_HELPERS_H

#include <linux/types.h>

struct net;
struct socket;
struct user_namespace;
struct file;

/* Mirrored by `RsmSockInfo` in src/shim.rs. */
struct rsm_sock_info {
	int family;
	int type;
	int protocol;
	int state;
	unsigned long ino;
	unsigned int netns_inum;
	bool net_refcnt;
	u64 cookie;
	u8 local_addr[16];	/* inet: the first 4 bytes; network order */
	u16 local_port;		/* host order; 0 while unbound, for raw sockets and other families */
};

void rsm_put_net(struct net *net);
struct net *rsm_current_net(void);
struct net *rsm_maybe_get_net(struct net *net);
bool rsm_net_alive(const struct net *net);
unsigned int rsm_net_inum(const struct net *net);
struct user_namespace *rsm_net_user_ns(const struct net *net);
bool rsm_file_capable_init_ns(const struct file *file, int cap);
int rsm_sock_somaxconn(struct socket *sock);
struct net *rsm_get_net_ns_by_path(const char *path);
void rsm_sock_info(struct socket *sock, struct rsm_sock_info *out);
struct net *rsm_sock_net(struct socket *sock);
void rsm_current_comm(char *comm);
void rsm_cond_resched(void);
bool rsm_reason_ratelimit(void);
int rsm_register_pernet(void);
void rsm_unregister_pernet(void);

/* Implemented in Rust (src/pernet.rs). */
void rust_sockmod_net_init(struct net *net);
void rust_sockmod_net_pre_exit(struct net *net);

#endif
