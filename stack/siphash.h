/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): the keyed hash behind port offsets and initial sequence numbers,
 * as in Linux. Header only and inline, so that a short fixed-length input
 * compiles to straight-line code; its output is the reference's
 * (checked against libsodium's crypto_shorthash in the unit tests). */
#ifndef DTCP_SIPHASH_H
#define DTCP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t sip_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t sip_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define SIP_ROUND(v0, v1, v2, v3)                                                   \
	do {                                                                        \
		v0 += v1; v1 = sip_rotl(v1, 13); v1 ^= v0; v0 = sip_rotl(v0, 32);   \
		v2 += v3; v3 = sip_rotl(v3, 16); v3 ^= v2;                          \
		v0 += v3; v3 = sip_rotl(v3, 21); v3 ^= v0;                          \
		v2 += v1; v1 = sip_rotl(v1, 17); v1 ^= v2; v2 = sip_rotl(v2, 32);   \
	} while (0)

/* The 64-bit SipHash-2-4 of len bytes at msg under a 16-byte key. */
static inline uint64_t siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *in = msg;
	uint64_t k0 = sip_le64(key), k1 = sip_le64(key + 8);
	uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575), v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261), v3 = k1 ^ UINT64_C(0x7465646279746573);
	uint64_t last = (uint64_t)len << 56, m;
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		m = sip_le64(in + i);
		v3 ^= m;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The tail's bytes, little-endian, under the length in the top byte. */
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= last;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#undef SIP_ROUND

#endif
