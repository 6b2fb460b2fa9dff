/* Bind tables and the bind() side of port selection (see bind_table.h).
 * Each function names the kernel function it mirrors; the rules themselves
 * are described in shared/spec/kernel-bind-connect.md, sections 3 and 6. */
#include "inet/bind_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bigmem.h"
#include "stack.h"

#define LOOPBACK4_IPV6 htonl(0x7f000006) /* IPv4 shadow of a native IPv6 bind */

int bind_table_init(struct bind_table *bt, uint32_t bhash2_buckets, uint64_t max_sockets, uint64_t seed)
{
	memset(bt, 0, sizeof(*bt));
	bt->bhash = calloc(65536, sizeof(*bt->bhash));
	bhash2_buckets = roundup_pow2_u32(bhash2_buckets);
	bt->bhash2 = bigmem_zalloc((size_t)bhash2_buckets * sizeof(*bt->bhash2), BIGMEM_HUGE);
	if (!bt->bhash || !bt->bhash2) {
		free(bt->bhash);
		bigmem_free(bt->bhash2, (size_t)bhash2_buckets * sizeof(*bt->bhash2));
		return -ENOMEM;
	}
	bt->bhash2_mask = bhash2_buckets - 1;
	bt->seed = seed;
	pool_init(&bt->tb_pool, "bind_bucket", sizeof(struct inet_bind_bucket), 65536);
	pool_init(&bt->tb2_pool, "bind2_bucket", sizeof(struct inet_bind2_bucket), max_sockets);
	return 0;
}

void bind_table_fini(struct bind_table *bt)
{
	bt->link_pending = NULL;
	pool_fini(&bt->tb_pool);
	pool_fini(&bt->tb2_pool);
	free(bt->bhash);
	if (bt->bhash2)
		bigmem_free(bt->bhash2, ((size_t)bt->bhash2_mask + 1) * sizeof(*bt->bhash2));
	bt->bhash = NULL;
	bt->bhash2 = NULL;
}

static uint32_t bhash2_index(const struct bind_table *bt, uint16_t port, const struct in6_addr *a)
{
	uint64_t h = mix64(((uint64_t)a->s6_addr32[0] << 32 | a->s6_addr32[1]) ^ port, bt->seed);

	h = mix64(h ^ ((uint64_t)a->s6_addr32[2] << 32 | a->s6_addr32[3]), bt->seed);
	return (uint32_t)h & bt->bhash2_mask;
}

struct inet_bind2_bucket *bind_table_find2(const struct bind_table *bt, uint16_t port,
                                           const struct in6_addr *addr)
{
	const struct inet_bind_bucket *tb = bt->bhash[port];
	struct hnode *n;
	int i;

	/* Every address bucket hangs off its port's bucket: no port bucket,
	 * none; a port held on a few addresses (the common case, and every
	 * step of a bind(0) search) is answered from its short list, without
	 * touching the hash table; a long list goes through the hash. */
	if (!tb)
		return NULL;
	for (i = 0, n = tb->bhash2.first; n && i < 4; i++, n = n->next) {
		struct inet_bind2_bucket *tb2 = DTCP_CONTAINER_OF(n, struct inet_bind2_bucket, port_node);

		if (addr_eq(&tb2->addr, addr))
			return tb2;
	}
	if (!n)
		return NULL;
	hlist_for_each(n, &bt->bhash2[bhash2_index(bt, port, addr)]) {
		struct inet_bind2_bucket *tb2 = DTCP_CONTAINER_OF(n, struct inet_bind2_bucket, node);

		if (tb2->port == port && addr_eq(&tb2->addr, addr))
			return tb2;
	}
	return NULL;
}

static void tb_sync_owned(struct bind_table *bt, const struct inet_bind_bucket *tb)
{
	if (inet_bucket_bind_owned(tb))
		bitmap_set(bt->bind_owned, tb->port);
	else
		bitmap_clear(bt->bind_owned, tb->port);
}

/* Mirrors inet_bind_bucket_create(): a new bucket starts with both flags 0. */
static struct inet_bind_bucket *tb_create(struct bind_table *bt, uint16_t port)
{
	struct inet_bind_bucket *tb = pool_get(&bt->tb_pool);

