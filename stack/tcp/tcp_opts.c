/* TCP option parsing and building (see tcp_opts.h): RFC 9293 3.1 list
 * syntax, MSS (3.7.1), window scale and timestamps (RFC 7323), SACK
 * (RFC 2018). Stateless; any thread. */
#include "tcp/tcp_opts.h"

#include <errno.h>
#include <string.h>

#include "util.h"

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* A 32-bit word made of four option bytes, as laid out on the wire. */
static inline uint8_t *put_word(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* One option at o whose length byte, olen, the caller has checked against
 * the bytes left (olen counts the kind and length bytes). A length that is
 * wrong for the kind leaves `out` untouched, as Linux does. */
static void tcp_opts_parse_one(uint8_t kind, const uint8_t *o, uint32_t olen, bool syn,
                               struct tcp_opts *out)
{
	switch (kind) {
	case TCP_OPT_MSS:
		/* RFC 9293 3.7.1: "MUST only be sent in the initial connection
		 * request", so a non-SYN MSS is ignored. */
		if (olen == TCP_OLEN_MSS && syn && get_be16(o + 2)) {
			out->mss = get_be16(o + 2);
			out->present |= TCP_OPTS_MSS;
		}
		break;
	case TCP_OPT_WSCALE:
		/* RFC 7323 2.2: sent only on SYN, ignored elsewhere; 2.3: a shift
		 * larger than 14 is used as 14. */
		if (olen == TCP_OLEN_WSCALE && syn) {
			out->wscale = DTCP_MIN(o[2], (uint8_t)TCP_WSCALE_MAX);
			out->present |= TCP_OPTS_WSCALE;
		}
		break;
	case TCP_OPT_SACK_PERM:
		/* RFC 2018 2: "MUST NOT be sent on non-SYN segments". */
		if (olen == TCP_OLEN_SACK_PERM && syn)
			out->present |= TCP_OPTS_SACK_PERM;
		break;
	case TCP_OPT_TS:
		/* RFC 7323 3.2: may appear on any segment once negotiated. */
		if (olen == TCP_OLEN_TS) {
			out->tsval = get_be32(o + 2);
			out->tsecr = get_be32(o + 6);
			out->present |= TCP_OPTS_TS;
		}
		break;
	case TCP_OPT_SACK: {
		uint32_t n = (olen - TCP_OLEN_SACK_BASE) / TCP_OLEN_SACK_BLOCK;

		/* RFC 2018 3: length 2 + 8n; a block-less option carries nothing. */
		if (olen < TCP_OLEN_SACK_BASE + TCP_OLEN_SACK_BLOCK ||
		    (olen - TCP_OLEN_SACK_BASE) % TCP_OLEN_SACK_BLOCK)
			break;
		/* olen <= 40 so n <= 4: the caller bounds the whole list. */
		DTCP_ASSERT(n <= TCP_OPTS_MAX_SACK);
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *b = o + TCP_OLEN_SACK_BASE + i * TCP_OLEN_SACK_BLOCK;

			out->sack[i].start = get_be32(b);
			out->sack[i].end = get_be32(b + 4);
		}
		/* A repeated SACK option replaces the earlier blocks entirely. */
		for (uint32_t i = n; i < TCP_OPTS_MAX_SACK; i++)
			out->sack[i] = (struct tcp_sack_block){ 0, 0 };
		out->nr_sack = (uint8_t)n;
		out->present |= TCP_OPTS_SACK;
		break;
	}
	default:
		/* RFC 9293 3.1 MUST-6: unknown options are ignored. */
		break;
	}
}

int tcp_opts_parse(const uint8_t *opt, uint32_t len, bool syn, struct tcp_opts *out)
{
	uint32_t i = 0;

	memset(out, 0, sizeof(*out));
	if (len > TCP_OPTS_MAX_LEN)
		return -EINVAL;
	while (i < len) {
		uint8_t kind = opt[i];
		uint32_t olen;

		if (kind == TCP_OPT_EOL)
			return 0;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		/* Every other kind has a length byte that covers kind and length
		 * (RFC 9293 3.1). Below 2 the walk cannot advance; past the end
		 * the option is cut off. Either way nothing after it can be found. */
		if (len - i < 2)
			return -EINVAL;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		tcp_opts_parse_one(kind, opt + i, olen, syn, out);
		i += olen;
	}
	return 0;
}

uint32_t tcp_opts_build(uint8_t *buf, uint32_t room, const struct tcp_opts *want)
{
	uint32_t left = DTCP_MIN(room, TCP_OPTS_MAX_LEN) & ~3u;
	uint8_t *p = buf;
	bool ts = want->present & TCP_OPTS_TS;
	bool sack_perm = want->present & TCP_OPTS_SACK_PERM;

	if ((want->present & TCP_OPTS_MSS) && want->mss && left >= 4) {
		p = put_word(p, TCP_OPT_MSS, TCP_OLEN_MSS, (uint8_t)(want->mss >> 8),
		             (uint8_t)want->mss);
		left -= 4;
	}
	if (ts && left >= 12) {
		/* SACK-permitted takes the place of the two NOPs that would pad
		 * the timestamps to 32 bits, saving a word on SYN. */
		if (sack_perm) {
			p = put_word(p, TCP_OPT_SACK_PERM, TCP_OLEN_SACK_PERM, TCP_OPT_TS, TCP_OLEN_TS);
			sack_perm = false;
		} else {
			p = put_word(p, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_TS, TCP_OLEN_TS);
		}
		p = put_be32(p, want->tsval);
		p = put_be32(p, want->tsecr);
		left -= 12;
	}
	if (sack_perm && left >= 4) {
		p = put_word(p, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK_PERM, TCP_OLEN_SACK_PERM);
		left -= 4;
	}
	if ((want->present & TCP_OPTS_WSCALE) && left >= 4) {
		p = put_word(p, TCP_OPT_NOP, TCP_OPT_WSCALE, TCP_OLEN_WSCALE,
		             DTCP_MIN(want->wscale, (uint8_t)TCP_WSCALE_MAX));
		left -= 4;
	}
	if ((want->present & TCP_OPTS_SACK) && left >= 4 + TCP_OLEN_SACK_BLOCK) {
		uint32_t n = DTCP_MIN((uint32_t)want->nr_sack, (uint32_t)TCP_OPTS_MAX_SACK);

		/* Keep the first blocks: RFC 2018 4 puts the most recent first. */
		n = DTCP_MIN(n, (left - 4) / TCP_OLEN_SACK_BLOCK);
		if (n) {
			p = put_word(p, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK,
			             (uint8_t)(TCP_OLEN_SACK_BASE + n * TCP_OLEN_SACK_BLOCK));
			for (uint32_t i = 0; i < n; i++) {
				p = put_be32(p, want->sack[i].start);
				p = put_be32(p, want->sack[i].end);
			}
		}
	}
	return (uint32_t)(p - buf);
}
