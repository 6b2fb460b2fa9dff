/* lwip-glue: Debian's liblwip (2.1.3, the GNU Hurd port: NO_SYS=0, a tcpip
 * thread with core locking, the lwip_* socket calls) in this process, for
 * comparison with dtcp: the library loaded by hand, its tcpip thread started,
 * and a loopback (127.0.0.1/8 and ::1, plus one netif per extra 127.x
 * address). One lwIP per process; it lives until the process ends. Used by
 * the conformance suite's lwip backend and by dtcp-flows --backend lwip. */
#ifndef DTCP_LWIP_GLUE_H
#define DTCP_LWIP_GLUE_H

#include <stdbool.h>
#include <stdint.h>

#include <lwip/ip4_addr.h>
#include <lwip/ip6_addr.h>
#include <lwip/netif.h>
#include <lwip/sockets.h>
#include <lwip/tcpip.h>

/* Most extra 127.x addresses (netifs of their own, see
 * lwip_glue_local_ensure): lwIP numbers netifs with a u8 and refuses a
 * 256th. */
#define LWIP_GLUE_MAX_ALIASES 250

/* The lwIP calls the users of this module make, taken from the loaded
 * library (see lwip_glue_create). */
#define LWIP_GLUE_API(X) \
	X(tcpip_init) X(tcpip_input) X(tcpip_callback_wait) \
	X(sys_lock_tcpip_core) X(sys_unlock_tcpip_core) \
	X(netif_add) X(netif_add_ip6_address) X(netif_ip6_addr_set_state) X(netif_set_default) \
	X(netif_set_up) X(netif_set_down) X(netif_set_link_up) X(netif_set_link_down) \
	X(netif_loop_output) \
	X(lwip_socket) X(lwip_bind) X(lwip_connect) X(lwip_listen) X(lwip_accept) X(lwip_close) \
	X(lwip_setsockopt) X(lwip_getsockopt) X(lwip_getsockname) X(lwip_getpeername) \
	X(lwip_sendto) X(lwip_sendmsg) X(lwip_recvmsg) X(lwip_poll)

#define LWIP_GLUE_API_FIELD(f) __typeof__(f) *f;
struct lwip_glue_api {
	LWIP_GLUE_API(LWIP_GLUE_API_FIELD)
};
#undef LWIP_GLUE_API_FIELD

struct lwip_glue {
	struct lwip_glue_api api;
	struct netif lo;               /* 127.0.0.1/8 and ::1, the default netif */
	struct netif alias[LWIP_GLUE_MAX_ALIASES];
	int naliases;
};

/**
 * Load liblwip, start its tcpip thread and bring up the loopback. The
 * result lives until the process ends (lwIP cannot be stopped).
 * @return 0, -EBUSY (called before in this process), -ENOENT (no liblwip.so.0
 *         or a call missing from it; said on stderr), -ENOMEM.
 */
int lwip_glue_create(struct lwip_glue **out);

/**
 * Give the IPv4 address `addr` (host order) a netif of its own, so lwIP
 * accepts packets to it. Caller holds the core lock.
 * @return 0, -ENOBUFS (LWIP_GLUE_MAX_ALIASES reached), -ENOMEM.
 */
int lwip_glue_alias_add(struct lwip_glue *g, uint32_t addr);

/** The up alias netif of `addr` (host order), or NULL. Caller holds the core lock. */
struct netif *lwip_glue_alias_lookup(struct lwip_glue *g, uint32_t addr);

/**
 * Make the IPv4 address `addr` (host order) local if it is not yet: an
 * alias netif unless it is 127.0.0.1, 0.0.0.0 or already has one. Takes the
 * core lock. @return 0, or as lwip_glue_alias_add.
 */
int lwip_glue_local_ensure(struct lwip_glue *g, uint32_t addr);

/** Wait until the packets in flight on the loopback have been handled. */
void lwip_glue_settle(struct lwip_glue *g);

#endif
