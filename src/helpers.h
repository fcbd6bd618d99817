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

void rsm_get_net(struct net *net);
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
bool rsm_sock_hold_net(struct socket *sock);
struct net *rsm_sock_net(struct socket *sock);
void rsm_current_comm(char *comm);
void rsm_cond_resched(void);
bool rsm_reason_ratelimit(void);
int rsm_register_pernet(void);
void rsm_unregister_pernet(void);

/* The kernel socket census (src/census.c); mirrored in src/census.rs. */
#define RSM_CENSUS_FRAMES 8		/* return addresses kept per call site */
#define RSM_CENSUS_CHAIN_FRAMES 5	/* of which the chain shows the first */
#define RSM_CENSUS_NAME 64
#define RSM_CENSUS_CHAIN 160

struct rsm_census_totals {
	u64 live;
	u64 created;
	u64 destroyed;
	u64 dropped;		/* creations not recorded: the table was full */
	u64 missed;		/* probe hits lost (kretprobe instances exhausted, recursion) */
	u64 sites;
	u64 sites_full;		/* creations attributed to "unknown": the site table was full */
	u64 own_attached;	/* live, made by rust_sockmod itself, still owned by a struct socket */
	u64 max;
	u64 started_ns;
	u64 bytes;		/* the census's own memory */
	u64 memo_hits;		/* creations whose chain came from the memo, not a walk */
	u64 memo_audits;	/* memo hits walked anyway and compared */
	u64 memo_wrong;		/* audits where the walk gave another chain (must stay 0) */
	u64 lost_destroys;	/* destructions missed: no entry is read any more (must stay 0) */
};

struct rsm_census_rec {
	u64 seq;
	u64 age_ns;
	u64 cookie;
	u64 ino;
	u64 net_id;		/* identity of the struct net while the sock lives */
	u32 netns_inum;
	s32 pid;
	s32 family;
	s32 type;
	s32 protocol;
	s32 state;
	s32 net_count;		/* the netns's counted references */
	u16 site;
	u16 local_port;
	u8 clone;
	u8 net_refcnt;
	u8 attached;		/* still owned by a struct socket */
	u8 net_alive;
	char comm[16];
};

struct rsm_census_site_info {
	u64 created;
	u64 destroyed;
	u8 own;
	char creator[RSM_CENSUS_NAME];
	char chain[RSM_CENSUS_CHAIN];
};

int rsm_census_start(u32 max);
void rsm_census_stop(void);
bool rsm_census_totals(struct rsm_census_totals *t);
u32 rsm_census_fill(u32 *bucket, u32 *skip, struct rsm_census_rec *out, u32 max);
int rsm_census_site(u32 idx, struct rsm_census_site_info *out);
int rsm_net_count(const struct net *net);

/* Implemented in Rust (src/pernet.rs). */
void rust_sockmod_net_init(struct net *net);
void rust_sockmod_net_pre_exit(struct net *net);

#endif
