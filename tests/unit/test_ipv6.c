/* IPv6, ICMPv6 and Neighbor Discovery through the real receive path: an
 * Ethernet link pair whose far end is the test. */
#include "harness.h"

#include <stddef.h>

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"
#include "pkt.h"

static struct link_pair *lp;
static void *peer;
static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 2 };
static struct in6_addr our_ip, peer_ip;

static void setup(void)
{
	struct dtcp_netdev_info info = { .mtu = 1500 };

	memcpy(info.mac, our_mac, 6);
	th_link_setup(&info);
	lp = th_lp;
	peer = th_peer;
	cr_assert_eq(dtcp_addr_add(st, "eth0", "2001:db8::1/64"), 0);
	inet_pton(AF_INET6, "2001:db8::1", &our_ip);
	inet_pton(AF_INET6, "2001:db8::2", &peer_ip);
}

static void teardown(void)
{
	th_link_teardown();
}

TestSuite(ipv6, .init = setup, .fini = teardown);

/* An Ethernet frame carrying IPv6 with `ext` extension bytes, then an
 * ICMPv6 message of icmp_len bytes (type, code, id/seq or ND body). */
static struct dtcp_pkt *v6_frame(const uint8_t *dst_mac, const struct in6_addr *src, const struct in6_addr *dst,
                                 uint8_t first_next, const uint8_t *ext, uint16_t ext_len, uint8_t hop,
                                 const uint8_t *icmp, uint16_t icmp_len)
{
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	uint8_t *d = pkt_append(p, (uint16_t)(ETH_HLEN + 40 + ext_len + icmp_len));
	struct eth_hdr *eh = (struct eth_hdr *)d;
	struct ipv6_hdr *ip = (struct ipv6_hdr *)(d + ETH_HLEN);
	uint8_t *ic = d + ETH_HLEN + 40 + ext_len;
	uint16_t ck;

	memcpy(eh->dst, dst_mac, 6);
	memcpy(eh->src, peer_mac, 6);
	eh->type = htons(ETHERTYPE_IPV6);
	ip->ver_tc_flow = htonl(6u << 28);
	ip->payload_len = htons((uint16_t)(ext_len + icmp_len));
	ip->nexthdr = first_next;
	ip->hop_limit = hop;
	ip->saddr = *src;
	ip->daddr = *dst;
	if (ext_len)
		memcpy((uint8_t *)(ip + 1), ext, ext_len);
	if (icmp_len)
		memcpy(ic, icmp, icmp_len);
	ic[2] = ic[3] = 0;
	ck = csum_finish(csum_add_buf(csum_pseudo_v6(src, dst, IPPROTO_ICMPV6, icmp_len), ic, icmp_len, false));
	memcpy(ic + 2, &ck, 2);
	return p;
}

static const uint8_t echo_req[12] = { 128, 0, 0, 0, 0, 7, 0, 1, 'p', 'i', 'n', 'g' };

static void send_in(struct dtcp_pkt *p)
{
	cr_assert_eq(link_pair_ops.tx_burst(peer, &p, 1), 1);
	dtcp_stack_poll(st);
}

static struct dtcp_pkt *take_out(void)
{
	struct dtcp_pkt *p = NULL;

	return link_pair_ops.rx_burst(peer, &p, 1) == 1 ? p : NULL;
}

/* The ICMPv6 type of a frame out of the stack, checking its checksum. */
static uint8_t out_icmp_type(const struct dtcp_pkt *r, const struct ipv6_hdr **ipo)
{
	const struct ipv6_hdr *ip = (const struct ipv6_hdr *)(dtcp_pkt_data(r) + ETH_HLEN);
	const uint8_t *ic = (const uint8_t *)(ip + 1);
	uint16_t len = ntohs(ip->payload_len);
	struct in6_addr s, d;

	memcpy(&s, (const uint8_t *)ip + 8, 16);
	memcpy(&d, (const uint8_t *)ip + 24, 16);
	cr_assert_eq(ip->nexthdr, IPPROTO_ICMPV6);
	cr_assert_eq(csum_fold(csum_add_buf(csum_pseudo_v6(&s, &d, IPPROTO_ICMPV6, len), ic, len, false)), 0xffff,
	             "ICMPv6 checksum");
	if (ipo)
		*ipo = ip;
	return ic[0];
}

