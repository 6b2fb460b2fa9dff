/* The bind tables: port buckets (bhash, one per port, carrying the
 * fastreuse / fastreuseport state that marks a port connect-owned or
 * bind-owned) and address buckets (bhash2, one per port and local address,
 * holding the owning sockets). Explicit-port bind, the bind(0) search and
 * port release live here. Stack thread only. */
#ifndef DTCP_BIND_TABLE_H
#define DTCP_BIND_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "inet/inet_sock.h"
#include "pool.h"
#include "util.h"

struct dtcp_stack;

#define FASTREUSEPORT_ANY 1
#define FASTREUSEPORT_STRICT 2

struct inet_bind2_bucket {
	struct hnode node;             /* bhash2 chain */
	struct hnode port_node;        /* in tb->bhash2 */
	struct inet_bind_bucket *tb;
	struct hhead owners;
	struct in6_addr addr;
	uint32_t nowners;
	uint32_t nbind;                /* owners not placed by connect() */
	uint16_t port;
	int8_t fastreuse;              /* 6.18: per address bucket; (-1, -1) = connect-owned */
	int8_t fastreuseport;
};

struct inet_bind_bucket {
	struct hhead bhash2;           /* this port's address buckets */
	struct in6_addr fast_rcv_saddr;
	uint32_t fastuid;
	uint32_t nowners;              /* sockets (TIME_WAIT included) holding the port */
	uint32_t nbound2;              /* address buckets whose flags are not (-1, -1) */
	uint16_t port;
	int8_t fastreuse;              /* -1 with fastreuseport -1: connect-owned */
	int8_t fastreuseport;
	uint8_t fast_family;
	bool fast_ipv6only;
	bool first2_used;              /* first2 is one of the port's address buckets */
	/* The port's first address bucket lives here, on the line after the
	 * port bucket's (objects are 128-byte aligned, and a cache line's
	 * neighbour in its 128-byte pair is fetched with it): a port used
	 * from one address, as connect() with IP_BIND_ADDRESS_NO_PORT uses
	 * it, costs one miss, not two. Further addresses come from the pool. */
	struct inet_bind2_bucket first2;
};

struct bind_table {
	struct inet_bind_bucket **bhash;   /* indexed by port: O(1) */
	struct hhead *bhash2;
	uint32_t bhash2_mask;
	uint64_t seed;
	uint64_t bind_owned[PORT_BITMAP_WORDS]; /* bucket exists and is bind-owned */
	struct pool tb_pool, tb2_pool;
	uint64_t tb2_count;                /* address buckets, embedded (first2) or pooled */
	/* The socket connect() placed last: counted among its address
	 * bucket's owners, but linked into their list only at the next
	 * bind_table_flush(), when the list's head (another socket, in no
	 * cache when the port was chosen) has been loaded. Everything that
	 * reads an owners' list or moves a socket between buckets flushes
	 * first. */
	struct inet_sock *link_pending;
};

int bind_table_init(struct bind_table *bt, uint32_t bhash2_buckets, uint64_t max_sockets, uint64_t seed);
void bind_table_fini(struct bind_table *bt);

static inline bool inet_bucket_bind_owned(const struct inet_bind_bucket *tb)
{
	return tb->fastreuse >= 0 || tb->fastreuseport >= 0;
}

static inline bool inet_bucket2_connect_owned(const struct inet_bind2_bucket *tb2)
{
	return tb2->fastreuse == -1 && tb2->fastreuseport == -1;
}

static inline struct inet_bind_bucket *bind_table_port(const struct bind_table *bt, uint16_t port)
{
	return bt->bhash[port];
}

struct inet_bind2_bucket *bind_table_find2(const struct bind_table *bt, uint16_t port,
                                           const struct in6_addr *addr);

/* Effective ephemeral range of a socket: mirrors inet_sk_get_local_port_range().
 * Returns true when IP_LOCAL_PORT_RANGE is set. */
bool inet_sk_port_range(const struct dtcp_stack *st, const struct inet_sock *sk, int *lo, int *hi);

/* Mirrors inet_csk_get_port(): port != 0 reserves it under the conflict
 * rules, port 0 runs the bind(0) search. 0, -EADDRINUSE or -ENOBUFS. */
int inet_csk_get_port(struct dtcp_stack *st, struct inet_sock *sk, uint16_t port);

/* Link the socket left pending (see link_pending). O(1). */
void bind_table_flush(struct bind_table *bt);

/* Join the port chosen by the connect() search (the bucket, if new, is
 * created connect-owned). 0 or -ENOBUFS; nothing changed on failure.
 * Without defer the socket is an owner, linked, on return. With defer its
 * link into the owners' list is left pending; and when the port's bucket
 * already exists, the socket only holds the port number (num) until
 * inet_bind_connect_finish(), which then cannot fail: the bucket's lines,
 * requested now, are read there, after the SYN is built. */
int inet_bind_connect_port(struct dtcp_stack *st, struct inet_sock *sk, uint16_t port, bool defer);
/* The rest of a deferred inet_bind_connect_port(): the socket is then an
 * owner of its address bucket. Does nothing for a socket already one, or
 * holding no port. */
void inet_bind_connect_finish(struct dtcp_stack *st, struct inet_sock *sk);

/* Mirrors __inet_put_port() with 6.18's state update (d57f4b874946): leave
 * the buckets, free empty ones; an address bucket whose remaining owners
 * were all placed by connect() is connect-owned again, and so is the port
 * once all its address buckets are. Counters keep both steps O(1). */
void inet_put_port(struct dtcp_stack *st, struct inet_sock *sk);

/* Mirrors __inet_inherit_port(): an accepted child takes its listener's
 * port, in the address bucket of its own local address. 0 or -ENOBUFS. */
int inet_inherit_port(struct dtcp_stack *st, const struct inet_sock *listener, struct inet_sock *child);

/* Move a port-holding socket to the address bucket of new_addr (connect()
 * choosing a source, or its undo). 0 or -ENOBUFS with nothing changed. */
int inet_bhash2_update_saddr(struct dtcp_stack *st, struct inet_sock *sk, const struct in6_addr *new_addr);

#endif
