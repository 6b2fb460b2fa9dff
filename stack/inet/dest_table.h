/* Per-destination occupancy for the connect() search: for each
 * (local address, remote address, remote port), which local ports its
 * connect-placed sockets hold in the established table, live or TIME_WAIT.
 *
 * On a connect-owned port every owner was placed by connect(), so this is
 * exactly the set the kernel's per-port 4-tuple check would find; keeping it
 * as bitmaps lets the search skip a destination's used ports 64 at a time
 * instead of probing them one by one. Up to 8 ports are kept inline; more
 * switch the entry to 16 lazily allocated bitmap chunks of 4,096 ports.
 * Stack thread only. */
#ifndef DTCP_DEST_TABLE_H
#define DTCP_DEST_TABLE_H

#include <netinet/in.h>
#include <stdint.h>

#include "inet/inet_sock.h"
#include "pool.h"
#include "util.h"

#define DEST_SPARSE_MAX 8
#define DEST_DENSE 0xff
#define DEST_CHUNKS 16
#define DEST_CHUNK_WORDS 64   /* 4,096 ports */

#define PORTS_EVEN UINT64_C(0x5555555555555555)
#define PORTS_ODD UINT64_C(0xaaaaaaaaaaaaaaaa)

struct dest_dense {
	uint64_t *live[DEST_CHUNKS];
	uint64_t *tw[DEST_CHUNKS];
	/* Summaries, one bit per word of a chunk: [0] every even port of the
	 * word is taken, [1] every odd port is; "live" counts live ports only,
	 * "all" counts TIME_WAIT ones too. The search skips such words 64 at a
	 * time. */
	uint64_t full_live[DEST_CHUNKS][2];
	uint64_t full_all[DEST_CHUNKS][2];
	uint16_t live_cnt[DEST_CHUNKS];
	uint16_t tw_cnt[DEST_CHUNKS];
	uint32_t nlive, ntw;
};

struct dest_entry {
	struct hnode node;
	struct in6_addr laddr, faddr;
	uint16_t fport;
	uint8_t nsparse;              /* inline ports in use, or DEST_DENSE */
	uint8_t tw_mask;              /* inline: which ports are TIME_WAIT */
	union {
		uint16_t ports[DEST_SPARSE_MAX];
		struct dest_dense *dense;
	} u;
};

struct dest_table {
	struct hhead *buckets;
	uint32_t mask;
	uint64_t seed;
	struct pool entry_pool, dense_pool, chunk_pool;
};

int dest_table_init(struct dest_table *dt, uint32_t buckets, uint64_t max_entries, uint64_t seed);
void dest_table_fini(struct dest_table *dt);

struct dest_entry *dest_lookup(const struct dest_table *dt, const struct in6_addr *laddr,
                               const struct in6_addr *faddr, uint16_t fport);
/* A connect-placed socket entered the established table (live).
 * 0 or -ENOBUFS with nothing changed. */
int dest_add(struct dest_table *dt, struct inet_sock *sk);
/* The socket left the established table. */
void dest_del(struct dest_table *dt, struct inet_sock *sk);
/* The socket moved to TIME_WAIT. 0 or -ENOBUFS (then it stays counted live). */
int dest_to_timewait(struct dest_table *dt, struct inet_sock *sk);

/* Word w (ports 64w .. 64w+63) of the live and TIME_WAIT sets; e may be NULL. */
static inline void dest_words(const struct dest_entry *e, uint32_t w, uint64_t *live, uint64_t *tw)
{
	*live = 0;
	*tw = 0;
	if (!e)
		return;
	if (e->nsparse != DEST_DENSE) {
		for (uint32_t i = 0; i < e->nsparse; i++) {
			if ((uint32_t)(e->u.ports[i] >> 6) != w)
				continue;
			if (e->tw_mask & (1u << i))
				*tw |= UINT64_C(1) << (e->u.ports[i] & 63);
			else
				*live |= UINT64_C(1) << (e->u.ports[i] & 63);
		}
		return;
	}
	const struct dest_dense *d = e->u.dense;
	uint32_t c = w / DEST_CHUNK_WORDS, o = w % DEST_CHUNK_WORDS;

	if (d->live[c])
		*live = d->live[c][o];
	if (d->tw[c])
		*tw = d->tw[c][o];
}

static inline uint32_t dest_count(const struct dest_entry *e)
{
	return e->nsparse == DEST_DENSE ? e->u.dense->nlive + e->u.dense->ntw : e->nsparse;
}

static inline uint32_t dest_tw_count(const struct dest_entry *e)
{
	return e->nsparse == DEST_DENSE ? e->u.dense->ntw : (uint32_t)__builtin_popcount(e->tw_mask);
}

#endif
