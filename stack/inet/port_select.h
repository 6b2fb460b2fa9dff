/* The connect() side of port selection: the keyed port offset, the
 * 65,536-entry perturbation table, the search itself and the TIME_WAIT
 * recycling test. Stack thread only. */
#ifndef DTCP_PORT_SELECT_H
#define DTCP_PORT_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "inet/inet_sock.h"

struct dtcp_stack;

#define PERTURB_SIZE 65536

/* Mirrors inet_sk_port_offset(): SipHash-2-4 under the stack's secret of
 * (saddr, daddr, dport, 10-second time seed); the IPv4 form for mapped
 * destinations, the IPv6 form otherwise. */
uint64_t inet_port_offset(struct dtcp_stack *st, const struct in6_addr *saddr,
                          const struct in6_addr *daddr, uint16_t dport);

/* The perturbation table, filled from the stack's random source on first use
 * (NULL if memory runs out). */
uint32_t *inet_perturb_table(struct dtcp_stack *st);

/* Mirrors tcp_twsk_unique(): may a connect() take over this TIME_WAIT's
 * 4-tuple? bound_port: the socket already held its port (5.3). */
bool inet_tw_recyclable(struct dtcp_stack *st, const struct inet_sock *tw, bool bound_port);

/* Mirrors the search of __inet_hash_connect(): the same probe order and the
 * same choice as the kernel's loop, found with bitmap words instead of one
 * probe per port. On success the socket holds the port (num = sport = port,
 * connect-placed), *tw is a TIME_WAIT to recycle or NULL, and *ehash_h the
 * new 4-tuple's established-table hash (its group already being loaded).
 * With defer_link and no TIME_WAIT to recycle, the port is joined as
 * inet_bind_connect_port() does with defer: the rest is left for
 * inet_bind_connect_finish().
 * 0, -EADDRNOTAVAIL or -ENOBUFS. */
int inet_connect_search(struct dtcp_stack *st, struct inet_sock *sk, uint64_t port_offset,
                        struct inet_sock **tw, uint64_t *ehash_h, bool defer_link);

#endif
