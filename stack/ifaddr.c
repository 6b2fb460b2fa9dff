/* Interfaces and addresses (see ifaddr.h). The stack starts with "lo"
 * carrying 127.0.0.1/8 and ::1/128, as Linux's loopback does. */
#include "ifaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

static int netif_add(struct ifaddr_table *t, const char *name, bool loopback)
{
	struct netif *nif;

	if (!name || !*name || strlen(name) >= IFADDR_NAME_MAX)
		return -EINVAL;
	if (ifaddr_find_if(t, name))
		return -EEXIST;
	if (t->nif >= sizeof(t->ifs) / sizeof(t->ifs[0]))
		return -ENOSPC;
	nif = &t->ifs[t->nif];
	memset(nif, 0, sizeof(*nif));
	snprintf(nif->name, sizeof(nif->name), "%s", name);
	nif->ifindex = (int)t->nif + 1;
	nif->loopback = loopback;
	t->nif++;
	return nif->ifindex;
}

int ifaddr_add_if(struct ifaddr_table *t, const char *name, bool loopback)
{
	int r = netif_add(t, name, loopback);

	t->gen++;
	return r;
}

int ifaddr_init(struct ifaddr_table *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->cache = calloc((size_t)1 << IFADDR_CACHE_BITS, sizeof(*t->cache));
	if (!t->cache)
		return -ENOMEM;
	t->gen = 1;
	err = netif_add(t, "lo", true);
	if (err > 0)
		err = ifaddr_add(t, "lo", "127.0.0.1/8");
	if (!err)
		err = ifaddr_add(t, "lo", "::1/128");
	return err;
}

void ifaddr_fini(struct ifaddr_table *t)
{
	for (uint32_t i = 0; i < t->nif; i++)
		free(t->ifs[i].addrs);
	free(t->hash);
	free(t->prefixes);
	free(t->cache);
	memset(t, 0, sizeof(*t));
}

struct netif *ifaddr_find_if(struct ifaddr_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->nif; i++)
		if (!strcmp(t->ifs[i].name, name))
			return &t->ifs[i];
	return NULL;
}

/* "a.b.c.d/n" or "x::y/n"; no prefix means a host address. */
static int parse_cidr(const char *cidr, struct ifaddr_entry *e)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long plen = -1;
	struct in_addr a4;

	if (!cidr || strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, cidr);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!slash[1])
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end || plen < 0)
			return -EINVAL;
	}
	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (plen > 32)
			return -EINVAL;
		e->v4 = true;
		e->prefix = (uint8_t)(plen < 0 ? 32 : plen);
		addr_set_mapped(&e->addr, a4.s_addr);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &e->addr) == 1) {
		if (plen > 128)
			return -EINVAL;
		e->prefix = (uint8_t)(plen < 0 ? 128 : plen);
		return 0;
	}
	return -EINVAL;
}

static uint32_t v4_mask(uint8_t prefix)
{
	return prefix ? htonl(~UINT32_C(0) << (32 - prefix)) : 0;
}

static bool v6_prefix_match(const struct in6_addr *a, const struct in6_addr *b, uint8_t prefix)
{
	uint32_t bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	return ((a->s6_addr[bytes] ^ b->s6_addr[bytes]) & (0xff00 >> bits)) == 0;
}

