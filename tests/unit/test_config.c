/* Sysctl parsing and validation, as /proc/sys validates (spec 2.1, 2.3). */
#include "harness.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

TestSuite(config, .init = th_setup, .fini = th_teardown);

static int set(const char *name, const char *value)
{
	return dtcp_sysctl_set(st, name, value) ? errno : 0;
}

static const char *get(const char *name)
{
	static char buf[256];

	cr_assert_geq(dtcp_sysctl_get(st, name, buf, sizeof(buf)), 0, "%s", name);
	return buf;
}

Test(config, defaults)
{
	cr_assert_str_eq(get("net.ipv4.ip_local_port_range"), "32768\t60999");
	cr_assert_str_eq(get("net.ipv4.ip_unprivileged_port_start"), "1024");
	cr_assert_str_eq(get("net.ipv4.tcp_tw_reuse"), "2");
	cr_assert_str_eq(get("net.ipv4.ip_autobind_reuse"), "0");
	cr_assert_str_eq(get("net.ipv4.ip_local_reserved_ports"), "");
	cr_assert_str_eq(get("net.core.somaxconn"), "4096");
	cr_assert_str_eq(get("net/ipv4/tcp_tw_reuse_delay"), "1000");
}

Test(config, range_validation)
{
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "40001 40000"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "1000 2000"), EINVAL, "below unprivileged start");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "1024 1024"), 0);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "0 100"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "40000 65536"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "40000x 50000"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", ""), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", " 40000\t50000\n"), 0);
	cr_assert_str_eq(get("net.ipv4.ip_local_port_range"), "40000\t50000");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "0x9c41 0xc351"), 0, "hex");
	cr_assert_str_eq(get("net.ipv4.ip_local_port_range"), "40001\t50001");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "040000 050000"), 0, "octal");
	cr_assert_str_eq(get("net.ipv4.ip_local_port_range"), "16384\t20480");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "+40002 +50002"), EINVAL, "no plus sign");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", " 40000 50000 60000"), 0, "extra values ignored");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "45000"), 0, "one value sets lo");
	cr_assert_str_eq(get("net.ipv4.ip_local_port_range"), "45000\t50000");
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "50001"), EINVAL);
	cr_assert_str_eq(get("net.ipv4.ip_local_port_range"), "45000\t50000", "a refused write changes nothing");
}

Test(config, unprivileged_start)
{
	cr_assert_eq(set("net.ipv4.ip_unprivileged_port_start", "40000"), EINVAL, "above range lo");
	cr_assert_eq(set("net.ipv4.ip_unprivileged_port_start", "-1"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_unprivileged_port_start", "0"), 0);
	cr_assert_eq(set("net.ipv4.ip_local_port_range", "100 200"), 0);
	cr_assert_eq(set("net.ipv4.ip_unprivileged_port_start", "150"), EINVAL);
}

Test(config, u8_ranges)
{
	cr_assert_eq(set("net.ipv4.tcp_tw_reuse", "3"), EINVAL);
	cr_assert_eq(set("net.ipv4.tcp_tw_reuse", "-1"), EINVAL);
	cr_assert_eq(set("net.ipv4.tcp_tw_reuse", "0"), 0);
	cr_assert_eq(set("net.ipv4.ip_autobind_reuse", "2"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_nonlocal_bind", "256"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_nonlocal_bind", "255"), 0);
	cr_assert_eq(set("net.ipv4.tcp_tw_reuse_delay", "0"), EINVAL);
	cr_assert_eq(set("net.ipv4.tcp_tw_reuse_delay", "60001"), EINVAL);
	cr_assert_eq(set("net.ipv4.tcp_tw_reuse_delay", "60000"), 0);
	cr_assert_eq(set("net.core.somaxconn", "-5"), EINVAL);
}

Test(config, reserved_ports)
{
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "40000-40002,40005,50000\n"), 0);
	cr_assert_str_eq(get("net.ipv4.ip_local_reserved_ports"), "40000-40002,40005,50000");
	cr_assert(sysctl_port_reserved(&st->sysctl, 40001));
	cr_assert(!sysctl_port_reserved(&st->sysctl, 40003));
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "40002-40000"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "65536"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "-4"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "40000, 40001"), EINVAL, "no blanks");
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", " 40000"), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "40000 "), EINVAL);
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "  "), EINVAL);
	cr_assert_str_eq(get("net.ipv4.ip_local_reserved_ports"), "40000-40002,40005,50000");
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "0x10,010"), 0, "base 0, as the kernel");
	cr_assert_str_eq(get("net.ipv4.ip_local_reserved_ports"), "8,16");
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "40000-40002,"), 0, "a trailing comma");
	cr_assert_str_eq(get("net.ipv4.ip_local_reserved_ports"), "40000-40002");
	cr_assert_eq(set("net.ipv4.ip_local_reserved_ports", "\n"), 0, "an empty write clears");
	cr_assert_str_eq(get("net.ipv4.ip_local_reserved_ports"), "");
}

