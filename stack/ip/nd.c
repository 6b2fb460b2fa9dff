/* Neighbor Discovery (RFC 4861): solicitations for the neighbour cache and
 * advertisements for our addresses; message validation of RFC 4861 7.1.
 * Router and redirect messages are not handled. Stack thread only. */
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/neigh.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"

#define ND_NS 135
#define ND_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define NA_FLAG_SOLICITED 0x40000000u
#define NA_FLAG_OVERRIDE 0x20000000u

struct nd_msg {
	uint8_t type;
	uint8_t code;
	uint16_t check;
	uint32_t flags;
	struct in6_addr target;
} __attribute__((packed));
_Static_assert(sizeof(struct nd_msg) == 24, "NS/NA without options");

/* Our IPv6 address on nif to send from: link-local first, else any. */
static const struct in6_addr *nif_v6_source(const struct netif *nif)
{
	const struct in6_addr *any = NULL;

	for (uint32_t i = 0; i < nif->naddr; i++) {
		if (nif->addrs[i].v4)
			continue;
		if (addr_is_linklocal6(&nif->addrs[i].addr))
			return &nif->addrs[i].addr;
		if (!any)
			any = &nif->addrs[i].addr;
	}
	return any;
}

static bool nif_has_v6(const struct netif *nif, const struct in6_addr *a)
{
	for (uint32_t i = 0; i < nif->naddr; i++)
		if (!nif->addrs[i].v4 && addr_eq(&nif->addrs[i].addr, a))
			return true;
	return false;
}

/* Build an NS or NA with one link-layer address option and send it. */
static void nd_send(struct dtcp_stack *st, struct netif *nif, uint8_t type, uint32_t flags,
                    const struct in6_addr *target, const struct in6_addr *src, const struct in6_addr *dst,
                    const uint8_t *dst_mac)
{
	struct dtcp_pkt *p = netif_pkt_alloc(nif);
	struct nd_msg *m;
	uint8_t *opt;

	if (!p || !(m = (struct nd_msg *)pkt_append(p, sizeof(*m) + 8))) {
		if (p)
			netif_pkt_free(nif, p);
		st->ipc.Ip6OutDiscards++;
		return;
	}
	p->ifindex = (uint16_t)nif->ifindex;
	m->type = type;
	m->code = 0;
	m->check = 0;
	m->flags = htonl(flags);
	m->target = *target;
	opt = (uint8_t *)(m + 1);
	opt[0] = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
	opt[1] = 1;
	memcpy(opt + 2, nif->info.mac, ETH_ALEN);
	m->check = csum_finish(csum_add_buf(csum_pseudo_v6(src, dst, IPPROTO_ICMPV6, sizeof(*m) + 8), m,
	                                    sizeof(*m) + 8, false));
	if (type == ND_NS)
		st->nt.cnt.Icmp6OutNeighborSolicits++;
	else
		st->nt.cnt.Icmp6OutNeighborAdvertisements++;
	if (dst_mac) {
		/* Unicast to a known link address: frame it directly. */
		struct ipv6_hdr *ip = (struct ipv6_hdr *)pkt_prepend(p, sizeof(*ip));

		ip->ver_tc_flow = htonl(6u << 28);
		ip->payload_len = htons(sizeof(*m) + 8);
		ip->nexthdr = IPPROTO_ICMPV6;
		ip->hop_limit = 255;
		ip->saddr = *src;
		ip->daddr = *dst;
		st->ipc.Ip6OutRequests++;
		eth_xmit(st, nif, p, dst_mac, ETHERTYPE_IPV6);
		return;
	}
	ipv6_output_dev(st, nif, p, src, dst, dst, IPPROTO_ICMPV6, 255);
}

void nd_solicit(struct dtcp_stack *st, struct netif *nif, const struct in6_addr *target, const uint8_t *unicast_mac)
{
	const struct in6_addr *src = nif_v6_source(nif);
	struct in6_addr dst;

	if (!src)
		return;
	if (unicast_mac) {
		dst = *target;
	} else {
		/* Solicited-node multicast: ff02::1:ff00:0/104 and the target's last 24 bits. */
		memset(&dst, 0, sizeof(dst));
		dst.s6_addr[0] = 0xff;
		dst.s6_addr[1] = 0x02;
		dst.s6_addr[11] = 0x01;
		dst.s6_addr[12] = 0xff;
		memcpy(&dst.s6_addr[13], &target->s6_addr[13], 3);
	}
	nd_send(st, nif, ND_NS, 0, target, src, &dst, unicast_mac);
}

/* The link-layer address option of the wanted kind, validating every option
 * (RFC 4861 7.1.1: none of length 0). false if malformed. */
static bool nd_find_lla(const struct dtcp_pkt *p, uint8_t kind, const uint8_t **mac)
{
	uint32_t off = sizeof(struct nd_msg);
	static uint8_t found[ETH_ALEN];

	*mac = NULL;
	while (off < p->pkt_len) {
		uint8_t hdr[2 + ETH_ALEN];

		if (!pkt_read(p, off, hdr, 2) || hdr[1] == 0 || off + hdr[1] * 8u > p->pkt_len)
			return false;
		if (hdr[0] == kind && hdr[1] == 1 && pkt_read(p, off, hdr, sizeof(hdr))) {
			memcpy(found, hdr + 2, ETH_ALEN);
			*mac = found;
		}
		off += hdr[1] * 8u;
	}
	return true;
}

void nd_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const struct in6_addr *saddr,
              const struct in6_addr *daddr, uint8_t hop_limit)
{
	struct neigh_counters *c = &st->nt.cnt;
	const struct nd_msg *m = pkt_header(p, sizeof(struct nd_msg));
	const uint8_t *lla;
	struct in6_addr target, src = *saddr;
	uint8_t type;

	(void)daddr;
	/* RFC 4861 7.1: from a neighbour (hop limit 255), code 0, at least 24 bytes,
	 * a unicast target, well-formed options. */
	if (m)
		memcpy(&target, (const uint8_t *)m + offsetof(struct nd_msg, target), sizeof(target));
	if (!m || hop_limit != 255 || m->code != 0 || addr_is_multicast6(&target) ||
	    (nif->info.capa & DTCP_NETDEV_RAW_IP)) {
		c->NdInErrors++;
		netif_pkt_free(nif, p);
		return;
	}
	type = m->type;
	if (!nd_find_lla(p, type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA, &lla)) {
		c->NdInErrors++;
		netif_pkt_free(nif, p);
		return;
	}
	netif_pkt_free(nif, p);
	if (type == ND_NS) {
		static const struct in6_addr all_nodes = { { { 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } };
		bool dad = addr_is_any6(&src);

		c->Icmp6InNeighborSolicits++;
		if (!nif_has_v6(nif, &target))
			return;
		if (dad && lla) {
			c->NdInErrors++;   /* 7.1.1: no source link-layer option from :: */
			return;
		}
		if (lla && !dad)
			neigh_update(st, nif, &src, lla, true);
		/* 7.2.4: answer to the soliciter, or to all nodes for a DAD probe. */
		nd_send(st, nif, ND_NA, (dad ? 0 : NA_FLAG_SOLICITED) | NA_FLAG_OVERRIDE, &target, &target,
		        dad ? &all_nodes : &src, NULL);
		return;
	}
	c->Icmp6InNeighborAdvertisements++;
	/* 7.2.5: only an entry that exists is updated. */
	if (lla)
		neigh_update(st, nif, &target, lla, false);
}