	if (!tb)
		return NULL;
	tb->port = port;
	bt->bhash[port] = tb;
	return tb;
}

static void tb_destroy(struct bind_table *bt, struct inet_bind_bucket *tb)
{
	DTCP_ASSERT(hlist_empty(&tb->bhash2) && tb->nowners == 0);
	bt->bhash[tb->port] = NULL;
	bitmap_clear(bt->bind_owned, tb->port);
	pool_put(&bt->tb_pool, tb);
}

/* Set an address bucket's flags, keeping the port's count of address
 * buckets that are not connect-owned. */
static void tb2_set_flags(struct inet_bind2_bucket *tb2, int8_t fastreuse, int8_t fastreuseport)
{
	bool was = !inet_bucket2_connect_owned(tb2);

	tb2->fastreuse = fastreuse;
	tb2->fastreuseport = fastreuseport;
	if (was != !inet_bucket2_connect_owned(tb2)) {
		if (was)
			tb2->tb->nbound2--;
		else
			tb2->tb->nbound2++;
	}
}

/* Mirrors inet_bind2_bucket_create(): a new address bucket starts (0, 0),
 * or (-1, -1) when the connect() search creates it. */
static struct inet_bind2_bucket *tb2_create(struct bind_table *bt, struct inet_bind_bucket *tb,
                                            const struct in6_addr *addr, bool by_connect)
{
	struct inet_bind2_bucket *tb2;

	if (!tb->first2_used) {
		tb2 = &tb->first2;
		memset(tb2, 0, sizeof(*tb2));
		tb->first2_used = true;
	} else if (!(tb2 = pool_get(&bt->tb2_pool))) {
		return NULL;
	}
	bt->tb2_count++;
	tb2->tb = tb;
	tb2->port = tb->port;
	tb2->addr = *addr;
	tb2->fastreuse = -1;
	tb2->fastreuseport = -1;
	if (!by_connect)
		tb2_set_flags(tb2, 0, 0);
	hlist_add_head(&tb2->node, &bt->bhash2[bhash2_index(bt, tb->port, addr)]);
	hlist_add_head(&tb2->port_node, &tb->bhash2);
	return tb2;
}

/* Mirrors inet_bind2_bucket_destroy() (6.18): free an empty address bucket,
 * else make it connect-owned once every owner was placed by connect(). */
static void tb2_release(struct bind_table *bt, struct inet_bind2_bucket *tb2)
{
	if (hlist_empty(&tb2->owners)) {
		tb2_set_flags(tb2, -1, -1);
		hlist_del(&tb2->node);
		hlist_del(&tb2->port_node);
		bt->tb2_count--;
		if (tb2 == &tb2->tb->first2)
			tb2->tb->first2_used = false;
		else
			pool_put(&bt->tb2_pool, tb2);
		return;
	}
	if (!inet_bucket2_connect_owned(tb2) && tb2->nbind == 0)
		tb2_set_flags(tb2, -1, -1);
}

/* Mirrors inet_bind_bucket_destroy() (6.18): free an empty port bucket,
 * else make it connect-owned once all its address buckets are. */
static void tb_release(struct bind_table *bt, struct inet_bind_bucket *tb)
{
	if (hlist_empty(&tb->bhash2)) {
		tb_destroy(bt, tb);
		return;
	}
	if (inet_bucket_bind_owned(tb) && tb->nbound2 == 0) {
		tb->fastreuse = -1;
		tb->fastreuseport = -1;
		tb_sync_owned(bt, tb);
	}
}

/* Mirrors inet_bind_hash(): the socket becomes an owner of tb2 (counted
 * here, linked by the caller). */
static void bind_count(struct inet_sock *sk, struct inet_bind2_bucket *tb2, bool by_connect)
{
	tb2->nowners++;
	tb2->tb->nowners++;
	sk->connect_bind = by_connect;
	if (!by_connect)
		tb2->nbind++;
	sk->tb2 = tb2;
	sk->num = tb2->port;
}

