/* TCP wire format and options: header accessors, sequence comparisons across
 * the 2^32 wrap, byte-exact option layouts, round trips, malformed lists,
 * and a seeded fuzz loop checked against a model built alongside the input. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_hdr.h"
#include "tcp/tcp_opts.h"
#include "util.h"

/* ---- helpers -------------------------------------------------------------- */

static void hexdump(char *dst, size_t room, const uint8_t *p, uint32_t len)
{
	size_t n = 0;

	dst[0] = '\0';
	for (uint32_t i = 0; i < len && n + 4 < room; i++)
		n += (size_t)snprintf(dst + n, room - n, "%02x ", p[i]);
}

static bool opts_same(const struct tcp_opts *a, const struct tcp_opts *b)
{
	if (a->present != b->present || a->mss != b->mss || a->wscale != b->wscale ||
	    a->nr_sack != b->nr_sack || a->tsval != b->tsval || a->tsecr != b->tsecr)
		return false;
	for (int i = 0; i < TCP_OPTS_MAX_SACK; i++)
		if (a->sack[i].start != b->sack[i].start || a->sack[i].end != b->sack[i].end)
			return false;
	return true;
}

static void describe(char *dst, size_t room, const struct tcp_opts *o)
{
	snprintf(dst, room,
	         "present=%#x mss=%u ws=%u ts=%#x/%#x nr_sack=%u [%#x-%#x %#x-%#x %#x-%#x %#x-%#x]",
	         o->present, o->mss, o->wscale, o->tsval, o->tsecr, o->nr_sack, o->sack[0].start,
	         o->sack[0].end, o->sack[1].start, o->sack[1].end, o->sack[2].start, o->sack[2].end,
	         o->sack[3].start, o->sack[3].end);
}

static void assert_opts(const struct tcp_opts *got, const struct tcp_opts *exp, const char *ctx)
{
	char g[256], e[256];

	if (opts_same(got, exp))
		return;
	describe(g, sizeof(g), got);
	describe(e, sizeof(e), exp);
	cr_assert_fail("%s:\n got %s\nwant %s", ctx, g, e);
}

/* The same for the fuzz loop, which only formats its input on failure. */
static void assert_opts_raw(const struct tcp_opts *got, const struct tcp_opts *exp,
                            const uint8_t *raw, uint32_t len, bool syn, uint32_t iter)
{
	char ctx[200], dump[160];

	if (opts_same(got, exp))
		return;
	hexdump(dump, sizeof(dump), raw, len);
	snprintf(ctx, sizeof(ctx), "iter %u syn %d len %u: %s", iter, syn, len, dump);
	assert_opts(got, exp, ctx);
}

static void assert_bytes(const uint8_t *got, uint32_t got_len, const uint8_t *exp, uint32_t exp_len)
{
	char g[200], e[200];

	if (got_len == exp_len && memcmp(got, exp, exp_len) == 0)
		return;
	hexdump(g, sizeof(g), got, got_len);
	hexdump(e, sizeof(e), exp, exp_len);
	cr_assert_fail("layout:\n got (%u) %s\nwant (%u) %s", got_len, g, exp_len, e);
}

/* Build into a buffer whose tail is a canary, and check nothing past the
 * returned length (nor past room) was touched. */
static uint32_t build_checked(uint8_t *buf, uint32_t room, const struct tcp_opts *want)
{
	uint8_t big[64];
	uint32_t n;

	memset(big, 0xa5, sizeof(big));
	n = tcp_opts_build(big, room, want);
	cr_assert_leq(n, TCP_OPTS_MAX_LEN);
	cr_assert_leq(n, room);
	cr_assert_eq(n % 4, 0, "length %u not padded to 32 bits", n);
	for (uint32_t i = n; i < sizeof(big); i++)
		cr_assert_eq(big[i], 0xa5, "byte %u written past the %u returned", i, n);
	memcpy(buf, big, n);
	return n;
}

static int parse(const uint8_t *p, uint32_t len, bool syn, struct tcp_opts *out)
{
	return tcp_opts_parse(p, len, syn, out);
}

#define PARSE_BYTES(syn, out, ...)                                                    \
	({                                                                            \
		static const uint8_t b_[] = { __VA_ARGS__ };                          \
		parse(b_, sizeof(b_), (syn), (out));                                  \
	})

/* ---- header and sequence numbers ------------------------------------------ */

Test(tcp_hdr, fields_at_wire_offsets)
{
	/* sport 0x1234, dport 80, seq 1, ack 2, doff 8 (32 bytes), SYN|ACK|ECE,
	 * window 0xfaf0, csum 0xbeef, urg 7. */
	static const uint8_t raw[20] = { 0x12, 0x34, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2,
		                         0x80, 0x52, 0xfa, 0xf0, 0xbe, 0xef, 0x00, 0x07 };
	struct tcp_hdr th;

	memcpy(&th, raw, sizeof(th));
	cr_assert_eq(ntohs(th.sport), 0x1234);
	cr_assert_eq(ntohs(th.dport), 80);
	cr_assert_eq(ntohl(th.seq), 1);
	cr_assert_eq(ntohl(th.ack), 2);
	cr_assert_eq(tcp_hdr_doff(&th), 32);
	cr_assert_eq(tcp_hdr_flags(&th), TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE);
	cr_assert_eq(ntohs(th.window), 0xfaf0);
	cr_assert_eq(ntohs(th.csum), 0xbeef);
	cr_assert_eq(ntohs(th.urg_ptr), 7);
}

