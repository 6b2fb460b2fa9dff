/* Ethernet framing and ARP on an Ethernet link pair: requests for our
 * address are answered, replies are sent after resolution, retries and
 * failure run on the virtual clock, the wait queue is bounded. */
#include "harness.h"

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"
#include "pkt.h"

static struct link_pair *lp;
static void *peer;
static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 2 };

static void setup(void)
{
	struct dtcp_netdev_info info = { .mtu = 1500 };

	memcpy(info.mac, our_mac, 6);
	th_link_setup(&info);
	lp = th_lp;
	peer = th_peer;
	cr_assert_eq(dtcp_addr_add(st, "eth0", "198.18.0.1/15"), 0);
}

static void teardown(void)
{
	th_link_teardown();
}

TestSuite(arp, .init = setup, .fini = teardown);

static struct dtcp_pkt *frame(const uint8_t *dst, uint16_t type, uint16_t len, void **payload)
{
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	struct eth_hdr *eh = (struct eth_hdr *)pkt_append(p, (uint16_t)(ETH_HLEN + len));

	memcpy(eh->dst, dst, 6);
	memcpy(eh->src, peer_mac, 6);
	eh->type = htons(type);
	*payload = eh + 1;
	return p;
}

static struct dtcp_pkt *arp_frame(uint16_t op, const uint8_t *dst, uint32_t spa, uint32_t tpa)
{
	struct arp_hdr *a;
	struct dtcp_pkt *p = frame(dst, ETHERTYPE_ARP, sizeof(*a), (void **)&a);

	a->htype = htons(1);
	a->ptype = htons(ETHERTYPE_IPV4);
	a->hlen = 6;
	a->plen = 4;
	a->op = htons(op);
	memcpy(a->sha, peer_mac, 6);
	a->spa = spa;
	memset(a->tha, 0, 6);
	a->tpa = tpa;
	return p;
}

static struct dtcp_pkt *echo_frame(void)
{
	struct ipv4_hdr *ip;
	struct dtcp_pkt *p = frame(our_mac, ETHERTYPE_IPV4, sizeof(*ip) + 8, (void **)&ip);
	struct icmp_hdr *ic = (struct icmp_hdr *)(ip + 1);

	memset(ip, 0, sizeof(*ip) + 8);
	ip->ver_ihl = 0x45;
	ip->tot_len = htons(28);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = inet_addr("198.18.0.2");
	ip->daddr = inet_addr("198.18.0.1");
	ip->check = csum_finish(csum_add_buf(0, ip, 20, false));
	ic->type = ICMP_ECHO;
	ic->check = csum_finish(csum_add_buf(0, ic, 8, false));
	return p;
}

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

static const struct in6_addr *v4(uint32_t a)
{
	static struct in6_addr m;

	addr_set_mapped(&m, a);
	return &m;
}

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

Test(arp, request_for_us_is_answered)
{
	struct dtcp_pkt *r;
	const struct eth_hdr *eh;
	const struct arp_hdr *a;

	send_in(arp_frame(1, bcast, inet_addr("198.18.0.2"), inet_addr("198.18.0.1")));
	r = take_out();
	cr_assert_not_null(r);
	eh = (const struct eth_hdr *)dtcp_pkt_data(r);
	a = (const struct arp_hdr *)(eh + 1);
	cr_assert_eq(memcmp(eh->dst, peer_mac, 6), 0);
	cr_assert_eq(memcmp(eh->src, our_mac, 6), 0);
	cr_assert_eq(ntohs(eh->type), ETHERTYPE_ARP);
	cr_assert_eq(ntohs(a->op), 2);
	cr_assert_eq(memcmp(a->sha, our_mac, 6), 0);
	cr_assert_eq(a->spa, inet_addr("198.18.0.1"));
	cr_assert_eq(a->tpa, inet_addr("198.18.0.2"));
	link_pair_ops.pkt_free(peer, r);
	/* The requester was learnt: an echo reply needs no resolution now. */
	send_in(echo_frame());
	r = take_out();
	cr_assert_not_null(r);
	cr_assert_eq(ntohs(((const struct eth_hdr *)dtcp_pkt_data(r))->type), ETHERTYPE_IPV4);
	link_pair_ops.pkt_free(peer, r);
}

Test(arp, request_for_another_is_ignored)
{
	send_in(arp_frame(1, bcast, inet_addr("198.18.0.2"), inet_addr("198.18.0.7")));
	cr_assert_null(take_out());
	cr_assert_null(neigh_lookup(&st->nt, 2, v4(inet_addr("198.18.0.2"))), "not learnt");
}

Test(arp, resolution_then_queued_reply)
{
	struct dtcp_pkt *r;
	const struct arp_hdr *a;
	const struct eth_hdr *eh;

	send_in(echo_frame());
	r = take_out();
	cr_assert_not_null(r, "an ARP request first");
	eh = (const struct eth_hdr *)dtcp_pkt_data(r);
	a = (const struct arp_hdr *)(eh + 1);
	cr_assert_eq(memcmp(eh->dst, bcast, 6), 0);
	cr_assert_eq(ntohs(a->op), 1);
	cr_assert_eq(a->tpa, inet_addr("198.18.0.2"));
	cr_assert_eq(a->spa, inet_addr("198.18.0.1"));
	link_pair_ops.pkt_free(peer, r);
	cr_assert_null(take_out(), "the echo reply waits");
	send_in(arp_frame(2, our_mac, inet_addr("198.18.0.2"), inet_addr("198.18.0.1")));
	r = take_out();
	cr_assert_not_null(r, "the queued reply leaves once resolved");
	eh = (const struct eth_hdr *)dtcp_pkt_data(r);
	cr_assert_eq(memcmp(eh->dst, peer_mac, 6), 0);
	cr_assert_eq(((const struct icmp_hdr *)((const uint8_t *)(eh + 1) + 20))->type, ICMP_ECHOREPLY);
	link_pair_ops.pkt_free(peer, r);
}

