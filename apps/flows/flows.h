/* dtcp-flows: what the driver (apps/dtcp-flows.c) and its backends
 * (apps/flows/backend_*.c) share. Everything runs on the one thread of the
 * program; a backend owns its sockets from create() to destroy(). */
#ifndef DTCP_APPS_FLOWS_H
#define DTCP_APPS_FLOWS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* The listener's port, as in the original experiment. */
#define FLOWS_DST_PORT 44983
/* Listen backlog, and net.core.somaxconn written so that it holds. */
#define FLOWS_BACKLOG 65535
/* The driver accepts what is queued after every this many connects, so the
 * accept queue never comes near the backlog. */
#define FLOWS_ACCEPT_EVERY 256
/* --batch's default and bound: non-blocking connects issued before their
 * handshakes are waited for (the backends with open_batch). */
#define FLOWS_BATCH_DEFAULT 64
#define FLOWS_BATCH_MAX 1024
/* How long a started handshake may take before the flow counts as failed
 * (ETIMEDOUT from "connect"). */
#define FLOWS_HANDSHAKE_TIMEOUT_S 5.0

struct flows_config {
	uint64_t num_flows;
	uint32_t num_dsts;
	int family;                    /* AF_INET or AF_INET6 */
	bool no_port;                  /* IP_BIND_ADDRESS_NO_PORT before bind() */
	bool no_bind;                  /* no bind(): connect() binds */
	bool has_range;                /* --range given: write ip_local_port_range */
	uint16_t range_lo, range_hi;
	uint32_t batch;                /* connects in flight (open_batch), 1..FLOWS_BATCH_MAX */
};

/* The call that failed, and its errno (positive). err == 0: no failure. */
struct flows_error {
	const char *call;
	int err;
};

/* An IPv4 or IPv6 socket address. */
union flows_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* Memory counted for the flows: bytes, and how they were counted. */
struct flows_mem {
	uint64_t bytes;
	char what[768];                /* one line: the parts counted */
	char extra[256];               /* one line, may be empty: what else was seen, not counted */
};

/* Where a backend's flows go: the source address and destination i (port
 * FLOWS_DST_PORT). Loopback backends use 127.0.0.1 / ::1; the dpdk backend
 * uses the benchmarking prefixes of its two stacks' eth0. */
struct flows_addr_plan {
	void (*src)(int family, union flows_addr *a);
	void (*dst)(int family, uint32_t i, union flows_addr *a);
	uint32_t max_dsts_v4, max_dsts_v6;
	const char *text_v4, *text_v6;  /* for --help and the heading */
};

/* 127.0.0.1 -> 127.0.0.2..; ::1 -> ::1, 2001:db8::1.. (dtcp-flows.c). */
extern const struct flows_addr_plan flows_loopback_plan;
/* That plan's steps, for backends whose plan differs only in its limits. */
void flows_loopback_src(int family, union flows_addr *a);
void flows_loopback_dst(int family, uint32_t i, union flows_addr *a);

struct flows_backend_ops;

/* The part of every backend's state that the driver reads. Backends embed
 * it as their first member. */
struct flows_backend {
	const struct flows_backend_ops *ops;
	const struct flows_config *cfg;
	uint64_t accepted;             /* server-side sockets accepted so far */
	double park_s;                 /* seconds spent parking descriptors (kernel) */
	uint64_t parked;               /* descriptors parked */
	uint64_t park_msgs;            /* SCM_RIGHTS messages sent */
};

/* A backend. Every op returns 0 (or a count) or -errno; on failure it fills
 * *err with the call that failed. */
struct flows_backend_ops {
	const char *name;
	const struct flows_addr_plan *addrs;
	/* Build the namespace or stack: sysctls (somaxconn, the port range), the
	 * listener on FLOWS_DST_PORT. */
	int (*create)(const struct flows_backend_ops *ops, const struct flows_config *cfg,
	              struct flows_backend **out, struct flows_error *err);
	/* The local port range in force. */
	int (*port_range)(struct flows_backend *self, unsigned *lo, unsigned *hi, struct flows_error *err);
	/* Make n destination addresses local (the IPv6 ones beyond ::1). */
	int (*add_dsts)(struct flows_backend *self, const union flows_addr *dsts, uint32_t n,
	                struct flows_error *err);
	/* Remember the memory in use now, as the base of mem_report(). */
	void (*mem_mark)(struct flows_backend *self);
	/* One flow: socket -> [IP_BIND_ADDRESS_NO_PORT] -> [bind(src, 0)] ->
	 * connect(dst), keeping the socket open; the local address in *local. */
	int (*open_flow)(struct flows_backend *self, const union flows_addr *src,
	                 const union flows_addr *dst, union flows_addr *local, struct flows_error *err);
	/* The same for n flows at once, where the backend can keep many
	 * handshakes in flight (NULL otherwise): every flow's first steps with
	 * a non-blocking connect, then their handshakes, then getsockname().
	 * dst[i] and local[i] are flow i's. Returns how many flows, counted
	 * from the first, were established (each open); fewer than n: the next
	 * one failed, *err says how, and none after it is left open. */
	int64_t (*open_batch)(struct flows_backend *self, const union flows_addr *src,
	                      const union flows_addr *const *dst, uint32_t n, union flows_addr *local,
	                      struct flows_error *err);
	/* Accept what the listener has queued; the number accepted. */
	int64_t (*accept_ready)(struct flows_backend *self, struct flows_error *err);
	/* After the last connect: accept until `expected` have been accepted in
	 * all, waiting a bounded time. */
	int (*settle)(struct flows_backend *self, uint64_t expected, struct flows_error *err);
	/* Print the sockstat-like line(s) ("TCP: inuse ..."). */
	void (*sockstat)(struct flows_backend *self, FILE *out);
	/* Print the `ss -tan` table of the client side, filtered by an ss
	 * expression, at most max_rows rows. NULL where not offered. */
	int (*ss)(struct flows_backend *self, const char *expr, FILE *out, long max_rows, struct flows_error *err);
	/* Memory in use now minus the mark, for both endpoints of every flow. */
	void (*mem_report)(struct flows_backend *self, struct flows_mem *m);
	/* Close everything and free the backend. */
	void (*destroy)(struct flows_backend *self);
};

