/* The stack's statistics through DPDK telemetry: /dtcp/counters,
 * /dtcp/ss and /dtcp/pools. DPDK answers each client on a thread of its
 * own, while a stack belongs to the one thread that polls it, so a command
 * never reads the stack itself: it posts a request in a mailbox and waits
 * (at most DTCP_TELEMETRY_TIMEOUT_MS); the stack's poll hook, on the polling
 * thread between two bursts, takes the request, fills the reply and wakes
 * the waiter. A stack that is not polled gets an error reply, never a hang.
 * Register/unregister on the polling thread; the commands on any thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>
#include <rte_telemetry.h>

#include "port.h"

enum tel_cmd { TEL_COUNTERS, TEL_SS, TEL_POOLS };
enum tel_state { TEL_IDLE, TEL_POSTED, TEL_SERVING, TEL_DONE };

/* DPDK's telemetry is one per process, so is its mailbox. */
static struct {
	pthread_mutex_t req_mu;        /* one request at a time */
	pthread_mutex_t mu;            /* everything below */
	pthread_cond_t cv;
	bool cv_ready;
	bool cmds_registered;
	struct dtcp_stack *st;
	enum tel_state state;
	enum tel_cmd cmd;
	const char *params;
	struct rte_tel_data *d;
	atomic_int pending;            /* a request is POSTED: the poll hook's cheap test */
} tel = { .req_mu = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER };

/* Replies must fit DPDK 22.11's 16 KiB output buffer: rows are compact
 * strings, and a page stops at whichever limit comes first. */
#define SS_ROW_BYTES_BUDGET 12000

static void reply_error(struct rte_tel_data *d, const char *msg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
}

static void serve_counters(struct dtcp_stack *st, struct rte_tel_data *d)
{
	struct dtcp_counter cs[DTCP_COUNTERS_MAX];
	int n = dtcp_stack_counters(st, cs, DTCP_COUNTERS_MAX);

	rte_tel_data_start_dict(d);
	for (int i = 0; i < n && i < DTCP_COUNTERS_MAX; i++)
		rte_tel_data_add_dict_u64(d, cs[i].name, cs[i].value);
}

static void serve_pools(struct dtcp_stack *st, struct rte_tel_data *d)
{
	struct dtcp_pool_stats ps[32];
	int n = dtcp_stack_pools(st, ps, 32);

	rte_tel_data_start_dict(d);
	for (int i = 0; i < n && i < 32; i++) {
		struct rte_tel_data *p = rte_tel_data_alloc();

		if (!p)
			break;
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_u64(p, "in_use", ps[i].in_use);
		rte_tel_data_add_dict_u64(p, "high_water", ps[i].high_water);
		rte_tel_data_add_dict_u64(p, "failures", ps[i].failures);
		rte_tel_data_add_dict_u64(p, "limit", ps[i].limit);
		rte_tel_data_add_dict_u64(p, "obj_size", ps[i].obj_size);
		if (rte_tel_data_add_dict_container(d, ps[i].name, p, 0) < 0)
			rte_tel_data_free(p);
	}
}

static void endpoint_text(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?", port[8] = "*";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		if (s6->sin6_port)
			snprintf(port, sizeof(port), "%u", ntohs(s6->sin6_port));
		snprintf(buf, len, "[%s]:%s", ip, port);
		return;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
	if (s4->sin_port)
		snprintf(port, sizeof(port), "%u", ntohs(s4->sin_port));
	snprintf(buf, len, "%s:%s", ip, port);
}

struct ss_page {
	struct rte_tel_data *rows;
	uint64_t skip, matched, shown;
	size_t bytes;
	bool full;
};

