/* setsockopt/getsockopt: IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE and
 * the rest, with the kernel's length rules (spec 2.2, 4; cases of 8.1). */
#include "harness.h"

#include <string.h>

TestSuite(sockopt, .init = th_setup, .fini = th_teardown);

static int getint(int fd, int level, int name, socklen_t *len)
{
	int v = -7;
	socklen_t l = sizeof(v);

	cr_assert_eq(dtcp_getsockopt(st, fd, level, name, &v, len ? len : &l), 0, "%s", strerror(errno));
	return v;
}

static int setint(int fd, int level, int name, int v, socklen_t len)
{
	return dtcp_setsockopt(st, fd, level, name, &v, len) ? errno : 0;
}

Test(sockopt, opt_default_zero)
{
	int fd = th_socket(AF_INET, NULL);
	socklen_t len = sizeof(int);

	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &len), 0);
	cr_assert_eq(len, 4);
}

Test(sockopt, opt_set_get)
{
	int fd = th_socket(AF_INET, NULL);

	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, 4), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 1);
	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 0, 4), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 0);
}

Test(sockopt, opt_nonzero_normalised)
{
	int fd = th_socket(AF_INET, NULL);

	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 42, 4), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 1);
	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, -1, 4), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 1);
}

Test(sockopt, opt_short_optlen)
{
	int fd = th_socket(AF_INET, NULL);
	unsigned char two[2] = { 0, 1 }, one = 1;

	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, 1), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 1);
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, two, 2), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 0, "only the first byte");
	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, 4), 0);
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL, 0), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 0, "optlen 0 clears");
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL, 4), -1);
	cr_assert_eq(errno, EFAULT);
}

Test(sockopt, opt_getsockopt_lengths)
{
	int fd = th_socket(AF_INET, "n");
	unsigned char buf[8];
	socklen_t len;

	memset(buf, 0xee, sizeof(buf));
	len = 1;
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, buf, &len), 0);
	cr_assert_eq(len, 1);
	cr_assert_eq(buf[0], 1);
	cr_assert_eq(buf[1], 0xee);
	len = 0;
	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, buf, &len), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(buf[0], 0xee, "buffer untouched");
	len = 8;
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, buf, &len), 0);
	cr_assert_eq(len, 4);
	len = (socklen_t)-1;
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, buf, &len), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(sockopt, opt_v6_sol_ip)
{
	int fd = th_socket(AF_INET6, NULL);

	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, 4), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 1);
	cr_assert_eq(setint(fd, SOL_IPV6, 24, 1, 4), EINVAL, "optname 24 at SOL_IPV6 is IPV6_MTU");
	cr_assert_eq(getint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, NULL), 1);
	cr_assert_eq(setint(fd, SOL_IPV6, IPV6_MTU, 1280, 4), 0);
}

Test(sockopt, opt_set_after_bind_no_effect)
{
	int fd = th_socket(AF_INET, NULL), p;

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	p = th_port(fd);
	cr_assert_eq(setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, 4), 0);
	cr_assert_eq(th_port(fd), p);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(fd), p);
}

Test(sockopt, lpr_get_set)
{
	int fd = th_socket(AF_INET, NULL);
	uint32_t v = 0;
	uint64_t big = 40000;
	socklen_t len = sizeof(v);

	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, &len), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, 2), -1);
	cr_assert_eq(errno, EINVAL);
	v = 50000u | 40000u << 16;
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, 4), -1);
	cr_assert_eq(errno, EINVAL, "lo > hi");
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &big, 8), -1);
	cr_assert_eq(errno, EINVAL);
	v = 50000;
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, 4), 0);
	v = 0;
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, &len), 0);
	cr_assert_eq(v, 50000);
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &(uint32_t){ 0 }, 4), 0);
	cr_assert_eq(getint(fd, SOL_IP, IP_LOCAL_PORT_RANGE, NULL), 0);
}

Test(sockopt, sol_socket)
{
	int fd = th_socket(AF_INET6, NULL);

	cr_assert_eq(setint(fd, SOL_SOCKET, SO_REUSEADDR, 1, 2), EINVAL, "int options need 4 bytes");
	cr_assert_eq(setint(fd, SOL_SOCKET, SO_REUSEADDR, 5, 4), 0);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_REUSEADDR, NULL), 1);
	cr_assert_eq(setint(fd, SOL_SOCKET, SO_REUSEPORT, 1, 4), 0);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_REUSEPORT, NULL), 1);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_TYPE, NULL), SOCK_STREAM);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_DOMAIN, NULL), AF_INET6);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_PROTOCOL, NULL), IPPROTO_TCP);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_ERROR, NULL), 0);
	cr_assert_eq(getint(fd, SOL_SOCKET, SO_ACCEPTCONN, NULL), 0);
	cr_assert_eq(setint(fd, SOL_SOCKET, SO_TYPE, 1, 4), ENOPROTOOPT);
}

