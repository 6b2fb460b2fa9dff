/* Interfaces and addresses (see ifaddr.h). The stack starts with "lo"
 * carrying 127.0.0.1/8 and ::1/128, as Linux's loopback does. */
#include "ifaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

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
	return netif_add(t, name, loopback);
}

int ifaddr_init(struct ifaddr_table *t)
{
	int err;

	memset(t, 0, sizeof(*t));
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

int ifaddr_add(struct ifaddr_table *t, const char *ifname, const char *cidr)
{
	struct netif *nif = ifname ? ifaddr_find_if(t, ifname) : NULL;
	struct ifaddr_entry e;
	int err;

	if (!nif)
		return -ENODEV;
	err = parse_cidr(cidr, &e);
	if (err)
		return err;
	for (uint32_t i = 0; i < nif->naddr; i++)
		if (addr_eq(&nif->addrs[i].addr, &e.addr))
			return -EEXIST;
	if (nif->naddr == nif->cap) {
		uint32_t cap = nif->cap ? nif->cap * 2 : 4;
		struct ifaddr_entry *n = realloc(nif->addrs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		nif->addrs = n;
		nif->cap = cap;
	}
	nif->addrs[nif->naddr++] = e;
	return 0;
}

int ifaddr_del(struct ifaddr_table *t, const char *ifname, const char *cidr)
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
			nif->addrs[i] = nif->addrs[--nif->naddr];
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
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

enum v4_addr_class ifaddr_v4_class(const struct ifaddr_table *t, uint32_t a)
{
	if (a == 0)
		return V4_ANY;
	if ((ntohl(a) & 0xf0000000) == 0xe0000000)
		return V4_MULTICAST;
	if (a == 0xffffffff)
		return V4_BROADCAST;
	for (uint32_t i = 0; i < t->nif; i++) {
		const struct netif *nif = &t->ifs[i];

		for (uint32_t j = 0; j < nif->naddr; j++) {
			const struct ifaddr_entry *e = &nif->addrs[j];
			uint32_t ea = addr_v4(&e->addr), m = v4_mask(e->prefix);

			if (!e->v4)
				continue;
			if (ea == a)
				return V4_LOCAL;
			/* On a loopback device the whole prefix is local (RTN_LOCAL). */
			if (nif->loopback && ((ea ^ a) & m) == 0)
				return V4_LOCAL;
			if (e->prefix < 31 && (a == (ea | ~m) || a == (ea & m)))
				return V4_BROADCAST;
		}
	}
	return V4_OTHER;
}

bool ifaddr_v6_is_local_on(const struct ifaddr_table *t, const struct in6_addr *a, int ifindex)
{
	/* Only link- and host-scope addresses belong to one device (ipv6_chk_addr, not strict). */
	if (!addr_is_linklocal6(a) && !IN6_IS_ADDR_LOOPBACK(a))
		ifindex = 0;
	for (uint32_t i = 0; i < t->nif; i++) {
		if (ifindex && t->ifs[i].ifindex != ifindex)
			continue;
		for (uint32_t j = 0; j < t->ifs[i].naddr; j++)
			if (!t->ifs[i].addrs[j].v4 && addr_eq(&t->ifs[i].addrs[j].addr, a))
				return true;
	}
	return false;
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

/* The address entry whose prefix holds dst, longest first; an exact local
 * address wins outright. */
static const struct ifaddr_entry *route_entry(const struct ifaddr_table *t, const struct in6_addr *dst,
                                              const struct netif **out_if, bool *exact)
{
	bool v4 = addr_is_mapped(dst);
	const struct ifaddr_entry *best = NULL;
	int best_len = -1;

	*exact = false;
	for (uint32_t i = 0; i < t->nif; i++) {
		const struct netif *nif = &t->ifs[i];

		for (uint32_t j = 0; j < nif->naddr; j++) {
			const struct ifaddr_entry *e = &nif->addrs[j];

			if (e->v4 != v4)
				continue;
			if (addr_eq(&e->addr, dst)) {
				*exact = true;
				*out_if = nif;
				return e;
			}
			if ((v4 ? (((addr_v4(&e->addr) ^ addr_v4(dst)) & v4_mask(e->prefix)) == 0)
			        : v6_prefix_match(&e->addr, dst, e->prefix)) &&
			    e->prefix > best_len) {
				best = e;
				best_len = e->prefix;
				*out_if = nif;
			}
		}
	}
	return best;
}

struct netif *ifaddr_route(struct ifaddr_table *t, const struct in6_addr *dst)
{
	const struct netif *nif = NULL;
	bool exact;

	if (!route_entry(t, dst, &nif, &exact))
		return NULL;
	/* Every local address is reached over the loopback interface. */
	if (exact || nif->loopback)
		return &t->ifs[0];
	return (struct netif *)nif;
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
