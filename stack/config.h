/* Per-stack settings under the kernel's sysctl names, and their parser:
 * every write is validated as a write to /proc/sys is (same ranges, same
 * EINVAL cases). Called on the stack's thread only. */
#ifndef DTCP_CONFIG_H
#define DTCP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define PORT_BITMAP_WORDS (65536 / 64)

struct stack_sysctl {
	int port_lo, port_hi;          /* net.ipv4.ip_local_port_range */
	int unpriv_port_start;         /* net.ipv4.ip_unprivileged_port_start */
	int somaxconn;                 /* net.core.somaxconn */
	int tcp_tw_reuse_delay;        /* net.ipv4.tcp_tw_reuse_delay (ms) */
	int rmem_max, wmem_max;        /* net.core.rmem_max / wmem_max */
	int tcp_max_syn_backlog;       /* net.ipv4.tcp_max_syn_backlog */
	int tcp_rmem[3], tcp_wmem[3];  /* net.ipv4.tcp_rmem / tcp_wmem: min, default, max (bytes) */
	uint8_t autobind_reuse;        /* net.ipv4.ip_autobind_reuse */
	uint8_t nonlocal_bind;         /* net.ipv4.ip_nonlocal_bind */
	uint8_t ip6_nonlocal_bind;     /* net.ipv6.ip_nonlocal_bind */
	uint8_t tcp_tw_reuse;          /* net.ipv4.tcp_tw_reuse */
	uint8_t tcp_timestamps;        /* net.ipv4.tcp_timestamps */
	uint64_t reserved[PORT_BITMAP_WORDS]; /* net.ipv4.ip_local_reserved_ports */
};

void sysctl_defaults(struct stack_sysctl *sc);
/* 0, -ENOENT (unknown name) or -EINVAL. */
int sysctl_write(struct stack_sysctl *sc, const char *name, const char *value);
/* Length of the text (which is cut to len - 1 bytes), or -ENOENT. */
int sysctl_read(const struct stack_sysctl *sc, const char *name, char *buf, size_t len);

static inline int sysctl_port_reserved(const struct stack_sysctl *sc, uint32_t port)
{
	return (sc->reserved[port >> 6] >> (port & 63)) & 1;
}

#endif
