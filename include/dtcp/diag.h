/* Observing a stack: its counters under the kernel's nstat names, and its
 * sockets as `ss -tan` lists them, with ss's filters.
 *
 * Every call here reads the stack, so it belongs to the thread that polls the
 * stack, like any other call. Another thread (a telemetry server, say) must
 * ask that thread to run it: dtcp_stack_poll_hook() gives the place. */
#ifndef DTCP_DIAG_H
#define DTCP_DIAG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_stack;

/** One counter: its nstat name ("TcpActiveOpens", "TcpExtTW", ...) and value. */
struct dtcp_counter {
	const char *name;   /**< static storage; never freed */
	uint64_t value;
};

/** Enough room for every counter dtcp_stack_counters() reports. */
#define DTCP_COUNTERS_MAX 96

/**
 * The stack's counters, as `nstat -az` names them: Ip*, IpExt*, Icmp*, Ip6*,
 * Icmp6*, Tcp*, TcpExt*. TcpCurrEstab (ESTABLISHED and CLOSE_WAIT
 * connections) is a gauge kept at every state change, as Linux keeps it;
 * every value is a plain read (O(1) however many sockets there are).
 * @param out room for n entries, filled in a fixed order.
 * @return the number of counters (which may exceed n: call again with more
 *         room), or -1 with errno EINVAL (st NULL, or out NULL with n > 0).
 */
int dtcp_stack_counters(struct dtcp_stack *st, struct dtcp_counter *out, int n);

/** Linux's TCP state numbers (include/net/tcp_states.h), as ss and
 *  TCP_INFO report them. */
enum dtcp_tcp_state {
	DTCP_TCP_ESTABLISHED = 1,
	DTCP_TCP_SYN_SENT,
	DTCP_TCP_SYN_RECV,
	DTCP_TCP_FIN_WAIT1,
	DTCP_TCP_FIN_WAIT2,
	DTCP_TCP_TIME_WAIT,
	DTCP_TCP_CLOSE,
	DTCP_TCP_CLOSE_WAIT,
	DTCP_TCP_LAST_ACK,
	DTCP_TCP_LISTEN,
	DTCP_TCP_CLOSING,
};

/** State-mask bit of a state, and ss's named groups of states. */
#define DTCP_SS_BIT(state) (1u << (state))
#define DTCP_SS_ALL 0xffeu   /**< every state, 1 .. 11 */
/** ss's "connected": all but LISTEN, CLOSE and the kernel's request and
 *  TIME_WAIT minisockets (SYN_RECV, TIME_WAIT). */
#define DTCP_SS_CONNECTED \
	(DTCP_SS_ALL & ~(DTCP_SS_BIT(DTCP_TCP_LISTEN) | DTCP_SS_BIT(DTCP_TCP_CLOSE) | \
	                 DTCP_SS_BIT(DTCP_TCP_TIME_WAIT) | DTCP_SS_BIT(DTCP_TCP_SYN_RECV)))
/** ss's "synchronized": connected, less SYN_SENT. */
#define DTCP_SS_SYNCHRONIZED (DTCP_SS_CONNECTED & ~DTCP_SS_BIT(DTCP_TCP_SYN_SENT))

/** dtcp_sock_filter.flags: which of its fields apply. */
#define DTCP_SF_SPORT 0x1u   /**< local port == sport */
#define DTCP_SF_DPORT 0x2u   /**< peer port == dport */
#define DTCP_SF_SADDR 0x4u   /**< local address within saddr/saddr_plen */
#define DTCP_SF_DADDR 0x8u   /**< peer address within daddr/daddr_plen */

/**
 * Which sockets a walk reports: all of the conditions set hold (an AND).
 * Addresses are IPv6, IPv4 ones in the v4-mapped form ::ffff:a.b.c.d (the
 * prefix length then counts the 96 bits of the mapping). A zeroed filter
 * matches every socket.
 */
struct dtcp_sock_filter {
	uint32_t states;            /**< DTCP_SS_BIT() mask; 0 means DTCP_SS_ALL */
	uint32_t flags;             /**< DTCP_SF_* */
	uint16_t sport, dport;      /**< host order */
	uint8_t saddr_plen, daddr_plen; /**< 0..128 */
	struct in6_addr saddr, daddr;
};

