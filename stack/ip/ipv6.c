/* IPv6 (RFC 8200): input validation with a bounded walk of the extension
 * headers, delivery to ICMPv6, and output. Fragments are dropped and counted
 * (Ip6ReasmFails); a routing header with segments left is not forwarded.
 * Stack thread only. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"

#define IPV6_MAX_EXT 8   /* extension headers walked before giving up */

static void drop(struct netif *nif, struct dtcp_pkt *p, uint64_t *counter)
{
	(*counter)++;
	netif_pkt_free(nif, p);
}

/* Multicast groups every interface listens to: all-nodes (RFC 4291 2.7.1)
 * and the solicited-node group of each of its addresses. */
static bool v6_group_joined(const struct netif *nif, const struct in6_addr *a)
{
	static const uint8_t sn_prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	if ((a->s6_addr[1] == 0x01 || a->s6_addr[1] == 0x02) && a->s6_addr32[1] == 0 && a->s6_addr32[2] == 0 &&
	    a->s6_addr32[3] == htonl(1) && a->s6_addr[0] == 0xff && a->s6_addr[2] == 0 && a->s6_addr[3] == 0)
		return true;
	if (memcmp(a, sn_prefix, sizeof(sn_prefix)))
		return false;
	for (uint32_t i = 0; i < nif->naddr; i++)
		if (!nif->addrs[i].v4 && !memcmp(&nif->addrs[i].addr.s6_addr[13], &a->s6_addr[13], 3))
			return true;
	return false;
}

void ipv6_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p)
{
	const struct ipv6_hdr *ip = pkt_header(p, sizeof(*ip));
	struct ip_counters *c = &st->ipc;
	struct in6_addr saddr, daddr;
	uint32_t plen, off = sizeof(*ip), off_prev_next = 6;   /* where the last next-header field is */
	uint8_t next, hop_limit;

	c->Ip6InReceives++;
	if (!ip || (ntohl(ip->ver_tc_flow) >> 28) != 6)
		return drop(nif, p, &c->Ip6InHdrErrors);
	plen = ntohs(ip->payload_len);
	if (sizeof(*ip) + plen > p->pkt_len)
		return drop(nif, p, &c->Ip6InTruncatedPkts);
	if (sizeof(*ip) + plen < p->pkt_len)
		pkt_trim_to(p, (uint32_t)sizeof(*ip) + plen);
	saddr = ip->saddr;
	daddr = ip->daddr;
	next = ip->nexthdr;
	hop_limit = ip->hop_limit;
	if (addr_is_multicast6(&saddr))
		return drop(nif, p, &c->Ip6InAddrErrors);
	if (addr_is_multicast6(&daddr) ? !v6_group_joined(nif, &daddr) : !ifaddr_v6_is_local(&st->ifs, &daddr))
		return drop(nif, p, &c->Ip6InAddrErrors);
	for (int i = 0;; i++) {
		uint8_t ext[4];

		if (i == IPV6_MAX_EXT)
			return drop(nif, p, &c->Ip6InHdrErrors);
		switch (next) {
		case 0:      /* hop-by-hop: only right after the header (RFC 8200 4.1) */
			if (i)
				return drop(nif, p, &c->Ip6InHdrErrors);
			/* fall through */
		case 60:     /* destination options */
		case 43:     /* routing */
			if (!pkt_read(p, off, ext, 4))
				return drop(nif, p, &c->Ip6InHdrErrors);
			if (next == 43 && ext[3] != 0)
				return drop(nif, p, &c->Ip6InAddrErrors);   /* segments left: not a router */
			next = ext[0];
			off_prev_next = off;   /* the next-header field of this extension header */
			off += ((uint32_t)ext[1] + 1) * 8;
			if (off > p->pkt_len)
				return drop(nif, p, &c->Ip6InHdrErrors);
			continue;
		case 44:     /* fragment */
			return drop(nif, p, &c->Ip6ReasmFails);
		case 59:     /* no next header */
			c->Ip6InDelivers++;
			netif_pkt_free(nif, p);
			return;
		default:
			break;
		}
		break;
	}
	if (off > 0xffff || !pkt_header(p, off))
		return drop(nif, p, &c->Ip6InHdrErrors);
	if (next != IPPROTO_ICMPV6 && next != IPPROTO_TCP) {
		/* UDP: port unreachable (RFC 4443 3.1 code 4); anything else:
		 * parameter problem, unrecognized next header (3.4 code 1),
		 * pointing at the field that named it. */
		if (next == IPPROTO_UDP) {
			icmpv6_send_error(st, p, 1, 4, 0);
			netif_pkt_free(nif, p);
			return;
		}
		icmpv6_send_error(st, p, 4, 1, off_prev_next);
		return drop(nif, p, &c->Ip6InUnknownProtos);
	}
	pkt_adj(p, (uint16_t)off);
	switch (next) {
	case IPPROTO_ICMPV6:
		c->Ip6InDelivers++;
		icmpv6_input(st, p, &saddr, &daddr, hop_limit);
		return;
	case IPPROTO_TCP:
		c->Ip6InDelivers++;
		tcp_input(st, p, &saddr, &daddr);
		return;
	default:
		return drop(nif, p, &c->Ip6InUnknownProtos);
	}
}

int ipv6_output_dev(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const struct in6_addr *saddr,
                    const struct in6_addr *daddr, const struct in6_addr *nexthop, uint8_t nexthdr, uint8_t hop_limit)
{
	struct ip_counters *c = &st->ipc;
	struct ipv6_hdr *ip;
	uint32_t plen = p->pkt_len;

	c->Ip6OutRequests++;
	if (plen + sizeof(*ip) > nif->info.mtu || plen > 0xffff) {
		c->Ip6OutDiscards++;
		pkt_free_any(st, p);
		return -EMSGSIZE;
	}
	ip = (struct ipv6_hdr *)pkt_prepend(p, sizeof(*ip));
	if (!ip) {
		c->Ip6OutDiscards++;
		pkt_free_any(st, p);
		return -ENOBUFS;
	}
	ip->ver_tc_flow = htonl(6u << 28);
	ip->payload_len = htons((uint16_t)plen);
	ip->nexthdr = nexthdr;
	ip->hop_limit = hop_limit;
	ip->saddr = *saddr;
	ip->daddr = *daddr;
	p->l3_len = sizeof(*ip);
	return ip_finish_output(st, nif, p, nexthop);
}

int ipv6_output(struct dtcp_stack *st, struct dtcp_pkt *p, const struct in6_addr *saddr,
                const struct in6_addr *daddr, uint8_t nexthdr, uint8_t hop_limit)
{
	struct in6_addr nh;
	struct netif *nif = ifaddr_route_nh(&st->ifs, daddr, &nh);

	if (!nif || !nif->ops) {
		st->ipc.Ip6OutRequests++;
		st->ipc.Ip6OutNoRoutes++;
		pkt_free_any(st, p);
		return -ENETUNREACH;
	}
	return ipv6_output_dev(st, nif, p, saddr, daddr, &nh, nexthdr, hop_limit);
}
