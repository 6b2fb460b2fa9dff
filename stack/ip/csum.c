/* The Internet checksum (see csum.h). Sums 32-bit words into a 64-bit
 * accumulator (no carries lost), on the bytes as they lie in memory, so the
 * result is already in network order when stored back. */
#include "ip/csum.h"

#include <string.h>

uint64_t csum_add_buf(uint64_t sum, const void *data, uint32_t len, bool odd)
{
	const uint8_t *p = data;
	uint64_t s = 0;

	if (!len)
		return sum;
	if (odd) {
		/* The first byte is the second half of a word already started. */
		s += (uint64_t)p[0] << 8;
		p++;
		len--;
	}
	if (len >= 32) {
		/* 64-bit words, four at a time, their carries counted apart:
		 * one's-complement addition is the same in any word size once
		 * the carries come back in (2^64 = 2^32 = 2^16 = 1 modulo
		 * 0xffff), which folding the total does. */
		uint64_t a = 0, c = 0;

		while (len >= 32) {
			uint64_t w[4];

			memcpy(w, p, 32);
			for (int i = 0; i < 4; i++) {
				a += w[i];
				c += a < w[i];
			}
			p += 32;
			len -= 32;
		}
		s += (a & 0xffffffffu) + (a >> 32) + c;
	}
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		s += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len)
		s += p[0];   /* the first half of a word, low byte in memory order */
	return sum + s;
}

uint64_t csum_add_pkt(uint64_t sum, const struct dtcp_pkt *p, uint32_t off, uint32_t len)
{
	bool odd = false;

	for (const struct dtcp_pkt *s = p; s && len; s = s->next) {
		uint32_t n;

		if (off >= s->data_len) {
			off -= s->data_len;
			continue;
		}
		n = s->data_len - off;
		if (n > len)
			n = len;
		sum = csum_add_buf(sum, dtcp_pkt_data(s) + off, n, odd);
		odd ^= n & 1;
		len -= n;
		off = 0;
	}
	return sum;
}

uint64_t csum_pseudo_v4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t len)
{
	uint64_t sum = (uint64_t)saddr + daddr;

	sum += htons(proto);
	sum += htons((uint16_t)len);
	return sum;
}

uint64_t csum_pseudo_v6(const struct in6_addr *saddr, const struct in6_addr *daddr, uint8_t proto,
                        uint32_t len)
{
	uint64_t sum = 0;

	for (int i = 0; i < 4; i++)
		sum += (uint64_t)saddr->s6_addr32[i] + daddr->s6_addr32[i];
	sum += htonl(len);
	sum += htonl(proto);
	return sum;
}
