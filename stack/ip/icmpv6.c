/* ICMPv6 (RFC 4443): checksum, echo replies, Neighbor Discovery messages
 * handed to nd.c; other messages counted. Stack thread only. */
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "ip/neigh.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"

#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

void icmpv6_input(struct dtcp_stack *st, struct dtcp_pkt *p, const struct in6_addr *saddr,
                  const struct in6_addr *daddr, uint8_t hop_limit)
{
	struct ip_counters *c = &st->ipc;
	struct netif *in = &st->ifs.ifs[p->ifindex - 1];
	struct icmp_hdr *h = (struct icmp_hdr *)pkt_header(p, 4);

	c->Icmp6InMsgs++;
	if (!h) {
		c->Icmp6InErrors++;
		netif_pkt_free(in, p);
		return;
	}
	/* The checksum is mandatory and covers the pseudo-header (RFC 4443 2.3). */
	if (!in->loopback &&
	    csum_fold(csum_add_pkt(csum_pseudo_v6(saddr, daddr, IPPROTO_ICMPV6, p->pkt_len), p, 0, p->pkt_len)) !=
	        0xffff) {
		c->Icmp6InCsumErrors++;
		netif_pkt_free(in, p);
		return;
	}
	switch (h->type) {
	case ICMPV6_ECHO_REQUEST:
		c->Icmp6InEchos++;
		/* Answered from the address it was sent to; multicast echoes are
		 * left alone (no unicast source to answer from). */
		if (addr_is_multicast6(daddr) || p->pkt_len < sizeof(*h)) {
			netif_pkt_free(in, p);
			return;
		}
		h->type = ICMPV6_ECHO_REPLY;
		h->check = csum_replace16(h->check, htons(ICMPV6_ECHO_REQUEST << 8), htons(ICMPV6_ECHO_REPLY << 8));
		c->Icmp6OutMsgs++;
		c->Icmp6OutEchoReplies++;
		ipv6_output(st, p, daddr, saddr, IPPROTO_ICMPV6, 64);
		return;
	case ICMPV6_ECHO_REPLY:
		c->Icmp6InEchoReplies++;
		break;
	case 135:
	case 136:
		nd_input(st, in, p, saddr, daddr, hop_limit);
		return;
	default:
		break;
	}
	netif_pkt_free(in, p);
}
