/* Neighbour cache, ARP and Ethernet framing (see neigh.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ip/ip.h"
#include "ip/neigh.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int neigh_table_init(struct neigh_table *nt, uint32_t buckets, uint64_t limit, uint64_t seed)
{
	memset(nt, 0, sizeof(*nt));
	buckets = roundup_pow2_u32(buckets);
	nt->buckets = calloc(buckets, sizeof(*nt->buckets));
	if (!nt->buckets)
		return -ENOMEM;
	nt->mask = buckets - 1;
	nt->seed = seed;
	pool_init(&nt->pool, "neigh", sizeof(struct neigh), limit);
	return 0;
}

static uint32_t neigh_index(const struct neigh_table *nt, int ifindex, const struct in6_addr *ip)
{
	uint64_t h = mix64(((uint64_t)ip->s6_addr32[0] << 32 | ip->s6_addr32[1]) ^ (uint64_t)ifindex, nt->seed);

	return (uint32_t)mix64(h ^ ((uint64_t)ip->s6_addr32[2] << 32 | ip->s6_addr32[3]), nt->seed) & nt->mask;
}

struct neigh *neigh_lookup(const struct neigh_table *nt, int ifindex, const struct in6_addr *ip)
{
	struct hnode *h;

	hlist_for_each(h, &nt->buckets[neigh_index(nt, ifindex, ip)]) {
		struct neigh *n = DTCP_CONTAINER_OF(h, struct neigh, node);

		if (n->ifindex == ifindex && addr_eq(&n->ip, ip))
			return n;
	}
	return NULL;
}

static void neigh_queue_free(struct neigh *n)
{
	free(n->queue);
	n->queue = NULL;
	n->nqueue = n->qcap = 0;
}

static void neigh_flush_queue(struct dtcp_stack *st, struct neigh *n)
{
	for (uint8_t i = 0; i < n->nqueue; i++)
		pkt_free_any(st, n->queue[i]);
	neigh_queue_free(n);
}

static void neigh_destroy(struct dtcp_stack *st, struct neigh *n)
{
	timer_stop(&st->timers, &n->timer);
	neigh_flush_queue(st, n);
	hlist_del(&n->node);
	pool_put(&st->nt.pool, n);
}

void neigh_flush(struct dtcp_stack *st, struct neigh_table *nt)
{
	for (uint32_t b = 0; nt->buckets && b <= nt->mask; b++)
		while (nt->buckets[b].first)
			neigh_destroy(st, DTCP_CONTAINER_OF(nt->buckets[b].first, struct neigh, node));
}

void neigh_table_fini(struct dtcp_stack *st, struct neigh_table *nt)
{
	if (!nt->buckets)
		return;
	neigh_flush(st, nt);
	pool_fini(&nt->pool);
	free(nt->buckets);
	nt->buckets = NULL;
}

void eth_xmit(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const uint8_t *dst,
                     uint16_t type)
{
	struct eth_hdr *eh = (struct eth_hdr *)pkt_prepend(p, ETH_HLEN);

	if (!eh) {
		st->ipc.IpOutDiscards++;
		pkt_free_any(st, p);
		return;
	}
	memcpy(eh->dst, dst, ETH_ALEN);
	memcpy(eh->src, nif->info.mac, ETH_ALEN);
	eh->type = htons(type);
	p->l2_len = ETH_HLEN;
	netif_xmit(st, nif, p);
}

/* Our IPv4 address on nif to source ARP from (the first one), or 0. */
static uint32_t nif_v4_addr(const struct netif *nif)
{
	for (uint32_t i = 0; i < nif->naddr; i++)
		if (nif->addrs[i].v4)
			return addr_v4(&nif->addrs[i].addr);
	return 0;
}

static bool nif_has_v4(const struct netif *nif, uint32_t ip)
{
	for (uint32_t i = 0; i < nif->naddr; i++)
		if (nif->addrs[i].v4 && addr_v4(&nif->addrs[i].addr) == ip)
			return true;
	return false;
}

