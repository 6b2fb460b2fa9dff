/* The listener table: (local port, local address) -> listening sockets.
 * Lookup tries the exact address, then the wildcards that cover it (IPv4
 * 0.0.0.0, then a dual-stack ::), so it is O(1) expected.
 * Stack thread only. */
#ifndef DTCP_LHASH_H
#define DTCP_LHASH_H

#include <stdint.h>

#include "inet/inet_sock.h"
#include "util.h"

struct lhash {
	struct inet_sock **buckets;   /* singly linked through lnext, newest first */
	uint32_t mask;
	uint64_t seed;
	uint64_t count;
};

int lhash_init(struct lhash *lh, uint32_t buckets, uint64_t seed);
void lhash_fini(struct lhash *lh);
void lhash_insert(struct lhash *lh, struct inet_sock *sk);
void lhash_remove(struct lhash *lh, struct inet_sock *sk);
/* The listener a segment to (daddr, dport) reaches, or NULL. */
struct inet_sock *lhash_lookup(const struct lhash *lh, const struct in6_addr *daddr, uint16_t dport);

#endif