Test(tcp_hdr, doff_and_flags_setters)
{
	struct tcp_hdr th;
	uint8_t raw[20];

	memset(&th, 0xff, sizeof(th));
	for (uint32_t bytes = TCP_HDR_LEN; bytes <= TCP_HDR_MAX_LEN; bytes += 4) {
		tcp_hdr_set_doff(&th, bytes);
		cr_assert_eq(tcp_hdr_doff(&th), bytes);
		memcpy(raw, &th, sizeof(raw));
		cr_assert_eq(raw[12], (bytes / 4) << 4, "reserved bits must be cleared");
	}
	tcp_hdr_set_flags(&th, TCP_FLAG_FIN | TCP_FLAG_CWR);
	memcpy(raw, &th, sizeof(raw));
	cr_assert_eq(raw[13], 0x81);
	cr_assert_eq(TCP_FLAG_FIN | TCP_FLAG_SYN | TCP_FLAG_RST | TCP_FLAG_PSH | TCP_FLAG_ACK |
	                     TCP_FLAG_URG | TCP_FLAG_ECE | TCP_FLAG_CWR,
	             0xff);
}

Test(tcp_seq, compare_across_wrap)
{
	static const uint32_t bases[] = { 0, 1, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff };

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t a = bases[i];

		for (uint32_t d = 1; d < 0x80000000u; d = d * 3 + 1) {
			uint32_t b = a + d;  /* b is d after a, possibly wrapped */

			cr_assert(seq_lt(a, b), "%#x < %#x", a, b);
			cr_assert(seq_leq(a, b));
			cr_assert(!seq_gt(a, b));
			cr_assert(!seq_geq(a, b));
			cr_assert(seq_gt(b, a));
			cr_assert(seq_geq(b, a));
			cr_assert(!seq_lt(b, a));
			cr_assert(!seq_leq(b, a));
		}
		cr_assert(!seq_lt(a, a));
		cr_assert(seq_leq(a, a));
		cr_assert(!seq_gt(a, a));
		cr_assert(seq_geq(a, a));
	}
	/* The wrap itself: 0xffffffff is just before 0, 0x10 after 0xfffffff0. */
	cr_assert(seq_lt(0xffffffffu, 0));
	cr_assert(seq_gt(0x10, 0xfffffff0u));
	cr_assert(seq_lt(0xfffffff0u, 0x10));
	/* Plain unsigned order would say the opposite; 2^31 - 1 apart is still ordered. */
	cr_assert(seq_lt(0x80000001u, 0x00000000u));
	cr_assert(seq_gt(0x7fffffffu, 0x00000000u));
}

Test(tcp_seq, between_across_wrap)
{
	/* Window [0xfffffff0, 0x10] straddles the wrap. */
	cr_assert(seq_between(0xfffffff0u, 0xfffffff0u, 0x10));
	cr_assert(seq_between(0xffffffffu, 0xfffffff0u, 0x10));
	cr_assert(seq_between(0, 0xfffffff0u, 0x10));
	cr_assert(seq_between(0x10, 0xfffffff0u, 0x10));
	cr_assert(!seq_between(0x11, 0xfffffff0u, 0x10));
	cr_assert(!seq_between(0xffffffefu, 0xfffffff0u, 0x10));
	cr_assert(!seq_between(0x80000000u, 0xfffffff0u, 0x10));
	/* A one-point arc. */
	cr_assert(seq_between(5, 5, 5));
	cr_assert(!seq_between(4, 5, 5));
	cr_assert(!seq_between(6, 5, 5));
	/* Not wrapped. */
	cr_assert(seq_between(1000, 1000, 2000));
	cr_assert(seq_between(1500, 1000, 2000));
	cr_assert(!seq_between(999, 1000, 2000));
	cr_assert(!seq_between(2001, 1000, 2000));
}

/* ---- build: byte-exact layouts --------------------------------------------- */

static struct tcp_opts syn_opts(uint32_t present)
{
	struct tcp_opts o = { .present = present, .mss = 1460, .wscale = 7,
		              .tsval = 0x01020304, .tsecr = 0 };
	return o;
}

Test(tcp_opts_build, syn_linux_full)
{
	/* What Linux puts on a SYN: MSS, SACK-perm+TS, NOP WS (20 bytes). */
	static const uint8_t exp[] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x01, 0x02,
		                       0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07 };
	struct tcp_opts o = syn_opts(TCP_OPTS_MSS | TCP_OPTS_SACK_PERM | TCP_OPTS_TS | TCP_OPTS_WSCALE);
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, exp, sizeof(exp));
}

Test(tcp_opts_build, syn_ts_without_sack_perm)
{
	static const uint8_t exp[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a, 0x01, 0x02,
		                       0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07 };
	struct tcp_opts o = syn_opts(TCP_OPTS_MSS | TCP_OPTS_TS | TCP_OPTS_WSCALE);
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, exp, sizeof(exp));
}

Test(tcp_opts_build, syn_sack_perm_without_ts)
{
	static const uint8_t exp[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
		                       0x01, 0x03, 0x03, 0x07 };
	struct tcp_opts o = syn_opts(TCP_OPTS_MSS | TCP_OPTS_SACK_PERM | TCP_OPTS_WSCALE);
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, exp, sizeof(exp));
}

