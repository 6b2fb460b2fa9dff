/* dtcp-flows' lwip backend where meson found no lwIP: it is listed, but
 * create() fails with ENOTSUP and says why. */
#include <errno.h>
#include <stdio.h>

#include "flows.h"

static int none_create(const struct flows_backend_ops *ops, const struct flows_config *cfg,
                       struct flows_backend **out, struct flows_error *err)
{
	(void)ops;
	(void)cfg;
	(void)out;
	fprintf(stderr, "dtcp-flows: this dtcp-flows was built without lwIP (liblwip-dev was not found when meson "
	                "configured the build); install liblwip-dev and reconfigure\n");
	return flows_fail(err, "lwip backend", ENOTSUP);
}

const bool flows_lwip_built = false;

const struct flows_backend_ops flows_lwip_ops = {
	.name = "lwip",
	.addrs = &flows_loopback_plan,
	.create = none_create,
};
