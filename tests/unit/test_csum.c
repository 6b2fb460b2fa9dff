/* The Internet checksum against a plain RFC 1071 reference, over buffers
 * and over chains cut at odd places; pseudo-headers; RFC 1624 updates. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "ip/csum.h"
#include "pkt.h"
#include "util.h"

/* Reference: big-endian 16-bit words, end-around carry, complemented. */
static uint16_t ref_csum(const uint8_t *p, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t rng = 1;

static uint8_t rbyte(void)
{
	rng = rng * 1103515245u + 12345u;
	return (uint8_t)(rng >> 16);
}

Test(csum, buffers_match_reference)
{
	uint8_t buf[1600];

	for (uint32_t len = 0; len < 1600; len += 7) {
		for (uint32_t i = 0; i < len; i++)
			buf[i] = rbyte();
		cr_assert_eq(csum_finish(csum_add_buf(0, buf, len, false)), htons(ref_csum(buf, len, 0)), "len %u", len);
	}
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(csum_finish(csum_add_buf(0, buf, 1500, false)), htons(ref_csum(buf, 1500, 0)));
}

Test(csum, chains_cut_anywhere)
{
	struct pkt_pool pp;
	uint8_t data[3000];

	pkt_pool_init(&pp, "t", 4096);
	for (int round = 0; round < 200; round++) {
		uint32_t len = 1 + rbyte() * 11u, left = len, off = rbyte() % 5;
		struct dtcp_pkt *head = NULL;
		uint8_t *src = data;

		for (uint32_t i = 0; i < len; i++)
			data[i] = rbyte();
		while (left) {
			struct dtcp_pkt *s = pkt_pool_alloc(&pp);
			uint32_t r = 1u + rbyte() % 700u, n = DTCP_MIN(left, r);

			cr_assert_not_null(s);
			memcpy(pkt_append(s, (uint16_t)n), src, n);
			src += n;
			left -= n;
			if (head)
				pkt_chain(head, s);
			else
				head = s;
		}
		if (off > len)
			off = len;
		cr_assert_eq(csum_finish(csum_add_pkt(0, head, off, len - off)),
		             htons(ref_csum(data + off, len - off, 0)), "round %d", round);
		pkt_pool_free(&pp, head);
	}
	pkt_pool_fini(&pp);
}

Test(csum, pseudo_headers)
{
	/* A TCP segment's checksum over pseudo-header + segment verifies to 0. */
	uint8_t seg[20] = { 0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff };
	uint32_t s = inet_addr("198.18.0.1"), d = inet_addr("198.18.0.2");
	uint16_t c = csum_finish(csum_add_buf(csum_pseudo_v4(s, d, IPPROTO_TCP, 20), seg, 20, false));
	struct in6_addr s6, d6;

	memcpy(seg + 16, &c, 2);
	cr_assert_eq(csum_fold(csum_add_buf(csum_pseudo_v4(s, d, IPPROTO_TCP, 20), seg, 20, false)), 0xffff);
	memset(seg + 16, 0, 2);
	inet_pton(AF_INET6, "2001:db8::1", &s6);
	inet_pton(AF_INET6, "2001:db8::2", &d6);
	c = csum_finish(csum_add_buf(csum_pseudo_v6(&s6, &d6, IPPROTO_TCP, 20), seg, 20, false));
	memcpy(seg + 16, &c, 2);
	cr_assert_eq(csum_fold(csum_add_buf(csum_pseudo_v6(&s6, &d6, IPPROTO_TCP, 20), seg, 20, false)), 0xffff);
	/* Reference value for the IPv4 header of RFC 1071's usual example. */
	uint8_t ip[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };
	cr_assert_eq(ntohs(csum_finish(csum_add_buf(0, ip, 20, false))), 0xb861);
}

Test(csum, incremental_update)
{
	uint8_t ip[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };
	uint16_t c = csum_finish(csum_add_buf(0, ip, 20, false)), old, new;

	memcpy(ip + 10, &c, 2);
	memcpy(&old, ip + 8, 2);
	ip[8] = 0x3f;   /* TTL 64 -> 63 */
	memcpy(&new, ip + 8, 2);
	c = csum_replace16(c, old, new);
	memcpy(ip + 10, &c, 2);
	cr_assert_eq(csum_fold(csum_add_buf(0, ip, 20, false)), 0xffff);
}