Test(tcp_opts_build, single_options)
{
	static const uint8_t mss[] = { 0x02, 0x04, 0x05, 0xb4 };
	static const uint8_t ws[] = { 0x01, 0x03, 0x03, 0x07 };
	static const uint8_t sp[] = { 0x01, 0x01, 0x04, 0x02 };
	struct tcp_opts o;
	uint8_t buf[40];
	uint32_t n;

	o = syn_opts(TCP_OPTS_MSS);
	n = build_checked(buf, sizeof(buf), &o);
	assert_bytes(buf, n, mss, sizeof(mss));
	o = syn_opts(TCP_OPTS_WSCALE);
	n = build_checked(buf, sizeof(buf), &o);
	assert_bytes(buf, n, ws, sizeof(ws));
	o = syn_opts(TCP_OPTS_SACK_PERM);
	n = build_checked(buf, sizeof(buf), &o);
	assert_bytes(buf, n, sp, sizeof(sp));
	o = syn_opts(0);
	cr_assert_eq(build_checked(buf, sizeof(buf), &o), 0);
}

Test(tcp_opts_build, data_timestamps)
{
	static const uint8_t exp[] = { 0x01, 0x01, 0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef,
		                       0xca, 0xfe, 0xf0, 0x0d };
	struct tcp_opts o = { .present = TCP_OPTS_TS, .tsval = 0xdeadbeef, .tsecr = 0xcafef00d };
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, exp, sizeof(exp));
}

static struct tcp_opts sack_opts(uint32_t present, uint8_t nr)
{
	struct tcp_opts o = { .present = present | TCP_OPTS_SACK, .nr_sack = nr,
		              .tsval = 0x11223344, .tsecr = 0x55667788 };

	for (int i = 0; i < TCP_OPTS_MAX_SACK; i++) {
		o.sack[i].start = 0xa0000000u + (uint32_t)i * 0x100;
		o.sack[i].end = 0xa0000080u + (uint32_t)i * 0x100;
	}
	return o;
}

Test(tcp_opts_build, data_timestamps_and_three_sack_blocks)
{
	static const uint8_t exp[40] = {
		0x01, 0x01, 0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x01, 0x01, 0x05, 0x1a,
		0xa0, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x80,
		0xa0, 0x00, 0x01, 0x00, 0xa0, 0x00, 0x01, 0x80,
		0xa0, 0x00, 0x02, 0x00, 0xa0, 0x00, 0x02, 0x80,
	};
	struct tcp_opts o = sack_opts(TCP_OPTS_TS, 3);
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, exp, sizeof(exp));
	/* A fourth block cannot fit beside timestamps: still the same 40 bytes. */
	o = sack_opts(TCP_OPTS_TS, 4);
	n = build_checked(buf, sizeof(buf), &o);
	assert_bytes(buf, n, exp, sizeof(exp));
}

Test(tcp_opts_build, data_four_sack_blocks_without_timestamps)
{
	static const uint8_t exp[36] = {
		0x01, 0x01, 0x05, 0x22,
		0xa0, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x80,
		0xa0, 0x00, 0x01, 0x00, 0xa0, 0x00, 0x01, 0x80,
		0xa0, 0x00, 0x02, 0x00, 0xa0, 0x00, 0x02, 0x80,
		0xa0, 0x00, 0x03, 0x00, 0xa0, 0x00, 0x03, 0x80,
	};
	struct tcp_opts o = sack_opts(0, 4);
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, exp, sizeof(exp));
	/* More than 4 requested is cut to the 4 the array holds. */
	o.nr_sack = 9;
	n = build_checked(buf, sizeof(buf), &o);
	assert_bytes(buf, n, exp, sizeof(exp));
}

Test(tcp_opts_build, room_limits)
{
	struct tcp_opts o = sack_opts(TCP_OPTS_TS, 3);
	uint8_t buf[40];

	cr_assert_eq(build_checked(buf, 0, &o), 0);
	cr_assert_eq(build_checked(buf, 11, &o), 0, "timestamps need 12");
	cr_assert_eq(build_checked(buf, 12, &o), 12);
	cr_assert_eq(build_checked(buf, 23, &o), 12, "one block needs 12 more");
	cr_assert_eq(build_checked(buf, 24, &o), 24);
	cr_assert_eq(buf[15], 2 + 8, "one block");
	cr_assert_eq(build_checked(buf, 35, &o), 32);
	cr_assert_eq(buf[15], 2 + 16, "two blocks");
	cr_assert_eq(build_checked(buf, 1000, &o), 40, "never more than 40");
}

Test(tcp_opts_build, what_does_not_fit_is_left_out_whole)
{
	/* 8 bytes: MSS fits, SACK-perm+TS (12) does not, so SACK-perm goes in
	 * its NOP-padded form and window scale no longer fits. */
	static const uint8_t exp8[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02 };
	/* 9..11 bytes round down to 8 (options are padded to 32 bits). */
	struct tcp_opts o = syn_opts(TCP_OPTS_MSS | TCP_OPTS_SACK_PERM | TCP_OPTS_TS | TCP_OPTS_WSCALE);
	uint8_t buf[40];

	for (uint32_t room = 8; room < 12; room++) {
		uint32_t n = build_checked(buf, room, &o);

		assert_bytes(buf, n, exp8, sizeof(exp8));
	}
}

