/* TCP's entry points from the network layer and its counters (nstat names).
 * Stack thread only. */
#ifndef DTCP_TCP_H
#define DTCP_TCP_H

#include <netinet/in.h>
#include <stdint.h>

#include <dtcp/netdev.h>

struct dtcp_stack;

struct tcp_counters {
	uint64_t TcpInSegs, TcpInErrs, TcpInCsumErrors, TcpOutSegs, TcpOutRsts, TcpRetransSegs;
	uint64_t TcpActiveOpens, TcpPassiveOpens, TcpAttemptFails, TcpEstabResets;
	uint64_t TcpExtListenOverflows, TcpExtListenDrops, TcpExtTCPChallengeACK, TcpExtTCPAbortOnData;
	uint64_t TcpExtTCPOFOQueue, TcpExtTW;
	uint64_t TcpExtTCPNoEngineDrops;   /* segments for a socket, before the state machine exists */
};

/* A segment received for one of our addresses, at its TCP header; addresses
 * in the in6 form (IPv4 mapped). Takes the packet. */
void tcp_input(struct dtcp_stack *st, struct dtcp_pkt *pkt, const struct in6_addr *saddr,
               const struct in6_addr *daddr);

#endif
