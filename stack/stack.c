/* Stack lifecycle and the public configuration calls (see dtcp/stack.h). */
#include "stack.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bigmem.h"
#include "inet/inet_ops.h"
#include "netif.h"
#include "tcp/tcp_sock.h"

#define DEFAULT_MAX_SOCKETS (4u * 1024 * 1024)

static int api_ret(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

uint32_t stack_random_u32(struct dtcp_stack *st)
{
	uint32_t v;

	if (st->rnd_pos + sizeof(v) > sizeof(st->rnd_buf)) {
		st->env.random_bytes(st->env.arg, st->rnd_buf, sizeof(st->rnd_buf));
		st->rnd_pos = 0;
	}
	memcpy(&v, st->rnd_buf + st->rnd_pos, sizeof(v));
	st->rnd_pos += sizeof(v);
	return v;
}

void stack_set_secret(struct dtcp_stack *st, const uint8_t key[16])
{
	memcpy(st->secret, key, sizeof(st->secret));
}

static void ooo_pkt_free(void *self, struct dtcp_pkt *p)
{
	pkt_free_any(self, p);
}

static void stack_destroy(struct dtcp_stack *st)
{
	epoll_fini(st);
	socket_table_fini(&st->socks);
	ehash_fini(&st->eh);
	lhash_fini(&st->lh);
	dest_table_fini(&st->dt);
	bind_table_fini(&st->bt);
	pool_fini(&st->sock_pool);
	pool_fini(&st->ooo_pool);
	pool_fini(&st->ooo_range_pool);
	neigh_table_fini(st, &st->nt);
	ifaddr_fini(&st->ifs);
	pmtu_fini(&st->pmtu);
	link_loopback_destroy(st->lo_link);
	free(st->perturb);
	free(st);
}

struct dtcp_stack *stack_create(const struct dtcp_stack_config *cfg_in, const struct stack_env *env)
{
	struct dtcp_stack_config cfg = cfg_in ? *cfg_in : (struct dtcp_stack_config){ 0 };
	struct dtcp_stack *st;
	uint64_t seeds[4];
	int err;

	if (sodium_init() < 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (!cfg.max_sockets)
		cfg.max_sockets = DEFAULT_MAX_SOCKETS;
	if (cfg.max_sockets > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	if (!cfg.ehash_buckets)
		cfg.ehash_buckets = cfg.max_sockets;
	/* Chained tables sized to one bucket per socket: O(1) expected at any
	 * fill up to max_sockets. The arrays are zero pages until touched. */
	if (!cfg.bhash2_buckets)
		cfg.bhash2_buckets = cfg.max_sockets;
	if (!cfg.lhash_buckets)
		cfg.lhash_buckets = 4096;

	st = calloc(1, sizeof(*st));
	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	st->cfg = cfg;
	st->env = *env;
	st->rnd_pos = sizeof(st->rnd_buf);
	st->uid = (uint32_t)geteuid();
	st->caps = DTCP_CAP_ALL;
	sysctl_defaults(&st->sysctl);
	env->random_bytes(env->arg, st->secret, sizeof(st->secret));
	env->random_bytes(env->arg, seeds, sizeof(seeds));
	pool_init(&st->sock_pool, "socket", sizeof(struct tcp_sock), cfg.max_sockets);
	tcp_rtt_params_default(&st->rtt_params);
	pool_init(&st->ooo_pool, "tcp_ooo", sizeof(struct tcp_ooo), cfg.max_sockets);
	tcp_ooo_range_pool_init(&st->ooo_range_pool, (uint64_t)cfg.max_sockets * 4);
	st->ooo_ctx = (struct tcp_ooo_ctx){ .ranges = &st->ooo_range_pool, .pkt_free = ooo_pkt_free, .pkt_self = st,
	                                    .seed = seeds[2] ^ seeds[0] };

	err = ifaddr_init(&st->ifs);
	if (!err)
		err = bind_table_init(&st->bt, cfg.bhash2_buckets, cfg.max_sockets, seeds[0]);
	if (!err)
		err = dest_table_init(&st->dt, cfg.max_sockets, cfg.max_sockets, seeds[1]);
	if (!err)
		err = ehash_init(&st->eh, cfg.ehash_buckets, seeds[2]);
	if (!err)
		err = lhash_init(&st->lh, cfg.lhash_buckets, seeds[3]);
	if (!err)
		err = socket_table_init(&st->socks, cfg.max_sockets);
	if (!err)
		err = neigh_table_init(&st->nt, 4096, 1u << 20, seeds[0] ^ seeds[3]);
	if (!err && cfg.prefault) {
		err = bigmem_populate(st->eh.groups, st->eh.bytes);
		if (!err)
			err = bigmem_populate(st->bt.bhash2, ((size_t)st->bt.bhash2_mask + 1) * sizeof(*st->bt.bhash2));
		if (!err)
			err = bigmem_populate(st->socks.fds, (size_t)st->socks.max * sizeof(*st->socks.fds));
	}
	if (!err) {
		/* lo: a loopback link, no link layer. Its MTU is 1500 (Linux: 65536)
		 * while a segment must fit one 2 KiB buffer. */
		st->lo_link = link_loopback_create(4096, 65536);
		if (!st->lo_link) {
			err = -ENOMEM;
		} else {
			struct netif *lo = &st->ifs.ifs[0];

			lo->ops = &link_loopback_ops;
			lo->self = st->lo_link;
			lo->info = (struct dtcp_netdev_info){ .mtu = 1500, .capa = DTCP_NETDEV_RAW_IP };
		}
	}
	timer_wheel_init(&st->timers, stack_now_ns(st) / 1000000u);
	if (err) {
		stack_destroy(st);
		errno = -err;
		return NULL;
	}
	return st;
}

struct dtcp_stack *dtcp_stack_new_config(const struct dtcp_stack_config *cfg)
{
	return stack_create(cfg, &stack_env_system);
}

struct dtcp_stack *dtcp_stack_new(void)
{
	return stack_create(NULL, &stack_env_system);
}

void dtcp_stack_free(struct dtcp_stack *st)
{
	if (!st)
		return;
	/* Teardown may walk everything: sockets with a descriptor, then the
	 * descriptor-less ones (TIME_WAIT) still in the established table. */
	for (uint32_t i = 0; i < st->socks.max && st->socks.count; i++) {
		struct inet_sock *sk = st->socks.fds[i];

		if (sk) {
			inet_release(st, sk);
			sock_destroy(st, sk);
		}
	}
	ehash_flush(&st->eh);
	for (uint64_t i = 0; i < ehash_slots(&st->eh) && st->eh.count; i++) {
		struct inet_sock *sk = ehash_at(&st->eh, i);

		if (sk) {
			inet_release(st, sk);
			sock_destroy(st, sk);
		}
	}
	stack_destroy(st);
}

int dtcp_stack_poll(struct dtcp_stack *st)
{
	bool was;
	int done;

	if (!st)
		return api_ret(-EINVAL);
	/* What arrived is processed before timers run: after a pause, an ACK
	 * waiting in a queue must not lose the race against the timer it
	 * would have stopped (a needless retransmission). Bounded. */
	done = 0;
	was = stack_clock_hold(st);   /* inside a socket call: the call's hold goes on, with this time */
	st->clock_ns = st->env.now_ns(st->env.arg);
	st->clock_valid = true;
	for (int i = 0; i < 64; i++) {
		int n = netif_poll_all(st);

		done += n;
		if (!n)
			break;
	}
	done += (int)timer_wheel_advance(&st->timers, st->clock_ns / 1000000u);
	if (st->poll_hook)
		st->poll_hook(st, st->poll_hook_arg);
	stack_clock_release(st, was);
	return done;
}

int dtcp_sysctl_set(struct dtcp_stack *st, const char *name, const char *value)
{
	if (!st || !name)
		return api_ret(-EINVAL);
	return api_ret(sysctl_write(&st->sysctl, name, value));
}

int dtcp_sysctl_get(struct dtcp_stack *st, const char *name, char *buf, size_t len)
{
	if (!st || !name || !buf || !len)
		return api_ret(-EINVAL);
	return api_ret(sysctl_read(&st->sysctl, name, buf, len));
}

int dtcp_addr_add(struct dtcp_stack *st, const char *ifname, const char *cidr)
{
	if (!st)
		return api_ret(-EINVAL);
	return api_ret(ifaddr_add(&st->ifs, ifname, cidr));
}

int dtcp_addr_del(struct dtcp_stack *st, const char *ifname, const char *cidr)
{
	if (!st)
		return api_ret(-EINVAL);
	return api_ret(ifaddr_del(&st->ifs, ifname, cidr));
}

int dtcp_route_add(struct dtcp_stack *st, const char *dst, const char *via, const char *ifname)
{
	if (!st)
		return api_ret(-EINVAL);
	return api_ret(ifaddr_route_add(&st->ifs, dst, via, ifname));
}

int dtcp_route_del(struct dtcp_stack *st, const char *dst)
{
	if (!st)
		return api_ret(-EINVAL);
	return api_ret(ifaddr_route_del(&st->ifs, dst));
}

void dtcp_cred_set(struct dtcp_stack *st, uid_t uid, uint32_t caps)
{
	if (!st)
		return;
	st->uid = (uint32_t)uid;
	st->caps = caps & DTCP_CAP_ALL;
}

int dtcp_stack_pools(struct dtcp_stack *st, struct dtcp_pool_stats *out, int n)
{
	const struct pool *pools[] = {
		&st->sock_pool, &st->bt.tb_pool, &st->bt.tb2_pool,
		&st->dt.entry_pool, &st->dt.dense_pool, &st->dt.chunk_pool, &st->nt.pool,
		&st->ooo_pool, &st->ooo_range_pool,
	};
	int count = (int)(sizeof(pools) / sizeof(pools[0]));

	for (int i = 0; i < count && i < n; i++) {
		out[i] = (struct dtcp_pool_stats){
			.name = pools[i]->name,
			.in_use = pools[i]->in_use,
			.high_water = pools[i]->high_water,
			.failures = pools[i]->failures,
			.limit = pools[i]->limit,
			.obj_size = pools[i]->obj_size,
		};
	}
	return count;
}
