/* Stack lifecycle, configuration under the kernel's sysctl names, and
 * interface addresses.
 *
 * A stack is used by one thread at a time (run to completion, no locks);
 * several stacks can live in one process. */
#ifndef DTCP_STACK_H
#define DTCP_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_stack;

/** Sizes fixed when a stack is created. Zero fields take the defaults. */
struct dtcp_stack_config {
	uint32_t max_sockets;     /**< socket descriptors and control blocks (default 4,194,304) */
	uint32_t ehash_buckets;   /**< established-table buckets, rounded up to a power of two
	                               (default: max_sockets) */
	uint32_t bhash2_buckets;  /**< (port, address) bucket table size (default: max_sockets) */
	uint32_t lhash_buckets;   /**< listener table size (default 4,096) */
	/** Map and zero the connection, address-bucket and descriptor tables
	 *  at creation (about 32 bytes per max_sockets), as the kernel's hash
	 *  tables are at boot: no connection then waits for a page of them to
	 *  be faulted in. Default: pages are mapped as first used. */
	bool prefault;
};

/**
 * Create a stack with a loopback device "lo" carrying 127.0.0.1/8 and ::1/128
 * and the kernel's default sysctls. The hash secret comes from a real random
 * source.
 * @return the stack, or NULL with errno ENOMEM.
 */
struct dtcp_stack *dtcp_stack_new(void);

/** As dtcp_stack_new(), with explicit sizes. NULL with errno EINVAL or ENOMEM. */
struct dtcp_stack *dtcp_stack_new_config(const struct dtcp_stack_config *cfg);

/** Close every socket of the stack and free it. NULL is allowed. */
void dtcp_stack_free(struct dtcp_stack *st);

/**
 * Write a sysctl, validated as a write to /proc/sys is:
 * dtcp_sysctl_set(st, "net.ipv4.ip_local_port_range", "40000 40000").
 * Names may use '.' or '/' as separator.
 * @return 0, or -1 with errno ENOENT (unknown name) or EINVAL (bad value).
 */
int dtcp_sysctl_set(struct dtcp_stack *st, const char *name, const char *value);

/**
 * Read a sysctl as /proc/sys shows it (no trailing newline).
 * @return the length written (truncated to len - 1), or -1 with errno ENOENT
 *         or EINVAL (buf NULL or len 0).
 */
int dtcp_sysctl_get(struct dtcp_stack *st, const char *name, char *buf, size_t len);

/**
 * Add an address to an interface: dtcp_addr_add(st, "lo", "198.18.0.1/15").
 * A prefix on a loopback interface makes the whole prefix local (as Linux's lo).
 * @return 0, or -1 with errno ENODEV (no such interface), EINVAL (bad text),
 *         EEXIST (already there) or ENOMEM.
 */
int dtcp_addr_add(struct dtcp_stack *st, const char *ifname, const char *cidr);

/** Remove an address. -1 with ENODEV, EINVAL or EADDRNOTAVAIL (not there). */
int dtcp_addr_del(struct dtcp_stack *st, const char *ifname, const char *cidr);

/**
 * Add a route, as "ip route add DST [via GW] dev IFNAME": dst is "default"
 * (the family of via, IPv4 without one) or a CIDR such as "203.0.113.0/24"
 * or "::/0"; via is a gateway on a connected prefix of the interface (an
 * IPv6 link-local gateway is always on-link), or NULL for a device route.
 * Addresses on the interface's own prefixes need no route. The longest
 * matching prefix wins; a connected prefix wins a tie. At most 32 routes.
 * @return 0, or -1 with errno EINVAL (bad text, mixed families, host bits
 *         set in dst), ENODEV, ENETUNREACH (gateway not on-link), EEXIST
 *         (dst already routed) or ENOSPC.
 */
int dtcp_route_add(struct dtcp_stack *st, const char *dst, const char *via, const char *ifname);

/** Remove the route to dst ("default" is IPv4's; "::/0" IPv6's). -1 with EINVAL or ESRCH. */
int dtcp_route_del(struct dtcp_stack *st, const char *dst);

/**
 * Drive the stack once: receive a burst from every link, run due timers,
 * send what is ready. Single-threaded programs call it in their loop.
 * @return how many packets and timers it processed (0: nothing to do).
 */
int dtcp_stack_poll(struct dtcp_stack *st);

/** Capabilities that dtcp checks, as the kernel names them. */
#define DTCP_CAP_NET_BIND_SERVICE (1u << 0)
#define DTCP_CAP_NET_ADMIN        (1u << 1)
#define DTCP_CAP_NET_RAW          (1u << 2)
#define DTCP_CAP_ALL              (DTCP_CAP_NET_BIND_SERVICE | DTCP_CAP_NET_ADMIN | DTCP_CAP_NET_RAW)

/**
 * Set the credentials that the stack's later calls act with, as a process's
 * euid and effective capabilities: a socket records the uid that created it
 * (SO_REUSEPORT groups), bind() below ip_unprivileged_port_start needs
 * DTCP_CAP_NET_BIND_SERVICE. The default is the process's euid with
 * DTCP_CAP_ALL (the application owns the stack).
 */
void dtcp_cred_set(struct dtcp_stack *st, uid_t uid, uint32_t caps);

/** Usage of one of the stack's typed memory pools. */
struct dtcp_pool_stats {
	const char *name;
	uint64_t in_use;
	uint64_t high_water;
	uint64_t failures;  /**< allocations refused at the configured limit */
	uint64_t limit;
	uint32_t obj_size;
};

/**
 * Fill up to n entries with the stack's pool statistics.
 * @return the number of pools (which may exceed n).
 */
int dtcp_stack_pools(struct dtcp_stack *st, struct dtcp_pool_stats *out, int n);

#ifdef __cplusplus
}
#endif
#endif