Test(tcp_opts_build, clamps)
{
	static const uint8_t ws14[] = { 0x01, 0x03, 0x03, 0x0e };
	struct tcp_opts o = { .present = TCP_OPTS_WSCALE, .wscale = 200 };
	uint8_t buf[40];
	uint32_t n = build_checked(buf, sizeof(buf), &o);

	assert_bytes(buf, n, ws14, sizeof(ws14));
	o = (struct tcp_opts){ .present = TCP_OPTS_MSS, .mss = 0 };
	cr_assert_eq(build_checked(buf, sizeof(buf), &o), 0, "MSS 0 is never written");
	o = (struct tcp_opts){ .present = TCP_OPTS_SACK, .nr_sack = 0 };
	cr_assert_eq(build_checked(buf, sizeof(buf), &o), 0, "no blocks, no SACK option");
	o = (struct tcp_opts){ .present = 0, .mss = 1460, .wscale = 3, .nr_sack = 2 };
	cr_assert_eq(build_checked(buf, sizeof(buf), &o), 0, "values without presence bits");
}

/* ---- round trips ------------------------------------------------------------ */

#define ALL_BITS (TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_TS | TCP_OPTS_SACK_PERM | TCP_OPTS_SACK)

/* Blocks that fit beside the other options (the layout table in tcp_opts.h). */
static uint8_t sack_fit(uint32_t present)
{
	uint32_t used = 0;

	if (present & TCP_OPTS_MSS)
		used += 4;
	if (present & TCP_OPTS_TS)
		used += 12;
	else if (present & TCP_OPTS_SACK_PERM)
		used += 4;
	if (present & TCP_OPTS_WSCALE)
		used += 4;
	return used + 4 + 8 > 40 ? 0 : (uint8_t)DTCP_MIN((40 - used - 4) / 8, 4u);
}

/* What parsing build(o) must give back: SYN-only options dropped off SYN,
 * SACK blocks cut to what fit. */
static struct tcp_opts expected_back(const struct tcp_opts *o, bool syn)
{
	struct tcp_opts e = *o;
	uint8_t fit = sack_fit(o->present);

	if (!syn) {
		e.present &= ~(TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_SACK_PERM);
		e.mss = 0;
		e.wscale = 0;
	}
	if (e.present & TCP_OPTS_SACK) {
		e.nr_sack = DTCP_MIN(e.nr_sack, fit);
		for (int i = e.nr_sack; i < TCP_OPTS_MAX_SACK; i++)
			e.sack[i] = (struct tcp_sack_block){ 0, 0 };
		if (!e.nr_sack)
			e.present &= ~TCP_OPTS_SACK;
	}
	return e;
}

static struct tcp_opts make_opts(uint32_t present, uint8_t nr, uint32_t salt)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof(o));
	o.present = present;
	if (present & TCP_OPTS_MSS)
		o.mss = (uint16_t)(536 + salt % 65000);
	if (present & TCP_OPTS_WSCALE)
		o.wscale = (uint8_t)(salt % 15);
	if (present & TCP_OPTS_TS) {
		o.tsval = 0xfffffff0u + salt;
		o.tsecr = salt * 2654435761u;
	}
	if (present & TCP_OPTS_SACK) {
		o.nr_sack = nr;
		for (int i = 0; i < nr; i++) {
			o.sack[i].start = salt * 7919u + (uint32_t)i * 3000u;
			o.sack[i].end = o.sack[i].start + 1448u;
		}
	}
	return o;
}

Test(tcp_opts_roundtrip, every_combination)
{
	int checked = 0;

	for (uint32_t present = 0; present <= ALL_BITS; present++) {
		for (uint8_t nr = 1; nr <= TCP_OPTS_MAX_SACK; nr++) {
			for (int syn = 0; syn <= 1; syn++) {
				struct tcp_opts want = make_opts(present, nr, present * 31u + nr);
				struct tcp_opts got, exp = expected_back(&want, syn);
				uint8_t buf[40];
				uint32_t n = build_checked(buf, sizeof(buf), &want);
				char ctx[64];

				snprintf(ctx, sizeof(ctx), "present %#x nr %u syn %d", present, nr, syn);
				cr_assert_eq(parse(buf, n, syn, &got), 0, "%s", ctx);
				assert_opts(&got, &exp, ctx);
				checked++;
			}
			if (!(present & TCP_OPTS_SACK))
				break;  /* nr means nothing without SACK */
		}
	}
	cr_assert_eq(checked, 16 * 2 + 16 * 4 * 2);
}

Test(tcp_opts_roundtrip, sack_blocks_fit_as_documented)
{
	/* The table in tcp_opts.h: with TS 3 blocks, without 4, SYN set + SACK 2. */
	cr_assert_eq(sack_fit(TCP_OPTS_TS), 3);
	cr_assert_eq(sack_fit(0), 4);
	cr_assert_eq(sack_fit(TCP_OPTS_MSS | TCP_OPTS_TS | TCP_OPTS_SACK_PERM | TCP_OPTS_WSCALE), 2);
	for (uint8_t nr = 1; nr <= 4; nr++) {
		struct tcp_opts o = sack_opts(TCP_OPTS_TS, nr), got;
		uint8_t buf[40];
		uint32_t n = build_checked(buf, sizeof(buf), &o);

		cr_assert_eq(parse(buf, n, false, &got), 0);
		cr_assert_eq(got.nr_sack, DTCP_MIN(nr, 3));
		cr_assert_eq(got.sack[0].start, 0xa0000000u, "first (most recent) block kept");
	}
}