Test(sockopt, unknown_options_enoprotoopt)
{
	int fd4 = th_socket(AF_INET, NULL), fd6 = th_socket(AF_INET6, NULL);
	int v = 1;
	socklen_t len = sizeof(v);

	cr_assert_eq(setint(fd4, SOL_SOCKET, 9999, 1, 4), ENOPROTOOPT);
	cr_assert_eq(setint(fd4, SOL_IP, 9999, 1, 4), ENOPROTOOPT);
	cr_assert_eq(setint(fd4, SOL_IPV6, IPV6_V6ONLY, 1, 4), ENOPROTOOPT, "SOL_IPV6 on an IPv4 socket");
	cr_assert_eq(setint(fd6, SOL_IPV6, 9999, 1, 4), ENOPROTOOPT);
	cr_assert_eq(setint(fd6, 12345, 1, 1, 4), ENOPROTOOPT);
	cr_assert_eq(dtcp_getsockopt(st, fd4, SOL_IP, 9999, &v, &len), -1);
	cr_assert_eq(errno, ENOPROTOOPT);
	cr_assert_eq(dtcp_getsockopt(st, fd6, SOL_SOCKET, 9999, &v, &len), -1);
	cr_assert_eq(errno, ENOPROTOOPT);
	cr_assert_eq(dtcp_getsockopt(st, fd4, SOL_IPV6, IPV6_V6ONLY, &v, &len), -1);
	cr_assert_eq(errno, EOPNOTSUPP, "do_ip_getsockopt() on a foreign level");
	cr_assert_eq(dtcp_getsockopt(st, fd6, 12345, 1, &v, &len), -1);
	cr_assert_eq(errno, ENOPROTOOPT);
	cr_assert_eq(dtcp_setsockopt(st, 12345, SOL_IP, IP_FREEBIND, &v, 4), -1);
	cr_assert_eq(errno, EBADF);
}

Test(sockopt, transparent_needs_capability)
{
	int fd = th_socket(AF_INET, NULL);

	dtcp_cred_set(st, 1000, DTCP_CAP_NET_BIND_SERVICE);
	cr_assert_eq(setint(fd, SOL_IP, IP_TRANSPARENT, 1, 4), EPERM);
	cr_assert_eq(setint(fd, SOL_IP, IP_TRANSPARENT, 0, 4), 0);
	dtcp_cred_set(st, 0, DTCP_CAP_NET_ADMIN);
	cr_assert_eq(setint(fd, SOL_IP, IP_TRANSPARENT, 1, 4), 0);
	cr_assert_eq(setint(fd, SOL_IP, IP_FREEBIND, 1, 0), EINVAL, "IP_FREEBIND needs a byte");
}

Test(sockopt, v6only_rules)
{
	int fd = th_socket(AF_INET6, NULL);
	int v = 0;
	socklen_t len = (socklen_t)-1;

	cr_assert_eq(setint(fd, SOL_IPV6, IPV6_V6ONLY, 1, 2), EINVAL);
	cr_assert_eq(setint(fd, SOL_IPV6, IPV6_V6ONLY, 1, 4), 0);
	/* The kernel clamps the length unsigned: -1 reads a whole int. */
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IPV6, IPV6_V6ONLY, &v, &len), 0);
	cr_assert_eq(len, 4);
	cr_assert_eq(v, 1);
	len = sizeof(v);
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IPV6, IPV6_MTU, &v, &len), -1);
	cr_assert_eq(errno, ENOTCONN);
}

Test(sockopt, socket_args)
{
	cr_assert_eq(dtcp_socket(st, AF_UNIX, SOCK_STREAM, 0), -1);
	cr_assert_eq(errno, EAFNOSUPPORT);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_DGRAM, 0), -1);
	cr_assert_eq(errno, ESOCKTNOSUPPORT);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
	cr_assert_eq(errno, EPROTONOSUPPORT);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM, -1), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM, 300), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_socket(st, AF_INET, 11, 0), -1);
	cr_assert_eq(errno, EINVAL, "beyond SOCK_MAX");
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM | 0x40000000, 0), -1);
	cr_assert_eq(errno, EINVAL);
	int fd = dtcp_socket(st, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	cr_assert_geq(fd, 3);
	cr_assert(th_sk(fd)->nonblock);
}

Test(sockopt, getsockname_lengths)
{
	int fd = th_socket(AF_INET, NULL);
	struct sockaddr_in sin;
	socklen_t len = 4;

	memset(&sin, 0xee, sizeof(sin));
	cr_assert_eq(th_bind(fd, "127.0.0.1", 5000), 0);
	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&sin, &len), 0);
	cr_assert_eq(len, 16, "the full length is reported");
	cr_assert_eq(sin.sin_port, htons(5000));
	cr_assert_eq(((unsigned char *)&sin)[4], 0xee, "only 4 bytes written");
	len = (socklen_t)-1;
	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&sin, &len), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&sin, NULL), -1);
	cr_assert_eq(errno, EFAULT);
}
