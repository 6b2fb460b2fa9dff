/* Links under interfaces (see netif.h): attach, receive poll and transmit.
 * A loopback link carries IP packets as they are (no link header), as the
 * stack's own "lo" does. */
#include "netif.h"

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "inet/ehash.h"
#include "ip/ip.h"
#include "ip/ip_hdr.h"
#include "stack.h"

#define RX_BURST 32

static int api_ret(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

int dtcp_netdev_attach(struct dtcp_stack *st, const char *ifname, const struct dtcp_netdev_ops *ops,
                       void *self, const struct dtcp_netdev_info *info)
{
	int ifindex;
	struct netif *nif;

	if (!st || !ops || !ops->rx_burst || !ops->tx_burst || !ops->pkt_alloc || !ops->pkt_free || !info)
		return api_ret(-EINVAL);
	ifindex = ifaddr_add_if(&st->ifs, ifname, false);
	if (ifindex < 0)
		return api_ret(ifindex);
	nif = &st->ifs.ifs[ifindex - 1];
	nif->ops = ops;
	nif->self = self;
	nif->info = *info;
	return ifindex;
}

void pkt_free_any(struct dtcp_stack *st, struct dtcp_pkt *p)
{
	struct netif *nif = &st->ifs.ifs[p->ifindex - 1];

	DTCP_ASSERT(p->ifindex >= 1 && p->ifindex <= st->ifs.nif && nif->ops);
	netif_pkt_free(nif, p);
}

void netif_xmit(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p)
{
	if (nif->ops->tx_burst(nif->self, &p, 1) == 1) {
		st->ipc.LinkTxPackets++;
		return;
	}
	st->ipc.LinkTxDrops++;
	netif_pkt_free(nif, p);
}

static void netif_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p)
{
	const uint8_t *v = pkt_header(p, 1);

	p->ifindex = (uint16_t)nif->ifindex;
	st->ipc.LinkRxPackets++;
	if (!(nif->info.capa & DTCP_NETDEV_RAW_IP)) {
		eth_input(st, nif, p);
		return;
	}
	if (v && (*v >> 4) == 4) {
		ipv4_input(st, nif, p);
		return;
	}
	if (v && (*v >> 4) == 6) {
		ipv6_input(st, nif, p);
		return;
	}
	st->ipc.LinkRxUnknownL3++;
	netif_pkt_free(nif, p);
}

/* A received TCP segment's connection-table hash, taken once here for the
 * lookup (DTCP_PKT_RX_FLOW_HASH), and its group loaded ahead of its turn
 * when the burst has more than it. Reads the headers only as far as they
 * are there and plain (Ethernet II, IPv4 without fragments, IPv6 with TCP
 * next); anything else is left to the input path, which checks everything
 * again. */
static void rx_flow_hash(struct dtcp_stack *st, const struct netif *nif, struct dtcp_pkt *p, bool prefetch)
{
	const uint8_t *h = dtcp_pkt_data(p);
	uint32_t len = p->data_len, l3 = 0, l4;

	p->ol_flags &= ~DTCP_PKT_RX_FLOW_HASH;
	struct in6_addr src, dst;
	const uint8_t *th;

	if (!(nif->info.capa & DTCP_NETDEV_RAW_IP)) {
		uint16_t type = (uint16_t)(h[12] << 8 | h[13]);

		if (len < ETH_HLEN || (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6))
			return;
		l3 = ETH_HLEN;
	}
	if (len < l3 + 20)
		return;
	if (h[l3] >> 4 == 4) {
		uint32_t s4, d4;

		l4 = l3 + (uint32_t)(h[l3] & 15) * 4;
		if (h[l3 + 9] != IPPROTO_TCP || (h[l3 + 6] & 0x3f) || h[l3 + 7] || len < l4 + 4)
			return;
		memcpy(&s4, h + l3 + 12, 4);
		memcpy(&d4, h + l3 + 16, 4);
		addr_set_mapped(&src, s4);
		addr_set_mapped(&dst, d4);
	} else if (h[l3] >> 4 == 6) {
		l4 = l3 + 40;
		if (h[l3 + 6] != IPPROTO_TCP || len < l4 + 4)
			return;
		memcpy(&src, h + l3 + 8, 16);
		memcpy(&dst, h + l3 + 24, 16);
	} else {
		return;
	}
	th = h + l4;
	p->flow_hash = ehash_hash(&st->eh, &dst, (uint16_t)(th[2] << 8 | th[3]), &src, (uint16_t)(th[0] << 8 | th[1]));
	p->ol_flags |= DTCP_PKT_RX_FLOW_HASH;
	if (prefetch)
		ehash_prefetch(&st->eh, p->flow_hash);
}

int netif_poll_all(struct dtcp_stack *st)
{
	int done = 0;

	for (uint32_t i = 0; i < st->ifs.nif; i++) {
		struct netif *nif = &st->ifs.ifs[i];
		struct dtcp_pkt *burst[RX_BURST];
		int n;

		if (!nif->ops)
			continue;
		n = nif->ops->rx_burst(nif->self, burst, RX_BURST);
		for (int k = 0; k < n; k++)
			rx_flow_hash(st, nif, burst[k], n > 1);
		for (int k = 0; k < n; k++)
			netif_input(st, nif, burst[k]);
		done += n;
	}
	return done;
}