/* ---- parse: well-formed input ---------------------------------------------- */

Test(tcp_opts_parse, linux_syn)
{
	struct tcp_opts o;

	/* A SYN as Linux sends it over loopback (MSS 65495, wscale 7). */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x9a,
	                         0x3b, 0x1c, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07),
	             0);
	cr_assert_eq(o.present, TCP_OPTS_MSS | TCP_OPTS_SACK_PERM | TCP_OPTS_TS | TCP_OPTS_WSCALE);
	cr_assert_eq(o.mss, 65495);
	cr_assert_eq(o.wscale, 7);
	cr_assert_eq(o.tsval, 0x9a3b1c05u);
	cr_assert_eq(o.tsecr, 0);
	cr_assert_eq(o.nr_sack, 0);
}

Test(tcp_opts_parse, unaligned_and_unpadded)
{
	struct tcp_opts o;

	/* No NOPs at all: TS at offset 0, SACK right after, WS last. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, 0x05, 0x0a, 0, 0, 0,
	                         10, 0, 0, 0, 20, 0x03, 0x03, 0x02),
	             0);
	cr_assert_eq(o.present, TCP_OPTS_TS | TCP_OPTS_SACK | TCP_OPTS_WSCALE);
	cr_assert_eq(o.tsval, 1);
	cr_assert_eq(o.tsecr, 2);
	cr_assert_eq(o.nr_sack, 1);
	cr_assert_eq(o.sack[0].start, 10);
	cr_assert_eq(o.sack[0].end, 20);
	cr_assert_eq(o.wscale, 2);
}

Test(tcp_opts_parse, empty)
{
	struct tcp_opts o;

	memset(&o, 0x5a, sizeof(o));
	cr_assert_eq(parse(NULL, 0, true, &o), 0);
	cr_assert_eq(o.present, 0);
	cr_assert_eq(o.mss, 0, "out is zeroed");
	cr_assert_eq(o.nr_sack, 0);
}

Test(tcp_opts_parse, forty_nops)
{
	uint8_t nops[40];
	struct tcp_opts o;

	memset(nops, TCP_OPT_NOP, sizeof(nops));
	cr_assert_eq(parse(nops, sizeof(nops), true, &o), 0);
	cr_assert_eq(o.present, 0);
	/* ... and a real option in the last 4 bytes is still reached. */
	nops[36] = 0x02, nops[37] = 0x04, nops[38] = 0x05, nops[39] = 0xb4;
	cr_assert_eq(parse(nops, sizeof(nops), true, &o), 0);
	cr_assert_eq(o.present, TCP_OPTS_MSS);
	cr_assert_eq(o.mss, 1460);
}

Test(tcp_opts_parse, eol_ends_the_list)
{
	struct tcp_opts o;

	/* After EOL even a malformed option is padding, not an error. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x01, 0x03, 0x03, 0x05, 0x00, 0x02, 0x04, 0x05, 0xb4,
	                         0x02, 0x00),
	             0);
	cr_assert_eq(o.present, TCP_OPTS_WSCALE);
	cr_assert_eq(o.wscale, 5);
	/* A well-formed option right after EOL is padding too. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x00, 0x02, 0x04, 0x05, 0xb4), 0);
	cr_assert_eq(o.present, 0);
	/* EOL with nothing after it. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x04, 0x05, 0xb4, 0x00), 0);
	cr_assert_eq(o.present, TCP_OPTS_MSS);
}

Test(tcp_opts_parse, unknown_kinds_skipped_by_length)
{
	struct tcp_opts o;

	/* TFO cookie (34, len 10), experimental 254 (len 6), kind 99 (len 2), then MSS. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x22, 0x0a, 0x02, 0x04, 0x05, 0xb4, 0x08, 0x0a, 0, 0,
	                         0xfe, 0x06, 0x08, 0x0a, 0xff, 0xff, 0x63, 0x02, 0x02, 0x04, 0x02,
	                         0x18),
	             0);
	cr_assert_eq(o.present, TCP_OPTS_MSS, "bytes inside unknown options are not options");
	cr_assert_eq(o.mss, 0x0218);
}

Test(tcp_opts_parse, syn_only_options_ignored_without_syn)
{
	struct tcp_opts o;

	cr_assert_eq(PARSE_BYTES(false, &o, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0,
	                         9, 0, 0, 0, 8, 0x01, 0x03, 0x03, 0x07),
	             0);
	cr_assert_eq(o.present, TCP_OPTS_TS, "only timestamps count on a non-SYN");
	cr_assert_eq(o.mss, 0);
	cr_assert_eq(o.wscale, 0);
	cr_assert_eq(o.tsval, 9);
	cr_assert_eq(o.tsecr, 8);
	/* SACK blocks are honoured on a SYN too (the caller decides). */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x01, 0x01, 0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2), 0);
	cr_assert_eq(o.present, TCP_OPTS_SACK);
	cr_assert_eq(o.nr_sack, 1);
}

