/* Socket-level inet operations on a PCB: bind, listen, the port-table half
 * of connect (everything before the SYN leaves), disconnect, TIME_WAIT entry
 * and release. All return 0 or -errno exactly as the kernel's inet layer.
 * Stack thread only. */
#ifndef DTCP_INET_OPS_H
#define DTCP_INET_OPS_H

#include <sys/socket.h>

#include "inet/inet_sock.h"

struct dtcp_stack;

/* Mirrors inet_bind_sk()/__inet_bind() and inet6_bind_sk()/__inet6_bind(). */
int inet_bind(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen);

/* Mirrors inet_listen()/inet_csk_listen_start(). */
int inet_listen(struct dtcp_stack *st, struct inet_sock *sk, int backlog);

/* Mirrors __inet_stream_connect() and tcp_v4_connect()/tcp_v6_connect() up
 * to the SYN: argument and state checks, source address, port selection,
 * established-table insert. On success the socket is SYN_SENT; the TCP
 * engine sends the SYN. connect(AF_UNSPEC) disconnects. */
int inet_connect(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen);
/* inet_connect(), except that a socket whose port the search chose goes
 * into the established table only at inet_connect_insert(), which the
 * caller runs once its SYN is out (a socket no longer in SYN_SENT then is
 * not inserted), and becomes its port bucket's owner there too (see
 * inet_bind_connect_port()). dtcp_connect() uses it: the lines, requested
 * when the port was chosen, have arrived by then. */
int inet_connect_defer(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen,
                       bool defer_insert);
void inet_connect_insert(struct dtcp_stack *st);

/* Mirrors tcp_set_state(CLOSE) + tcp_disconnect(): leave the established
 * table; release the port unless bind() fixed it and the address unless
 * bind() fixed it; getsockname()'s port stays (spec 5.9). */
void inet_disconnect(struct dtcp_stack *st, struct inet_sock *sk);

/* Mirrors tcp_set_state(CLOSE) from another state: leave the established
 * (or listener) table, give the port back unless bind() fixed it. */
void inet_set_state_close(struct dtcp_stack *st, struct inet_sock *sk);

/* The socket becomes a TIME_WAIT entry: it keeps its 4-tuple and port. */
void inet_enter_timewait(struct dtcp_stack *st, struct inet_sock *sk, bool peer_ts, bool fin_wait2);

/* Every state change of a socket goes through here: it keeps TcpCurrEstab
 * (sockets in ESTABLISHED or CLOSE_WAIT) as tcp_set_state() does, O(1). */
void inet_state_set(struct dtcp_stack *st, struct inet_sock *sk, uint8_t state);

/* Release everything a socket holds in the tables (close, TIME_WAIT expiry). */
void inet_release(struct dtcp_stack *st, struct inet_sock *sk);

#endif