static int ss_row(const struct dtcp_sock_info *si, void *arg)
{
	struct ss_page *pg = arg;
	char l[64], p[64], row[200];

	pg->matched++;
	if (pg->matched <= pg->skip || pg->full)
		return 0;
	endpoint_text(&si->local, l, sizeof(l));
	endpoint_text(&si->peer, p, sizeof(p));
	snprintf(row, sizeof(row), "%s %u %u %s %s", si->state_name, si->recv_q, si->send_q, l, p);
	row[RTE_TEL_MAX_STRING_LEN - 1] = '\0';   /* DPDK's limit; only the longest IPv6 rows reach it */
	if (pg->shown >= DTCP_TELEMETRY_SS_ROWS || pg->bytes + strlen(row) + 3 > SS_ROW_BYTES_BUDGET) {
		pg->full = true;
		return 0;
	}
	rte_tel_data_add_array_string(pg->rows, row);
	pg->shown++;
	pg->bytes += strlen(row) + 3;
	return 0;
}

/* params: "[@SKIP ]EXPR". The walk runs to the end to count the matches. */
static void serve_ss(struct dtcp_stack *st, const char *params, struct rte_tel_data *d)
{
	struct ss_page pg = { 0 };
	struct dtcp_sock_filter f;
	const char *expr = params ? params : "";
	char err[160];

	if (expr[0] == '@') {
		char *end;

		pg.skip = strtoull(expr + 1, &end, 10);
		if (end == expr + 1 || (*end && *end != ' ')) {
			reply_error(d, "bad page offset: @ must be followed by a number and a blank");
			return;
		}
		expr = end;
	}
	if (dtcp_sock_filter_parse(expr, &f, err, sizeof(err)) < 0) {
		reply_error(d, err);
		return;
	}
	pg.rows = rte_tel_data_alloc();
	if (!pg.rows) {
		reply_error(d, "out of memory");
		return;
	}
	rte_tel_data_start_array(pg.rows, RTE_TEL_STRING_VAL);
	dtcp_sock_walk(st, &f, ss_row, &pg);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "matched", pg.matched);
	rte_tel_data_add_dict_u64(d, "offset", pg.skip);
	rte_tel_data_add_dict_int(d, "truncated", pg.skip + pg.shown < pg.matched);
	if (rte_tel_data_add_dict_container(d, "rows", pg.rows, 0) < 0)
		rte_tel_data_free(pg.rows);
}

/* The poll hook: on the stack's thread. */
static void tel_poll_hook(struct dtcp_stack *st, void *arg)
{
	(void)arg;
	if (!atomic_load_explicit(&tel.pending, memory_order_acquire))
		return;
	pthread_mutex_lock(&tel.mu);
	if (tel.state != TEL_POSTED || tel.st != st) {
		pthread_mutex_unlock(&tel.mu);
		return;
	}
	tel.state = TEL_SERVING;
	atomic_store_explicit(&tel.pending, 0, memory_order_relaxed);
	pthread_mutex_unlock(&tel.mu);
	/* The waiter does not touch d while SERVING. */
	switch (tel.cmd) {
	case TEL_COUNTERS:
		serve_counters(st, tel.d);
		break;
	case TEL_SS:
		serve_ss(st, tel.params, tel.d);
		break;
	case TEL_POOLS:
		serve_pools(st, tel.d);
		break;
	}
	pthread_mutex_lock(&tel.mu);
	tel.state = TEL_DONE;
	pthread_cond_broadcast(&tel.cv);
	pthread_mutex_unlock(&tel.mu);
}

