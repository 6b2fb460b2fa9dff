/* lwip-glue: liblwip loaded by hand, its tcpip thread, the loopback netifs.
 * lwip_glue_create() once per process, from any thread; the netif calls
 * take or need the tcpip core lock as their comments say. */
#include "lwip_glue.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Debian's soname of liblwip. */
#define LWIP_SONAME "liblwip.so.0"
/* Rounds of the tcpip thread's queue one settle waits for at most. */
#define SETTLE_MAX_ROUNDS 64

/* liblwip is not linked: it defines tcp_close(), tcp_bind(), ... as dtcp's
 * core does, and a program's own definitions would win over the library's
 * for the library's internal calls. It is loaded with RTLD_DEEPBIND, so
 * that it binds to itself first, and the entry points are taken from it. */
static int glue_load(struct lwip_glue_api *api)
{
	void *h = dlopen(LWIP_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	const char *missing = NULL;

	if (!h) {
		fprintf(stderr, "lwip: %s\n", dlerror());
		return -ENOENT;
	}
#define LWIP_GLUE_API_LOAD(f) \
	api->f = (__typeof__(f) *)dlsym(h, #f); \
	missing = missing ? missing : api->f ? NULL : #f;
	LWIP_GLUE_API(LWIP_GLUE_API_LOAD)
#undef LWIP_GLUE_API_LOAD
	if (missing) {
		fprintf(stderr, "lwip: no %s in %s\n", missing, LWIP_SONAME);
		return -ENOENT;
	}
	return 0;
}

/* ---- the loopback ----
 * lwIP loops a packet back by itself only when it is sent to the sending
 * netif's own address (and, for IPv6, to ::1); anything else goes to the
 * netif's output function. These output functions send everything back in
 * through netif_loop_output(), which queues a copy and has the tcpip thread
 * feed it to ip_input(), so every packet the stack sends to a 127.x or ::1
 * destination comes back to it. On input, lwIP accepts an IPv4 packet only
 * for an address of one of its netifs (or exactly 127.0.0.1), not the whole
 * 127.0.0.0/8 that Linux's lo owns: hence the alias netifs. Each netif's
 * state is its struct lwip_glue. */

static err_t lo_output4(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)dst;
	return ((struct lwip_glue *)netif->state)->api.netif_loop_output(netif, p);
}

static err_t lo_output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
	(void)dst;
	return ((struct lwip_glue *)netif->state)->api.netif_loop_output(netif, p);
}

static err_t lo_init(struct netif *netif)
{
	netif->name[0] = 'l';
	netif->name[1] = 'o';
	netif->mtu = 65535 - 40;   /* pbuf lengths are 16 bits */
	netif->output = lo_output4;
	netif->output_ip6 = lo_output6;
	netif->flags = 0;          /* no ARP, no broadcast, no MLD: a loopback */
	return ERR_OK;
}

/* An alias is up, so ip4_input() accepts packets to it, with its link down,
 * so ip4_route() never picks it and every 127.x packet leaves through lo
 * with lo's source address, as Linux's local route "src 127.0.0.1" does. */
int lwip_glue_alias_add(struct lwip_glue *g, uint32_t addr)
{
	ip4_addr_t a, m, gw;
	struct netif *n;

	if (g->naliases == LWIP_GLUE_MAX_ALIASES)
		return -ENOBUFS;
	n = &g->alias[g->naliases];
	ip4_addr_set_u32(&a, htonl(addr));
	ip4_addr_set_u32(&m, 0xffffffffu);
	ip4_addr_set_zero(&gw);
	if (!g->api.netif_add(n, &a, &m, &gw, g, lo_init, g->api.tcpip_input))
		return -ENOMEM;
	g->api.netif_set_link_down(n);
	g->api.netif_set_up(n);
	g->naliases++;
	return 0;
}

struct netif *lwip_glue_alias_lookup(struct lwip_glue *g, uint32_t addr)
{
	for (int i = 0; i < g->naliases; i++)
		if (netif_is_up(&g->alias[i]) && ip4_addr_get_u32(netif_ip4_addr(&g->alias[i])) == htonl(addr))
			return &g->alias[i];
	return NULL;
}

int lwip_glue_local_ensure(struct lwip_glue *g, uint32_t addr)
{
	int r = 0;

	if (addr == INADDR_LOOPBACK || addr == INADDR_ANY)
		return 0;
	g->api.sys_lock_tcpip_core();
	if (!lwip_glue_alias_lookup(g, addr))
		r = lwip_glue_alias_add(g, addr);
	g->api.sys_unlock_tcpip_core();
	return r;
}

static void settle_noop(void *arg)
{
	(void)arg;
}

static bool loop_pending(struct lwip_glue *g)
{
	bool pending = g->lo.loop_first != NULL;

	for (int i = 0; i < g->naliases; i++)
		pending |= g->alias[i].loop_first != NULL;
	return pending;
}

/* The tcpip thread runs its queue in order: once a no-op posted behind the
 * loopback's poll has run, what was queued before it is done; repeat while
 * handling it queued more. */
void lwip_glue_settle(struct lwip_glue *g)
{
	bool pending = true;

	for (int i = 0; i < SETTLE_MAX_ROUNDS && pending; i++) {
		g->api.tcpip_callback_wait(settle_noop, NULL);
		g->api.sys_lock_tcpip_core();
		pending = loop_pending(g);
		g->api.sys_unlock_tcpip_core();
	}
}

static void tcpip_ready(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

int lwip_glue_create(struct lwip_glue **out)
{
	static atomic_int ready;
	static atomic_bool started;
	struct lwip_glue *g;
	ip4_addr_t a, m, gw;
	ip6_addr_t a6;
	s8_t idx;
	int r;

	if (atomic_exchange(&started, true))
		return -EBUSY;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = glue_load(&g->api);
	if (r)
		goto err_free;
	g->api.tcpip_init(tcpip_ready, &ready);
	while (!atomic_load(&ready))
		usleep(100);

	IP4_ADDR(&a, 127, 0, 0, 1);
	IP4_ADDR(&m, 255, 0, 0, 0);
	ip4_addr_set_zero(&gw);
	g->api.sys_lock_tcpip_core();
	if (!g->api.netif_add(&g->lo, &a, &m, &gw, g, lo_init, g->api.tcpip_input)) {
		g->api.sys_unlock_tcpip_core();
		r = -ENOMEM;
		goto err_free;
	}
	/* ::1 as an address lwIP uses at once: no duplicate detection. */
	ip6_addr_set_loopback(&a6);
	if (g->api.netif_add_ip6_address(&g->lo, &a6, &idx) == ERR_OK)
		g->api.netif_ip6_addr_set_state(&g->lo, idx, IP6_ADDR_PREFERRED);
	g->api.netif_set_default(&g->lo);
	g->api.netif_set_link_up(&g->lo);
	g->api.netif_set_up(&g->lo);
	g->api.sys_unlock_tcpip_core();
	*out = g;
	return 0;

err_free:
	free(g);
	return r;
}