/* Record the prefix of an address if no address made it yet. */
static int prefix_note(struct ifaddr_table *t, uint16_t nif, uint32_t idx)
{
	const struct ifaddr_entry *e = &t->ifs[nif].addrs[idx];
	struct in6_addr net = e->addr;

	if (e->v4) {
		net.s6_addr32[3] &= v4_mask(e->prefix);
	} else {
		for (int b = e->prefix; b < 128; b++)
			net.s6_addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	}
	for (uint32_t i = 0; i < t->nprefix; i++)
		if (t->prefixes[i].nif == nif && t->prefixes[i].len == e->prefix && t->prefixes[i].v4 == e->v4 &&
		    addr_eq(&t->prefixes[i].net, &net))
			return 0;
	if (t->nprefix == t->prefix_cap) {
		uint32_t cap = t->prefix_cap ? t->prefix_cap * 2 : 8;
		struct ifaddr_prefix *n = realloc(t->prefixes, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->prefixes = n;
		t->prefix_cap = cap;
	}
	t->prefixes[t->nprefix++] = (struct ifaddr_prefix){ .net = net, .nif = nif, .idx = idx, .len = e->prefix,
	                                                    .v4 = e->v4 };
	return 0;
}

static const struct ifaddr_entry *slot_entry(const struct ifaddr_table *t, const struct ifaddr_slot *sl)
{
	return &t->ifs[sl->nif].addrs[sl->idx];
}

static uint32_t addr_hash(const struct in6_addr *a)
{
	uint64_t h = ((uint64_t)a->s6_addr32[0] << 32 | a->s6_addr32[1]) * UINT64_C(0x9e3779b97f4a7c15);

	h ^= ((uint64_t)a->s6_addr32[2] << 32 | a->s6_addr32[3]) * UINT64_C(0xc2b2ae3d27d4eb4f);
	return (uint32_t)(h ^ (h >> 29));
}

/* Open addressing, linear probing; at most half full. */
static void hash_put(struct ifaddr_table *t, uint16_t nif, uint32_t idx)
{
	const struct in6_addr *a = &t->ifs[nif].addrs[idx].addr;
	uint32_t i = addr_hash(a) & t->hash_mask;

	while (t->hash[i].nif != 0xffff)
		i = (i + 1) & t->hash_mask;
	t->hash[i].nif = nif;
	t->hash[i].idx = idx;
	t->hash_used++;
}

/* Rebuild the index from the interfaces (after a removal, or to grow). */
static int index_rebuild(struct ifaddr_table *t, uint32_t want)
{
	uint32_t cap = roundup_pow2_u32(want * 2 + 16);
	struct ifaddr_slot *h = malloc(cap * sizeof(*h));

	if (!h)
		return -ENOMEM;
	free(t->hash);
	t->hash = h;
	t->hash_mask = cap - 1;
	t->hash_used = 0;
	memset(h, 0xff, cap * sizeof(*h));
	t->nprefix = 0;
	for (uint32_t i = 0; i < t->nif; i++)
		for (uint32_t j = 0; j < t->ifs[i].naddr; j++) {
			hash_put(t, (uint16_t)i, j);
			if (prefix_note(t, (uint16_t)i, j))
				return -ENOMEM;
		}
	return 0;
}

enum { HAVE_SLOT = 1, HAVE_ROUTE = 2, HAVE_V4_CLASS = 4 };

/* The cache's entry for a, emptied first when it held another address or
 * an older generation. */
static struct ifaddr_cache_ent *cache_ent(const struct ifaddr_table *t, const struct in6_addr *a)
{
	struct ifaddr_cache_ent **mru = ((struct ifaddr_table *)t)->cache_mru, *c;

	/* A segment's handling asks about its two addresses several times
	 * over: the two entries used last answer from a warm line before the
	 * table's is looked for. */
	for (int i = 0; i < 2; i++) {
		c = mru[i];
		if (c && c->gen == t->gen && addr_eq(&c->addr, a)) {
			if (i) {
				mru[1] = mru[0];
				mru[0] = c;
			}
			return c;
		}
	}
	c = &t->cache[addr_hash(a) >> (32 - IFADDR_CACHE_BITS)];
	if (c->gen != t->gen || !addr_eq(&c->addr, a)) {
		c->addr = *a;
		c->gen = t->gen;
		c->have = 0;
	}
	if (mru[0] != c) {
		mru[1] = mru[0];
		mru[0] = c;
	}
	return c;
}

/* The address's slot, or NULL. */
static const struct ifaddr_slot *index_find_slow(const struct ifaddr_table *t, const struct in6_addr *a)
{
	if (!t->hash)
		return NULL;
	for (uint32_t i = addr_hash(a) & t->hash_mask; t->hash[i].nif != 0xffff; i = (i + 1) & t->hash_mask)
		if (addr_eq(&slot_entry(t, &t->hash[i])->addr, a))
			return &t->hash[i];
	return NULL;
}

static const struct ifaddr_slot *index_find(const struct ifaddr_table *t, const struct in6_addr *a)
{
	struct ifaddr_cache_ent *c = cache_ent(t, a);

	if (!(c->have & HAVE_SLOT)) {
		c->slot = index_find_slow(t, a);
		c->have |= HAVE_SLOT;
	}
	return c->slot;
}

static int addr_add(struct ifaddr_table *t, const char *ifname, const char *cidr)
{
	struct netif *nif = ifname ? ifaddr_find_if(t, ifname) : NULL;
	struct ifaddr_entry e;
	int err;

	if (!nif)
		return -ENODEV;
	err = parse_cidr(cidr, &e);
	if (err)
		return err;
	{
		const struct ifaddr_slot *sl = index_find(t, &e.addr);

		if (sl && &t->ifs[sl->nif] == nif)
			return -EEXIST;
	}
	if (nif->naddr == nif->cap) {
		uint32_t cap = nif->cap ? nif->cap * 2 : 4;
		struct ifaddr_entry *n = realloc(nif->addrs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		nif->addrs = n;
		nif->cap = cap;
	}
	nif->addrs[nif->naddr++] = e;
	if (!t->hash || (t->hash_used + 1) * 2 > t->hash_mask + 1) {
		uint32_t total = 0;

		for (uint32_t i = 0; i < t->nif; i++)
			total += t->ifs[i].naddr;
		return index_rebuild(t, total);
	}
	hash_put(t, (uint16_t)(nif - t->ifs), nif->naddr - 1);
	return prefix_note(t, (uint16_t)(nif - t->ifs), nif->naddr - 1);
}

static int addr_del(struct ifaddr_table *t, const char *ifname, const char *cidr)
{
	struct netif *nif = ifname ? ifaddr_find_if(t, ifname) : NULL;
	struct ifaddr_entry e;
	int err;

	if (!nif)
		return -ENODEV;
	err = parse_cidr(cidr, &e);
	if (err)
		return err;
	for (uint32_t i = 0; i < nif->naddr; i++) {
		if (addr_eq(&nif->addrs[i].addr, &e.addr) &&
		    (!strchr(cidr, '/') || nif->addrs[i].prefix == e.prefix)) {
			uint32_t total = 0;

			nif->addrs[i] = nif->addrs[--nif->naddr];
			for (uint32_t k = 0; k < t->nif; k++)
				total += t->ifs[k].naddr;
			return index_rebuild(t, total);
		}
	}
	return -EADDRNOTAVAIL;
}

static enum v4_addr_class v4_class_slow(const struct ifaddr_table *t, uint32_t a, const struct in6_addr *m)
{
	if (index_find(t, m))
		return V4_LOCAL;
	/* fib_add_ifaddr(): a prefix shorter than /31 has a broadcast route
	 * for its last address (more specific than the prefix's route); on a
	 * loopback device the rest of the prefix is local (RTN_LOCAL). */
	for (uint32_t i = 0; i < t->nprefix; i++) {
		const struct ifaddr_prefix *p = &t->prefixes[i];

		if (p->v4 && p->len < 31 && a == (addr_v4(&p->net) | ~v4_mask(p->len)))
			return V4_BROADCAST;
	}
	for (uint32_t i = 0; i < t->nprefix; i++) {
		const struct ifaddr_prefix *p = &t->prefixes[i];

		if (p->v4 && t->ifs[p->nif].loopback && ((addr_v4(&p->net) ^ a) & v4_mask(p->len)) == 0)
			return V4_LOCAL;
	}
	return V4_OTHER;
}

enum v4_addr_class ifaddr_v4_class(const struct ifaddr_table *t, uint32_t a)
{
	struct ifaddr_cache_ent *c;
	struct in6_addr m;

	if (a == 0)
		return V4_ANY;
	if ((ntohl(a) & 0xf0000000) == 0xe0000000)
		return V4_MULTICAST;
	if (a == 0xffffffff)
		return V4_BROADCAST;
	addr_set_mapped(&m, a);
	c = cache_ent(t, &m);
	if (!(c->have & HAVE_V4_CLASS)) {
		c->v4_class = (uint8_t)v4_class_slow(t, a, &m);
		c->have |= HAVE_V4_CLASS;
	}
	return (enum v4_addr_class)c->v4_class;
}

bool ifaddr_v6_is_local_on(const struct ifaddr_table *t, const struct in6_addr *a, int ifindex)
{
	const struct ifaddr_slot *sl;

	if (addr_is_mapped(a))
		return false;
	sl = index_find(t, a);
	if (!sl)
		return false;
	/* Only link- and host-scope addresses belong to one device (ipv6_chk_addr, not strict). */
	if (ifindex && (addr_is_linklocal6(a) || IN6_IS_ADDR_LOOPBACK(a)))
		return t->ifs[sl->nif].ifindex == ifindex;
	return true;
}

bool ifaddr_v6_is_local(const struct ifaddr_table *t, const struct in6_addr *a)
{
	return ifaddr_v6_is_local_on(t, a, 0);
}

bool ifaddr_is_loopback(const struct in6_addr *a)
{
	static const struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	if (addr_is_mapped(a))
		return (ntohl(addr_v4(a)) >> 24) == 127;
	return addr_eq(a, &lo6);
}

static bool prefix_holds(bool v4, const struct in6_addr *net, uint8_t len, const struct in6_addr *a)
{
	if (v4 != addr_is_mapped(a))
		return false;
	return v4 ? ((addr_v4(net) ^ addr_v4(a)) & v4_mask(len)) == 0 : v6_prefix_match(net, a, len);
}

/* The source entry for traffic leaving nif through gateway gw towards dst:
 * an address of dst's family on nif, the one whose prefix holds the gateway
 * first, and for IPv6 a link-local one only for a link-local dst. */
static const struct ifaddr_entry *route_source(const struct netif *nif, const struct in6_addr *dst,
                                               const struct in6_addr *gw)
{
	bool v4 = addr_is_mapped(dst);
	const struct ifaddr_entry *any = NULL;

	for (uint32_t i = 0; i < nif->naddr; i++) {
		const struct ifaddr_entry *e = &nif->addrs[i];

		if (e->v4 != v4 || (!v4 && addr_is_linklocal6(&e->addr) != addr_is_linklocal6(dst)))
			continue;
		if (prefix_holds(v4, &e->addr, e->prefix, gw))
			return e;
		if (!any)
			any = e;
	}
	return any;
}

/* The route to dst: the source entry, the interface, whether dst is itself
 * a local address, and the next hop. Longest prefix first, among the
 * connected prefixes and the routes; an exact local address wins outright. */
static const struct ifaddr_entry *route_entry_slow(const struct ifaddr_table *t, const struct in6_addr *dst,
                                                   const struct netif **out_if, bool *exact, struct in6_addr *nh)
{
	bool v4 = addr_is_mapped(dst);
	const struct ifaddr_slot *sl = index_find(t, dst);
	const struct ifaddr_prefix *best = NULL;
	const struct ifaddr_gwroute *rt = NULL;

	*exact = false;
	if (nh)
		*nh = *dst;
	if (sl) {
		*exact = true;
		*out_if = &t->ifs[sl->nif];
		return slot_entry(t, sl);
	}
	for (uint32_t i = 0; i < t->nprefix; i++) {
		const struct ifaddr_prefix *p = &t->prefixes[i];

		if (p->v4 != v4 || (best && p->len <= best->len))
			continue;
		if (prefix_holds(v4, &p->net, p->len, dst))
			best = p;
	}
	for (uint32_t i = 0; i < t->nroutes; i++) {
		const struct ifaddr_gwroute *r = &t->routes[i];

		if ((best && r->len <= best->len) || (rt && r->len <= rt->len))
			continue;
		if (prefix_holds(r->v4, &r->net, r->len, dst))
			rt = r;
	}
	if (rt) {
		const struct netif *nif = &t->ifs[rt->nif];
		const struct ifaddr_entry *e = route_source(nif, dst, rt->has_gw ? &rt->gw : dst);

		if (!e)
			return NULL;
		*out_if = nif;
		if (nh && rt->has_gw)
			*nh = rt->gw;
		return e;
	}
	if (!best)
		return NULL;
	*out_if = &t->ifs[best->nif];
	return &t->ifs[best->nif].addrs[best->idx];
}

static const struct ifaddr_entry *route_entry_nh(const struct ifaddr_table *t, const struct in6_addr *dst,
                                                 const struct netif **out_if, bool *exact, struct in6_addr *nh)
{
	struct ifaddr_cache_ent *c = cache_ent(t, dst);

	if (!(c->have & HAVE_ROUTE)) {
		c->route_if = NULL;
		c->exact = false;
		c->route = route_entry_slow(t, dst, &c->route_if, &c->exact, &c->nexthop);
		c->have |= HAVE_ROUTE;
	}
	*exact = c->exact;
	if (nh)
		*nh = c->nexthop;
	if (c->route)
		*out_if = c->route_if;
	return c->route;
}

static const struct ifaddr_entry *route_entry(const struct ifaddr_table *t, const struct in6_addr *dst,
                                              const struct netif **out_if, bool *exact)
{
	return route_entry_nh(t, dst, out_if, exact, NULL);
}

struct netif *ifaddr_route_nh(struct ifaddr_table *t, const struct in6_addr *dst, struct in6_addr *nexthop)
{
	const struct netif *nif = NULL;
	bool exact;

	if (!route_entry_nh(t, dst, &nif, &exact, nexthop))
		return NULL;
	/* Every local address is reached over the loopback interface. */
	if (exact || nif->loopback)
		return &t->ifs[0];
	return (struct netif *)nif;
}

struct netif *ifaddr_route(struct ifaddr_table *t, const struct in6_addr *dst)
{
	return ifaddr_route_nh(t, dst, NULL);
}

/* "default" or a CIDR whose host bits are zero. */
static int parse_route_dst(const char *dst, bool v4_default, struct ifaddr_entry *e)
{
	int err;

	if (dst && !strcmp(dst, "default")) {
		memset(e, 0, sizeof(*e));
		e->v4 = v4_default;
		if (v4_default)
			addr_set_mapped(&e->addr, 0);
		return 0;
	}
	if (dst && !strchr(dst, '/'))
		return -EINVAL;
	err = parse_cidr(dst, e);
	if (err)
		return err;
	if (e->v4 && (ntohl(addr_v4(&e->addr)) & ~ntohl(v4_mask(e->prefix))) != 0)
		return -EINVAL;
	if (!e->v4) {
		struct in6_addr m = IN6ADDR_ANY_INIT;

		for (unsigned b = 0; b < e->prefix; b++)
			m.s6_addr[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		for (unsigned i = 0; i < 16; i++)
			if (e->addr.s6_addr[i] & ~m.s6_addr[i])
				return -EINVAL;
	}
	return 0;
}

static int route_add(struct ifaddr_table *t, const char *dst, const char *via, const char *ifname)
{
	struct netif *nif = ifname ? ifaddr_find_if(t, ifname) : NULL;
	struct ifaddr_gwroute r;
	struct ifaddr_entry d, g;
	int err;

	memset(&r, 0, sizeof(r));
	if (via) {
		err = parse_cidr(via, &g);
		if (err || strchr(via, '/'))
			return -EINVAL;
	}
	err = parse_route_dst(dst, via ? g.v4 : true, &d);
	if (err)
		return err;
	if (via && g.v4 != d.v4)
		return -EINVAL;
	if (!nif)
		return -ENODEV;
	if (via) {
		/* fib_check_nh(): the gateway must be on a connected prefix of the
		 * device (an IPv6 link-local gateway is on every link). */
		bool onlink = !g.v4 && addr_is_linklocal6(&g.addr);

		for (uint32_t i = 0; i < nif->naddr && !onlink; i++)
			onlink = nif->addrs[i].v4 == g.v4 && prefix_holds(g.v4, &nif->addrs[i].addr, nif->addrs[i].prefix,
			                                                  &g.addr);
		if (!onlink)
			return -ENETUNREACH;
		r.gw = g.addr;
		r.has_gw = true;
	}
	for (uint32_t i = 0; i < t->nroutes; i++)
		if (t->routes[i].v4 == d.v4 && t->routes[i].len == d.prefix && addr_eq(&t->routes[i].net, &d.addr))
			return -EEXIST;
	if (t->nroutes == IFADDR_ROUTES_MAX)
		return -ENOSPC;
	r.net = d.addr;
	r.len = d.prefix;
	r.v4 = d.v4;
	r.nif = (uint16_t)(nif - t->ifs);
	t->routes[t->nroutes++] = r;
	return 0;
}

static int route_del(struct ifaddr_table *t, const char *dst)
{
	struct ifaddr_entry d;
	int err;

	/* "default" alone names the IPv4 one, as "ip route del default" does. */
	err = parse_route_dst(dst, true, &d);
	if (err)
		return err;
	for (uint32_t i = 0; i < t->nroutes; i++) {
		struct ifaddr_gwroute *r = &t->routes[i];

		if (r->v4 == d.v4 && r->len == d.prefix && addr_eq(&r->net, &d.addr)) {
			*r = t->routes[--t->nroutes];
			return 0;
		}
	}
	return -ESRCH;
}

int ifaddr_select_source(const struct ifaddr_table *t, const struct in6_addr *dst,
                         struct in6_addr *src)
{
	const struct netif *nif = NULL;
	bool exact;
	const struct ifaddr_entry *e = route_entry(t, dst, &nif, &exact);

	/* A local destination is reached over lo: an exact address is its own
	 * source; elsewhere (a loopback prefix, a connected prefix) the
	 * prefix's address is. */
	if (!e)
		return -ENETUNREACH;
	*src = exact ? *dst : e->addr;
	return 0;
}

/* Every change ends by voiding the cache (entries filled during it
 * carry the generation before). */
int ifaddr_add(struct ifaddr_table *t, const char *ifname, const char *cidr)
{
	int r = addr_add(t, ifname, cidr);

	t->gen++;
	return r;
}

int ifaddr_del(struct ifaddr_table *t, const char *ifname, const char *cidr)
{
	int r = addr_del(t, ifname, cidr);

	t->gen++;
	return r;
}

int ifaddr_route_add(struct ifaddr_table *t, const char *dst, const char *via, const char *ifname)
{
	int r = route_add(t, dst, via, ifname);

	t->gen++;
	return r;
}

int ifaddr_route_del(struct ifaddr_table *t, const char *dst)
{
	int r = route_del(t, dst);

	t->gen++;
	return r;
}
