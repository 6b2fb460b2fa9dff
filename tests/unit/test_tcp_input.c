/* TCP's receive path before the state machine: validation and the reset
 * for segments that reach no socket (RFC 9293 3.10.7.1), IPv4 and IPv6,
 * through a raw-IP link pair whose far end is the test. */
#include "harness.h"

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"
#include "pkt.h"
#include "tcp/tcp_hdr.h"

static struct link_pair *lp;
static void *peer;

static void setup(void)
{
	th_link_setup(NULL);
	lp = th_lp;
	peer = th_peer;
	cr_assert_eq(dtcp_addr_add(st, "eth0", "198.18.0.1/15"), 0);
	cr_assert_eq(dtcp_addr_add(st, "eth0", "2001:db8::1/64"), 0);
}

static void teardown(void)
{
	th_link_teardown();
}

TestSuite(tcp_input, .init = setup, .fini = teardown);

struct seg {
	bool v6;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t payload;
	uint8_t doff;        /* 0: 20 */
	bool bad_csum;
};

static struct dtcp_pkt *make_seg(const struct seg *s)
{
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	uint32_t ip_len = s->v6 ? 40 : 20, tlen = 20u + s->payload;
	uint8_t *d = pkt_append(p, (uint16_t)(ip_len + tlen));
	struct tcp_hdr *th = (struct tcp_hdr *)(d + ip_len);
	uint64_t ph;

	memset(d, 0, ip_len + tlen);
	if (s->v6) {
		struct in6_addr a, b;

		inet_pton(AF_INET6, "2001:db8::2", &a);
		inet_pton(AF_INET6, "2001:db8::1", &b);
		ph = th_ipv6_header(d, &a, &b, IPPROTO_TCP, tlen);
	} else {
		ph = th_ipv4_header(d, inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), IPPROTO_TCP, tlen);
	}
	th->sport = htons(s->sport);
	th->dport = htons(s->dport);
	th->seq = htonl(s->seq);
	th->ack = htonl(s->ack);
	tcp_hdr_set_doff(th, s->doff ? s->doff : 20);
	tcp_hdr_set_flags(th, s->flags);
	th->window = htons(65535);
	th->csum = csum_finish(csum_add_buf(ph, th, tlen, false));
	if (s->bad_csum)
		th->csum ^= 0x0101;
	return p;
}

static void send_in(struct dtcp_pkt *p)
{
	cr_assert_eq(link_pair_ops.tx_burst(peer, &p, 1), 1);
	dtcp_stack_poll(st);
}

/* The reset that came out, or NULL; checks its checksum. */
static struct dtcp_pkt *take_rst(bool v6, const struct tcp_hdr **out)
{
	struct dtcp_pkt *p = NULL;
	const uint8_t *d;
	uint32_t ip_len = v6 ? 40 : 20;
	uint64_t ph;

	if (link_pair_ops.rx_burst(peer, &p, 1) != 1)
		return NULL;
	d = dtcp_pkt_data(p);
	if (v6) {
		struct in6_addr a, b;

		memcpy(&a, d + 8, 16);
		memcpy(&b, d + 24, 16);
		cr_assert_eq(d[6], IPPROTO_TCP);
		ph = csum_pseudo_v6(&a, &b, IPPROTO_TCP, p->pkt_len - ip_len);
	} else {
		const struct ipv4_hdr *ip = (const struct ipv4_hdr *)d;

		cr_assert_eq(ip->protocol, IPPROTO_TCP);
		cr_assert_eq(ip->daddr, inet_addr("198.18.0.2"));
		ph = csum_pseudo_v4(ip->saddr, ip->daddr, IPPROTO_TCP, p->pkt_len - ip_len);
	}
	cr_assert_eq(p->pkt_len, ip_len + 20, "a bare header");
	cr_assert_eq(csum_fold(csum_add_buf(ph, d + ip_len, 20, false)), 0xffff, "TCP checksum");
	*out = (const struct tcp_hdr *)(d + ip_len);
	return p;
}

static void check_resets(bool v6)
{
	const struct tcp_hdr *r;
	struct dtcp_pkt *p;

	/* A SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
	send_in(make_seg(&(struct seg){ .v6 = v6, .sport = 40000, .dport = 80, .seq = 1000, .flags = TCP_FLAG_SYN }));
	p = take_rst(v6, &r);
	cr_assert_not_null(p);
	cr_assert_eq(ntohs(r->sport), 80);
	cr_assert_eq(ntohs(r->dport), 40000);
	cr_assert_eq(ntohl(r->seq), 0);
	cr_assert_eq(ntohl(r->ack), 1001);
	cr_assert_eq(tcp_hdr_flags(r), TCP_FLAG_RST | TCP_FLAG_ACK);
	link_pair_ops.pkt_free(peer, p);
	/* Data and FIN count too. */
	send_in(make_seg(&(struct seg){ .v6 = v6, .sport = 40000, .dport = 80, .seq = 0xfffffff0u, .payload = 10,
	                                .flags = TCP_FLAG_FIN | TCP_FLAG_PSH }));
	p = take_rst(v6, &r);
	cr_assert_not_null(p);
	cr_assert_eq(ntohl(r->ack), 0xfffffffbu, "seq + 10 + FIN, modulo 2^32");
	link_pair_ops.pkt_free(peer, p);
	/* An ACK: <SEQ=SEG.ACK><CTL=RST>. */
	send_in(make_seg(&(struct seg){ .v6 = v6, .sport = 40000, .dport = 80, .seq = 5, .ack = 777,
	                                .flags = TCP_FLAG_ACK }));
	p = take_rst(v6, &r);
	cr_assert_not_null(p);
	cr_assert_eq(ntohl(r->seq), 777);
	cr_assert_eq(tcp_hdr_flags(r), TCP_FLAG_RST);
	link_pair_ops.pkt_free(peer, p);
	/* A reset is never answered. */
	send_in(make_seg(&(struct seg){ .v6 = v6, .sport = 40000, .dport = 80, .seq = 5, .flags = TCP_FLAG_RST }));
	cr_assert_null(take_rst(v6, &r));
	cr_assert_eq(st->tcpc.TcpOutRsts, 3);
}