static void bind_hash(struct inet_sock *sk, struct inet_bind2_bucket *tb2, bool by_connect)
{
	hlist_add_head(&sk->bind_node, &tb2->owners);
	bind_count(sk, tb2, by_connect);
}

/* Leave the owners of the socket's address bucket (no release step). */
static void bind_unhash(struct inet_sock *sk)
{
	struct inet_bind2_bucket *tb2 = sk->tb2;

	hlist_del(&sk->bind_node);
	tb2->nowners--;
	tb2->tb->nowners--;
	if (!sk->connect_bind)
		tb2->nbind--;
	sk->tb2 = NULL;
}

/* ---- address comparison (inet_rcv_saddr_equal and friends) ---- */

/* The IPv4 view of a socket's bound address (the kernel's sk_rcv_saddr). */
static uint32_t sk_rcv_saddr4(const struct inet_sock *sk)
{
	if (sk->family == AF_INET || addr_is_mapped(&sk->rcv_saddr))
		return addr_v4(&sk->rcv_saddr);
	if (addr_is_any6(&sk->rcv_saddr))
		return 0;
	return LOOPBACK4_IPV6;
}

enum v6_type { V6T_ANY, V6T_MAPPED, V6T_OTHER };

static enum v6_type v6_type(const struct in6_addr *a)
{
	if (addr_is_any6(a))
		return V6T_ANY;
	if (addr_is_mapped(a))
		return V6T_MAPPED;
	return V6T_OTHER;
}

/* Mirrors ipv4_rcv_saddr_equal(). */
static bool v4_saddr_equal(uint32_t a1, uint32_t a2, bool sk2_v6only, bool mw1, bool mw2)
{
	if (sk2_v6only)
		return false;
	if (a1 == a2)
		return true;
	return (mw1 && !a1) || (mw2 && !a2);
}

/* Mirrors ipv6_rcv_saddr_equal(); a2 is NULL for an AF_INET sk2. */
static bool v6_saddr_equal(const struct in6_addr *a1, const struct in6_addr *a2,
                           uint32_t v4_1, uint32_t v4_2, bool v6only1, bool v6only2,
                           bool mw1, bool mw2)
{
	enum v6_type t1 = v6_type(a1), t2 = a2 ? v6_type(a2) : V6T_MAPPED;

	if (t1 == V6T_MAPPED && t2 == V6T_MAPPED)
		return v4_saddr_equal(v4_1, v4_2, v6only2, mw1, mw2);
	if (t1 == V6T_ANY && t2 == V6T_ANY)
		return true;
	if (t2 == V6T_ANY && mw2 && !(v6only2 && t1 == V6T_MAPPED))
		return true;
	if (t1 == V6T_ANY && mw1 && !(v6only1 && t2 == V6T_MAPPED))
		return true;
	return a2 && addr_eq(a1, a2);
}

/* Mirrors inet_rcv_saddr_equal(). */
static bool rcv_saddr_equal(const struct inet_sock *sk, const struct inet_sock *sk2, bool mw)
{
	if (sk->family == AF_INET6)
		return v6_saddr_equal(&sk->rcv_saddr, sk2->family == AF_INET6 ? &sk2->rcv_saddr : NULL,
		                      sk_rcv_saddr4(sk), sk_rcv_saddr4(sk2), inet_sk_ipv6only(sk),
		                      inet_sk_ipv6only(sk2), mw, mw);
	return v4_saddr_equal(sk_rcv_saddr4(sk), sk_rcv_saddr4(sk2), inet_sk_ipv6only(sk2), mw, mw);
}

/* Mirrors inet_use_hash2_on_bind(): a specific address is checked through
 * the address buckets, a wildcard against every owner of the port. */
static bool use_hash2_on_bind(const struct inet_sock *sk)
{
	if (sk->family == AF_INET6) {
		if (addr_is_any6(&sk->rcv_saddr))
			return false;
		if (!addr_is_mapped(&sk->rcv_saddr))
			return true;
	}
	return addr_v4(&sk->rcv_saddr) != 0;
}

/* ---- conflict rules (spec 3.6) ---- */