/** One socket, as `ss -tan` and TCP_INFO show it. */
struct dtcp_sock_info {
	int family;                 /**< AF_INET or AF_INET6 */
	int state;                  /**< enum dtcp_tcp_state */
	const char *state_name;     /**< as ss prints it: "ESTAB", "LISTEN", "TIME-WAIT", ... */
	struct sockaddr_storage local, peer; /**< sockaddr_in or sockaddr_in6 by family;
	                                         port 0 and the wildcard where there is none */
	/** ss's Recv-Q: a listener's accept queue length; else bytes received
	 *  and not read. */
	uint32_t recv_q;
	/** ss's Send-Q: a listener's backlog; else bytes not acknowledged yet
	 *  (unsent ones included, and a SYN or FIN in flight counts one, as
	 *  Linux's write_seq - snd_una). */
	uint32_t send_q;
	int fd;                     /**< the descriptor; -1 for an orphan, a child not
	                                 accepted yet, or TIME_WAIT */
	uint32_t rto_us;            /**< retransmission timeout now, backoff included */
	uint32_t srtt_us;           /**< smoothed RTT (0: no sample yet) */
	uint32_t rttvar_us;
	uint32_t snd_cwnd;          /**< congestion window, in segments of snd_mss */
	uint32_t snd_mss;           /**< send MSS */
	uint32_t retransmits;       /**< consecutive timeouts of the current segment */
	uint32_t total_retrans;     /**< segments retransmitted over the connection */
};

/**
 * Called once per matching socket; return 0 to go on, anything else to stop
 * the walk. The info is valid during the call only. The callback must not
 * call into the stack.
 */
typedef int dtcp_sock_walk_fn(const struct dtcp_sock_info *si, void *arg);

/**
 * Report every socket of the stack that matches the filter to fn, with no
 * allocation: listeners, connections with and without a descriptor
 * (orphans closing, children in SYN_RECV or waiting for accept()),
 * TIME_WAIT, and sockets not connected at all (CLOSE, shown as UNCONN).
 * Each socket is reported once.
 *
 * Cost: with DTCP_SF_SPORT, only the sockets holding that local port are
 * visited (the port's bind buckets), whatever else the stack holds. Without
 * it, every socket is visited: the descriptor table, then the 65,536 port
 * buckets for the sockets without a descriptor. Order: by descriptor, then
 * by port; within a port, unspecified.
 *
 * @param f NULL matches everything.
 * @return the number of sockets visited (examined against the filter, a
 *         measure of the cost), or -1 with errno EINVAL (st or fn NULL, a
 *         prefix length above 128).
 */
long dtcp_sock_walk(struct dtcp_stack *st, const struct dtcp_sock_filter *f, dtcp_sock_walk_fn *fn, void *arg);

/**
 * Parse the common `ss` filter expressions into a filter: words separated by
 * blanks, all conditions ANDed ("and" and "&&" may be written):
 *   state NAME        (repeatable, ORed) established, syn-sent, syn-recv,
 *                     fin-wait-1, fin-wait-2, time-wait, close (closed),
 *                     close-wait, last-ack, listening, closing, all,
 *                     connected, synchronized, bucket, big
 *   src ADDR[/PLEN][:PORT] | src :PORT | src [IPV6][:PORT]
 *   dst ...           the same for the peer
 *   sport = :PORT     (also "==", "eq"; the colon is optional)
 *   dport = :PORT
 * "*" stands for any address or port. "or", "not", "exclude", parentheses
 * and port ranges are not supported and are reported as such.
 * @param expr NULL or "" gives the zeroed filter (everything).
 * @param err where a one-line reason goes on failure (may be NULL).
 * @return 0, or -1 with errno EINVAL (bad or unsupported expression).
 */
int dtcp_sock_filter_parse(const char *expr, struct dtcp_sock_filter *f, char *err, size_t errlen);

/** ss's name of a state ("ESTAB", "SYN-SENT", ..., "UNCONN" for CLOSE), or "UNKNOWN". */
const char *dtcp_tcp_state_name(int state);

/**
 * A function the stack calls at the end of each dtcp_stack_poll(), on the
 * polling thread, between bursts: where work that must not race the stack
 * (answering another thread's question about it) is done. One per stack;
 * fn NULL removes it.
 * @return 0, or -1 with errno EINVAL (st NULL) or EBUSY (another hook is set).
 */
int dtcp_stack_poll_hook(struct dtcp_stack *st, void (*fn)(struct dtcp_stack *st, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
