/* The network layer's entry points: receive from a link, send from TCP and
 * ICMP, and the counters under the kernel's nstat names. Stack thread only. */
#ifndef DTCP_IP_H
#define DTCP_IP_H

#include <netinet/in.h>
#include <stdint.h>

#include <dtcp/netdev.h>

struct dtcp_stack;
struct netif;

/* Counters as `nstat` names them (Ip*, Icmp*), plus dtcp's own Link*. */
struct ip_counters {
	uint64_t IpInReceives, IpInHdrErrors, IpInAddrErrors, IpInUnknownProtos, IpInDiscards;
	uint64_t IpInDelivers, IpOutRequests, IpOutNoRoutes, IpOutDiscards, IpReasmFails;
	uint64_t IpExtInTruncatedPkts, IpExtInCsumErrors;
	uint64_t IcmpInMsgs, IcmpInErrors, IcmpInCsumErrors, IcmpInEchos, IcmpInEchoReps;
	uint64_t IcmpOutMsgs, IcmpOutEchoReps, IcmpOutDestUnreachs;
	uint64_t LinkRxPackets, LinkTxPackets, LinkTxDrops, LinkRxUnknownL3;
};

/* A packet received on nif, at its network header (the link header is gone). */
void ipv4_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *pkt);

/* Send an IPv4 packet whose payload (the transport header onwards) is pkt.
 * Addresses in network order. Takes the packet in every case.
 * 0, -ENETUNREACH (no route), -EMSGSIZE (DF and too big), -ENOBUFS. */
int ipv4_output(struct dtcp_stack *st, struct dtcp_pkt *pkt, uint32_t saddr, uint32_t daddr, uint8_t proto,
                uint8_t tos, uint8_t ttl);

/* ICMP, after the IPv4 header was validated and stripped. */
void icmp_input(struct dtcp_stack *st, struct dtcp_pkt *pkt, uint32_t saddr, uint32_t daddr);

#endif
