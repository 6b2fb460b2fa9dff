/* ICMPv6 (RFC 4443): checksum, echo replies, Neighbor Discovery messages
 * handed to nd.c, errors about our TCP segments handed to TCP, errors sent.
 * Stack thread only. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "ip/neigh.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"
#include "tcp/tcp.h"

#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* icmpv6_err_convert(): destination unreachable codes 0-6 with whether
 * they are fatal (which drops a connection still in SYN_RECV). */
static const struct {
	uint8_t err;
	bool fatal;
} unreach6[7] = {
	{ ENETUNREACH, false }, { EACCES, true }, { EHOSTUNREACH, false }, { EHOSTUNREACH, false },
	{ ECONNREFUSED, true }, { EACCES, true }, { EACCES, true },
};

/* An error quoting one of our TCP segments (ours carry no extension
 * headers, so TCP follows the quoted header). Packet too big is the
 * path-MTU signal (RFC 8201): its MTU goes to TCP. */
static void icmpv6_error_input(struct dtcp_stack *st, const struct dtcp_pkt *p, uint8_t type, uint8_t code)
{
	uint8_t q[40 + 8];
	struct in6_addr l, f;
	int err = EPROTO;
	bool fatal = false;

	switch (type) {
	case 2:   /* packet too big */
		break;
	case 1:   /* destination unreachable */
		if (code < 7) {
			err = unreach6[code].err;
			fatal = unreach6[code].fatal;
		}
		break;
	case 3:   /* time exceeded */
		err = EHOSTUNREACH;
		break;
	case 4:   /* parameter problem */
		fatal = true;
		break;
	default:
		return;
	}
	if (!pkt_read(p, 8, q, sizeof(q)) || (q[0] >> 4) != 6 || q[6] != IPPROTO_TCP)
		return;
	memcpy(&l, q + 8, 16);
	memcpy(&f, q + 24, 16);
	if (type == 2) {
		uint8_t m[4];

		if (!pkt_read(p, 4, m, 4))
			return;
		if (!tcp_icmp_pmtu(st, &l, &f, q + 40, (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | m[2] << 8 | m[3]))
			st->ipc.Icmp6InErrors++;
		return;
	}
	if (!tcp_icmp_error(st, &l, &f, q + 40, err, fatal))
		st->ipc.Icmp6InErrors++;
}

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
	case 1:
	case 2:
	case 3:
	case 4:
		icmpv6_error_input(st, p, h->type, h->code);
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

void icmpv6_send_error(struct dtcp_stack *st, const struct dtcp_pkt *orig, uint8_t type, uint8_t code,
                       uint32_t pointer)
{
	struct netif *in = &st->ifs.ifs[orig->ifindex - 1];
	const struct ipv6_hdr *ip = pkt_header(orig, sizeof(*ip));
	struct in6_addr src, dst;
	uint32_t quote;
	struct dtcp_pkt *p;
	uint8_t *h;

	if (!ip)
		return;
	memcpy(&src, (const uint8_t *)ip + 8, 16);
	memcpy(&dst, (const uint8_t *)ip + 24, 16);
	/* RFC 4443 2.4 (e): never about a multicast destination (the
	 * parameter-problem exception does not apply to next headers) nor a
	 * multicast or unspecified source. */
	if (addr_is_multicast6(&dst) || addr_is_multicast6(&src) || addr_is_any6(&src))
		return;
	if (!icmp_rate_ok(st))
		return;
	/* As much of the packet as fits the minimum MTU (2.4 (c)). */
	quote = orig->pkt_len;
	if (quote > 1280 - 40 - 8)
		quote = 1280 - 40 - 8;
	p = netif_pkt_alloc(in);
	if (!p || !(h = pkt_append(p, (uint16_t)(8 + quote)))) {
		if (p)
			netif_pkt_free(in, p);
		return;
	}
	p->ifindex = (uint16_t)in->ifindex;
	h[0] = type;
	h[1] = code;
	h[2] = h[3] = 0;
	h[4] = (uint8_t)(pointer >> 24);
	h[5] = (uint8_t)(pointer >> 16);
	h[6] = (uint8_t)(pointer >> 8);
	h[7] = (uint8_t)pointer;
	pkt_read(orig, 0, h + 8, quote);
	{
		uint16_t ck = csum_finish(csum_add_buf(csum_pseudo_v6(&dst, &src, IPPROTO_ICMPV6, 8 + quote), h, 8 + quote,
		                                       false));

		memcpy(h + 2, &ck, 2);
	}
	st->ipc.Icmp6OutMsgs++;
	st->ipc.Icmp6OutErrors++;
	ipv6_output(st, p, &dst, &src, IPPROTO_ICMPV6, 64);
}