static const uint8_t *na_lla;

/* Answer the stack's solicitation for peer_ip with an advertisement. */
static void answer_ns(void)
{
	uint8_t na[32] = { 136, 0, 0, 0, 0x60, 0, 0, 0 };
	static const uint8_t all[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct in6_addr all_nodes;

	memcpy(na + 8, &peer_ip, 16);
	na[24] = 2;
	na[25] = 1;
	memcpy(na + 26, na_lla ? na_lla : peer_mac, 6);
	inet_pton(AF_INET6, "ff02::1", &all_nodes);
	send_in(v6_frame(all, &peer_ip, &all_nodes, IPPROTO_ICMPV6, NULL, 0, 255, na, sizeof(na)));
}

Test(ipv6, echo_after_neighbor_discovery)
{
	struct dtcp_pkt *r;
	const struct ipv6_hdr *ip;
	const struct eth_hdr *eh;

	send_in(v6_frame(our_mac, &peer_ip, &our_ip, IPPROTO_ICMPV6, NULL, 0, 64, echo_req, sizeof(echo_req)));
	r = take_out();
	cr_assert_not_null(r, "a solicitation first");
	eh = (const struct eth_hdr *)dtcp_pkt_data(r);
	cr_assert_eq(eh->dst[0], 0x33, "to a multicast MAC");
	cr_assert_eq(out_icmp_type(r, &ip), 135);
	cr_assert_eq(ip->hop_limit, 255);
	cr_assert_eq(ip->daddr.s6_addr[0], 0xff, "solicited-node group");
	cr_assert_eq(ip->daddr.s6_addr[12], 0xff);
	cr_assert_eq(ip->daddr.s6_addr[15], 2);
	link_pair_ops.pkt_free(peer, r);
	answer_ns();
	r = take_out();
	cr_assert_not_null(r, "the echo reply, once resolved");
	eh = (const struct eth_hdr *)dtcp_pkt_data(r);
	cr_assert_eq(memcmp(eh->dst, peer_mac, 6), 0);
	cr_assert_eq(out_icmp_type(r, &ip), 129);
	cr_assert_eq(memcmp((const uint8_t *)ip + 8, &our_ip, 16), 0);
	cr_assert_eq(memcmp((const uint8_t *)ip + 24, &peer_ip, 16), 0);
	cr_assert_eq(memcmp((const uint8_t *)(ip + 1) + 8, "ping", 4), 0);
	link_pair_ops.pkt_free(peer, r);
	cr_assert_eq(st->ipc.Icmp6OutEchoReplies, 1);
}

Test(ipv6, solicitation_for_us_is_answered)
{
	uint8_t ns[32] = { 135, 0, 0, 0 };
	struct in6_addr sn;
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	struct dtcp_pkt *r;
	const struct ipv6_hdr *ip;

	memcpy(ns + 8, &our_ip, 16);
	ns[24] = 1;
	ns[25] = 1;
	memcpy(ns + 26, peer_mac, 6);
	inet_pton(AF_INET6, "ff02::1:ff00:1", &sn);
	send_in(v6_frame(sn_mac, &peer_ip, &sn, IPPROTO_ICMPV6, NULL, 0, 255, ns, sizeof(ns)));
	r = take_out();
	cr_assert_not_null(r);
	cr_assert_eq(out_icmp_type(r, &ip), 136);
	cr_assert_eq(memcmp((const uint8_t *)ip + 24, &peer_ip, 16), 0);
	cr_assert_eq(((const uint8_t *)(ip + 1))[4] & 0x60, 0x60, "solicited and override");
	cr_assert_eq(memcmp((const uint8_t *)(ip + 1) + 26, our_mac, 6), 0, "our MAC in the target option");
	cr_assert_eq(memcmp(((const struct eth_hdr *)dtcp_pkt_data(r))->dst, peer_mac, 6), 0, "learnt from the NS");
	link_pair_ops.pkt_free(peer, r);
	cr_assert_eq(st->nt.cnt.Icmp6InNeighborSolicits, 1);
}

Test(ipv6, nd_validation)
{
	uint8_t ns[32] = { 135, 0, 0, 0 };
	struct in6_addr sn;
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };

	memcpy(ns + 8, &our_ip, 16);
	ns[24] = 1;
	ns[25] = 1;
	memcpy(ns + 26, peer_mac, 6);
	inet_pton(AF_INET6, "ff02::1:ff00:1", &sn);
	send_in(v6_frame(sn_mac, &peer_ip, &sn, IPPROTO_ICMPV6, NULL, 0, 64, ns, sizeof(ns)));
	cr_assert_eq(st->nt.cnt.NdInErrors, 1, "hop limit not 255: from off-link");
	ns[25] = 0;
	send_in(v6_frame(sn_mac, &peer_ip, &sn, IPPROTO_ICMPV6, NULL, 0, 255, ns, sizeof(ns)));
	cr_assert_eq(st->nt.cnt.NdInErrors, 2, "an option of length 0");
	ns[25] = 1;
	ns[1] = 3;
	send_in(v6_frame(sn_mac, &peer_ip, &sn, IPPROTO_ICMPV6, NULL, 0, 255, ns, sizeof(ns)));
	cr_assert_eq(st->nt.cnt.NdInErrors, 3, "code not 0");
	cr_assert_null(take_out());
	/* An unsolicited advertisement creates no entry. */
	answer_ns();
	cr_assert_null(neigh_lookup(&st->nt, 2, &peer_ip));
}