/* A burst to a host not yet resolved (a load generator's first round of
 * connects) waits whole and leaves whole once the reply comes. */
Test(arp, burst_waits_then_leaves_whole)
{
	struct dtcp_pkt *r;
	int replies = 0;

	for (int i = 0; i < NEIGH_QUEUE_MAX; i++)
		send_in(echo_frame());
	r = take_out();
	cr_assert_not_null(r, "one ARP request");
	link_pair_ops.pkt_free(peer, r);
	cr_assert_null(take_out(), "the replies wait");
	send_in(arp_frame(2, our_mac, inet_addr("198.18.0.2"), inet_addr("198.18.0.1")));
	while ((r = take_out())) {
		const struct eth_hdr *eh = (const struct eth_hdr *)dtcp_pkt_data(r);

		cr_assert_eq(ntohs(eh->type), ETHERTYPE_IPV4);
		cr_assert_eq(((const struct icmp_hdr *)((const uint8_t *)(eh + 1) + 20))->type, ICMP_ECHOREPLY);
		replies++;
		link_pair_ops.pkt_free(peer, r);
	}
	cr_assert_eq(replies, NEIGH_QUEUE_MAX);
	cr_assert_eq(st->nt.cnt.NeighQueueDrops, 0);
}

Test(arp, retries_then_failure)
{
	int requests = 0;
	struct dtcp_pkt *r;

	for (int i = 0; i < NEIGH_QUEUE_MAX + 2; i++)
		send_in(echo_frame());
	for (int t = 0; t < 5000; t += 100) {
		th_sleep_ms(100);
		dtcp_stack_poll(st);
		while ((r = take_out())) {
			requests++;
			link_pair_ops.pkt_free(peer, r);
		}
	}
	cr_assert_eq(requests, NEIGH_PROBES, "three requests, a second apart");
	cr_assert_eq(st->nt.cnt.NeighQueueDrops, 2, "103 waited, 101 fit (Linux's unres_qlen)");
	cr_assert_eq(st->nt.cnt.NeighResolveFailed, 1);
	cr_assert_null(neigh_lookup(&st->nt, 2, v4(inet_addr("198.18.0.2"))));
}

Test(arp, reachable_then_stale_refresh)
{
	struct dtcp_pkt *r;

	send_in(arp_frame(1, bcast, inet_addr("198.18.0.2"), inet_addr("198.18.0.1")));
	link_pair_ops.pkt_free(peer, take_out());
	th_sleep_ms(NEIGH_REACHABLE_MS + 10);
	dtcp_stack_poll(st);
	cr_assert_eq(neigh_lookup(&st->nt, 2, v4(inet_addr("198.18.0.2")))->state, NEIGH_STALE);
	send_in(echo_frame());
	r = take_out();
	cr_assert_not_null(r, "a stale entry is still used");
	cr_assert_eq(ntohs(((const struct eth_hdr *)dtcp_pkt_data(r))->type), ETHERTYPE_IPV4);
	link_pair_ops.pkt_free(peer, r);
	r = take_out();
	cr_assert_not_null(r, "and refreshed by a unicast request");
	cr_assert_eq(memcmp(((const struct eth_hdr *)dtcp_pkt_data(r))->dst, peer_mac, 6), 0);
	link_pair_ops.pkt_free(peer, r);
}

Test(arp, malformed_and_foreign_frames)
{
	struct arp_hdr *a;
	struct dtcp_pkt *p;
	static const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
	void *pl;

	p = arp_frame(1, bcast, inet_addr("198.18.0.2"), inet_addr("198.18.0.1"));
	a = (struct arp_hdr *)(dtcp_pkt_data(p) + ETH_HLEN);
	a->hlen = 8;
	send_in(p);
	cr_assert_eq(st->nt.cnt.ArpInErrors, 1);
	p = arp_frame(7, bcast, inet_addr("198.18.0.2"), inet_addr("198.18.0.1"));
	send_in(p);
	cr_assert_eq(st->nt.cnt.ArpInErrors, 2, "unknown operation");
	p = arp_frame(1, bcast, inet_addr("198.18.0.2"), inet_addr("198.18.0.1"));
	pkt_trim_to(p, ETH_HLEN + 20);
	send_in(p);
	cr_assert_eq(st->nt.cnt.ArpInErrors, 3, "short");
	send_in(frame(other, ETHERTYPE_IPV4, 20, &pl));
	cr_assert_eq(st->nt.cnt.EthInDrops, 1, "another station's unicast");
	p = link_pair_ops.pkt_alloc(peer);
	memset(pkt_append(p, 10), 0, 10);
	send_in(p);
	cr_assert_eq(st->nt.cnt.EthInDrops, 2, "shorter than a header");
	send_in(frame(our_mac, 0x88cc, 20, &pl));
	cr_assert_eq(st->ipc.LinkRxUnknownL3, 1);
	cr_assert_null(take_out());
}