static void arp_send(struct dtcp_stack *st, struct netif *nif, uint16_t op, const uint8_t *tha_eth,
                     const uint8_t *tha, uint32_t tpa, uint32_t spa)
{
	struct dtcp_pkt *p = netif_pkt_alloc(nif);
	struct arp_hdr *a;

	if (!p || !(a = (struct arp_hdr *)pkt_append(p, sizeof(*a)))) {
		if (p)
			netif_pkt_free(nif, p);
		st->ipc.IpOutDiscards++;
		return;
	}
	p->ifindex = (uint16_t)nif->ifindex;
	a->htype = htons(1);
	a->ptype = htons(ETHERTYPE_IPV4);
	a->hlen = ETH_ALEN;
	a->plen = 4;
	a->op = htons(op);
	memcpy(a->sha, nif->info.mac, ETH_ALEN);
	a->spa = spa;
	memcpy(a->tha, tha, ETH_ALEN);
	a->tpa = tpa;
	if (op == 1)
		st->nt.cnt.ArpOutRequests++;
	else
		st->nt.cnt.ArpOutReplies++;
	eth_xmit(st, nif, p, tha_eth, ETHERTYPE_ARP);
}

static void neigh_solicit(struct dtcp_stack *st, struct netif *nif, struct neigh *n)
{
	static const uint8_t zero[ETH_ALEN];

	/* A stale entry is refreshed by unicast, an unknown one by broadcast
	 * (ARP) or solicited-node multicast (ND). */
	if (addr_is_mapped(&n->ip))
		arp_send(st, nif, 1, n->state == NEIGH_STALE ? n->mac : eth_bcast, zero, addr_v4(&n->ip),
		         nif_v4_addr(nif));
	else
		nd_solicit(st, nif, &n->ip, n->state == NEIGH_STALE ? n->mac : NULL);
	n->probes++;
	timer_start(&st->timers, &n->timer, stack_ticks(st) + NEIGH_RETRANS_MS);
}

static void neigh_timer(struct timer_node *t)
{
	struct neigh *n = DTCP_CONTAINER_OF(t, struct neigh, timer);
	struct dtcp_stack *st = n->st;
	struct netif *nif = &st->ifs.ifs[n->ifindex - 1];

	if (n->state == NEIGH_REACHABLE) {
		n->state = NEIGH_STALE;
		return;
	}
	if (n->state == NEIGH_STALE) {
		/* Unconfirmed refreshes: forget the entry, as a failed resolution. */
		if (n->probes >= NEIGH_PROBES) {
			neigh_destroy(st, n);
			return;
		}
		neigh_solicit(st, nif, n);
		return;
	}
	if (n->probes >= NEIGH_PROBES) {
		st->nt.cnt.NeighResolveFailed++;
		st->ipc.IpOutDiscards += n->nqueue;
		neigh_destroy(st, n);
		return;
	}
	neigh_solicit(st, nif, n);
}

static struct neigh *neigh_create(struct dtcp_stack *st, int ifindex, const struct in6_addr *ip)
{
	struct neigh *n = pool_get(&st->nt.pool);

	if (!n)
		return NULL;
	n->st = st;
	n->ip = *ip;
	n->ifindex = ifindex;
	timer_init(&n->timer, neigh_timer);
	hlist_add_head(&n->node, &st->nt.buckets[neigh_index(&st->nt, ifindex, ip)]);
	return n;
}

