/* Address helpers on struct in6_addr, where IPv4 addresses are kept in the
 * v4-mapped form ::ffff:a.b.c.d (one key space for both families, as the
 * kernel's bhash2 and ehash see them). Header only. */
#ifndef DTCP_ADDR_H
#define DTCP_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline bool addr_is_mapped(const struct in6_addr *a)
{
	return a->s6_addr32[0] == 0 && a->s6_addr32[1] == 0 && a->s6_addr32[2] == htonl(0xffff);
}

static inline bool addr_is_any6(const struct in6_addr *a)
{
	return (a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2] | a->s6_addr32[3]) == 0;
}

static inline uint32_t addr_v4(const struct in6_addr *a)
{
	return a->s6_addr32[3];
}

/* Two 8-byte stores, not four 4-byte ones: an address built here is
 * usually compared or hashed 8 bytes at a time straight after, and a load
 * that spans two smaller stores cannot be forwarded from them (it waits
 * for both to reach the cache). */
static inline void addr_set_mapped(struct in6_addr *a, uint32_t v4_be)
{
	uint64_t lo = 0, hi;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	hi = (uint64_t)v4_be << 32 | 0xffff0000u;   /* bytes 00 00 ff ff, then the address */
#else
	hi = (uint64_t)0xffffu << 32 | v4_be;
#endif
	memcpy(&a->s6_addr[0], &lo, 8);
	memcpy(&a->s6_addr[8], &hi, 8);
}

static inline bool addr_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The wildcard of a socket: 0.0.0.0 (mapped) for AF_INET, :: for AF_INET6. */
static inline void addr_set_any(struct in6_addr *a, int family)
{
	if (family == AF_INET)
		addr_set_mapped(a, 0);
	else
		memset(a, 0, sizeof(*a));
}

static inline bool addr_is_wildcard(const struct in6_addr *a)
{
	return addr_is_any6(a) || (addr_is_mapped(a) && addr_v4(a) == 0);
}

static inline bool addr_is_multicast6(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff;
}

static inline bool addr_is_linklocal6(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

#endif