/* Mirrors inet_bind_conflict(). dtcp has no SO_REUSEPORT groups with closed
 * members at bind time, so the kernel's reuseport_cb_ok is always true. */
static bool bind_conflict(const struct inet_sock *sk, const struct inet_sock *sk2, bool relax,
                          bool reuseport_ok)
{
	if (sk == sk2)
		return false;
	if (sk->bound_dev_if && sk2->bound_dev_if && sk->bound_dev_if != sk2->bound_dev_if)
		return false;
	if (sk->reuse && sk2->reuse && sk2->state != INET_LISTEN) {
		return !relax || (!reuseport_ok && sk->reuseport && sk2->reuseport &&
		                  (sk2->state == INET_TIME_WAIT || sk->uid == sk2->uid));
	}
	return !reuseport_ok || !sk->reuseport || !sk2->reuseport ||
	       (sk2->state != INET_TIME_WAIT && sk->uid != sk2->uid);
}

/* Mirrors inet_bhash2_conflict(): the owners of one address bucket. */
static bool bhash2_conflict(const struct inet_sock *sk, const struct inet_bind2_bucket *tb2,
                            bool relax, bool reuseport_ok)
{
	struct hnode *n;

	hlist_for_each(n, &tb2->owners) {
		const struct inet_sock *sk2 = DTCP_CONTAINER_OF(n, struct inet_sock, bind_node);

		if (inet_sk_ipv6only(sk2) && (sk->family == AF_INET || addr_is_mapped(&sk->rcv_saddr)))
			continue;
		if (bind_conflict(sk, sk2, relax, reuseport_ok))
			return true;
	}
	return false;
}

/* Mirrors inet_bhash2_addr_any_conflict(): the wildcard buckets of the port
 * that overlap a specific address (:: always, 0.0.0.0 for IPv4 and mapped). */
static bool addr_any_conflict(const struct dtcp_stack *st, const struct inet_sock *sk, uint16_t port,
                              bool relax, bool reuseport_ok)
{
	struct in6_addr any;
	const struct inet_bind2_bucket *tb2;

	memset(&any, 0, sizeof(any));
	tb2 = bind_table_find2(&st->bt, port, &any);
	if (tb2 && bhash2_conflict(sk, tb2, relax, reuseport_ok))
		return true;
	if (sk->family == AF_INET6 && !addr_is_mapped(&sk->rcv_saddr))
		return false;
	addr_set_mapped(&any, 0);
	tb2 = bind_table_find2(&st->bt, port, &any);
	return tb2 && bhash2_conflict(sk, tb2, relax, reuseport_ok);
}

/* Mirrors inet_csk_bind_conflict(). tb2 is the socket's own address bucket
 * (may be NULL). */
static bool csk_bind_conflict(const struct inet_sock *sk, const struct inet_bind_bucket *tb,
                              const struct inet_bind2_bucket *tb2, bool relax, bool reuseport_ok)
{
	struct hnode *n, *m;

	if (use_hash2_on_bind(sk))
		return tb2 && bhash2_conflict(sk, tb2, relax, reuseport_ok);
	hlist_for_each(n, &tb->bhash2) {
		const struct inet_bind2_bucket *b = DTCP_CONTAINER_OF(n, struct inet_bind2_bucket, port_node);

		hlist_for_each(m, &b->owners) {
			const struct inet_sock *sk2 = DTCP_CONTAINER_OF(m, struct inet_sock, bind_node);

			if (bind_conflict(sk, sk2, relax, reuseport_ok) && rcv_saddr_equal(sk, sk2, true))
				return true;
		}
	}
	return false;
}

