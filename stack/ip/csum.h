/* The Internet checksum (RFC 1071) over buffers and packet chains, with the
 * IPv4 and IPv6 pseudo-headers of RFC 793 / RFC 8200 section 8.1, and the
 * incremental update of RFC 1624. Stateless; any thread. */
#ifndef DTCP_CSUM_H
#define DTCP_CSUM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <dtcp/netdev.h>

/* Ones'-complement sum of len bytes added to sum (not folded). `odd` says the
 * data starts at an odd offset of the whole message (its first byte is the
 * low half of a 16-bit word). */
uint64_t csum_add_buf(uint64_t sum, const void *data, uint32_t len, bool odd);

/* Sum of len bytes of a packet chain from offset off. */
uint64_t csum_add_pkt(uint64_t sum, const struct dtcp_pkt *p, uint32_t off, uint32_t len);

/* Fold to 16 bits (not complemented). */
static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field value: complemented fold, in network byte order as
 * stored (the sums work on the bytes as they lie in memory). */
static inline uint16_t csum_finish(uint64_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* Pseudo-header sums; addresses in network order, proto and len host order. */
uint64_t csum_pseudo_v4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t len);
uint64_t csum_pseudo_v6(const struct in6_addr *saddr, const struct in6_addr *daddr, uint8_t proto,
                        uint32_t len);

/* RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from old to new. */
static inline uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~check + (uint32_t)(uint16_t)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
