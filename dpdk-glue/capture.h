/* A port's pcapng capture (dtcp/dpdk.h, capture_path): the file, the pool
 * its copies come from, and the copy/write steps the rx and tx bursts call.
 * Open and close on the control path; copy and write from any queue's
 * thread (the file write is serialised by a lock). */
#ifndef DTCP_DPDK_CAPTURE_H
#define DTCP_DPDK_CAPTURE_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_spinlock.h>

struct port_capture {
	rte_pcapng_t *pcapng;
	struct rte_mempool *pool;    /* copies only: never a stack mbuf */
	uint32_t snaplen;
	uint16_t port_id;
	rte_spinlock_t lock;         /* one writer of the file at a time */
	uint64_t start_ns;
};

/* Open path for writing (truncated) and write the section header and one
 * interface block per ethdev port, port_id's among them. snaplen 0: the
 * frame of an IP packet of mtu bytes. @return 0, or -errno (the open's, or
 * -ENOMEM, -EIO). */
int capture_open(const char *path, uint16_t port_id, uint32_t snaplen, uint16_t mtu,
		 uint16_t nb_queues, struct port_capture **out);

/* Write the statistics block (packets seen, packets lost to the capture),
 * close the file and free the pool. NULL is a no-op. */
void capture_close(struct port_capture *c, uint64_t seen, uint64_t lost);

/* Copy mb[0..n) (whose mbuf fields must be current) into cp[0..n) as
 * pcapng blocks stamped now; a copy that fails is NULL and counted in
 * *fail. The originals are only read. */
void capture_copy(struct port_capture *c, uint16_t queue, struct rte_mbuf *const *mb,
		  uint16_t n, enum rte_pcapng_direction dir, struct rte_mbuf **cp, uint64_t *fail);

/* Write the copies cp[0..nw) that exist, and free all of cp[0..n): those
 * past nw are packets the device did not take. A failed write is counted
 * in *fail, per packet, and changes nothing else. */
void capture_write(struct port_capture *c, struct rte_mbuf **cp, uint16_t nw, uint16_t n,
		   uint64_t *fail);

#endif
