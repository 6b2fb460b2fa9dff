/* The TCP wire format (RFC 9293 3.1): the fixed 20-byte header, its control
 * bits, option kinds and lengths, and sequence-number arithmetic modulo 2^32
 * (RFC 9293 3.4). Logic-free and stateless; any thread. */
#ifndef DTCP_TCP_HDR_H
#define DTCP_TCP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Multi-byte fields are in network byte order as they lie on the wire. */
struct tcp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff_rsvd;  /* data offset in 32-bit words in the high nibble */
	uint8_t flags;      /* TCP_FLAG_* */
	uint16_t window;
	uint16_t csum;
	uint16_t urg_ptr;
} __attribute__((packed));

_Static_assert(sizeof(struct tcp_hdr) == 20, "TCP header is 20 bytes (RFC 9293 3.1)");
_Static_assert(offsetof(struct tcp_hdr, doff_rsvd) == 12, "data offset is byte 12");
_Static_assert(offsetof(struct tcp_hdr, window) == 14, "window is bytes 14-15");

#define TCP_HDR_LEN       20u
#define TCP_HDR_MAX_LEN   60u  /* data offset is 4 bits of 32-bit words */
#define TCP_OPTS_MAX_LEN  40u  /* TCP_HDR_MAX_LEN - TCP_HDR_LEN */

/* Control bits, byte 13 (RFC 9293 3.1; ECE and CWR from RFC 3168 6.1). */
#define TCP_FLAG_FIN 0x01u
#define TCP_FLAG_SYN 0x02u
#define TCP_FLAG_RST 0x04u
#define TCP_FLAG_PSH 0x08u
#define TCP_FLAG_ACK 0x10u
#define TCP_FLAG_URG 0x20u
#define TCP_FLAG_ECE 0x40u
#define TCP_FLAG_CWR 0x80u

/* Option kinds (IANA "TCP Option Kind Numbers"). */
#define TCP_OPT_EOL        0   /* RFC 9293 3.1, one byte */
#define TCP_OPT_NOP        1   /* RFC 9293 3.1, one byte */
#define TCP_OPT_MSS        2   /* RFC 9293 3.7.1 */
#define TCP_OPT_WSCALE     3   /* RFC 7323 2.2 */
#define TCP_OPT_SACK_PERM  4   /* RFC 2018 2 */
#define TCP_OPT_SACK       5   /* RFC 2018 3 */
#define TCP_OPT_TS         8   /* RFC 7323 3.2 */
#define TCP_OPT_MD5SIG     19  /* RFC 2385 */
#define TCP_OPT_AO         29  /* RFC 5925 */
#define TCP_OPT_MPTCP      30  /* RFC 8684 */
#define TCP_OPT_FASTOPEN   34  /* RFC 7413 */
#define TCP_OPT_EXP        254 /* RFC 6994 shared experimental */

/* Total option lengths, kind and length bytes included. */
#define TCP_OLEN_MSS        4
#define TCP_OLEN_WSCALE     3
#define TCP_OLEN_SACK_PERM  2
#define TCP_OLEN_TS         10
#define TCP_OLEN_SACK_BASE  2
#define TCP_OLEN_SACK_BLOCK 8

/* RFC 7323 2.3: a shift above 14 would let the window exceed 2^30, which the
 * sequence-space comparisons of RFC 9293 3.4 cannot tell apart. */
#define TCP_WSCALE_MAX 14

/* Header length in bytes, from the data offset (RFC 9293 3.1). Callers check
 * it against TCP_HDR_LEN and the segment length before trusting it. */
static inline uint32_t tcp_hdr_doff(const struct tcp_hdr *th)
{
	return (uint32_t)(th->doff_rsvd >> 4) * 4u;
}

/* Set the data offset from a header length in bytes (a multiple of 4,
 * TCP_HDR_LEN..TCP_HDR_MAX_LEN); the reserved bits are cleared. */
static inline void tcp_hdr_set_doff(struct tcp_hdr *th, uint32_t bytes)
{
	th->doff_rsvd = (uint8_t)((bytes / 4u) << 4);
}

static inline uint8_t tcp_hdr_flags(const struct tcp_hdr *th)
{
	return th->flags;
}

static inline void tcp_hdr_set_flags(struct tcp_hdr *th, uint8_t flags)
{
	th->flags = flags;
}

/* Sequence numbers compare modulo 2^32 (RFC 9293 3.4): a is before b when
 * b - a, taken as a signed 32-bit distance, is positive. Two numbers exactly
 * 2^31 apart are ambiguous (each is "before" the other); the window limit of
 * 2^30 (RFC 7323 2.3) keeps live comparisons far from that point. */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* lo <= x <= hi, walking forward from lo: true when x lies on the arc that
 * starts at lo and ends at hi, so it holds across the wrap and for arcs of any
 * length (the acceptability tests of RFC 9293 3.10.7.4 are of this shape). */
static inline bool seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
	return x - lo <= hi - lo;
}

#endif