Test(config, unknown_names)
{
	char buf[8];

	cr_assert_eq(set("net.ipv4.no_such_thing", "1"), ENOENT);
	cr_assert_eq(dtcp_sysctl_get(st, "net.ipv4.no_such_thing", buf, sizeof(buf)), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(dtcp_sysctl_set(st, "net.ipv4.tcp_tw_reuse", NULL), -1);
	cr_assert_eq(errno, EINVAL);
	/* A short buffer is cut, and the full length is returned. */
	cr_assert_eq(dtcp_sysctl_get(st, "net.ipv4.ip_local_port_range", buf, 4), 11);
	cr_assert_str_eq(buf, "327");
}

Test(config, addresses)
{
	cr_assert_eq(dtcp_addr_add(st, "eth9", "198.18.0.1/15"), -1);
	cr_assert_eq(errno, ENODEV);
	cr_assert_eq(dtcp_addr_add(st, "lo", "198.18.0.1/33"), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_addr_add(st, "lo", "not-an-address"), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_addr_add(st, "lo", "198.18.0.1/15"), 0);
	cr_assert_eq(dtcp_addr_add(st, "lo", "198.18.0.1/15"), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(dtcp_addr_add(st, "lo", "2001:db8::1/64"), 0);
	cr_assert_eq(dtcp_addr_del(st, "lo", "2001:db8::2/64"), -1);
	cr_assert_eq(errno, EADDRNOTAVAIL);
	cr_assert_eq(dtcp_addr_del(st, "lo", "2001:db8::1/64"), 0);
}

Test(config, stack_sizes)
{
	struct dtcp_stack_config cfg = { .max_sockets = 4 };
	struct dtcp_stack *s = dtcp_stack_new_config(&cfg);
	int fds[5];

	cr_assert_not_null(s);
	for (int i = 0; i < 4; i++)
		cr_assert_geq(fds[i] = dtcp_socket(s, AF_INET, SOCK_STREAM, 0), 3);
	cr_assert_eq(dtcp_socket(s, AF_INET, SOCK_STREAM, 0), -1);
	cr_assert_eq(errno, ENOBUFS);
	cr_assert_eq(dtcp_close(s, fds[1]), 0);
	cr_assert_eq(fds[4] = dtcp_socket(s, AF_INET, SOCK_STREAM, 0), fds[1], "lowest free descriptor");
	dtcp_stack_free(s);
	cfg.max_sockets = 1u << 31;
	cr_assert_null(dtcp_stack_new_config(&cfg));
	cr_assert_eq(errno, EINVAL);
	dtcp_stack_free(NULL);
}

/* Many addresses: each one is local, a deleted one no longer is, and the
 * prefixes still route (the address index is rebuilt on removal). */
Test(config, many_addresses_indexed)
{
	char cidr[64];
	struct in6_addr a;

	for (int i = 1; i <= 5000; i++) {
		snprintf(cidr, sizeof(cidr), "2001:db8::%x/64", i);
		cr_assert_eq(dtcp_addr_add(st, "lo", cidr), 0, "%s", cidr);
		snprintf(cidr, sizeof(cidr), "198.18.%d.%d/15", i / 250, 1 + i % 250);
		cr_assert_eq(dtcp_addr_add(st, "lo", cidr), 0, "%s", cidr);
	}
	for (int i = 1; i <= 5000; i += 2) {
		snprintf(cidr, sizeof(cidr), "2001:db8::%x/64", i);
		cr_assert_eq(dtcp_addr_del(st, "lo", cidr), 0);
	}
	for (int i = 1; i <= 5000; i++) {
		snprintf(cidr, sizeof(cidr), "2001:db8::%x", i);
		inet_pton(AF_INET6, cidr, &a);
		cr_assert_eq(ifaddr_v6_is_local(&st->ifs, &a), i % 2 == 0, "%s", cidr);
	}
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("198.18.3.7")), V4_LOCAL);
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("198.19.250.1")), V4_LOCAL,
	             "the whole prefix is local on a loopback device");
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("198.19.255.255")), V4_BROADCAST,
	             "but its last address is the broadcast");
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("127.255.255.255")), V4_BROADCAST);
	inet_pton(AF_INET6, "2001:db8::ffff", &a);
	cr_assert_not_null(ifaddr_route(&st->ifs, &a), "the /64 still routes");
	cr_assert_lt(st->ifs.nprefix, 10, "a handful of distinct prefixes");
}