Test(ipv6, extension_headers)
{
	/* Hop-by-hop (8 bytes, PadN) then ICMPv6: delivered. */
	const uint8_t hbh[8] = { IPPROTO_ICMPV6, 0, 1, 4, 0, 0, 0, 0 };
	const uint8_t frag[8] = { IPPROTO_ICMPV6, 0, 0, 0, 0, 0, 0, 1 };
	const uint8_t rt_left[8] = { IPPROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 0 };
	uint8_t many[80];
	struct dtcp_pkt *r;

	for (int i = 0; i < 10; i++) {
		memset(many + 8 * i, 0, 8);
		many[8 * i] = 60;
	}
	answer_ns();
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, 0, hbh, 8, 64, echo_req, sizeof(echo_req)));
	cr_assert_eq(st->ipc.Icmp6InEchos, 1);
	while ((r = take_out()))
		link_pair_ops.pkt_free(peer, r);
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, 44, frag, 8, 64, echo_req, sizeof(echo_req)));
	cr_assert_eq(st->ipc.Ip6ReasmFails, 1, "fragments are dropped");
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, 43, rt_left, 8, 64, echo_req, sizeof(echo_req)));
	cr_assert_eq(st->ipc.Ip6InAddrErrors, 1, "no forwarding along a routing header");
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, 60, many, 80, 64, echo_req, sizeof(echo_req)));
	cr_assert_eq(st->ipc.Ip6InHdrErrors, 1, "too many extension headers");
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, 60, hbh, 8, 64, NULL, 0));
	cr_assert_eq(st->ipc.Icmp6InErrors + st->ipc.Ip6InHdrErrors, 2, "nothing after the header");
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, 60, (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0 }, 8, 64, hbh, 8));
	cr_assert_eq(st->ipc.Ip6InHdrErrors, 2, "hop-by-hop after another header");
	cr_assert_null(take_out());
}

Test(ipv6, malformed_and_foreign)
{
	struct dtcp_pkt *p;
	struct in6_addr other, mc;

	answer_ns();
	inet_pton(AF_INET6, "2001:db8::99", &other);
	inet_pton(AF_INET6, "ff05::5", &mc);
	send_in(v6_frame(our_mac, &peer_ip, &other, IPPROTO_ICMPV6, NULL, 0, 64, echo_req, sizeof(echo_req)));
	cr_assert_eq(st->ipc.Ip6InAddrErrors, 1, "not ours");
	send_in(v6_frame(our_mac, &mc, &our_ip, IPPROTO_ICMPV6, NULL, 0, 64, echo_req, sizeof(echo_req)));
	cr_assert_eq(st->ipc.Ip6InAddrErrors, 2, "multicast source");
	p = v6_frame(our_mac, &peer_ip, &our_ip, IPPROTO_ICMPV6, NULL, 0, 64, echo_req, sizeof(echo_req));
	pkt_trim_to(p, p->pkt_len - 4);
	send_in(p);
	cr_assert_eq(st->ipc.Ip6InTruncatedPkts, 1);
	p = v6_frame(our_mac, &peer_ip, &our_ip, IPPROTO_ICMPV6, NULL, 0, 64, echo_req, sizeof(echo_req));
	dtcp_pkt_data(p)[ETH_HLEN + 40 + 9] ^= 1;
	send_in(p);
	cr_assert_eq(st->ipc.Icmp6InCsumErrors, 1);
	cr_assert_null(take_out());
	cr_assert_eq(st->ipc.Icmp6OutMsgs, 0);
}

