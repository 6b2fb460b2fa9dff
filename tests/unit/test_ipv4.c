/* IPv4 input and output, and ICMP echo, through the real receive path:
 * crafted packets enter on a link-pair end attached to the stack, replies
 * are read at the other end; malformed packets are counted and freed. */
#include "harness.h"

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"
#include "pkt.h"

static struct link_pair *lp;
static void *peer;

static void setup(void)
{
	th_link_setup(NULL);
	lp = th_lp;
	peer = th_peer;
	cr_assert_eq(dtcp_addr_add(st, "eth0", "198.18.0.1/15"), 0);
}

static void teardown(void)
{
	th_link_teardown();
}

TestSuite(ipv4, .init = setup, .fini = teardown);

/* An echo request from 198.18.0.2 with len bytes of payload. */
static struct dtcp_pkt *echo_request(uint32_t saddr, uint32_t daddr, uint16_t len)
{
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	struct ipv4_hdr *ip = (struct ipv4_hdr *)pkt_append(p, (uint16_t)(sizeof(*ip) + 8 + len));
	struct icmp_hdr *ic = (struct icmp_hdr *)(ip + 1);

	th_ipv4_header(ip, saddr, daddr, IPPROTO_ICMP, 8u + len);
	ic->type = ICMP_ECHO;
	ic->code = 0;
	ic->check = 0;
	ic->id = htons(77);
	ic->seq = htons(5);
	for (uint16_t i = 0; i < len; i++)
		((uint8_t *)(ic + 1))[i] = (uint8_t)i;
	ic->check = csum_finish(csum_add_buf(0, ic, 8u + len, false));
	return p;
}

static void send_in(struct dtcp_pkt *p)
{
	cr_assert_eq(link_pair_ops.tx_burst(peer, &p, 1), 1);
	cr_assert_geq(dtcp_stack_poll(st), 1);
}

static struct dtcp_pkt *take_out(void)
{
	struct dtcp_pkt *p = NULL;

	return link_pair_ops.rx_burst(peer, &p, 1) == 1 ? p : NULL;
}

Test(ipv4, echo_reply)
{
	struct dtcp_pkt *r;
	const struct ipv4_hdr *ip;
	const struct icmp_hdr *ic;

	send_in(echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 56));
	r = take_out();
	cr_assert_not_null(r, "a reply came out");
	ip = (const struct ipv4_hdr *)dtcp_pkt_data(r);
	ic = (const struct icmp_hdr *)(ip + 1);
	cr_assert_eq(ip->saddr, inet_addr("198.18.0.1"));
	cr_assert_eq(ip->daddr, inet_addr("198.18.0.2"));
	cr_assert_eq(ntohs(ip->tot_len), 20 + 8 + 56);
	cr_assert_eq(csum_fold(csum_add_buf(0, ip, 20, false)), 0xffff, "IPv4 checksum");
	cr_assert_eq(ic->type, ICMP_ECHOREPLY);
	cr_assert_eq(ntohs(ic->id), 77);
	cr_assert_eq(ntohs(ic->seq), 5);
	cr_assert_eq(csum_fold(csum_add_buf(0, ic, 8 + 56, false)), 0xffff, "ICMP checksum");
	for (int i = 0; i < 56; i++)
		cr_assert_eq(((const uint8_t *)(ic + 1))[i], i);
	cr_assert_eq(st->ipc.IcmpInEchos, 1);
	cr_assert_eq(st->ipc.IcmpOutEchoReps, 1);
	link_pair_ops.pkt_free(peer, r);
}

Test(ipv4, link_padding_trimmed)
{
	struct dtcp_pkt *p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 4), *r;

	memset(pkt_append(p, 18), 0, 18);   /* a short frame padded by its link */
	send_in(p);
	r = take_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->pkt_len, 20 + 8 + 4);
	link_pair_ops.pkt_free(peer, r);
}

