/* The neighbour cache for both families, resolved by ARP (RFC 826, RFC 1122
 * 2.3.2) for IPv4 and Neighbor Discovery (RFC 4861) for IPv6, and Ethernet
 * framing: resolve a next hop, queue a few packets while resolving (bounded),
 * retry, answer requests for our addresses. O(1) expected per lookup.
 * Stack thread only. */
#ifndef DTCP_NEIGH_H
#define DTCP_NEIGH_H

#include <stdint.h>

#include <dtcp/netdev.h>

#include "ip/ip_hdr.h"
#include "pool.h"
#include "timer.h"
#include "util.h"

struct dtcp_stack;
struct netif;

/* Packets held per unresolved neighbour: Linux's unres_qlen (101, from
 * unres_qlen_bytes 212992), so that a burst of connects to a host not yet
 * resolved (a load generator's first round) is sent, not dropped to wait
 * for the SYNs' retransmission a second later. The queue is allocated
 * while the neighbour is unresolved only. */
#define NEIGH_QUEUE_MAX 101
#define NEIGH_PROBES 3             /* requests before giving up */
#define NEIGH_RETRANS_MS 1000      /* between requests */
#define NEIGH_REACHABLE_MS 30000   /* a confirmed entry is trusted this long */

enum neigh_state { NEIGH_INCOMPLETE = 1, NEIGH_REACHABLE, NEIGH_STALE };

struct neigh {
	struct hnode node;
	struct timer_node timer;
	struct dtcp_stack *st;
	struct dtcp_pkt **queue;       /* NULL, or room for qcap packets */
	uint64_t confirmed_ms;
	struct in6_addr ip;         /* IPv4 as ::ffff:a.b.c.d */
	int ifindex;
	uint8_t mac[ETH_ALEN];
	uint8_t state;
	uint8_t probes;
	uint8_t nqueue, qcap;
};

struct neigh_counters {
	uint64_t ArpInRequests, ArpInReplies, ArpOutRequests, ArpOutReplies, ArpInErrors;
	uint64_t Icmp6InNeighborSolicits, Icmp6InNeighborAdvertisements;
	uint64_t Icmp6OutNeighborSolicits, Icmp6OutNeighborAdvertisements, NdInErrors;
	uint64_t NeighResolveFailed, NeighQueueDrops, EthInDrops;
};

struct neigh_table {
	struct hhead *buckets;
	uint32_t mask;
	uint64_t seed;
	struct pool pool;
	struct neigh_counters cnt;
};

int neigh_table_init(struct neigh_table *nt, uint32_t buckets, uint64_t limit, uint64_t seed);
/* Forget every entry (and the packets they hold). */
void neigh_flush(struct dtcp_stack *st, struct neigh_table *nt);
/* Frees every entry and the packets they hold. */
void neigh_table_fini(struct dtcp_stack *st, struct neigh_table *nt);
struct neigh *neigh_lookup(const struct neigh_table *nt, int ifindex, const struct in6_addr *ip);

/* Send an IP packet (at its IP header) to next hop `nexthop` (IPv4 mapped or
 * IPv6) on an Ethernet interface: framed at once if the neighbour is known
 * (multicast needs no resolution), else queued while ARP or ND resolves.
 * Takes the packet. */
void neigh_output(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const struct in6_addr *nexthop);

/* A neighbour told us its link address (ARP, or an ND option): create or
 * update the entry and send what waited. `create`: learn an unknown one. */
void neigh_update(struct dtcp_stack *st, struct netif *nif, const struct in6_addr *ip, const uint8_t *mac,
                  bool create);

/* Prepend an Ethernet header and hand the frame to the link. Takes the packet. */
void eth_xmit(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const uint8_t *dst, uint16_t type);

/* ND (nd.c): send a Neighbor Solicitation for target; handle NS/NA. */
void nd_solicit(struct dtcp_stack *st, struct netif *nif, const struct in6_addr *target, const uint8_t *unicast_mac);
void nd_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const struct in6_addr *saddr,
              const struct in6_addr *daddr, uint8_t hop_limit);

/* A frame received on an Ethernet interface, at its Ethernet header. */
void eth_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p);

#endif
