/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): echo replies; errors counted
 * (their delivery to TCP comes with the TCP engine). Stack thread only. */
#include <string.h>

#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"

void icmp_input(struct dtcp_stack *st, struct dtcp_pkt *p, uint32_t saddr, uint32_t daddr)
{
	struct ip_counters *c = &st->ipc;
	struct icmp_hdr *h = (struct icmp_hdr *)pkt_header(p, sizeof(*h));
	struct netif *in = &st->ifs.ifs[p->ifindex - 1];

	c->IcmpInMsgs++;
	if (!h) {
		c->IcmpInErrors++;
		netif_pkt_free(in, p);
		return;
	}
	if (!in->loopback && csum_fold(csum_add_pkt(0, p, 0, p->pkt_len)) != 0xffff) {
		c->IcmpInCsumErrors++;
		netif_pkt_free(in, p);
		return;
	}
	switch (h->type) {
	case ICMP_ECHO:
		c->IcmpInEchos++;
		/* RFC 1122 3.2.2.6: reply to a unicast request with the same data;
		 * a request to a broadcast address is ignored. */
		if (ifaddr_v4_class(&st->ifs, daddr) != V4_LOCAL) {
			netif_pkt_free(in, p);
			return;
		}
		h->type = ICMP_ECHOREPLY;
		h->check = csum_replace16(h->check, htons(ICMP_ECHO << 8), htons(ICMP_ECHOREPLY << 8));
		c->IcmpOutMsgs++;
		c->IcmpOutEchoReps++;
		ipv4_output(st, p, daddr, saddr, IPPROTO_ICMP, 0, 64);
		return;
	case ICMP_ECHOREPLY:
		c->IcmpInEchoReps++;
		break;
	default:
		break;
	}
	netif_pkt_free(in, p);
}
