/* pcapng capture of what a port sends and receives, with DPDK's pcapng
 * library: every packet is copied into the capture's own pool (the stack's
 * mbufs are only read, so zero copy holds for them) and the copies are
 * written a burst at a time. Failures are counted, never returned to the
 * data path. Threads: see capture.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_version.h>

#include "capture.h"
#include "port.h"

/* Copies live from the burst that makes them until that burst's write, so
 * a few bursts' worth per queue is plenty. */
#define CAPTURE_MBUFS_PER_QUEUE 512

static uint64_t capture_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int capture_open(const char *path, uint16_t port_id, uint32_t snaplen, uint16_t mtu,
		 uint16_t nb_queues, struct port_capture **out)
{
	char name[RTE_MEMPOOL_NAMESIZE], app[64];
	struct port_capture *c;
	uint32_t room;
	int fd, rc;

	if (!snaplen)
		snaplen = (uint32_t)mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;
	/* Room for the snap, the block header prepended and the options and
	 * trailer appended in one segment: an mbuf's data room is 16 bits. */
	room = RTE_PKTMBUF_HEADROOM + rte_pcapng_mbuf_size(snaplen);
	if (room > UINT16_MAX)
		return -EINVAL;
	c = rte_zmalloc("dtcp_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (!c)
		return -ENOMEM;
	c->snaplen = snaplen;
	c->port_id = port_id;
	rte_spinlock_init(&c->lock);
	snprintf(name, sizeof(name), "dtcp_cap%u", port_id);
	c->pool = rte_pktmbuf_pool_create(name, CAPTURE_MBUFS_PER_QUEUE * (unsigned int)nb_queues,
					  0, 0, (uint16_t)room, SOCKET_ID_ANY);
	if (!c->pool) {
		rc = port_rte_err(rte_errno);
		goto free_c;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto free_pool;
	}
	/* Writes the section header and an interface block for every port
	 * that exists now; packets name theirs by port id. */
	snprintf(app, sizeof(app), "dtcp on %s", rte_version());
	c->pcapng = rte_pcapng_fdopen(fd, NULL, NULL, app, NULL);
	if (!c->pcapng) {
		rc = port_rte_err(rte_errno);
		close(fd);
		unlink(path);
		goto free_pool;
	}
	c->start_ns = capture_now_ns();
	*out = c;
	return 0;

free_pool:
	rte_mempool_free(c->pool);
free_c:
	rte_free(c);
	return rc;
}

void capture_close(struct port_capture *c, uint64_t seen, uint64_t lost)
{
	if (!c)
		return;
	/* Closing must happen whatever the statistics write says. */
	rte_pcapng_write_stats(c->pcapng, c->port_id, NULL, c->start_ns, capture_now_ns(),
			       seen, lost);
	rte_pcapng_close(c->pcapng);
	rte_mempool_free(c->pool);
	rte_free(c);
}

/* The head of a pcapng enhanced packet block, in the writer's byte order
 * (the section header says which). */
struct capture_epb_head {
	uint32_t block_type;
	uint32_t block_len;
	uint32_t if_id;
	uint32_t ts_hi;
	uint32_t ts_lo;
};

void capture_copy(struct port_capture *c, uint16_t queue, struct rte_mbuf *const *mb,
		  uint16_t n, enum rte_pcapng_direction dir, struct rte_mbuf **cp, uint64_t *fail)
{
	/* DPDK 22.11's own TSC -> time conversion gives dates centuries off
	 * here (its clock reference is taken when the library loads, before
	 * EAL knows the TSC rate), so each copy is stamped with the wall clock
	 * instead, once per burst, in the interface's nanosecond resolution. */
	uint64_t ns = capture_now_ns();

	for (uint16_t i = 0; i < n; i++) {
		cp[i] = rte_pcapng_copy(c->port_id, queue, mb[i], c->pool, c->snaplen, 0, dir);
		if (!cp[i]) {
			(*fail)++;
			continue;
		}
		struct capture_epb_head *h = rte_pktmbuf_mtod(cp[i], struct capture_epb_head *);

		h->ts_hi = (uint32_t)(ns >> 32);
		h->ts_lo = (uint32_t)ns;
	}
}

void capture_write(struct port_capture *c, struct rte_mbuf **cp, uint16_t nw, uint16_t n,
		   uint64_t *fail)
{
	struct rte_mbuf *w[PORT_BURST];
	uint16_t k = 0;

	size_t bytes = 0;

	for (uint16_t i = 0; i < nw; i++) {
		if (cp[i]) {
			w[k++] = cp[i];
			bytes += rte_pktmbuf_pkt_len(cp[i]);
		}
	}
	if (k) {
		ssize_t rc;

		rte_spinlock_lock(&c->lock);
		rc = rte_pcapng_write_packets(c->pcapng, w, k);
		rte_spinlock_unlock(&c->lock);
		/* A short write (disk full, file size limit) leaves a block cut
		 * off: which packets made it is unknown, so all count as lost. */
		if (rc < 0 || (size_t)rc != bytes)
			*fail += k;
	}
	/* DPDK 22.11's writer leaves the mbufs to the caller. */
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(cp[i]);
}