Test(tcp_opts_parse, window_scale_clamped_to_14)
{
	static const uint8_t shifts[][2] = { { 0, 0 }, { 13, 13 }, { 14, 14 }, { 15, 14 },
		                             { 100, 14 }, { 255, 14 } };

	for (size_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		uint8_t b[3] = { TCP_OPT_WSCALE, TCP_OLEN_WSCALE, shifts[i][0] };
		struct tcp_opts o;

		cr_assert_eq(parse(b, sizeof(b), true, &o), 0);
		cr_assert_eq(o.present, TCP_OPTS_WSCALE);
		cr_assert_eq(o.wscale, shifts[i][1], "shift %u", shifts[i][0]);
	}
}

Test(tcp_opts_parse, mss_zero_ignored)
{
	struct tcp_opts o;

	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x04, 0x00, 0x00), 0);
	cr_assert_eq(o.present, 0);
	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x04, 0x00, 0x01), 0);
	cr_assert_eq(o.present, TCP_OPTS_MSS);
	cr_assert_eq(o.mss, 1);
}

Test(tcp_opts_parse, repeated_options_last_wins)
{
	struct tcp_opts o;

	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18), 0);
	cr_assert_eq(o.mss, 536);
	/* Two blocks, then one: the second option replaces the first entirely. */
	cr_assert_eq(PARSE_BYTES(false, &o, 0x05, 0x12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
	                         4, 0x05, 0x0a, 0, 0, 0, 7, 0, 0, 0, 8),
	             0);
	cr_assert_eq(o.nr_sack, 1);
	cr_assert_eq(o.sack[0].start, 7);
	cr_assert_eq(o.sack[0].end, 8);
	cr_assert_eq(o.sack[1].start, 0, "stale block cleared");
	cr_assert_eq(o.sack[1].end, 0);
}

/* ---- parse: malformed input ------------------------------------------------- */

Test(tcp_opts_parse, wrong_length_for_kind_ignored)
{
	struct tcp_opts o;

	/* Oversized MSS (len 6): skipped whole, the WS after it still found. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x06, 0x05, 0xb4, 0x00, 0x00, 0x03, 0x03, 0x05), 0);
	cr_assert_eq(o.present, TCP_OPTS_WSCALE);
	cr_assert_eq(o.wscale, 5);
	/* Short MSS (len 3): its third byte is not read as a value. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x03, 0x05, 0x01, 0x03, 0x03, 0x06), 0);
	cr_assert_eq(o.present, TCP_OPTS_WSCALE);
	cr_assert_eq(o.wscale, 6);
	/* WS len 4, SACK-perm len 3, TS len 8, all ignored; TS len 10 after them counts. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x03, 0x04, 0x07, 0x00, 0x04, 0x03, 0x00, 0x08, 0x08, 0,
	                         0, 0, 1, 0, 0, 0x08, 0x0a, 0, 0, 0, 5, 0, 0, 0, 6),
	             0);
	cr_assert_eq(o.present, TCP_OPTS_TS);
	cr_assert_eq(o.tsval, 5);
	cr_assert_eq(o.tsecr, 6);
}

Test(tcp_opts_parse, sack_lengths)
{
	static const uint8_t bad[] = { 2, 3, 9, 11, 17, 19, 25, 33 };

	for (size_t i = 0; i < sizeof(bad); i++) {
		uint8_t b[40];
		struct tcp_opts o;

		memset(b, 0, sizeof(b));
		b[0] = TCP_OPT_SACK;
		b[1] = bad[i];
		cr_assert_eq(parse(b, bad[i], false, &o), 0, "len %u", bad[i]);
		cr_assert_eq(o.present, 0, "SACK of length %u is not 2 + 8n", bad[i]);
		cr_assert_eq(o.nr_sack, 0);
	}
	for (uint8_t n = 1; n <= 4; n++) {
		uint8_t b[40];
		struct tcp_opts o;

		memset(b, 0, sizeof(b));
		b[0] = TCP_OPT_SACK;
		b[1] = (uint8_t)(2 + 8 * n);
		b[2 + 8 * (n - 1) + 3] = 0x42;  /* last block's start */
		cr_assert_eq(parse(b, b[1], false, &o), 0);
		cr_assert_eq(o.present, TCP_OPTS_SACK);
		cr_assert_eq(o.nr_sack, n);
		cr_assert_eq(o.sack[n - 1].start, 0x42);
	}
}