/* Each malformed packet is dropped, counted, and answered by nothing. */
Test(ipv4, malformed_dropped_and_counted)
{
	struct dtcp_pkt *p;
	struct ipv4_hdr *ip;

	/* Shorter than a header. */
	p = link_pair_ops.pkt_alloc(peer);
	memset(pkt_append(p, 12), 0x45, 12);
	send_in(p);
	cr_assert_eq(st->ipc.IpInHdrErrors, 1);
	/* IHL below 5. */
	p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 8);
	((struct ipv4_hdr *)dtcp_pkt_data(p))->ver_ihl = 0x44;
	send_in(p);
	cr_assert_eq(st->ipc.IpInHdrErrors, 2);
	/* IHL past the data. */
	p = link_pair_ops.pkt_alloc(peer);
	ip = (struct ipv4_hdr *)pkt_append(p, 20);
	cr_assert_not_null(ip);
	memset(ip, 0, 20);
	ip->ver_ihl = 0x4f;
	send_in(p);
	cr_assert_eq(st->ipc.IpInHdrErrors, 3);
	/* Bad header checksum. */
	p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 8);
	((struct ipv4_hdr *)dtcp_pkt_data(p))->ttl = 63;
	send_in(p);
	cr_assert_eq(st->ipc.IpExtInCsumErrors, 1);
	/* Total length beyond the data. */
	p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 8);
	pkt_trim_to(p, 30);
	send_in(p);
	cr_assert_eq(st->ipc.IpExtInTruncatedPkts, 1);
	/* A fragment. */
	p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 8);
	ip = (struct ipv4_hdr *)dtcp_pkt_data(p);
	ip->frag_off = htons(IPV4_MF);
	ip->check = 0;
	ip->check = csum_finish(csum_add_buf(0, ip, 20, false));
	send_in(p);
	cr_assert_eq(st->ipc.IpReasmFails, 1);
	/* Not addressed to us (no forwarding). */
	send_in(echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.9"), 8));
	cr_assert_eq(st->ipc.IpInAddrErrors, 1);
	/* A multicast source is martian. */
	send_in(echo_request(inet_addr("224.0.0.1"), inet_addr("198.18.0.1"), 8));
	cr_assert_eq(st->ipc.IpInAddrErrors, 2);
	/* A bad ICMP checksum. */
	p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), 8);
	((uint8_t *)dtcp_pkt_data(p))[30] ^= 0xff;
	send_in(p);
	cr_assert_eq(st->ipc.IcmpInCsumErrors, 1);
	/* Not IPv4 at all. */
	p = link_pair_ops.pkt_alloc(peer);
	memset(pkt_append(p, 40), 0x70, 40);   /* version 7 */
	send_in(p);
	cr_assert_eq(st->ipc.LinkRxUnknownL3, 1);
	cr_assert_null(take_out(), "no reply to any of them");
	cr_assert_eq(st->ipc.IcmpOutMsgs, 0);
}

/* A packet of protocol proto from 198.18.0.2 to daddr, 8 bytes of payload. */
static struct dtcp_pkt *proto_packet(uint8_t proto, uint32_t daddr, uint16_t frag_off)
{
	struct dtcp_pkt *p = echo_request(inet_addr("198.18.0.2"), daddr, 8);
	struct ipv4_hdr *ip = (struct ipv4_hdr *)dtcp_pkt_data(p);

	ip->protocol = proto;
	ip->frag_off = htons(frag_off);
	ip->check = 0;
	ip->check = csum_finish(csum_add_buf(0, ip, 20, false));
	return p;
}

/* What Linux answers when nothing takes a protocol (no UDP sockets here
 * either): destination unreachable, quoting the header and 8 bytes. */
static void expect_unreach(uint8_t proto, uint8_t code)
{
	struct dtcp_pkt *r;
	const struct ipv4_hdr *ip;
	const struct icmp_hdr *ic;
	const struct ipv4_hdr *quoted;

	send_in(proto_packet(proto, inet_addr("198.18.0.1"), 0));
	r = take_out();
	cr_assert_not_null(r, "protocol %u is answered", proto);
	ip = (const struct ipv4_hdr *)dtcp_pkt_data(r);
	ic = (const struct icmp_hdr *)(ip + 1);
	cr_assert_eq(ip->protocol, IPPROTO_ICMP);
	cr_assert_eq(ip->saddr, inet_addr("198.18.0.1"));
	cr_assert_eq(ip->daddr, inet_addr("198.18.0.2"));
	cr_assert_eq(ntohs(ip->tot_len), 20 + 8 + 20 + 8, "header and 8 bytes quoted");
	cr_assert_eq(ic->type, ICMP_DEST_UNREACH);
	cr_assert_eq(ic->code, code);
	cr_assert_eq(csum_fold(csum_add_buf(0, ic, 8 + 28, false)), 0xffff, "ICMP checksum");
	quoted = (const struct ipv4_hdr *)(ic + 1);
	cr_assert_eq(quoted->protocol, proto);
	cr_assert_eq(quoted->saddr, inet_addr("198.18.0.2"));
	link_pair_ops.pkt_free(peer, r);
}

