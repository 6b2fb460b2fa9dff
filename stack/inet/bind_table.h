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

/* Join the port chosen by the connect() search (the bucket, if new, is
 * created connect-owned). 0 or -ENOBUFS; nothing changed on failure. With
 * defer_link the socket counts as an owner at once but joins the owners'
 * list only at inet_bind_connect_link(), which must come before anything
 * reads that list or releases a port. */
int inet_bind_connect_port(struct dtcp_stack *st, struct inet_sock *sk, uint16_t port, bool defer_link);
/* Does nothing for a socket already linked, or holding no port. */
void inet_bind_connect_link(struct inet_sock *sk);

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