Test(tcp_opts_parse, length_zero_or_one_is_an_error)
{
	struct tcp_opts o;

	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x04, 0x05, 0xb4, 0x08, 0x00, 0x01, 0x01), -EINVAL);
	cr_assert_eq(o.present, TCP_OPTS_MSS, "options before the bad one are kept");
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(PARSE_BYTES(true, &o, 0x63, 0x01, 0x02, 0x04, 0x05, 0xb4), -EINVAL);
	cr_assert_eq(o.present, 0, "nothing after the bad one is read");
	/* Length 1 on a known kind too. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x03, 0x01, 0x07), -EINVAL);
	cr_assert_eq(o.present, 0);
}

Test(tcp_opts_parse, length_past_end_is_an_error)
{
	struct tcp_opts o;

	/* TS claims 10 bytes, 6 are there. */
	cr_assert_eq(PARSE_BYTES(false, &o, 0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1), -EINVAL);
	cr_assert_eq(o.present, 0);
	/* Length 255. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x03, 0x03, 0x04, 0x02, 0xff, 0, 0, 0), -EINVAL);
	cr_assert_eq(o.present, TCP_OPTS_WSCALE);
	/* One byte too long. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x02, 0x05, 0x05, 0xb4), -EINVAL);
	cr_assert_eq(o.present, 0);
}

Test(tcp_opts_parse, truncated_list)
{
	uint8_t full[] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8,
		           0x01, 0x03, 0x03, 0x07 };
	struct tcp_opts o;

	/* Cut a full SYN list at every length: each cut inside an option is an
	 * error and keeps exactly the options that ended before the cut. */
	for (uint32_t len = 0; len <= sizeof(full); len++) {
		uint8_t *p = malloc(len ? len : 1);
		uint32_t want = 0;
		bool inside = !(len == 0 || len == 4 || len == 6 || len == 16 || len == 17 || len == 20);
		int r;

		memcpy(p, full, len);
		r = parse(p, len, true, &o);
		free(p);
		if (len >= 4)
			want |= TCP_OPTS_MSS;
		if (len >= 6)
			want |= TCP_OPTS_SACK_PERM;
		if (len >= 16)
			want |= TCP_OPTS_TS;
		if (len >= 20)
			want |= TCP_OPTS_WSCALE;
		cr_assert_eq(r, inside ? -EINVAL : 0, "cut at %u", len);
		cr_assert_eq(o.present, want, "cut at %u", len);
	}
	/* A lone kind byte with no length byte after it. */
	cr_assert_eq(PARSE_BYTES(true, &o, 0x01, 0x01, 0x01, 0x02), -EINVAL);
}

Test(tcp_opts_parse, list_longer_than_40_rejected)
{
	uint8_t nops[41];
	struct tcp_opts o;

	memset(nops, TCP_OPT_NOP, sizeof(nops));
	cr_assert_eq(parse(nops, 41, true, &o), -EINVAL);
	cr_assert_eq(parse(nops, 40, true, &o), 0);
}

/* ---- fuzz ------------------------------------------------------------------- */

static uint64_t fz_state;

