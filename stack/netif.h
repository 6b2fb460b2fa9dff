/* Links under interfaces: attaching a backend, the receive poll and the
 * transmit call every layer uses. Stack thread only. */
#ifndef DTCP_NETIF_H
#define DTCP_NETIF_H

#include <dtcp/netdev.h>

#include "ifaddr.h"

struct dtcp_stack;

/* A fresh buffer from the interface's link, or NULL. */
static inline struct dtcp_pkt *netif_pkt_alloc(struct netif *nif)
{
	return nif->ops->pkt_alloc(nif->self);
}

static inline void netif_pkt_free(struct netif *nif, struct dtcp_pkt *p)
{
	nif->ops->pkt_free(nif->self, p);
}

/* Free a packet through the link that allocated it (its owner). */
void pkt_free_any(struct dtcp_stack *st, struct dtcp_pkt *p);

/* Hand one packet to the link (at its link header, or network header on a
 * loopback link). Takes the packet: freed and counted if the link refuses. */
void netif_xmit(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *p);

/* Receive up to a burst from every link and process it; returns how many. */
int netif_poll_all(struct dtcp_stack *st);

#endif
