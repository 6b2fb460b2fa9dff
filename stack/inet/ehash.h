/* The established table: (local address, local port, remote address,
 * remote port) -> socket, for SYN_SENT through TIME_WAIT.
 *
 * Open addressing over 64-byte groups, one cache line each: seven socket
 * pointers, an 8-bit tag per slot (hash bits the group index does not use),
 * and an overflow count. A key's home group comes from a seeded hash; it
 * lives there or, when that is full, in the first group after it with room.
 * A group's overflow count says how many entries had to pass it, so a
 * lookup stops at the first group that no entry passed. A lookup reads one
 * line and touches a socket only on a tag match (1 in 256 by chance); an
 * insert or a removal touches its groups and no other socket. Sized so that
 * the table is at most 4/7 full when every socket is in it: O(1) expected.
 * Stack thread only. */
#ifndef DTCP_EHASH_H
#define DTCP_EHASH_H

#include <stdint.h>

#include "inet/inet_sock.h"
#include "util.h"

#define EHASH_GROUP_SLOTS 7

struct ehash_group {
	struct inet_sock *sk[EHASH_GROUP_SLOTS];
	uint8_t tag[EHASH_GROUP_SLOTS];   /* 0: empty slot */
	uint8_t overflow;                 /* entries that passed this group (255: sticky) */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct ehash_group) == 64, "one cache line per group");

struct ehash {
	struct ehash_group *groups;   /* page aligned (bigmem) */
	size_t bytes;
	uint32_t mask;                /* groups - 1 */
	uint64_t seed;
	uint64_t count;               /* entries, the pending one included */
	/* One entry whose slot is written at the table's next insert
	 * (ehash_insert_later()); lookups and removals see it meanwhile. */
	struct inet_sock *pending;
	uint64_t pending_h;
};

/* A table for at least `entries` sockets. 0 or -ENOMEM. */
int ehash_init(struct ehash *eh, uint32_t entries, uint64_t seed);
void ehash_fini(struct ehash *eh);
/* The socket must not be in the table; the table never fills (it is sized
 * for every socket the stack may hold). */
void ehash_insert(struct ehash *eh, struct inet_sock *sk);
void ehash_remove(struct ehash *eh, struct inet_sock *sk);
struct inet_sock *ehash_lookup(const struct ehash *eh, const struct in6_addr *laddr, uint16_t lport,
                               const struct in6_addr *faddr, uint16_t fport);

/* The same with the 4-tuple's hash given, where the caller has it already
 * (a segment's is taken once, on receive). */
uint64_t ehash_hash(const struct ehash *eh, const struct in6_addr *laddr, uint16_t lport,
                    const struct in6_addr *faddr, uint16_t fport);
void ehash_insert_h(struct ehash *eh, struct inet_sock *sk, uint64_t h);
/* As ehash_insert_h(), but the slot is written only at the next insert (or
 * ehash_flush()): by then the group's line, requested when h was known, has
 * arrived, rather than the caller waiting for it now. The entry is in the
 * table for every lookup and removal at once. */
void ehash_insert_later(struct ehash *eh, struct inet_sock *sk, uint64_t h);
/* Write the pending entry's slot (before walking the slots). */
void ehash_flush(struct ehash *eh);
struct inet_sock *ehash_lookup_h(const struct ehash *eh, uint64_t h, const struct in6_addr *laddr, uint16_t lport,
                                 const struct in6_addr *faddr, uint16_t fport);
/* Start loading the group a lookup of hash h reads first: a receive burst
 * issues these for all its segments before looking any of them up, so
 * their cache misses overlap instead of following one another. */
static inline void ehash_prefetch(const struct ehash *eh, uint64_t h)
{
	__builtin_prefetch(&eh->groups[(uint32_t)h & eh->mask]);
}

/* Walking every entry: ehash_flush(), then slots 0 .. ehash_slots() - 1,
 * each a socket or NULL. Removing entries during the walk is allowed:
 * nothing moves. */
static inline uint64_t ehash_slots(const struct ehash *eh)
{
	return ((uint64_t)eh->mask + 1) * EHASH_GROUP_SLOTS;
}

static inline struct inet_sock *ehash_at(const struct ehash *eh, uint64_t i)
{
	return eh->groups[i / EHASH_GROUP_SLOTS].sk[i % EHASH_GROUP_SLOTS];
}

static inline bool ehash_hashed(const struct inet_sock *sk)
{
	return sk->ehashed;
}

#endif