/* Mirrors sk_reuseport_match(): the SO_REUSEPORT fast path of an explicit bind. */
static bool reuseport_match(const struct inet_bind_bucket *tb, const struct inet_sock *sk)
{
	if (tb->fastreuseport <= 0 || !sk->reuseport || tb->fastuid != sk->uid)
		return false;
	if (tb->fastreuseport == FASTREUSEPORT_ANY)
		return true;
	if (tb->fast_family == AF_INET6)
		return v6_saddr_equal(&tb->fast_rcv_saddr, sk->family == AF_INET6 ? &sk->rcv_saddr : NULL,
		                      addr_is_mapped(&tb->fast_rcv_saddr) ? addr_v4(&tb->fast_rcv_saddr)
		                      : addr_is_any6(&tb->fast_rcv_saddr) ? 0 : LOOPBACK4_IPV6,
		                      sk_rcv_saddr4(sk), tb->fast_ipv6only, inet_sk_ipv6only(sk), true, false);
	return v4_saddr_equal(addr_v4(&tb->fast_rcv_saddr), sk_rcv_saddr4(sk), inet_sk_ipv6only(sk), true, false);
}

/* Mirrors inet_csk_update_fastreuse(). The socket's address bucket is always
 * linked before this runs, so the kernel's "first owner" branch is never
 * taken: a fresh bucket keeps fastreuse 0, and any bind or listen leaves the
 * port bind-owned (fastreuseport >= 0). */
static void update_fastreuse(struct bind_table *bt, struct inet_bind_bucket *tb,
                             struct inet_bind2_bucket *tb2, const struct inet_sock *sk)
{
	bool reuse = sk->reuse && sk->state != INET_LISTEN;

	if (!reuse)
		tb->fastreuse = 0;
	if (sk->reuseport) {
		if (!reuseport_match(tb, sk)) {
			tb->fastreuseport = FASTREUSEPORT_STRICT;
			tb->fastuid = sk->uid;
			tb->fast_rcv_saddr = sk->rcv_saddr;
			tb->fast_ipv6only = inet_sk_ipv6only(sk);
			tb->fast_family = sk->family;
		}
	} else {
		tb->fastreuseport = 0;
	}
	/* 6.18: the address bucket takes the port's state. */
	tb2_set_flags(tb2, tb->fastreuse, tb->fastreuseport);
	tb_sync_owned(bt, tb);
}

bool inet_sk_port_range(const struct dtcp_stack *st, const struct inet_sock *sk, int *low, int *high)
{
	int lo = st->sysctl.port_lo, hi = st->sysctl.port_hi;
	uint32_t r = sk->local_port_range;

	if (r) {
		int sk_lo = (int)(r & 0xffff), sk_hi = (int)(r >> 16);

		/* Each end replaces the stack's only if it lies inside the stack's range. */
		if (lo <= sk_lo && sk_lo <= hi)
			lo = sk_lo;
		if (lo <= sk_hi && sk_hi <= hi)
			hi = sk_hi;
	}
	*low = lo;
	*high = hi;
	return r != 0;
}

/* Mirrors inet_csk_find_open_port(): odd distance from the range's start
 * first, the lower half first with SO_REUSEADDR, then the relaxed pass of
 * ip_autobind_reuse. Returns the port with its buckets (either may be NULL),
 * or 0 when the range is exhausted. */
static uint16_t find_open_port(struct dtcp_stack *st, const struct inet_sock *sk,
                               struct inet_bind_bucket **tb_ret, struct inet_bind2_bucket **tb2_ret)
{
	struct bind_table *bt = &st->bt;
	bool relax = false;
	int attempt_half, low, high;
	uint32_t remaining, offset;

ports_exhausted:
	attempt_half = sk->reuse ? 1 : 0;
other_half_scan:
	inet_sk_port_range(st, sk, &low, &high);
	high++;
	if (high - low < 4)
		attempt_half = 0;
	if (attempt_half) {
		int half = low + (((high - low) >> 2) << 1);

		if (attempt_half == 1)
			high = half;
		else
			low = half;
	}
	remaining = (uint32_t)(high - low);
	if (remaining > 1)
		remaining &= ~1u;
	offset = stack_random_below(st, remaining) | 1u;
other_parity_scan:
	for (uint32_t i = 0, port = (uint32_t)low + offset; i < remaining; i += 2, port += 2) {
		struct inet_bind2_bucket *tb2;
		struct inet_bind_bucket *tb;

		if (port >= (uint32_t)high)
			port -= remaining;
		if (sysctl_port_reserved(&st->sysctl, port))
			continue;
		if (use_hash2_on_bind(sk) && addr_any_conflict(st, sk, (uint16_t)port, relax, false))
			continue;
		tb = bt->bhash[port];
		tb2 = tb ? bind_table_find2(bt, (uint16_t)port, &sk->rcv_saddr) : NULL;
		if (tb && csk_bind_conflict(sk, tb, tb2, relax, false))
			continue;
		*tb_ret = tb;
		*tb2_ret = tb2;
		return (uint16_t)port;
	}
	offset--;
	if (!(offset & 1))
		goto other_parity_scan;
	if (attempt_half == 1) {
		attempt_half = 2;
		goto other_half_scan;
	}
	if (st->sysctl.autobind_reuse && !relax) {
		relax = true;
		goto ports_exhausted;
	}
	return 0;
}

