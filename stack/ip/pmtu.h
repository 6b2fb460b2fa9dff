/* Path MTUs learnt from ICMP "fragmentation needed" (RFC 1191) and ICMPv6
 * "packet too big" (RFC 8201), per destination, for 10 minutes (Linux's
 * net.ipv4.route.mtu_expires). A fixed direct-mapped table: O(1), bounded,
 * a newer destination takes an older one's slot. Stack thread only. */
#ifndef DTCP_PMTU_H
#define DTCP_PMTU_H

#include <netinet/in.h>
#include <stdint.h>

#define PMTU_SLOTS 4096u          /* power of two */
#define PMTU_EXPIRES_S 600u
#define PMTU_MIN_V4 552u          /* net.ipv4.route.min_pmtu */
#define PMTU_MIN_V6 1280u         /* IPV6_MIN_MTU */

struct pmtu_entry {
	struct in6_addr dst;          /* IPv4 mapped */
	uint32_t expires_s;           /* stack seconds; 0: empty */
	uint16_t mtu;
};

struct pmtu_cache {
	struct pmtu_entry *slots;     /* taken on the first report */
	uint64_t seed;
};

struct dtcp_stack;

/* The MTU towards dst: the learnt path MTU if one is current and below the
 * device's, else dev_mtu. */
uint32_t pmtu_get(struct dtcp_stack *st, const struct in6_addr *dst, uint32_t dev_mtu);
/* A report of mtu towards dst: clamped to the family's minimum, kept if it
 * is below what is known. Returns the path MTU now in force (dev_mtu when
 * the report changes nothing). */
uint32_t pmtu_report(struct dtcp_stack *st, const struct in6_addr *dst, uint32_t mtu, uint32_t dev_mtu);
void pmtu_fini(struct pmtu_cache *c);

#endif
