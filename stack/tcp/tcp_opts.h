/* TCP options: parsing received option bytes into struct tcp_opts and
 * building the option bytes of an outgoing segment. Stateless (the caller
 * owns the struct and the buffers); any thread. */
#ifndef DTCP_TCP_OPTS_H
#define DTCP_TCP_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_hdr.h"

/* RFC 2018 3: at most 4 blocks fit in the 40 bytes of option space. */
#define TCP_OPTS_MAX_SACK 4

/* Presence bits of struct tcp_opts.present. */
#define TCP_OPTS_MSS       (1u << 0)
#define TCP_OPTS_WSCALE    (1u << 1)
#define TCP_OPTS_TS        (1u << 2)
#define TCP_OPTS_SACK_PERM (1u << 3)
#define TCP_OPTS_SACK      (1u << 4)  /* nr_sack >= 1 blocks in sack[] */

/* One SACK block (RFC 2018 3), host byte order: the left edge and the
 * sequence number just after the last byte. */
struct tcp_sack_block {
	uint32_t start;
	uint32_t end;
};

/* The options a segment carries (parse) or should carry (build). Values are
 * in host byte order and meaningful only when their bit is in `present`. */
struct tcp_opts {
	uint32_t present;        /* TCP_OPTS_* */
	uint16_t mss;            /* RFC 9293 3.7.1; never 0 when present */
	uint8_t wscale;          /* RFC 7323 2.2; shift, <= TCP_WSCALE_MAX */
	uint8_t nr_sack;         /* blocks in sack[], 1..4 when TCP_OPTS_SACK */
	uint32_t tsval;          /* RFC 7323 3.2 */
	uint32_t tsecr;
	struct tcp_sack_block sack[TCP_OPTS_MAX_SACK];
};

/**
 * Parse the option bytes that follow a TCP header.
 *
 * @param opt  the option bytes (may be NULL when len is 0)
 * @param len  their number: the data offset in bytes minus 20, at most 40
 * @param syn  the segment has SYN set; MSS, window scale and SACK-permitted
 *             are recorded only then (RFC 9293 3.7.1, RFC 7323 2.2,
 *             RFC 2018 2 send them on SYN only), and ignored otherwise
 * @param out  zeroed, then filled with what was found
 *
 * Never reads outside opt[0..len). EOL ends the list (the bytes after it are
 * padding); NOP is skipped. Every other option needs a length byte L with
 * 2 <= L <= the bytes left:
 *  - a known kind whose L is wrong for it is skipped by L and ignored, as
 *    Linux does (MSS != 4, window scale != 3, SACK-permitted != 2,
 *    timestamps != 10, SACK not 2 + 8n with n >= 1);
 *  - an unknown kind is skipped by L (RFC 9293 3.1, MUST-6);
 *  - a kind with no room for its length byte, L < 2, or L past the end
 *    stops parsing with -EINVAL: the list cannot be walked further
 *    (RFC 9293 3.1, MUST-7 asks that an illegal length be handled). Linux
 *    stops silently here; the error lets the caller count it and decide to
 *    drop or to use what was parsed. `out` then holds every option that
 *    ended before the bad byte, each one well formed.
 * A repeated option replaces the earlier one. An MSS of 0 is ignored (as
 * Linux does: the sender would then use the default of RFC 9293 3.7.1
 * rather than a size nothing fits in). A window scale above 14 is recorded
 * as 14 (RFC 7323 2.3: "MUST use 14"; its "SHOULD log" is not done here,
 * as this layer has neither a log nor counters).
 * Timestamps and SACK blocks are recorded on any segment; whether they were
 * negotiated is for the caller to check.
 *
 * @return 0, or -EINVAL for a malformed list or len > 40.
 */
int tcp_opts_parse(const uint8_t *opt, uint32_t len, bool syn, struct tcp_opts *out);

/**
 * Write the options in `want` into buf, in the layout Linux uses, each
 * option aligned to 32 bits with NOPs:
 *
 *   MSS                      02 04 mm mm                         4 bytes
 *   timestamps + SACK-perm   04 02 08 0a vv vv vv vv ee ee ee ee 12 bytes
 *   timestamps alone         01 01 08 0a vv vv vv vv ee ee ee ee 12 bytes
 *   SACK-perm without TS     01 01 04 02                         4 bytes
 *   window scale             01 03 03 ss                         4 bytes
 *   SACK blocks              01 01 05 ll + 8 bytes per block     4+8n bytes
 *
 * in that order. A SYN therefore gets MSS, SACK-perm+TS, WS (20 bytes), and
 * a data segment NOP NOP TS (RFC 7323 appendix A) then the SACK blocks: with
 * timestamps at most 3 blocks fit, without them 4 (RFC 2018 3).
 *
 * Room is min(room, 40) rounded down to a multiple of 4. Options are written
 * in the order above, each whole or not at all: one that does not fit is left
 * out and the smaller ones after it still go in. SACK blocks are the
 * exception: as many of the first blocks as fit are written (the first is
 * the most recent one, RFC 2018 4). An MSS of 0 is not written; a window
 * scale above 14 is written as 14 (RFC 7323 2.3); more than 4 blocks are
 * cut to 4.
 *
 * @return the number of bytes written, a multiple of 4, <= min(room, 40).
 */
uint32_t tcp_opts_build(uint8_t *buf, uint32_t room, const struct tcp_opts *want);

#endif
