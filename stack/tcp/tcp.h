/* TCP's entry points from the network layer and its counters (nstat names).
 * Stack thread only. */
#ifndef DTCP_TCP_H
#define DTCP_TCP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <dtcp/netdev.h>

struct dtcp_stack;

struct tcp_counters {
	uint64_t TcpInSegs, TcpInErrs, TcpInCsumErrors, TcpOutSegs, TcpOutRsts, TcpRetransSegs;
	uint64_t TcpActiveOpens, TcpPassiveOpens, TcpAttemptFails, TcpEstabResets;
	uint64_t TcpCurrEstab;               /* a gauge: sockets in ESTABLISHED or CLOSE_WAIT now */
	uint64_t TcpExtListenOverflows, TcpExtListenDrops, TcpExtTCPChallengeACK, TcpExtTCPAbortOnData;
	uint64_t TcpExtTCPOFOQueue, TcpExtTW, TcpExtDelayedACKs;
	uint64_t TcpExtTCPNoEngineDrops;   /* segments for a socket, before the state machine exists */
	uint64_t TcpExtOutOfWindowIcmps;   /* ICMP errors quoting a sequence number we did not have in flight */
	uint64_t TcpExtPMTUReductions;     /* connections whose MSS a path-MTU report lowered */
};

/* A segment received for one of our addresses, at its TCP header; addresses
 * in the in6 form (IPv4 mapped). Takes the packet. */
void tcp_input(struct dtcp_stack *st, struct dtcp_pkt *pkt, const struct in6_addr *saddr,
               const struct in6_addr *daddr);

/* An ICMP or ICMPv6 error quoting one of our segments: laddr/lport are the
 * quoted source (ours), th8 the first 8 bytes of the quoted TCP header. err
 * is the errno Linux maps it to; abort_req says whether a connection still
 * in SYN_RECV is dropped (tcp_req_err()'s rule). As tcp_v4_err() and
 * tcp_v6_err(): a connection being opened fails with err at once; an
 * established one keeps err as its soft error, reported only if it times
 * out. False when no connection matches (Linux counts an input error). */
bool tcp_icmp_error(struct dtcp_stack *st, const struct in6_addr *laddr, const struct in6_addr *faddr,
                    const uint8_t *th8, int err, bool abort_req);

/* ICMP "fragmentation needed" / ICMPv6 "packet too big" quoting one of our
 * segments, with the next-hop MTU: the destination's path MTU is learnt
 * (pmtu.h) and the connection's MSS lowered, what is in flight resent at
 * the new size. False when no connection matches. */
bool tcp_icmp_pmtu(struct dtcp_stack *st, const struct in6_addr *laddr, const struct in6_addr *faddr,
                   const uint8_t *th8, uint32_t mtu);

#endif