int inet_csk_get_port(struct dtcp_stack *st, struct inet_sock *sk, uint16_t snum)
{
	struct bind_table *bt = &st->bt;
	bool reuse = sk->reuse && sk->state != INET_LISTEN;
	bool found_port = false, check = true, tb_created = false, tb2_created = false;
	struct inet_bind_bucket *tb = NULL;
	struct inet_bind2_bucket *tb2 = NULL;
	uint16_t port = snum;

	bind_table_flush(bt);
	if (!port) {
		port = find_open_port(st, sk, &tb, &tb2);
		if (!port) {
			st->cnt.bind_search_fail++;
			return -EADDRINUSE;
		}
		found_port = true;
	} else {
		tb = bt->bhash[port];
	}
	if (!tb) {
		tb = tb_create(bt, port);
		if (!tb)
			return -ENOBUFS;
		tb_created = true;
	}
	if (!found_port) {
		if (!hlist_empty(&tb->bhash2) && ((tb->fastreuse > 0 && reuse) || reuseport_match(tb, sk)))
			check = false;
		if (check && use_hash2_on_bind(sk) && addr_any_conflict(st, sk, port, true, true))
			goto fail_inuse;
		tb2 = bind_table_find2(bt, port, &sk->rcv_saddr);
	}
	if (!tb2) {
		tb2 = tb2_create(bt, tb, &sk->rcv_saddr, false);
		if (!tb2)
			goto fail_nobufs;
		tb2_created = true;
	}
	if (!found_port && check && csk_bind_conflict(sk, tb, tb2, true, true))
		goto fail_inuse;

	update_fastreuse(bt, tb, tb2, sk);
	if (!sk->tb2)
		bind_hash(sk, tb2, false);
	DTCP_ASSERT(sk->tb2 == tb2);
	return 0;

fail_nobufs:
	if (tb_created)
		tb_destroy(bt, tb);
	return -ENOBUFS;
fail_inuse:
	if (tb2_created)
		tb2_release(bt, tb2);
	if (tb_created)
		tb_release(bt, tb);
	return -EADDRINUSE;
}

void bind_table_flush(struct bind_table *bt)
{
	struct inet_sock *sk = bt->link_pending;

	if (sk) {
		bt->link_pending = NULL;
		hlist_add_head(&sk->bind_node, &sk->tb2->owners);
	}
}

/* Count the socket among tb2's owners now, link it at the next flush: the
 * link writes to the owner linked last, a socket in no cache, whose line
 * is requested here. */
static void bind_count_link_later(struct bind_table *bt, struct inet_sock *sk, struct inet_bind2_bucket *tb2)
{
	bind_table_flush(bt);
	bind_count(sk, tb2, true);
	__builtin_prefetch(tb2->owners.first, 1);
	bt->link_pending = sk;
}

/* The port's buckets for the socket's address: found, or created
 * connect-owned. */
static struct inet_bind2_bucket *connect_buckets(struct bind_table *bt, struct inet_sock *sk, uint16_t port)
{
	struct inet_bind_bucket *tb = bt->bhash[port];
	struct inet_bind2_bucket *tb2 = NULL;
	bool tb_created = false;