/* On a telemetry thread: post, wait for the poll hook, or give up. */
static int tel_request(enum tel_cmd cmd, const char *params, struct rte_tel_data *d)
{
	struct timespec dl;

	pthread_mutex_lock(&tel.req_mu);
	pthread_mutex_lock(&tel.mu);
	if (!tel.st) {
		pthread_mutex_unlock(&tel.mu);
		pthread_mutex_unlock(&tel.req_mu);
		reply_error(d, "no dtcp stack is registered for telemetry in this process");
		return 0;
	}
	tel.cmd = cmd;
	tel.params = params;
	tel.d = d;
	tel.state = TEL_POSTED;
	atomic_store_explicit(&tel.pending, 1, memory_order_release);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += DTCP_TELEMETRY_TIMEOUT_MS / 1000;
	dl.tv_nsec += (long)(DTCP_TELEMETRY_TIMEOUT_MS % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (tel.state == TEL_POSTED || tel.state == TEL_SERVING) {
		/* Once taken, the answer is being written into d: wait for it
		 * (a walk is bounded), whatever the clock says. */
		if (tel.state == TEL_POSTED) {
			if (pthread_cond_timedwait(&tel.cv, &tel.mu, &dl) == ETIMEDOUT && tel.state == TEL_POSTED) {
				tel.state = TEL_IDLE;
				atomic_store_explicit(&tel.pending, 0, memory_order_relaxed);
				pthread_mutex_unlock(&tel.mu);
				pthread_mutex_unlock(&tel.req_mu);
				reply_error(d, "timed out: the dtcp stack was not polled within "
				               RTE_STR(DTCP_TELEMETRY_TIMEOUT_MS) " ms");
				return 0;
			}
		} else {
			pthread_cond_wait(&tel.cv, &tel.mu);
		}
	}
	tel.state = TEL_IDLE;
	tel.d = NULL;
	tel.params = NULL;
	pthread_mutex_unlock(&tel.mu);
	pthread_mutex_unlock(&tel.req_mu);
	return 0;
}

static int cmd_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	return tel_request(TEL_COUNTERS, NULL, d);
}

static int cmd_ss(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_request(TEL_SS, params, d);
}

static int cmd_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	return tel_request(TEL_POOLS, NULL, d);
}

int dtcp_dpdk_telemetry_register(struct dtcp_stack *st)
{
	int rc = 0;

	if (!st)
		return port_api_ret(-EINVAL);
	pthread_mutex_lock(&tel.mu);
	if (tel.st) {
		rc = tel.st == st ? 0 : -EBUSY;
		goto out;
	}
	if (!tel.cv_ready) {
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		rc = -pthread_cond_init(&tel.cv, &ca);
		pthread_condattr_destroy(&ca);
		if (rc)
			goto out;
		tel.cv_ready = true;
	}
	/* DPDK keeps commands for the life of the process: registered once. */
	if (!tel.cmds_registered) {
		if (rte_telemetry_register_cmd("/dtcp/counters", cmd_counters,
		                               "The dtcp stack's counters under nstat's names. No parameters") < 0 ||
		    rte_telemetry_register_cmd("/dtcp/ss", cmd_ss,
		                               "Sockets as ss -tan rows. Parameter: [@OFFSET ]ss filter "
		                               "(state, src, dst, sport, dport)") < 0 ||
		    rte_telemetry_register_cmd("/dtcp/pools", cmd_pools,
		                               "The dtcp stack's memory pools. No parameters") < 0) {
			rc = -ENOSPC;
			goto out;
		}
		tel.cmds_registered = true;
	}
	if (dtcp_stack_poll_hook(st, tel_poll_hook, NULL) < 0) {
		rc = -errno;
		goto out;
	}
	tel.st = st;
	tel.state = TEL_IDLE;
out:
	pthread_mutex_unlock(&tel.mu);
	return port_api_ret(rc);
}

int dtcp_dpdk_telemetry_unregister(struct dtcp_stack *st)
{
	pthread_mutex_lock(&tel.mu);
	if (!st || tel.st != st) {
		pthread_mutex_unlock(&tel.mu);
		return port_api_ret(-EINVAL);
	}
	/* Called on the polling thread, so nothing is SERVING; a request still
	 * POSTED is answered with an error at once. */
	if (tel.state == TEL_POSTED) {
		reply_error(tel.d, "the dtcp stack left telemetry");
		tel.state = TEL_DONE;
		atomic_store_explicit(&tel.pending, 0, memory_order_relaxed);
		pthread_cond_broadcast(&tel.cv);
	}
	tel.st = NULL;
	pthread_mutex_unlock(&tel.mu);
	dtcp_stack_poll_hook(st, NULL, NULL);
	return 0;
}
