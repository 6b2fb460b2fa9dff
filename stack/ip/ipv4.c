/* IPv4 (RFC 791, RFC 1122 3.2.1): input validation and delivery, output
 * with routing over the connected prefixes. Fragments are not reassembled:
 * they are dropped and counted (IpReasmFails); TCP sends DF. Options are
 * skipped unread. Stack thread only. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"

static void drop(struct netif *nif, struct dtcp_pkt *p, uint64_t *counter)
{
	(*counter)++;
	netif_pkt_free(nif, p);
}

void ipv4_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p)
{
	const struct ipv4_hdr *ip = pkt_header(p, sizeof(*ip));
	struct ip_counters *c = &st->ipc;
	uint32_t hlen, tot;
	enum v4_addr_class dcls, scls;

	c->IpInReceives++;
	if (!ip || (ip->ver_ihl >> 4) != 4 || (ip->ver_ihl & 0xf) < 5)
		return drop(nif, p, &c->IpInHdrErrors);
	hlen = (ip->ver_ihl & 0xfu) * 4;
	if (!pkt_header(p, hlen))
		return drop(nif, p, &c->IpInHdrErrors);
	/* A loopback link carries what this stack built; a device may have
	 * verified the checksum already. */
	if (p->ol_flags & DTCP_PKT_RX_IP_CKSUM_BAD)
		return drop(nif, p, &c->IpExtInCsumErrors);
	if (!nif->loopback && !(p->ol_flags & DTCP_PKT_RX_IP_CKSUM_GOOD) &&
	    csum_fold(csum_add_buf(0, ip, hlen, false)) != 0xffff)
		return drop(nif, p, &c->IpExtInCsumErrors);
	tot = ntohs(ip->tot_len);
	if (tot < hlen)
		return drop(nif, p, &c->IpInHdrErrors);
	if (tot > p->pkt_len)
		return drop(nif, p, &c->IpExtInTruncatedPkts);
	/* Link padding (short Ethernet frames) is not part of the packet. */
	if (tot < p->pkt_len)
		pkt_trim_to(p, tot);
	/* What this stack routed to its own loopback, from a source that is
	 * not martian, was addressed to it (ip_rcv_finish() skips the input
	 * route a looped-back skb carries). */
	if (!(nif->loopback && (p->ol_flags & DTCP_PKT_LOCAL_ROUTE))) {
		scls = ifaddr_v4_class(&st->ifs, ip->saddr);
		if (scls == V4_MULTICAST || ip->saddr == 0xffffffff)
			return drop(nif, p, &c->IpInAddrErrors);   /* martian source */
		dcls = ifaddr_v4_class(&st->ifs, ip->daddr);
		if (dcls != V4_LOCAL && dcls != V4_BROADCAST)
			return drop(nif, p, &c->IpInAddrErrors);   /* not ours; no forwarding */
	}
	if (ntohs(ip->frag_off) & (IPV4_MF | IPV4_OFFMASK))
		return drop(nif, p, &c->IpReasmFails);
	if (ip->protocol != IPPROTO_ICMP && ip->protocol != IPPROTO_TCP) {
		/* No UDP sockets and no other protocol here: port unreachable for
		 * UDP, protocol unreachable otherwise (as Linux without them). */
		c->IpInUnknownProtos += ip->protocol != IPPROTO_UDP;
		icmp_send_unreach(st, p, ip->protocol == IPPROTO_UDP ? ICMP_PORT_UNREACH : ICMP_PROT_UNREACH);
		netif_pkt_free(nif, p);
		return;
	}
	{
		uint32_t saddr = ip->saddr, daddr = ip->daddr;
		uint8_t proto = ip->protocol;

		pkt_adj(p, (uint16_t)hlen);
		switch (proto) {
		case IPPROTO_ICMP:
			c->IpInDelivers++;
			icmp_input(st, p, saddr, daddr);
			return;
		case IPPROTO_TCP: {
			struct in6_addr s6, d6;

			c->IpInDelivers++;
			addr_set_mapped(&s6, saddr);
			addr_set_mapped(&d6, daddr);
			tcp_input(st, p, &s6, &d6);
			return;
		}
		default:
			c->IpInUnknownProtos++;
			netif_pkt_free(nif, p);
			return;
		}
	}
}

