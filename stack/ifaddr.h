/* Interfaces and their addresses: which addresses are local (bind()), and
 * which source address a destination gets (connect()). Interface and address
 * counts are small; nothing here is per connection. Stack thread only. */
#ifndef DTCP_IFADDR_H
#define DTCP_IFADDR_H

#include <dtcp/netdev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define IFADDR_NAME_MAX 16

struct ifaddr_entry {
	struct in6_addr addr;  /* IPv4 as ::ffff:a.b.c.d */
	uint8_t prefix;        /* in the address's own family (0..32 or 0..128) */
	bool v4;
};

struct netif {
	char name[IFADDR_NAME_MAX];
	int ifindex;
	bool loopback;
	uint32_t naddr, cap;
	struct ifaddr_entry *addrs;
	/* The link under the interface (NULL ops: none attached yet). */
	const struct dtcp_netdev_ops *ops;
	void *self;
	struct dtcp_netdev_info info;
};

/* Where an address lives: interface and slot (rebuilt when addresses go). */
struct ifaddr_slot {
	uint16_t nif;                 /* index in ifs[], 0xffff: empty */
	uint32_t idx;                 /* index in that interface's addrs[] */
};

/* A distinct connected prefix and the first address that made it. */
struct ifaddr_prefix {
	struct in6_addr net;          /* masked */
	uint16_t nif;
	uint32_t idx;
	uint8_t len;
	bool v4;
};

/* A route through a gateway (or a device route): "default via 198.18.0.1
 * dev eth0". Connected prefixes come from the addresses themselves. */
struct ifaddr_gwroute {
	struct in6_addr net;          /* masked; IPv4 mapped */
	struct in6_addr gw;           /* the next hop; unspecified: on-link */
	uint16_t nif;
	uint8_t len;                  /* in the family's own bits */
	bool v4, has_gw;
};

#define IFADDR_ROUTES_MAX 32

struct ifaddr_table {
	uint32_t nif;
	struct netif ifs[8];
	/* Every configured address, by address: local checks are O(1) per
	 * packet however many addresses there are. */
	struct ifaddr_slot *hash;
	uint32_t hash_mask, hash_used;
	/* The distinct prefixes (a handful even with 100,000 addresses in
	 * one subnet): routing and broadcast checks walk these. */
	struct ifaddr_prefix *prefixes;
	uint32_t nprefix, prefix_cap;
	/* Gateway and device routes (ip route add ...): a handful. */
	struct ifaddr_gwroute routes[IFADDR_ROUTES_MAX];
	uint32_t nroutes;
	/* What the lookups found for recent addresses (a few lookups per
	 * segment, to a handful of peers on a proxy or load generator),
	 * direct-mapped; every change of the table bumps gen, which voids
	 * every entry at once. */
	struct ifaddr_cache_ent *cache;
	struct ifaddr_cache_ent *cache_mru[2];   /* the two entries used last */
	uint32_t gen;
};

#define IFADDR_CACHE_BITS 8

struct ifaddr_cache_ent {
	struct in6_addr addr;         /* the key */
	uint32_t gen;                 /* valid while the table's gen */
	uint8_t have;                 /* which of the below are known */
	uint8_t v4_class;
	bool exact;
	const struct ifaddr_slot *slot;
	const struct ifaddr_entry *route;   /* the route's source entry, NULL: none */
	const struct netif *route_if;
	struct in6_addr nexthop;
};

enum v4_addr_class { V4_LOCAL, V4_BROADCAST, V4_MULTICAST, V4_ANY, V4_OTHER };

int ifaddr_init(struct ifaddr_table *t);
/* A new interface without a link; its ifindex, or -EEXIST / -ENOSPC. */
int ifaddr_add_if(struct ifaddr_table *t, const char *name, bool loopback);
/* The interface whose connected prefix or route holds dst (longest prefix;
 * a connected prefix wins a tie), or NULL. */
struct netif *ifaddr_route(struct ifaddr_table *t, const struct in6_addr *dst);
/* As ifaddr_route(), and *nexthop: dst itself on-link, else the gateway. */
struct netif *ifaddr_route_nh(struct ifaddr_table *t, const struct in6_addr *dst, struct in6_addr *nexthop);
/* ip route add DST [via GW] dev IF: dst is "default" or a CIDR (host bits
 * must be zero). 0, -EINVAL (bad text, families differ, host bits set),
 * -ENODEV, -ENETUNREACH (the gateway is not on a connected prefix of the
 * interface), -EEXIST (that destination already has a route) or -ENOSPC. */
int ifaddr_route_add(struct ifaddr_table *t, const char *dst, const char *via, const char *ifname);
/* ip route del DST: 0, -EINVAL or -ESRCH (no such route). */
int ifaddr_route_del(struct ifaddr_table *t, const char *dst);
void ifaddr_fini(struct ifaddr_table *t);
struct netif *ifaddr_find_if(struct ifaddr_table *t, const char *name);
int ifaddr_add(struct ifaddr_table *t, const char *ifname, const char *cidr);
int ifaddr_del(struct ifaddr_table *t, const char *ifname, const char *cidr);

/* What bind() may accept: mirrors inet_addr_type_table() for local routes. */
enum v4_addr_class ifaddr_v4_class(const struct ifaddr_table *t, uint32_t addr_be);
/* An IPv6 address configured on some interface (ipv6_chk_addr()). */
bool ifaddr_v6_is_local(const struct ifaddr_table *t, const struct in6_addr *a);
/* ... on interface ifindex only, or on any when ifindex is 0. */
bool ifaddr_v6_is_local_on(const struct ifaddr_table *t, const struct in6_addr *a, int ifindex);
/* Preferred source for a destination (a small connected-routes lookup):
 * 0 and *src filled, or -ENETUNREACH. Addresses as in6 (IPv4 mapped). */
int ifaddr_select_source(const struct ifaddr_table *t, const struct in6_addr *dst,
                         struct in6_addr *src);
/* The destination is on a loopback interface or a loopback address. */
bool ifaddr_is_loopback(const struct in6_addr *a);

#endif