Test(ipv4, unreachable_protocol_and_port)
{
	expect_unreach(250, ICMP_PROT_UNREACH);
	cr_assert_eq(st->ipc.IpInUnknownProtos, 1);
	expect_unreach(IPPROTO_UDP, ICMP_PORT_UNREACH);
	cr_assert_eq(st->ipc.IpInUnknownProtos, 1, "UDP is a known protocol");
	cr_assert_eq(st->ipc.IcmpOutDestUnreachs, 2);
	/* Never about a broadcast, nor about a fragment but the first. */
	send_in(proto_packet(250, inet_addr("198.19.255.255"), 0));
	send_in(proto_packet(IPPROTO_UDP, inet_addr("255.255.255.255"), 0));
	send_in(proto_packet(250, inet_addr("198.18.0.1"), 3));
	cr_assert_null(take_out());
	cr_assert_eq(st->ipc.IcmpOutDestUnreachs, 2);
}

Test(ipv4, icmp_errors_rate_limited)
{
	struct dtcp_pkt *r;
	int n = 0;

	/* A burst of 50, then one per millisecond (1,000/s). */
	for (int i = 0; i < 80; i++)
		send_in(proto_packet(250, inet_addr("198.18.0.1"), 0));
	while ((r = take_out())) {
		link_pair_ops.pkt_free(peer, r);
		n++;
	}
	cr_assert_eq(n, 50);
	cr_assert_eq(st->ipc.IcmpOutRateLimited, 30);
	th_now_ns += 10 * 1000000ull;
	for (int i = 0; i < 20; i++)
		send_in(proto_packet(250, inet_addr("198.18.0.1"), 0));
	n = 0;
	while ((r = take_out())) {
		link_pair_ops.pkt_free(peer, r);
		n++;
	}
	cr_assert_eq(n, 10, "10 ms refilled 10 tokens");
	cr_assert_eq(st->ipc.IcmpOutRateLimited, 40);
}

Test(ipv4, broadcast_echo_ignored)
{
	send_in(echo_request(inet_addr("198.18.0.2"), inet_addr("198.19.255.255"), 8));
	cr_assert_eq(st->ipc.IcmpInEchos, 1);
	cr_assert_null(take_out());
}

/* A fuzz loop: random bytes, random lengths, random header fields; the
 * stack never crashes, never answers garbage, and frees every buffer. */
Test(ipv4, random_packets_never_crash)
{
	uint32_t x = 99;

	for (int i = 0; i < 20000; i++) {
		struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
		uint16_t len = (uint16_t)(x % 200);
		uint8_t *d = pkt_append(p, len);

		for (uint16_t k = 0; k < len; k++) {
			x = x * 1103515245u + 12345u;
			d[k] = (uint8_t)(x >> 16);
		}
		if (len >= 20 && (x & 1)) {
			/* Often a plausible header, so the deeper checks run too. */
			struct ipv4_hdr *ip = (struct ipv4_hdr *)d;

			ip->ver_ihl = 0x45;
			ip->daddr = inet_addr("198.18.0.1");
			ip->saddr = inet_addr("198.18.0.2");
			ip->tot_len = htons(len);
			ip->frag_off = 0;
			ip->protocol = (x & 2) ? IPPROTO_ICMP : (uint8_t)x;
			ip->check = 0;
			ip->check = csum_finish(csum_add_buf(0, ip, 20, false));
		}
		send_in(p);
		while ((p = take_out()))
			link_pair_ops.pkt_free(peer, p);
	}
	cr_assert_eq(link_pair_pkts_in_use(lp), 0);
}

Test(ipv4, ping_over_loopback)
{
	struct netif *lo = &st->ifs.ifs[0];
	struct dtcp_pkt *p = lo->ops->pkt_alloc(lo->self);
	struct icmp_hdr *ic = (struct icmp_hdr *)pkt_append(p, 16);

	cr_assert_not_null(ic);
	memset(ic, 0, 16);
	ic->type = ICMP_ECHO;
	ic->check = csum_finish(csum_add_buf(0, ic, 16, false));
	p->ifindex = 1;
	cr_assert_eq(ipv4_output(st, p, inet_addr("127.0.0.1"), inet_addr("127.0.0.2"), IPPROTO_ICMP, 0, 64), 0);
	for (int i = 0; i < 4; i++)
		dtcp_stack_poll(st);
	cr_assert_eq(st->ipc.IcmpInEchos, 1);
	cr_assert_eq(st->ipc.IcmpInEchoReps, 1, "the reply came back over lo");
}