/* Resident pages of this process, from /proc/self/statm; -1 if unreadable
 * (the in-process backends' memory cross-check). */
long flows_rss_pages(void);
/* Seconds of the monotonic clock (dtcp-flows.c). */
double flows_now_s(void);

extern const struct flows_backend_ops flows_kernel_ops;
extern const struct flows_backend_ops flows_dtcp_ops;
/* backend_dpdk.c, or backend_dpdk_none.c where meson found no DPDK (its
 * create() then fails with ENOTSUP and says so). */
extern const struct flows_backend_ops flows_dpdk_ops;
extern const bool flows_dpdk_built;
/* backend_lwip.c (Debian's liblwip, loaded at run time), or
 * backend_lwip_none.c where meson found no lwIP (create() fails with
 * ENOTSUP and says so). */
extern const struct flows_backend_ops flows_lwip_ops;
extern const bool flows_lwip_built;

/* backend_dtcp.c, shared by both dtcp backends (each client stack runs the
 * same calls; only how its handshake is driven differs). */
struct dtcp_stack;
struct dtcp_pool_stats;
#define FLOWS_DTCP_MAX_POOLS 32
/* What a stack's pools held at the memory mark. */
struct flows_dtcp_mark {
	uint64_t in_use[FLOWS_DTCP_MAX_POOLS];
};
/* The non-blocking listener on the wildcard address and FLOWS_DST_PORT
 * (IPV6_V6ONLY for IPv6) in *lfd. */
int flows_dtcp_listener(struct dtcp_stack *st, int family, int *lfd, struct flows_error *err);
/* net.ipv4.ip_local_port_range of the stack. */
int flows_dtcp_port_range(struct dtcp_stack *st, unsigned *lo, unsigned *hi, struct flows_error *err);
/* One flow's first steps: socket (with sock_flags) -> [IP_BIND_ADDRESS_NO_PORT]
 * -> [bind(src, 0)] -> connect(dst); a non-blocking connect's EINPROGRESS
 * is no failure. The descriptor in *fd, or the failure (the socket closed). */
int flows_dtcp_flow_open(struct dtcp_stack *st, const struct flows_config *cfg, int sock_flags,
                         const union flows_addr *src, const union flows_addr *dst, int *fd,
                         struct flows_error *err);
/* getsockname() of an established flow into *local (the socket closed on failure). */
int flows_dtcp_flow_local(struct dtcp_stack *st, int fd, int family, union flows_addr *local,
                          struct flows_error *err);
/* open_batch() on a client stack: pump(arg) runs the stacks that carry the
 * handshakes (returns the work done). */
int64_t flows_dtcp_open_batch(struct dtcp_stack *st, const struct flows_config *cfg, int (*pump)(void *arg),
                              void *arg, const union flows_addr *src, const union flows_addr *const *dst,
                              uint32_t n, union flows_addr *local, struct flows_error *err);
/* Accept what the listener holds (bounded by the backlog): the count. */
int64_t flows_dtcp_accept_ready(struct dtcp_stack *st, int lfd, struct flows_error *err);
/* Pool statistics (at most FLOWS_DTCP_MAX_POOLS), and the socket pool's use. */
int flows_dtcp_pools(struct dtcp_stack *st, struct dtcp_pool_stats *ps);
uint64_t flows_dtcp_sockets(struct dtcp_stack *st);
void flows_dtcp_mark(struct dtcp_stack *st, struct flows_dtcp_mark *mk);
/* Add the stack's pool growth since mk to m (bytes, and " [label] name n x
 * size" entries in m->what at *off). */
void flows_dtcp_mem_add(struct dtcp_stack *st, const struct flows_dtcp_mark *mk, const char *label,
                        struct flows_mem *m, size_t *off);

/* "EADDRINUSE" for EADDRINUSE; "none" for 0. */
const char *flows_errno_name(int err);

/* Record a failure: err->call = call, err->err = e; returns -e. */
int flows_fail(struct flows_error *err, const char *call, int e);

#endif