/* A neighbour's address is confirmed: send what waited for it. */
static void neigh_confirm(struct dtcp_stack *st, struct netif *nif, struct neigh *n, const uint8_t *mac)
{
	memcpy(n->mac, mac, ETH_ALEN);
	n->state = NEIGH_REACHABLE;
	n->probes = 0;
	n->confirmed_ms = stack_ticks(st);
	timer_start(&st->timers, &n->timer, stack_ticks(st) + NEIGH_REACHABLE_MS);
	for (uint8_t i = 0; i < n->nqueue; i++)
		eth_xmit(st, nif, n->queue[i], n->mac, addr_is_mapped(&n->ip) ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
	neigh_queue_free(n);
}

void neigh_update(struct dtcp_stack *st, struct netif *nif, const struct in6_addr *ip, const uint8_t *mac,
                  bool create)
{
	struct neigh *n = neigh_lookup(&st->nt, nif->ifindex, ip);

	if (!n && create)
		n = neigh_create(st, nif->ifindex, ip);
	if (n)
		neigh_confirm(st, nif, n, mac);
}

void neigh_output(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const struct in6_addr *nexthop)
{
	bool v4 = addr_is_mapped(nexthop);
	uint16_t type = v4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
	struct neigh *n;

	if (!v4 && addr_is_multicast6(nexthop)) {
		/* RFC 2464 7: 33:33 and the group's last 32 bits. */
		uint8_t mac[ETH_ALEN] = { 0x33, 0x33 };

		memcpy(mac + 2, &nexthop->s6_addr[12], 4);
		eth_xmit(st, nif, p, mac, type);
		return;
	}
	n = neigh_lookup(&st->nt, nif->ifindex, nexthop);
	if (n && n->state != NEIGH_INCOMPLETE) {
		eth_xmit(st, nif, p, n->mac, type);
		if (n->state == NEIGH_STALE && !timer_pending(&n->timer)) {
			n->probes = 0;
			neigh_solicit(st, nif, n);
		}
		return;
	}
	if (!n) {
		n = neigh_create(st, nif->ifindex, nexthop);
		if (!n) {
			st->ipc.IpOutDiscards++;
			pkt_free_any(st, p);
			return;
		}
		n->state = NEIGH_INCOMPLETE;
		neigh_solicit(st, nif, n);
	}
	if (n->nqueue == n->qcap && n->qcap < NEIGH_QUEUE_MAX) {
		uint8_t cap = n->qcap ? (uint8_t)DTCP_MIN(2u * n->qcap, (unsigned)NEIGH_QUEUE_MAX) : 4;
		struct dtcp_pkt **q = realloc(n->queue, cap * sizeof(*q));

		if (q) {
			n->queue = q;
			n->qcap = cap;
		}
	}
	if (!n->qcap) {
		st->nt.cnt.NeighQueueDrops++;
		pkt_free_any(st, p);
		return;
	}
	if (n->nqueue == n->qcap) {
		/* Keep the newest, as Linux's unresolved queue does. */
		st->nt.cnt.NeighQueueDrops++;
		pkt_free_any(st, n->queue[0]);
		memmove(n->queue, n->queue + 1, sizeof(n->queue[0]) * (size_t)(n->qcap - 1));
		n->nqueue--;
	}
	n->queue[n->nqueue++] = p;
}

static void arp_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p)
{
	const struct arp_hdr *a = pkt_header(p, sizeof(*a));
	uint16_t op;

	if (!a || a->htype != htons(1) || a->ptype != htons(ETHERTYPE_IPV4) || a->hlen != ETH_ALEN ||
	    a->plen != 4 || (a->sha[0] & 1)) {
		st->nt.cnt.ArpInErrors++;
		netif_pkt_free(nif, p);
		return;
	}
	op = ntohs(a->op);
	if (op == 1)
		st->nt.cnt.ArpInRequests++;
	else if (op == 2)
		st->nt.cnt.ArpInReplies++;
	else {
		st->nt.cnt.ArpInErrors++;
		netif_pkt_free(nif, p);
		return;
	}
	/* RFC 826's merge: update a known sender; learn it if the packet is for us. */
	if (a->spa) {
		struct in6_addr spa;

		addr_set_mapped(&spa, a->spa);
		neigh_update(st, nif, &spa, a->sha, nif_has_v4(nif, a->tpa));
	}
	if (nif_has_v4(nif, a->tpa)) {
		if (op == 1)
			arp_send(st, nif, 2, a->sha, a->sha, a->spa, a->tpa);
	}
	netif_pkt_free(nif, p);
}

void eth_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p)
{
	const struct eth_hdr *eh = pkt_header(p, ETH_HLEN);
	uint16_t type;

	/* Ours, broadcast or multicast (group bit); anything else is not for us. */
	if (!eh || (!(eh->dst[0] & 1) && memcmp(eh->dst, nif->info.mac, ETH_ALEN))) {
		st->nt.cnt.EthInDrops++;
		netif_pkt_free(nif, p);
		return;
	}
	type = ntohs(eh->type);
	pkt_adj(p, ETH_HLEN);
	switch (type) {
	case ETHERTYPE_IPV4:
		ipv4_input(st, nif, p);
		return;
	case ETHERTYPE_ARP:
		arp_input(st, nif, p);
		return;
	case ETHERTYPE_IPV6:
		ipv6_input(st, nif, p);
		return;
	default:
		st->ipc.LinkRxUnknownL3++;
		netif_pkt_free(nif, p);
	}
}