/* The ICMPv6 error the stack sends about a packet of next header `next`
 * (after `ext`): type, code, pointer and the quoted packet. */
static void expect_error(uint8_t first, const uint8_t *ext, uint16_t ext_len, uint8_t type, uint8_t code,
                         uint32_t pointer)
{
	const struct ipv6_hdr *ip;
	const uint8_t *ic;
	struct dtcp_pkt *r;
	uint32_t ptr;

	send_in(v6_frame(our_mac, &peer_ip, &our_ip, first, ext, ext_len, 64, echo_req, sizeof(echo_req)));
	r = take_out();
	cr_assert_not_null(r, "an error came out");
	cr_assert_eq(out_icmp_type(r, &ip), type);
	ic = (const uint8_t *)(ip + 1);
	cr_assert_eq(ic[1], code);
	memcpy(&ptr, ic + 4, 4);
	cr_assert_eq(ntohl(ptr), pointer);
	cr_assert_eq(ntohs(ip->payload_len), 8 + 40 + ext_len + sizeof(echo_req), "the whole packet quoted");
	cr_assert_eq(memcmp((const uint8_t *)ip + 24, &peer_ip, 16), 0);
	cr_assert_eq(memcmp(ic + 8 + 24, &our_ip, 16), 0, "the quoted destination");
	link_pair_ops.pkt_free(peer, r);
}

Test(ipv6, errors_for_unknown_next_header_and_udp)
{
	const uint8_t hbh[8] = { 250, 0, 1, 4, 0, 0, 0, 0 };
	struct in6_addr mc;
	struct dtcp_pkt *r;

	/* Resolve the peer first: an echo, its solicitation, the answer. */
	send_in(v6_frame(our_mac, &peer_ip, &our_ip, IPPROTO_ICMPV6, NULL, 0, 64, echo_req, sizeof(echo_req)));
	while ((r = take_out()))
		link_pair_ops.pkt_free(peer, r);
	answer_ns();
	while ((r = take_out()))
		link_pair_ops.pkt_free(peer, r);
	/* RFC 4443 3.4: parameter problem, unrecognized next header, the
	 * pointer at the field that named it. */
	expect_error(250, NULL, 0, 4, 1, 6);
	expect_error(0, hbh, 8, 4, 1, 40);
	cr_assert_eq(st->ipc.Ip6InUnknownProtos, 2);
	/* No UDP socket: port unreachable (3.1, code 4). */
	expect_error(IPPROTO_UDP, NULL, 0, 1, 4, 0);
	cr_assert_eq(st->ipc.Ip6InUnknownProtos, 2);
	cr_assert_eq(st->ipc.Icmp6OutErrors, 3);
	/* Never about a multicast destination. */
	inet_pton(AF_INET6, "ff02::1", &mc);
	send_in(v6_frame(our_mac, &peer_ip, &mc, 250, NULL, 0, 64, echo_req, sizeof(echo_req)));
	cr_assert_null(take_out());
	cr_assert_eq(st->ipc.Icmp6OutErrors, 3);
}

Test(ipv6, ping_over_loopback)
{
	struct netif *lo = &st->ifs.ifs[0];
	struct dtcp_pkt *p = lo->ops->pkt_alloc(lo->self);
	uint8_t *ic = pkt_append(p, 8);
	struct in6_addr one = IN6ADDR_LOOPBACK_INIT;

	cr_assert_not_null(ic);
	memset(ic, 0, 8);
	ic[0] = 128;
	p->ifindex = 1;
	cr_assert_eq(ipv6_output(st, p, &one, &one, IPPROTO_ICMPV6, 64), 0);
	for (int i = 0; i < 4; i++)
		dtcp_stack_poll(st);
	cr_assert_eq(st->ipc.Icmp6InEchos, 1);
	cr_assert_eq(st->ipc.Icmp6InEchoReplies, 1);
}