int ipv4_output(struct dtcp_stack *st, struct dtcp_pkt *p, uint32_t saddr, uint32_t daddr, uint8_t proto,
                uint8_t tos, uint8_t ttl)
{
	struct ip_counters *c = &st->ipc;
	struct in6_addr dst, nh;
	struct netif *nif;
	struct ipv4_hdr *ip;
	uint32_t tot;

	c->IpOutRequests++;
	addr_set_mapped(&dst, daddr);
	nif = ifaddr_route_nh(&st->ifs, &dst, &nh);
	if (!nif || !nif->ops) {
		c->IpOutNoRoutes++;
		pkt_free_any(st, p);
		return -ENETUNREACH;
	}
	tot = p->pkt_len + sizeof(*ip);
	if (tot > nif->info.mtu) {
		c->IpOutDiscards++;
		pkt_free_any(st, p);
		return -EMSGSIZE;
	}
	ip = (struct ipv4_hdr *)pkt_prepend(p, sizeof(*ip));
	if (!ip) {
		c->IpOutDiscards++;
		pkt_free_any(st, p);
		return -ENOBUFS;
	}
	ip->ver_ihl = 0x45;
	ip->tos = tos;
	ip->tot_len = htons((uint16_t)tot);
	ip->id = htons(st->ip_id++);
	ip->frag_off = htons(IPV4_DF);
	ip->ttl = ttl;
	ip->protocol = proto;
	ip->check = 0;
	ip->saddr = saddr;
	ip->daddr = daddr;
	p->l3_len = sizeof(*ip);
	/* Routed to this host: its destination passed the route lookup, and a
	 * source that input would call martian (multicast, limited broadcast)
	 * is left unmarked, so that input still checks it. The way back in
	 * then needs no second lookup (Linux's loopback keeps the skb's route). */
	if (nif->loopback && (ntohl(saddr) & 0xf0000000) != 0xe0000000 && saddr != 0xffffffff)
		p->ol_flags |= DTCP_PKT_LOCAL_ROUTE;
	if (nif->loopback) {
		/* Nothing leaves the host: no checksum needed (as Linux's lo). */
	} else if (nif->info.capa & DTCP_NETDEV_TX_CKSUM) {
		p->ol_flags |= DTCP_PKT_TX_IPV4 | DTCP_PKT_TX_IP_CKSUM;
	} else {
		ip->check = csum_finish(csum_add_buf(0, ip, sizeof(*ip), false));
	}
	return ip_finish_output(st, nif, p, &nh);
}


int ip_finish_output(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p, const struct in6_addr *nexthop)
{
	/* A buffer allocated on one link may leave on another: copy it onto a
	 * buffer of the outgoing link (software links; DPDK ports share pools). */
	if (p->ifindex != nif->ifindex) {
		struct dtcp_pkt *q = netif_pkt_alloc(nif);
		uint8_t *d;

		if (!q || p->pkt_len > UINT16_MAX || !(d = pkt_append(q, (uint16_t)p->pkt_len))) {
			if (q)
				netif_pkt_free(nif, q);
			st->ipc.IpOutDiscards++;
			pkt_free_any(st, p);
			return -ENOBUFS;
		}
		pkt_read(p, 0, d, p->pkt_len);
		q->ol_flags = p->ol_flags;
		q->l3_len = p->l3_len;
		q->ifindex = (uint16_t)nif->ifindex;
		pkt_free_any(st, p);
		p = q;
	}
	if (nif->info.capa & DTCP_NETDEV_RAW_IP)
		netif_xmit(st, nif, p);
	else
		neigh_output(st, nif, p, nexthop);
	return 0;
}