	if (!tb) {
		tb = tb_create(bt, port);
		if (!tb)
			return NULL;
		tb->fastreuse = -1;
		tb->fastreuseport = -1;
		tb_created = true;
	} else {
		DTCP_ASSERT(!inet_bucket_bind_owned(tb));
		tb2 = bind_table_find2(bt, port, &sk->rcv_saddr);
	}
	if (!tb2) {
		tb2 = tb2_create(bt, tb, &sk->rcv_saddr, true);
		if (!tb2 && tb_created)
			tb_destroy(bt, tb);
	}
	return tb2;
}

int inet_bind_connect_port(struct dtcp_stack *st, struct inet_sock *sk, uint16_t port, bool defer)
{
	struct bind_table *bt = &st->bt;
	const struct inet_bind_bucket *tb = bt->bhash[port];
	struct inet_bind2_bucket *tb2;

	if (defer && tb && pool_ready(&bt->tb2_pool)) {
		/* The port bucket and its first address bucket, one 128-byte
		 * pair, are read at inet_bind_connect_finish(); should the port
		 * need a new address bucket then, the pool has one at hand. */
		__builtin_prefetch(tb, 1);
		__builtin_prefetch((const char *)tb + 64, 1);
		sk->num = port;
		return 0;
	}
	tb2 = connect_buckets(bt, sk, port);
	if (!tb2)
		return -ENOBUFS;
	if (defer)
		bind_count_link_later(bt, sk, tb2);
	else
		bind_hash(sk, tb2, true);
	return 0;
}

void inet_bind_connect_finish(struct dtcp_stack *st, struct inet_sock *sk)
{
	struct inet_bind2_bucket *tb2;

	if (sk->tb2 || !sk->num)
		return;
	tb2 = connect_buckets(&st->bt, sk, sk->num);
	/* The port bucket existed, and the pool was ready for an address bucket. */
	DTCP_ASSERT(tb2);
	bind_count_link_later(&st->bt, sk, tb2);
}

void inet_put_port(struct dtcp_stack *st, struct inet_sock *sk)
{
	struct inet_bind2_bucket *tb2 = sk->tb2;
	struct inet_bind_bucket *tb;

	if (!tb2)
		return;
	bind_table_flush(&st->bt);
	tb = tb2->tb;
	bind_unhash(sk);
	sk->num = 0;
	sk->connect_bind = 0;
	tb2_release(&st->bt, tb2);
	tb_release(&st->bt, tb);
}

/* Mirrors inet_bhash2_update_saddr(): the old address bucket is released
 * (and may turn connect-owned), the new one is found or created (0, 0); the
 * port bucket's state is not recomputed here, as in the kernel. */
int inet_bhash2_update_saddr(struct dtcp_stack *st, struct inet_sock *sk, const struct in6_addr *new_addr)
{
	struct bind_table *bt = &st->bt;
	struct inet_bind2_bucket *old = sk->tb2, *tb2;
	bool by_connect = sk->connect_bind;

	bind_table_flush(bt);
	if (!old) {
		sk->rcv_saddr = *new_addr;
		return 0;
	}
	if (addr_eq(&old->addr, new_addr))
		return 0;
	tb2 = bind_table_find2(bt, old->port, new_addr);
	if (!tb2) {
		tb2 = tb2_create(bt, old->tb, new_addr, false);
		if (!tb2)
			return -ENOBUFS;
	}
	bind_unhash(sk);
	tb2_release(bt, old);
	sk->rcv_saddr = *new_addr;
	bind_hash(sk, tb2, by_connect);
	return 0;
}

int inet_inherit_port(struct dtcp_stack *st, const struct inet_sock *listener, struct inet_sock *child)
{
	struct bind_table *bt = &st->bt;
	struct inet_bind2_bucket *tb2 = listener->tb2;

	bind_table_flush(bt);
	DTCP_ASSERT(tb2);
	if (!addr_eq(&tb2->addr, &child->rcv_saddr)) {
		struct inet_bind2_bucket *own = bind_table_find2(bt, tb2->port, &child->rcv_saddr);

		if (!own && !(own = tb2_create(bt, tb2->tb, &child->rcv_saddr, false)))
			return -ENOBUFS;
		tb2 = own;
	}
	bind_hash(child, tb2, false);
	return 0;
}
