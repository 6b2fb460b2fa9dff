/* The established table: (local address, local port, remote address,
 * remote port) -> socket, for SYN_SENT through TIME_WAIT. Chained hash with
 * a per-stack seed; insert, lookup and removal are O(1) expected.
 * Stack thread only. */
#ifndef DTCP_EHASH_H
#define DTCP_EHASH_H

#include <stdint.h>

#include "inet/inet_sock.h"
#include "util.h"

struct ehash {
	struct hhead *buckets;
	uint32_t mask;
	uint64_t seed;
	uint64_t count;
};

int ehash_init(struct ehash *eh, uint32_t buckets, uint64_t seed);
void ehash_fini(struct ehash *eh);
void ehash_insert(struct ehash *eh, struct inet_sock *sk);
void ehash_remove(struct ehash *eh, struct inet_sock *sk);
struct inet_sock *ehash_lookup(const struct ehash *eh, const struct in6_addr *laddr, uint16_t lport,
                               const struct in6_addr *faddr, uint16_t fport);

static inline bool ehash_hashed(const struct inet_sock *sk)
{
	return !hlist_unhashed(&sk->hash_node);
}

#endif
