/* Test harness: a stack on a virtual clock with a deterministic random
 * source, address helpers, and a teardown that asserts every pool is back to
 * zero. */
#ifndef DTCP_TEST_HARNESS_H
#define DTCP_TEST_HARNESS_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dtcp/dtcp.h>
#include <errno.h>

#include "addr.h"
#include "inet/inet_ops.h"
#include "inet/port_select.h"
#include "stack.h"

extern struct dtcp_stack *st;       /* the stack of the running test */
extern uint64_t th_now_ns;          /* its clock */
extern uint64_t th_tick_ns;         /* added at every read of the clock (0: frozen) */
extern int th_zero_random;          /* 1: the random source yields zero bytes */

/* The environment of a test's link pair: the stack's virtual clock and a
 * random source of zero bytes. */
extern const struct stack_env th_link_env;

/* The test's stack on one end of an in-memory link pair, attached as
 * "eth0" (ifindex 2) with info (NULL: MTU 1500, raw IP, no Ethernet); the
 * test plays the other end, th_peer. th_link_teardown() runs th_teardown(),
 * frees what the stack sent and the test did not take, checks that every
 * link buffer came back, and frees the pair. */
/* Headers for packets the test plays in: the IPv4 header at d (20 bytes,
 * TTL 64, its checksum set) of a packet carrying plen bytes of proto from
 * saddr to daddr (network order), or the IPv6 one (40 bytes, hop limit
 * 64). Each returns the pseudo-header sum for the payload's checksum. */
uint64_t th_ipv4_header(void *d, uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t plen);
uint64_t th_ipv6_header(void *d, const struct in6_addr *saddr, const struct in6_addr *daddr, uint8_t proto,
                        uint32_t plen);

extern struct link_pair *th_lp;
extern void *th_peer;
void th_link_setup(const struct dtcp_netdev_info *info);
void th_link_teardown(void);

void th_setup(void);
void th_teardown(void);             /* closes everything, asserts pools are empty */

/* Socket with options: "r" SO_REUSEADDR, "p" SO_REUSEPORT, "n" IP_BIND_ADDRESS_NO_PORT,
 * "6" IPV6_V6ONLY. */
int th_socket(int family, const char *opts);
struct inet_sock *th_sk(int fd);

/* bind/connect/listen by text address; return 0 or the errno. */
int th_bind(int fd, const char *addr, int port);
int th_connect(int fd, const char *addr, int port);
int th_listen(int fd);
int th_port(int fd);                /* getsockname()'s port */
const char *th_addr(int fd);        /* getsockname()'s address, as text */
void th_sysctl(const char *name, const char *value);
/* A listener on addr:port (so a dtcp_connect peer exists once the engine lands). */
int th_listener(const char *addr, int port);
/* Let ms pass on the virtual clock. */
void th_sleep_ms(uint64_t ms);
/* Socket fd enters TIME_WAIT and loses its descriptor (as after close()). */
void th_timewait(int fd, bool peer_ts);
/* Make a no-port socket bound to src and connect it; returns fd, *port, *err. */
int th_noport_connect(const char *src, const char *dst, int dport, int *port, int *err);

#endif
