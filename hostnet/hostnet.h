/* The Linux side of the comparisons (conformance suite, dtcp-flows'
 * kernel backend, benchmarks): a private network namespace for the calling
 * process, so the host's own configuration is never touched. */
#ifndef DTCP_HOSTNET_H
#define DTCP_HOSTNET_H

/* Move the calling process into a network namespace of its own with lo up
 * (its MTU set to mtu unless 0). 0, or -errno: EPERM without root, else
 * what unshare() or the interface ioctl gave; *what (if not NULL) names the
 * step that failed. */
int hostnet_private_lo(int mtu, const char **what);

#endif
