/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): echo replies; errors about
 * our TCP segments handed to TCP; destination unreachable sent. Stack
 * thread only. */
#include <errno.h>
#include <string.h>

#include "addr.h"

#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"
#include "tcp/tcp.h"

/* icmp_err_convert[]: the errno of each destination-unreachable code, and
 * whether it drops a connection still in SYN_RECV (tcp_v4_err(): only net
 * and host unreachable do, with time exceeded and parameter problem). */
static const uint8_t unreach_errno[16] = {
	ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE, EOPNOTSUPP, ENETUNREACH, EHOSTDOWN,
	ENONET, ENETUNREACH, EHOSTUNREACH, ENETUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH,
};

/* An error about one of our TCP segments: the quoted IP header (from us)
 * and 8 bytes of TCP header are handed to TCP. Fragmentation needed is the
 * path-MTU signal (RFC 1191), not an error: its next-hop MTU goes to TCP. */
static void icmp_error_input(struct dtcp_stack *st, const struct dtcp_pkt *p, const struct icmp_hdr *h)
{
	uint8_t q[60 + 8];
	uint32_t ihl;
	int err;
	bool abort_req;
	struct in6_addr l, f;

	switch (h->type) {
	case ICMP_DEST_UNREACH:
		if (h->code >= 16)
			return;
		err = unreach_errno[h->code];
		abort_req = h->code == ICMP_NET_UNREACH || h->code == ICMP_HOST_UNREACH;
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		abort_req = true;
		break;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		abort_req = true;
		break;
	default:
		return;
	}
	if (p->pkt_len < sizeof(*h) + 20 + 8 || !pkt_read(p, sizeof(*h), q, 20))
		return;
	ihl = (q[0] & 0xfu) * 4u;
	if ((q[0] >> 4) != 4 || ihl < 20 || p->pkt_len < sizeof(*h) + ihl + 8 ||
	    !pkt_read(p, sizeof(*h), q, ihl + 8))
		return;
	if (q[9] != IPPROTO_TCP)
		return;
	{
		uint32_t src, dst;

		memcpy(&src, q + 12, 4);
		memcpy(&dst, q + 16, 4);
		addr_set_mapped(&l, src);
		addr_set_mapped(&f, dst);
	}
	if (h->type == ICMP_DEST_UNREACH && h->code == ICMP_FRAG_NEEDED) {
		if (!tcp_icmp_pmtu(st, &l, &f, q + ihl, ntohs(h->seq)))   /* the next-hop MTU field */
			st->ipc.IcmpInErrors++;
		return;
	}
	if (!tcp_icmp_error(st, &l, &f, q + ihl, err, abort_req))
		st->ipc.IcmpInErrors++;
}

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
	case ICMP_DEST_UNREACH:
		c->IcmpInDestUnreachs++;
		icmp_error_input(st, p, h);
		break;
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		icmp_error_input(st, p, h);
		break;
	default:
		break;
	}
	netif_pkt_free(in, p);
}

bool icmp_rate_ok(struct dtcp_stack *st)
{
	struct ip_counters *c = &st->ipc;
	uint64_t now = stack_ticks(st);

	if (!c->icmp_tokens_ms) {   /* first error: a full bucket */
		c->icmp_tokens = 50;
		c->icmp_tokens_ms = now ? now : 1;
	} else if (now > c->icmp_tokens_ms) {
		uint64_t add = now - c->icmp_tokens_ms;

		c->icmp_tokens = (uint32_t)DTCP_MIN((uint64_t)c->icmp_tokens + add, (uint64_t)50);
		c->icmp_tokens_ms = now;
	}
	if (!c->icmp_tokens) {
		c->IcmpOutRateLimited++;
		return false;
	}
	c->icmp_tokens--;
	return true;
}

void icmp_send_unreach(struct dtcp_stack *st, const struct dtcp_pkt *orig, uint8_t code)
{
	struct netif *in = &st->ifs.ifs[orig->ifindex - 1];
	const struct ipv4_hdr *ip = pkt_header(orig, sizeof(*ip));
	uint32_t quote;
	struct dtcp_pkt *p;
	struct icmp_hdr *h;

	/* Never about a broadcast or multicast packet, nor about a fragment
	 * but the first (RFC 1122 3.2.2). */
	if (!ip || ifaddr_v4_class(&st->ifs, ip->daddr) != V4_LOCAL || (ntohs(ip->frag_off) & IPV4_OFFMASK) ||
	    !icmp_rate_ok(st))
		return;
	quote = (ip->ver_ihl & 0xfu) * 4 + 8;
	if (quote > orig->pkt_len)
		quote = orig->pkt_len;
	p = netif_pkt_alloc(in);
	if (!p || !(h = (struct icmp_hdr *)pkt_append(p, (uint16_t)(sizeof(*h) + quote)))) {
		if (p)
			netif_pkt_free(in, p);
		return;
	}
	p->ifindex = (uint16_t)in->ifindex;
	h->type = ICMP_DEST_UNREACH;
	h->code = code;
	h->check = 0;
	h->id = 0;
	h->seq = 0;
	pkt_read(orig, 0, h + 1, quote);
	h->check = csum_finish(csum_add_buf(0, h, sizeof(*h) + quote, false));
	st->ipc.IcmpOutMsgs++;
	st->ipc.IcmpOutDestUnreachs++;
	ipv4_output(st, p, ip->daddr, ip->saddr, IPPROTO_ICMP, 0, 64);
}
