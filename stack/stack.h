/* The stack instance: configuration, environment, interfaces, PCB tables and
 * descriptor table. One thread at a time; no globals anywhere. */
#ifndef DTCP_STACK_PRIV_H
#define DTCP_STACK_PRIV_H

#include <dtcp/stack.h>

#include "config.h"
#include "env.h"
#include "ifaddr.h"
#include "inet/bind_table.h"
#include "inet/dest_table.h"
#include "inet/ehash.h"
#include "inet/lhash.h"
#include "ip/ip.h"
#include "ip/neigh.h"
#include "ip/pmtu.h"
#include "link/link.h"
#include "pool.h"
#include "sock/epoll.h"
#include "sock/sock.h"
#include "sock/socket_table.h"
#include "tcp/tcp.h"
#include "tcp/tcp_ooo.h"
#include "tcp/tcp_rtt.h"
#include "timer.h"

struct inet_counters {
	uint64_t connect_search_fail;   /* EADDRNOTAVAIL from the connect() search */
	uint64_t bind_search_fail;      /* EADDRINUSE from the bind(0) search */
	uint64_t tw_recycled;           /* TIME_WAIT entries taken over by connect() */
};

struct dtcp_stack {
	struct dtcp_stack_config cfg;
	struct stack_sysctl sysctl;
	struct stack_env env;
	struct ifaddr_table ifs;
	struct bind_table bt;
	struct dest_table dt;
	struct ehash eh;
	struct lhash lh;
	struct socket_table socks;
	struct pool sock_pool;
	uint8_t secret[16];        /* SipHash key: port offsets (and later ISNs) */
	uint32_t *perturb;         /* 65,536-entry table_perturb, filled on first use */
	uint32_t uid;              /* dtcp_cred_set() */
	uint32_t caps;
	uint8_t rnd_buf[256];      /* buffered random bytes */
	uint32_t rnd_pos;
	struct inet_counters cnt;
	struct ip_counters ipc;
	struct neigh_table nt;
	struct pmtu_cache pmtu;
	struct tcp_counters tcpc;
	struct tcp_rtt_params rtt_params;
	struct pool ooo_pool, ooo_range_pool;
	struct tcp_ooo_ctx ooo_ctx;
	struct epoll_inst *epolls[1024];
	struct timer_wheel timers; /* ticks of 1 ms */
	struct link_loopback *lo_link;
	uint16_t ip_id;
	/* While dtcp_stack_poll() runs, the clock is read once and every
	 * packet and timer of that round sees the same time (as a burst in
	 * Linux shares one tcp_mstamp). Outside it, each read is fresh. */
	struct inet_sock *connect_insert;  /* inet_connect_insert()'s socket, and its hash */
	uint64_t connect_insert_h;
	bool clock_hold;               /* in a held call or a poll round */
	bool clock_valid;              /* clock_ns is the held time */
	uint64_t clock_ns;
	/* dtcp_stack_poll_hook(): run at the end of each poll (observers) */
	void (*poll_hook)(struct dtcp_stack *st, void *arg);
	void *poll_hook_arg;
};

/* Create with an explicit environment (tests: fixed clock and randomness). */
struct dtcp_stack *stack_create(const struct dtcp_stack_config *cfg, const struct stack_env *env);
/* Replace the SipHash key (tests). */
void stack_set_secret(struct dtcp_stack *st, const uint8_t key[16]);

uint32_t stack_random_u32(struct dtcp_stack *st);
/* Uniform in [0, n): mirrors get_random_u32_below() (n > 0). */
static inline uint32_t stack_random_below(struct dtcp_stack *st, uint32_t n)
{
	return (uint32_t)(((uint64_t)stack_random_u32(st) * n) >> 32);
}

/* Within a hold, the first read is kept for the rest of it. */
static inline uint64_t stack_now_ns(struct dtcp_stack *st)
{
	uint64_t v;

	if (st->clock_valid)
		return st->clock_ns;
	v = st->env.now_ns(st->env.arg);
	if (st->clock_hold) {
		st->clock_ns = v;
		st->clock_valid = true;
	}
	return v;
}

static inline uint32_t stack_now_ms(struct dtcp_stack *st)
{
	return (uint32_t)(stack_now_ns(st) / 1000000u);
}

/* Hold the clock through a socket call: its reads see one time (read at
 * the first of them: a call that reads none pays nothing), which a poll
 * inside the call (a blocking wait) moves on. Returns what
 * stack_clock_release() restores. */
static inline bool stack_clock_hold(struct dtcp_stack *st)
{
	bool was = st->clock_hold;

	if (!was) {
		st->clock_hold = true;
		st->clock_valid = false;
	}
	return was;
}

static inline void stack_clock_release(struct dtcp_stack *st, bool was)
{
	if (!was) {
		st->clock_hold = false;
		st->clock_valid = false;
	}
}

/* The timer wheel's unit: milliseconds of the stack's clock, 64-bit. */
static inline uint64_t stack_ticks(struct dtcp_stack *st)
{
	return stack_now_ns(st) / 1000000u;
}

#endif
