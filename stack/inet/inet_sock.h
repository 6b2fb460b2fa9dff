/* The protocol control block shared by the PCB tables and the socket layer.
 * Addresses are in6 with IPv4 kept v4-mapped; ports are host order.
 * Stack thread only. */
#ifndef DTCP_INET_SOCK_H
#define DTCP_INET_SOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* Linux's TCP state numbers (include/net/tcp_states.h). */
enum inet_state {
	INET_ESTABLISHED = 1,
	INET_SYN_SENT,
	INET_SYN_RECV,
	INET_FIN_WAIT1,
	INET_FIN_WAIT2,
	INET_TIME_WAIT,
	INET_CLOSE,
	INET_CLOSE_WAIT,
	INET_LAST_ACK,
	INET_LISTEN,
	INET_CLOSING,
};

/* Linux's socket-layer states (SS_*), which connect() consults. */
enum inet_sock_state {
	INET_SS_UNCONNECTED = 1,
	INET_SS_CONNECTING,
	INET_SS_CONNECTED,
	INET_SS_DISCONNECTING,
};

struct inet_bind2_bucket;
struct dest_entry;
struct epitem;

struct inet_sock {
	struct in6_addr rcv_saddr;   /* bound / lookup address (wildcard if none) */
	struct in6_addr daddr;       /* peer, after connect() */
	struct hnode bind_node;      /* owners list of the addr bucket */
	struct inet_bind2_bucket *tb2; /* addr bucket while num != 0 */
	union {
		struct dest_entry *dest; /* connect-placed and in ehash */
		struct inet_sock *lnext; /* a listener: next in its lhash chain (a
		                          * listener has no dest; lhash_remove()
		                          * clears it before dest_del() looks) */
	};
	struct epitem *epi;          /* epoll registrations */
	uint32_t uid;                /* creator's euid (SO_REUSEPORT) */
	uint32_t local_port_range;   /* IP_LOCAL_PORT_RANGE: lo | hi << 16 */
	union {
		int backlog;             /* a listener's listen() backlog */
		uint32_t tw_stamp_ms;    /* TIME_WAIT entry time (never a listener) */
	};
	uint32_t tw_snd_nxt;         /* TIME_WAIT: the next sequence number it would have sent;
	                              * a socket that took one over: its successor's ISS base */
	int fd;                      /* -1 once the descriptor is gone */
	int bound_dev_if;
	uint16_t num;                /* port held in the bind tables, 0 = none */
	uint16_t sport;              /* getsockname()'s port; not cleared on release */
	uint16_t dport;
	uint16_t ipv6_mtu;           /* IPV6_MTU, capped at 65535 (no packet is larger) */
	uint8_t family;              /* AF_INET or AF_INET6 */
	uint8_t state;               /* enum inet_state */
	uint8_t ss;                  /* enum inet_sock_state: the socket layer's view */
	uint8_t type;                /* SOCK_STREAM */
	uint8_t err;                 /* pending SO_ERROR (an errno) */
	/* option and lock bits */
	unsigned reuse : 1;          /* SO_REUSEADDR */
	unsigned reuseport : 1;      /* SO_REUSEPORT */
	unsigned ipv6only : 1;       /* IPV6_V6ONLY */
	unsigned bind_no_port : 1;   /* IP_BIND_ADDRESS_NO_PORT */
	unsigned freebind : 1;       /* IP_FREEBIND */
	unsigned transparent : 1;    /* IP_TRANSPARENT */
	unsigned bindaddr_lock : 1;  /* bind() was given an address */
	unsigned bindport_lock : 1;  /* bind() was given a port */
	unsigned connect_bind : 1;   /* the port was chosen by connect() (6.18) */
	unsigned nonblock : 1;
	unsigned tw_has_ts : 1;      /* TIME_WAIT recorded a peer timestamp */
	unsigned tw_fin_wait2 : 1;   /* TIME_WAIT still in its FIN_WAIT2 sub-state */
	unsigned dest_tw : 1;        /* counted as TIME_WAIT in its dest entry */
	unsigned ehashed : 1;        /* in the established table */
	unsigned lhashed : 1;        /* in the listener table */
	unsigned tw_taken : 1;       /* connect() took over a TIME_WAIT: tw_snd_nxt is set */
};

static inline bool inet_sk_ipv6only(const struct inet_sock *sk)
{
	return sk->family == AF_INET6 && sk->ipv6only;
}

#endif
