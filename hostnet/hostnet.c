/* A private network namespace with lo up (see hostnet.h). */
#include "hostnet.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char **what, const char *step, int err)
{
	if (what)
		*what = step;
	return -err;
}

int hostnet_private_lo(int mtu, const char **what)
{
	struct ifreq ifr;
	int s, r = 0;

	if (geteuid() != 0)
		return fail(what, "unshare(CLONE_NEWNET) (root needed)", EPERM);
	if (unshare(CLONE_NEWNET) < 0)
		return fail(what, "unshare(CLONE_NEWNET)", errno);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail(what, "socket(AF_INET, SOCK_DGRAM)", errno);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (mtu) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			r = fail(what, "ioctl(SIOCSIFMTU lo)", errno);
	}
	if (!r && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = fail(what, "ioctl(SIOCGIFFLAGS lo)", errno);
	ifr.ifr_flags |= IFF_UP;
	if (!r && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = fail(what, "ioctl(SIOCSIFFLAGS lo up)", errno);
	close(s);
	return r;
}
