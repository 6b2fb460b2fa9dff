/* Wire formats of the link and network layers: Ethernet II, ARP for IPv4
 * over Ethernet, IPv4, IPv6 and the ICMP/ICMPv6 common headers. Logic-free;
 * fields in network byte order. */
#ifndef DTCP_IP_HDR_H
#define DTCP_IP_HDR_H

#include <netinet/in.h>
#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "Ethernet II header");

/* RFC 826, for IPv4 over Ethernet only. */
struct arp_hdr {
	uint16_t htype;    /* 1: Ethernet */
	uint16_t ptype;    /* 0x0800 */
	uint8_t hlen;      /* 6 */
	uint8_t plen;      /* 4 */
	uint16_t op;       /* 1 request, 2 reply */
	uint8_t sha[ETH_ALEN];
	uint32_t spa;
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
} __attribute__((packed));
_Static_assert(sizeof(struct arp_hdr) == 28, "ARP for IPv4 over Ethernet");

/* RFC 791. */
struct ipv4_hdr {
	uint8_t ver_ihl;   /* version 4, header length in 32-bit words */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off; /* flags (reserved, DF, MF) and offset in 8-byte units */
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
} __attribute__((packed));
_Static_assert(sizeof(struct ipv4_hdr) == 20, "IPv4 header without options");

#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_OFFMASK 0x1fff

/* RFC 8200. */
struct ipv6_hdr {
	uint32_t ver_tc_flow;
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	struct in6_addr saddr;
	struct in6_addr daddr;
} __attribute__((packed));
_Static_assert(sizeof(struct ipv6_hdr) == 40, "IPv6 header");

/* RFC 792 / RFC 4443: the first four bytes; echo adds id and sequence. */
struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t check;
	uint16_t id;
	uint16_t seq;
} __attribute__((packed));
_Static_assert(sizeof(struct icmp_hdr) == 8, "ICMP header with the echo fields");

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PORT_UNREACH 3
#define ICMP_PROT_UNREACH 2
#define ICMP_FRAG_NEEDED 4

#endif