/* tcp_rmem / tcp_wmem: three ints, each at least 1 (proc_dointvec_minmax
 * with SYSCTL_ONE); a shorter write changes the leading values only, and a
 * bad value stops the write where it is. */
Test(config, tcp_rmem_wmem)
{
	cr_assert_str_eq(get("net.ipv4.tcp_rmem"), "4096\t131072\t6291456");
	cr_assert_str_eq(get("net.ipv4.tcp_wmem"), "4096\t16384\t4194304");
	cr_assert_eq(set("net.ipv4.tcp_rmem", "8192"), 0);
	cr_assert_str_eq(get("net.ipv4.tcp_rmem"), "8192\t131072\t6291456");
	cr_assert_eq(set("net.ipv4.tcp_rmem", "4096 0 1"), EINVAL);
	cr_assert_str_eq(get("net.ipv4.tcp_rmem"), "4096\t131072\t6291456", "written up to the bad value");
	cr_assert_eq(set("net.ipv4.tcp_wmem", "-1 2 3"), EINVAL);
	cr_assert_eq(set("net.ipv4.tcp_wmem", "1 2 3 junk"), 0, "past the third value is ignored");
	cr_assert_str_eq(get("net.ipv4.tcp_wmem"), "1\t2\t3");
	cr_assert_eq(set("net.ipv4.tcp_wmem", "2147483648"), EINVAL);
}

/* Pages of [p, p + bytes) the process has mapped. */
static size_t resident_pages(const void *p, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (bytes + page - 1) / page, in = 0;
	unsigned char *v = calloc(n, 1);

	cr_assert_not_null(v);
	cr_assert_eq(mincore((void *)p, bytes, v), 0);
	for (size_t i = 0; i < n; i++)
		in += v[i] & 1;
	free(v);
	return in;
}

/* prefault: the three large tables are mapped whole at creation; without
 * it they are mapped as used (a fresh stack has touched none of them). */
Test(config, prefault_maps_the_tables)
{
	for (int pf = 0; pf < 2; pf++) {
		struct dtcp_stack_config cfg = { .max_sockets = 1u << 20, .prefault = pf };
		struct dtcp_stack *s = dtcp_stack_new_config(&cfg);
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		const struct { const void *p; size_t bytes; } t[3] = {
			{ s ? s->eh.groups : NULL, s ? s->eh.bytes : 0 },
			{ s ? s->bt.bhash2 : NULL, s ? ((size_t)s->bt.bhash2_mask + 1) * sizeof(*s->bt.bhash2) : 0 },
			{ s ? s->socks.fds : NULL, s ? (size_t)s->socks.max * sizeof(*s->socks.fds) : 0 },
		};

		cr_assert_not_null(s);
		for (int i = 0; i < 3; i++) {
			size_t pages = (t[i].bytes + page - 1) / page, in = resident_pages(t[i].p, t[i].bytes);

			cr_assert_geq(t[i].bytes, (size_t)4 << 20, "table %d: big enough to tell", i);
			if (pf)
				cr_assert_eq(in, pages, "table %d: %zu of %zu pages mapped", i, in, pages);
			else
				cr_assert_lt(in, pages / 2, "table %d: %zu of %zu pages mapped", i, in, pages);
		}
		dtcp_stack_free(s);
	}
}