Test(tcp_input, resets_v4)
{
	check_resets(false);
}

Test(tcp_input, resets_v6)
{
	check_resets(true);
}

Test(tcp_input, malformed_segments_dropped)
{
	const struct tcp_hdr *r;

	send_in(make_seg(&(struct seg){ .sport = 1, .dport = 80, .flags = TCP_FLAG_SYN, .bad_csum = true }));
	cr_assert_eq(st->tcpc.TcpInCsumErrors, 1);
	send_in(make_seg(&(struct seg){ .sport = 1, .dport = 80, .flags = TCP_FLAG_SYN, .doff = 16 }));
	cr_assert_eq(st->tcpc.TcpInErrs, 2, "data offset below 20");
	send_in(make_seg(&(struct seg){ .sport = 1, .dport = 80, .flags = TCP_FLAG_SYN, .doff = 60 }));
	cr_assert_eq(st->tcpc.TcpInErrs, 3, "data offset past the segment");
	cr_assert_null(take_rst(false, &r), "no reset to a malformed segment");
}

Test(tcp_input, listener_answers_syn_ack)
{
	int l = th_socket(AF_INET, NULL);
	struct dtcp_pkt *p = NULL;
	const struct tcp_hdr *th;

	cr_assert_eq(th_bind(l, "0.0.0.0", 80), 0);
	cr_assert_eq(th_listen(l), 0);
	send_in(make_seg(&(struct seg){ .sport = 40000, .dport = 80, .seq = 41, .flags = TCP_FLAG_SYN }));
	cr_assert_eq(link_pair_ops.rx_burst(peer, &p, 1), 1);
	th = (const struct tcp_hdr *)(dtcp_pkt_data(p) + 20);
	cr_assert_eq(tcp_hdr_flags(th), TCP_FLAG_SYN | TCP_FLAG_ACK);
	cr_assert_eq(ntohl(th->ack), 42);
	cr_assert_eq(ntohs(th->sport), 80);
	cr_assert_eq(st->tcpc.TcpOutRsts, 0);
	cr_assert_eq(st->tcpc.TcpPassiveOpens, 1);
	link_pair_ops.pkt_free(peer, p);
	/* Closing the listener resets the half-open child. */
	cr_assert_eq(dtcp_close(st, l), 0);
	cr_assert_eq(link_pair_ops.rx_burst(peer, &p, 1), 1);
	th = (const struct tcp_hdr *)(dtcp_pkt_data(p) + 20);
	cr_assert(tcp_hdr_flags(th) & TCP_FLAG_RST);
	link_pair_ops.pkt_free(peer, p);
}

/* The connection-table hash a received segment carries is the stack's own,
 * taken on receive: a link's packet that arrives claiming one (flag set,
 * hash 0) is hashed again, so its SYN's child lands where the plain ACK
 * after it looks. */
Test(tcp_input, a_links_flow_hash_is_not_trusted)
{
	int l = th_socket(AF_INET, NULL), c;
	struct dtcp_pkt *p = NULL, *syn;
	const struct tcp_hdr *th;
	uint32_t iss;

	cr_assert_eq(th_bind(l, "0.0.0.0", 80), 0);
	cr_assert_eq(th_listen(l), 0);
	syn = make_seg(&(struct seg){ .sport = 40000, .dport = 80, .seq = 41, .flags = TCP_FLAG_SYN });
	syn->ol_flags |= DTCP_PKT_RX_FLOW_HASH;
	syn->flow_hash = 0;
	send_in(syn);
	cr_assert_eq(link_pair_ops.rx_burst(peer, &p, 1), 1);
	th = (const struct tcp_hdr *)(dtcp_pkt_data(p) + 20);
	cr_assert_eq(tcp_hdr_flags(th), TCP_FLAG_SYN | TCP_FLAG_ACK);
	iss = ntohl(th->seq);
	link_pair_ops.pkt_free(peer, p);
	send_in(make_seg(&(struct seg){ .sport = 40000, .dport = 80, .seq = 42, .ack = iss + 1, .flags = TCP_FLAG_ACK }));
	cr_assert_eq(link_pair_ops.rx_burst(peer, &p, 1), 0, "no reset: the ACK found the child");
	c = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
	cr_assert_geq(c, 0, "the connection is established: %s", strerror(errno));
	cr_assert_eq(st->tcpc.TcpOutRsts, 0);
}

Test(tcp_input, random_segments_never_crash)
{
	uint32_t x = 7;

	for (int i = 0; i < 20000; i++) {
		struct seg s = { .v6 = x & 1, .sport = (uint16_t)x, .dport = (uint16_t)(x >> 8), .seq = x * 31,
		                 .ack = x * 17, .flags = (uint8_t)(x >> 3), .payload = (uint16_t)(x % 64),
		                 .doff = (uint8_t)((x >> 5) % 16 * 4), .bad_csum = (x % 7) == 0 };
		struct dtcp_pkt *p;

		x = x * 1103515245u + 12345u;
		send_in(make_seg(&s));
		while (link_pair_ops.rx_burst(peer, &p, 1) == 1)
			link_pair_ops.pkt_free(peer, p);
	}
	cr_assert_gt(st->tcpc.TcpOutRsts, 1000);
	cr_assert_gt(st->tcpc.TcpInErrs, 1000);
}
