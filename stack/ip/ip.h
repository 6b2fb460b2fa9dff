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
	uint64_t IcmpInMsgs, IcmpInErrors, IcmpInCsumErrors, IcmpInEchos, IcmpInEchoReps, IcmpInDestUnreachs;
	uint64_t IcmpOutMsgs, IcmpOutEchoReps, IcmpOutDestUnreachs;
	uint64_t LinkRxPackets, LinkTxPackets, LinkTxDrops, LinkRxUnknownL3;
	uint64_t Ip6InReceives, Ip6InHdrErrors, Ip6InAddrErrors, Ip6InUnknownProtos, Ip6InTruncatedPkts;
	uint64_t Ip6InDelivers, Ip6OutRequests, Ip6OutNoRoutes, Ip6OutDiscards, Ip6ReasmFails;
	uint64_t Icmp6InMsgs, Icmp6InErrors, Icmp6InCsumErrors, Icmp6InEchos, Icmp6InEchoReplies;
	uint64_t Icmp6OutMsgs, Icmp6OutEchoReplies, Icmp6OutErrors, IcmpOutRateLimited;
	uint64_t icmp_tokens_ms;   /* token bucket for errors: time the bucket was last topped up */
	uint32_t icmp_tokens;
};

/* A packet received on nif, at its network header (the link header is gone). */
void ipv4_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *pkt);

/* Send an IPv4 packet whose payload (the transport header onwards) is pkt.
 * Addresses in network order. Takes the packet in every case.
 * 0, -ENETUNREACH (no route), -EMSGSIZE (DF and too big), -ENOBUFS. */
int ipv4_output(struct dtcp_stack *st, struct dtcp_pkt *pkt, uint32_t saddr, uint32_t daddr, uint8_t proto,
                uint8_t tos, uint8_t ttl);

/* Answer a packet with an ICMP destination unreachable (RFC 1122 3.2.2.1):
 * protocol (code 2) or port (code 3) unreachable, quoting the IP header and
 * 8 bytes. pkt is at its IP header; the caller keeps it. Rate limited as
 * Linux's icmp_msgs_per_sec (1,000/s, bursts of 50). */
/* One limiter for ICMP and ICMPv6 errors, as Linux's icmp_global_allow():
 * 1,000 a second, bursts of 50. False (and counted) when over. */
bool icmp_rate_ok(struct dtcp_stack *st);
void icmp_send_unreach(struct dtcp_stack *st, const struct dtcp_pkt *pkt, uint8_t code);
/* ICMPv6 parameter problem "unrecognized next header" (RFC 4443 3.4, code
 * 1, pointer to the field) or destination unreachable, port (3.1, code 4). */
void icmpv6_send_error(struct dtcp_stack *st, const struct dtcp_pkt *pkt, uint8_t type, uint8_t code,
                       uint32_t pointer);

/* ICMP, after the IPv4 header was validated and stripped. */
void icmp_input(struct dtcp_stack *st, struct dtcp_pkt *pkt, uint32_t saddr, uint32_t daddr);

/* IPv6 (RFC 8200): a packet received on nif at its IPv6 header. */
void ipv6_input(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *pkt);

/* Send an IPv6 packet whose payload is pkt, routed by destination. Takes the
 * packet. 0, -ENETUNREACH, -EMSGSIZE or -ENOBUFS. */
int ipv6_output(struct dtcp_stack *st, struct dtcp_pkt *pkt, const struct in6_addr *saddr,
                const struct in6_addr *daddr, uint8_t nexthdr, uint8_t hop_limit);

/* The same on a given interface (link-local and multicast destinations). */
int ipv6_output_dev(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *pkt, const struct in6_addr *saddr,
                    const struct in6_addr *daddr, const struct in6_addr *nexthop, uint8_t nexthdr, uint8_t hop_limit);

/* ICMPv6 (RFC 4443), after the IPv6 headers were validated and stripped. */
void icmpv6_input(struct dtcp_stack *st, struct dtcp_pkt *pkt, const struct in6_addr *saddr,
                  const struct in6_addr *daddr, uint8_t hop_limit);

/* Hand a finished IP packet to nif: onto the interface's own buffers if it
 * was built elsewhere, then raw or through the neighbour cache. Takes it. */
int ip_finish_output(struct dtcp_stack *st, struct netif *nif, struct dtcp_pkt *pkt, const struct in6_addr *nexthop);

#endif
