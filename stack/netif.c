/* Links under interfaces (see netif.h): attach, receive poll and transmit.
 * A loopback link carries IP packets as they are (no link header), as the
 * stack's own "lo" does. */
#include "netif.h"

#include <errno.h>
#include <string.h>

#include "ip/ip.h"
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
			netif_input(st, nif, burst[k]);
		done += n;
	}
	return done;
}