/* splitmix64: fixed seed, same strings every run. */
static uint32_t fz_next(void)
{
	uint64_t z = (fz_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (uint32_t)((z ^ (z >> 31)) >> 16);
}

static uint32_t fz_below(uint32_t n)
{
	return fz_next() % n;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Emit a random option list of at most 40 bytes into b, and fill *exp and
 * *exp_r with what parsing it must give. Options are well formed, wrongly
 * sized, unknown, EOL-terminated or broken, in random order. */
static uint32_t fz_grammar(uint8_t *b, bool syn, struct tcp_opts *exp, int *exp_r)
{
	uint32_t pos = 0;

	memset(exp, 0, sizeof(*exp));
	*exp_r = 0;
	while (pos < 40) {
		uint32_t left = 40 - pos, tok = fz_below(10);

		if (tok == 0) {                         /* end here */
			break;
		} else if (tok == 1) {                  /* NOP */
			b[pos++] = TCP_OPT_NOP;
		} else if (tok == 2 && left >= 4) {     /* MSS, maybe 0 */
			uint16_t v = fz_below(4) ? (uint16_t)fz_next() : 0;

			b[pos] = 2, b[pos + 1] = 4, b[pos + 2] = (uint8_t)(v >> 8), b[pos + 3] = (uint8_t)v;
			pos += 4;
			if (syn && v)
				exp->mss = v, exp->present |= TCP_OPTS_MSS;
		} else if (tok == 3 && left >= 3) {     /* window scale, any shift */
			uint8_t s = (uint8_t)fz_below(2) ? (uint8_t)fz_next() : (uint8_t)fz_below(16);

			b[pos] = 3, b[pos + 1] = 3, b[pos + 2] = s;
			pos += 3;
			if (syn)
				exp->wscale = s > 14 ? 14 : s, exp->present |= TCP_OPTS_WSCALE;
		} else if (tok == 4 && left >= 2) {     /* SACK-permitted */
			b[pos] = 4, b[pos + 1] = 2;
			pos += 2;
			if (syn)
				exp->present |= TCP_OPTS_SACK_PERM;
		} else if (tok == 5 && left >= 10) {    /* timestamps */
			uint32_t v = fz_next() * 65599u + fz_next(), e = fz_next() * 31u;

			b[pos] = 8, b[pos + 1] = 10;
			put32(b + pos + 2, v);
			put32(b + pos + 6, e);
			pos += 10;
			exp->tsval = v, exp->tsecr = e, exp->present |= TCP_OPTS_TS;
		} else if (tok == 6 && left >= 10) {    /* SACK, as many blocks as fit */
			uint32_t n = 1 + fz_below(DTCP_MIN((left - 2) / 8, 4u));

			b[pos] = 5, b[pos + 1] = (uint8_t)(2 + 8 * n);
			memset(exp->sack, 0, sizeof(exp->sack));
			for (uint32_t i = 0; i < n; i++) {
				uint32_t s = fz_next() * 2654435761u, e = s + fz_below(1 << 20);

				put32(b + pos + 2 + 8 * i, s);
				put32(b + pos + 6 + 8 * i, e);
				exp->sack[i].start = s, exp->sack[i].end = e;
			}
			exp->nr_sack = (uint8_t)n, exp->present |= TCP_OPTS_SACK;
			pos += 2 + 8 * n;
		} else if (tok == 7 && left >= 2) {     /* known kind, wrong length */
			static const uint8_t kinds[] = { 2, 3, 4, 5, 8 };
			uint8_t k = kinds[fz_below(5)];
			uint32_t l = 2 + fz_below(DTCP_MIN(left, 13u) - 1);
			bool right = (k == 2 && l == 4) || (k == 3 && l == 3) || (k == 4 && l == 2) ||
			             (k == 8 && l == 10) || (k == 5 && l >= 10 && (l - 2) % 8 == 0);

			if (right)
				continue;
			b[pos] = k, b[pos + 1] = (uint8_t)l;
			for (uint32_t i = 2; i < l; i++)
				b[pos + i] = (uint8_t)fz_next();
			pos += l;
		} else if (tok == 8 && left >= 2) {     /* unknown kind */
			uint8_t k;
			uint32_t l = 2 + fz_below(DTCP_MIN(left, 12u) - 1);

			do
				k = (uint8_t)fz_next();
			while (k <= 5 || k == 8);
			b[pos] = k, b[pos + 1] = (uint8_t)l;
			for (uint32_t i = 2; i < l; i++)
				b[pos + i] = (uint8_t)fz_next();
			pos += l;
		} else if (tok == 9) {                  /* EOL or broken: the list ends */
			uint32_t end = pos + 1 + fz_below(left);  /* total length, > pos */

			for (uint32_t i = pos; i < end; i++)
				b[i] = (uint8_t)fz_next();
			if (fz_below(2)) {
				b[pos] = TCP_OPT_EOL;
			} else {
				uint32_t room = end - pos;  /* bytes from the kind to the end */

				do
					b[pos] = (uint8_t)fz_next();
				while (b[pos] <= 1);
				if (room >= 2) {
					uint32_t pick = fz_below(3);

					/* len 0, len 1, or a length past the end */
					b[pos + 1] = pick < 2 || room >= 255
					                     ? (uint8_t)pick
					                     : (uint8_t)(room + 1 + fz_below(255 - room));
				}
				*exp_r = -EINVAL;
			}
			return end;
		}
	}
	return pos;
}

Test(tcp_opts_fuzz, random_strings, .timeout = 60)
{
	uint32_t errors = 0, grammar = 0;

	fz_state = 0x5eed;
	for (uint32_t iter = 0; iter < 200000; iter++) {
		uint8_t tmp[40], rebuilt[40];
		struct tcp_opts got, exp, back, again;
		bool syn = fz_below(2);
		bool use_grammar = fz_below(2);
		int exp_r = 0, r;
		uint32_t len, n;
		uint8_t *exact;

		if (use_grammar) {
			len = fz_grammar(tmp, syn, &exp, &exp_r);
			grammar++;
		} else {
			len = fz_below(41);
			for (uint32_t i = 0; i < len; i++)  /* bias toward small kinds and lengths */
				tmp[i] = (uint8_t)(fz_below(3) ? fz_below(12) : fz_next());
		}
		/* An exact-size heap copy, so ASan sees any read past the end. */
		exact = malloc(len ? len : 1);
		cr_assert_not_null(exact);
		memcpy(exact, tmp, len);
		r = parse(exact, len, syn, &got);
		free(exact);

		cr_assert(r == 0 || r == -EINVAL, "iter %u: r %d", iter, r);
		errors += r != 0;
		if (use_grammar) {
			cr_assert_eq(r, exp_r, "iter %u: r %d, want %d", iter, r, exp_r);
			assert_opts_raw(&got, &exp, tmp, len, syn, iter);
		}
		/* Invariants of whatever was parsed. */
		cr_assert_leq(got.wscale, TCP_WSCALE_MAX);
		cr_assert_leq(got.nr_sack, TCP_OPTS_MAX_SACK);
		cr_assert_eq(!!(got.present & TCP_OPTS_SACK), got.nr_sack > 0);
		cr_assert(!(got.present & TCP_OPTS_MSS) || got.mss, "MSS 0 recorded");
		if (!syn)
			cr_assert_eq(got.present & (TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_SACK_PERM), 0);

		/* build(parse(x)) parses back to the same options (SACK blocks cut
		 * only where the padded layout has less room than x had). */
		n = tcp_opts_build(rebuilt, sizeof(rebuilt), &got);
		cr_assert_leq(n, 40);
		cr_assert_eq(n % 4, 0);
		cr_assert_eq(parse(rebuilt, n, syn, &back), 0, "iter %u", iter);
		exp = expected_back(&got, syn);
		assert_opts_raw(&back, &exp, tmp, len, syn, iter);
		/* And building again is a fixed point, byte for byte. */
		cr_assert_eq(tcp_opts_build(tmp, sizeof(tmp), &back), n);
		cr_assert_eq(memcmp(tmp, rebuilt, n), 0, "iter %u", iter);
		cr_assert_eq(parse(tmp, n, syn, &again), 0);
		assert_opts_raw(&again, &back, tmp, n, syn, iter);
	}
	/* The generator reached both the error and the success paths. */
	cr_assert_gt(errors, 10000);
	cr_assert_lt(errors, 190000);
	cr_assert_gt(grammar, 90000);
}
