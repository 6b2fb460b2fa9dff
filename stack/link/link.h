/* Software links: loopback (what a stack sends to itself comes back on the
 * next receive) and an in-memory pair joining two stacks, with impairments
 * for tests (loss, duplication, reordering, delay, rate limit) driven by an
 * injected clock and random source. Both implement struct dtcp_netdev_ops.
 * Stack thread only (a pair's two stacks share one thread). */
#ifndef DTCP_LINK_H
#define DTCP_LINK_H

#include <dtcp/netdev.h>

#include "env.h"
#include "pkt.h"

extern const struct dtcp_netdev_ops link_loopback_ops;
extern const struct dtcp_netdev_ops link_pair_ops;

struct link_loopback;
/* A loopback link holding up to qlen packets in flight, with its own buffer
 * pool of pool_limit buffers; NULL if memory runs out. */
struct link_loopback *link_loopback_create(uint32_t qlen, uint64_t pool_limit);
void link_loopback_destroy(struct link_loopback *lo);
uint64_t link_loopback_drops(const struct link_loopback *lo);

struct link_pair_cfg {
	uint32_t loss_ppm;         /* per packet, parts per million */
	uint32_t dup_ppm;
	uint32_t reorder_ppm;      /* held back by reorder_ns more than the others */
	uint64_t delay_ns;         /* one-way propagation delay */
	uint64_t reorder_ns;
	uint64_t rate_bps;         /* serialisation rate, 0 = unlimited */
	uint32_t queue_limit;      /* packets in flight per direction (default 4096) */
	uint64_t pool_limit;       /* buffers shared by both ends (default 65536) */
};

struct link_pair_stats {
	uint64_t sent, delivered, lost, duplicated, reordered, queue_drops;
};

struct link_pair;
struct link_pair *link_pair_create(const struct link_pair_cfg *cfg, const struct stack_env *env);
/* Frees the packets still in flight; both stacks must have let go of the ends. */
void link_pair_destroy(struct link_pair *lp);
/* The backend state of side 0 or 1, for link_pair_ops. */
void *link_pair_end(struct link_pair *lp, int side);
/* Traffic sent from side `from` towards the other. */
const struct link_pair_stats *link_pair_stats(const struct link_pair *lp, int from);
/* Buffers of the pair's pool in use (leak checks). */
uint64_t link_pair_pkts_in_use(const struct link_pair *lp);

#endif
