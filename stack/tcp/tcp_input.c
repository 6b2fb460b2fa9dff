/* The receive path's first steps (RFC 9293 3.10.7): header and checksum
 * validation, demultiplexing (established table, then listeners), and the
 * reset that answers a segment reaching no socket (3.10.7.1). The state
 * machine plugs in where a socket is found. Stack thread only. */
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "tcp/tcp_hdr.h"

static uint64_t tcp_pseudo(const struct in6_addr *s, const struct in6_addr *d, uint32_t len)
{
	if (addr_is_mapped(s))
		return csum_pseudo_v4(addr_v4(s), addr_v4(d), IPPROTO_TCP, len);
	return csum_pseudo_v6(s, d, IPPROTO_TCP, len);
}

/* RFC 9293 3.10.7.1: no connection. An incoming RST is dropped; to an ACK
 * the reset takes its sequence from SEG.ACK; otherwise it is sequence 0
 * acknowledging everything the segment occupied. */
static void tcp_send_reset(struct dtcp_stack *st, struct netif *in, const struct tcp_hdr *th, uint32_t seg_len,
                           const struct in6_addr *saddr, const struct in6_addr *daddr)
{
	uint8_t flags = tcp_hdr_flags(th);
	struct dtcp_pkt *p;
	struct tcp_hdr *rh;

	if (flags & TCP_FLAG_RST)
		return;
	/* Never answer a broadcast or multicast destination. */
	if (addr_is_mapped(daddr) ? ifaddr_v4_class(&st->ifs, addr_v4(daddr)) != V4_LOCAL
	                          : addr_is_multicast6(daddr))
		return;
	p = netif_pkt_alloc(in);
	if (!p || !(rh = (struct tcp_hdr *)pkt_append(p, sizeof(*rh)))) {
		if (p)
			netif_pkt_free(in, p);
		return;
	}
	p->ifindex = (uint16_t)in->ifindex;
	memset(rh, 0, sizeof(*rh));
	rh->sport = th->dport;
	rh->dport = th->sport;
	tcp_hdr_set_doff(rh, sizeof(*rh));
	if (flags & TCP_FLAG_ACK) {
		rh->seq = th->ack;
		tcp_hdr_set_flags(rh, TCP_FLAG_RST);
	} else {
		seg_len += !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
		rh->ack = htonl(ntohl(th->seq) + seg_len);
		tcp_hdr_set_flags(rh, TCP_FLAG_RST | TCP_FLAG_ACK);
	}
	rh->csum = csum_finish(csum_add_buf(tcp_pseudo(daddr, saddr, sizeof(*rh)), rh, sizeof(*rh), false));
	st->tcpc.TcpOutSegs++;
	st->tcpc.TcpOutRsts++;
	if (addr_is_mapped(saddr))
		ipv4_output(st, p, addr_v4(daddr), addr_v4(saddr), IPPROTO_TCP, 0, 64);
	else
		ipv6_output(st, p, daddr, saddr, IPPROTO_TCP, 64);
}

void tcp_input(struct dtcp_stack *st, struct dtcp_pkt *p, const struct in6_addr *saddr,
               const struct in6_addr *daddr)
{
	struct tcp_counters *c = &st->tcpc;
	struct netif *in = &st->ifs.ifs[p->ifindex - 1];
	const struct tcp_hdr *th = pkt_header(p, sizeof(*th));
	struct tcp_hdr copy;
	uint32_t doff;
	struct inet_sock *sk;

	c->TcpInSegs++;
	if (!th || (doff = tcp_hdr_doff(th)) < sizeof(*th) || doff > p->pkt_len || !pkt_header(p, doff)) {
		c->TcpInErrs++;
		netif_pkt_free(in, p);
		return;
	}
	if ((p->ol_flags & DTCP_PKT_RX_L4_CKSUM_BAD) ||
	    (!in->loopback && !(p->ol_flags & DTCP_PKT_RX_L4_CKSUM_GOOD) &&
	     csum_fold(csum_add_pkt(tcp_pseudo(saddr, daddr, p->pkt_len), p, 0, p->pkt_len)) != 0xffff)) {
		c->TcpInErrs++;
		c->TcpInCsumErrors++;
		netif_pkt_free(in, p);
		return;
	}
	sk = ehash_lookup(&st->eh, daddr, ntohs(th->dport), saddr, ntohs(th->sport));
	if (!sk)
		sk = lhash_lookup(&st->lh, daddr, ntohs(th->dport));
	if (sk) {
		/* The state machine is the next step of the engine. */
		c->TcpExtTCPNoEngineDrops++;
		netif_pkt_free(in, p);
		return;
	}
	copy = *th;
	tcp_send_reset(st, in, &copy, p->pkt_len - doff, saddr, daddr);
	netif_pkt_free(in, p);
}
