/* dtcp-flows' dpdk backend where meson found no libdpdk: it is listed, but
 * create() fails with ENOTSUP and says why. The default backend is then
 * dtcp (flows_dpdk_built). */
#include <errno.h>
#include <stdio.h>

#include "flows.h"

static int none_create(const struct flows_backend_ops *ops, const struct flows_config *cfg,
                       struct flows_backend **out, struct flows_error *err)
{
	(void)ops;
	(void)cfg;
	(void)out;
	fprintf(stderr, "dtcp-flows: this dtcp-flows was built without DPDK (libdpdk was not found when meson "
	                "configured the build); install libdpdk-dev and reconfigure, or use --backend dtcp\n");
	return flows_fail(err, "dpdk backend", ENOTSUP);
}

const bool flows_dpdk_built = false;

const struct flows_backend_ops flows_dpdk_ops = {
	.name = "dpdk",
	.addrs = &flows_loopback_plan,
	.create = none_create,
};