/* An echo request from src to 127.0.0.2, through ipv4_output() onto lo. */
static void echo_over_lo(struct netif *lo, const char *src)
{
	struct dtcp_pkt *p = lo->ops->pkt_alloc(lo->self);
	struct icmp_hdr *ic;

	p->ifindex = (uint16_t)lo->ifindex;
	ic = (struct icmp_hdr *)pkt_append(p, 16);
	cr_assert_not_null(ic);
	memset(ic, 0, 16);
	ic->type = ICMP_ECHO;
	ic->check = csum_finish(csum_add_buf(0, ic, 16, false));
	cr_assert_eq(ipv4_output(st, p, inet_addr(src), inet_addr("127.0.0.2"), IPPROTO_ICMP, 0, 64), 0);
}

/* What this stack routed to its loopback skips the input's address checks
 * (as Linux's looped-back skb keeps its route); the mark is the stack's own
 * and counts only on a loopback device: a packet on lo that did not come
 * from the output path, or a marked packet on another link, is checked. */
Test(ipv4, loopback_mark_skips_address_checks_on_lo_only)
{
	struct netif *lo = &st->ifs.ifs[0];
	struct dtcp_pkt *p = lo->ops->pkt_alloc(lo->self);
	struct ipv4_hdr *ip = (struct ipv4_hdr *)pkt_append(p, 28);

	cr_assert(lo->loopback);
	memset(ip, 0, 28);
	th_ipv4_header(ip, inet_addr("127.0.0.1"), inet_addr("198.51.100.9"), IPPROTO_ICMP, 8);
	p->ifindex = (uint16_t)lo->ifindex;
	ipv4_input(st, lo, p);
	cr_assert_eq(st->ipc.IpInAddrErrors, 1, "not ours, and not routed here: dropped");
	p = echo_request(inet_addr("198.18.0.2"), inet_addr("198.18.0.9"), 8);
	p->ol_flags |= DTCP_PKT_LOCAL_ROUTE;
	send_in(p);
	cr_assert_eq(st->ipc.IpInAddrErrors, 2, "the mark means nothing on another link");
	/* Routed here by ipv4_output(): marked, and delivered. */
	echo_over_lo(lo, "127.0.0.1");
	dtcp_stack_poll(st);
	cr_assert_eq(st->ipc.IcmpInEchos, 1);
	cr_assert_eq(st->ipc.IpInAddrErrors, 2);
	/* A martian source is not vouched for: routed to lo, still dropped. */
	echo_over_lo(lo, "224.0.0.1");
	dtcp_stack_poll(st);
	cr_assert_eq(st->ipc.IpInAddrErrors, 3, "multicast source dropped");
	cr_assert_eq(st->ipc.IcmpInEchos, 1);
}

Test(ipv4, output_errors)
{
	struct netif *lo = &st->ifs.ifs[0];
	struct dtcp_pkt *p = lo->ops->pkt_alloc(lo->self);

	p->ifindex = 1;
	cr_assert_eq(ipv4_output(st, p, inet_addr("198.18.0.1"), inet_addr("203.0.113.1"), IPPROTO_ICMP, 0, 64),
	             -ENETUNREACH);
	cr_assert_eq(st->ipc.IpOutNoRoutes, 1);
	p = link_pair_ops.pkt_alloc(link_pair_end(lp, 0));
	p->ifindex = 2;
	pkt_append(p, 1500);
	cr_assert_eq(ipv4_output(st, p, inet_addr("198.18.0.1"), inet_addr("198.18.0.2"), IPPROTO_ICMP, 0, 64),
	             -EMSGSIZE, "larger than the MTU");
	cr_assert_eq(dtcp_netdev_attach(st, "eth0", &link_pair_ops, peer,
	                                &(struct dtcp_netdev_info){ .mtu = 1500, .capa = DTCP_NETDEV_RAW_IP }),
	             -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(dtcp_netdev_attach(st, "", &link_pair_ops, peer, &(struct dtcp_netdev_info){ .mtu = 1500 }), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_netdev_attach(st, "eth1", NULL, peer, &(struct dtcp_netdev_info){ .mtu = 1500 }), -1);
	cr_assert_eq(errno, EINVAL);
}
