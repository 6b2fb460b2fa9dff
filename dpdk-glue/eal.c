/* EAL start-up and clean-up for the DPDK backend. EAL's state is the one
 * process-wide state the glue has, and DPDK forces it. Main thread only. */
#include <errno.h>

#include <dtcp/dpdk.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "port.h"

int dtcp_dpdk_eal_init(int argc, char **argv)
{
	int rc;

	if (argc < 1 || !argv || !argv[0])
		return port_api_ret(-EINVAL);
	rc = rte_eal_init(argc, argv);
	/* rte_eal_init() reports a second call (even after rte_eal_cleanup())
	 * as EALREADY without touching anything: it is safe to try. */
	return port_api_ret(rc < 0 ? port_rte_err(rte_errno) : rc);
}

int dtcp_dpdk_eal_cleanup(void)
{
	int rc = rte_eal_cleanup();

	return port_api_ret(rc < 0 ? port_rte_err(-rc) : 0);
}
