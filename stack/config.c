/* The sysctl table (see config.h). Each entry names its kernel handler so the
 * validation can be compared: proc_dointvec_minmax, proc_dou8vec_minmax,
 * proc_do_large_bitmap, and the two range handlers of sysctl_net_ipv4.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void sysctl_defaults(struct stack_sysctl *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->port_lo = 32768;
	sc->port_hi = 60999;
	sc->unpriv_port_start = 1024;
	sc->somaxconn = 4096;
	sc->tcp_tw_reuse_delay = 1000;
	sc->rmem_max = 212992;
	sc->tcp_max_syn_backlog = 4096;
	sc->wmem_max = 212992;
	sc->tcp_tw_reuse = 2;
	sc->tcp_timestamps = 1;
	sc->tcp_rmem[0] = 4096;
	sc->tcp_rmem[1] = 131072;
	sc->tcp_rmem[2] = 6291456;
	sc->tcp_wmem[0] = 4096;
	sc->tcp_wmem[1] = 16384;
	sc->tcp_wmem[2] = 4194304;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* One number as proc_get_long() reads it: an optional '-', then digits in
 * base 0 (decimal, 0x hex, 0 octal); no '+', no leading blanks. *neg tells
 * the sign. 0 or -EINVAL. */
static int parse_number(const char **sp, unsigned long *val, bool *neg)
{
	const char *s = *sp;
	char *end;

	*neg = *s == '-';
	if (*neg)
		s++;
	if (!(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	*val = strtoul(s, &end, 0);
	if (errno == ERANGE)
		return -EINVAL;
	*sp = end;
	return 0;
}

/* Parses up to max integers as proc_dointvec() does: blanks skipped between
 * values, each value ending at a blank or the end; text after max values is
 * ignored. Returns how many were read, or -EINVAL. */
static int parse_ints(const char *s, long *out, int max)
{
	int n = 0;

	while (n < max) {
		unsigned long v;
		bool neg;

		while (is_space(*s))
			s++;
		if (!*s)
			break;
		if (parse_number(&s, &v, &neg))
			return -EINVAL;
		if (*s && !is_space(*s))
			return -EINVAL;
		if (v > (unsigned long)INT_MAX + neg)
			return -EINVAL;
		out[n++] = neg ? -(long)v : (long)v;
	}
	return n ? n : -EINVAL;
}

/* proc_dointvec_minmax on one int. */
static int write_int(int *dst, const char *v, long min, long max)
{
	long x;
	int n = parse_ints(v, &x, 1);

	if (n < 0)
		return n;
	if (x < min || x > max)
		return -EINVAL;
	*dst = (int)x;
	return 0;
}

/* proc_dointvec_minmax on a vector of n ints: each value is checked and
 * stored in turn, so a bad value stops the write there with EINVAL and the
 * values before it stay written, as the kernel's loop leaves them. */
static int write_ints(int *dst, int n, const char *v, long min, long max)
{
	long x[8];
	int got = parse_ints(v, x, n);

	if (got < 0)
		return got;
	for (int i = 0; i < got; i++) {
		if (x[i] < min || x[i] > max)
			return -EINVAL;
		dst[i] = (int)x[i];
	}
	return 0;
}

/* proc_dou8vec_minmax: the value must fit in a u8 and in [min, max]. */
static int write_u8(uint8_t *dst, const char *v, long min, long max)
{
	long x;
	int n = parse_ints(v, &x, 1);

	if (n < 0)
		return n;
	if (x < 0 || x > 255 || x < min || x > max)
		return -EINVAL;
	*dst = (uint8_t)x;
	return 0;
}

/* Mirrors ipv4_local_port_range(): each end in 1..65535, hi >= lo, and lo not
 * below ip_unprivileged_port_start. One value changes only lo. */
static int write_port_range(struct stack_sysctl *sc, const char *v)
{
	long r[2] = { sc->port_lo, sc->port_hi };
	int n = parse_ints(v, r, 2);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (r[i] < 1 || r[i] > 65535)
			return -EINVAL;
	if (r[1] < r[0] || r[0] < sc->unpriv_port_start)
		return -EINVAL;
	sc->port_lo = (int)r[0];
	sc->port_hi = (int)r[1];
	return 0;
}

/* Mirrors ipv4_privileged_ports(): 0..65535 and not above the range's lo. */
static int write_unpriv_start(struct stack_sysctl *sc, const char *v)
{
	int x;
	int err = write_int(&x, v, 0, 65535);

	if (err)
		return err;
	if (sc->port_lo < x)
		return -EINVAL;
	sc->unpriv_port_start = x;
	return 0;
}

/* Mirrors proc_do_large_bitmap(): items "a" or "a-b" separated by ',' or
 * '\n', values below 65536, a <= b, no blanks; the write replaces the whole
 * set (an empty write or a lone newline clears it). */
static int write_reserved(struct stack_sysctl *sc, const char *v)
{
	uint64_t bm[PORT_BITMAP_WORDS];
	const char *s = v;

	memset(bm, 0, sizeof(bm));
	if (*s == '\n')
		s++;
	while (*s) {
		unsigned long a, b;
		bool neg;

		if (parse_number(&s, &a, &neg) || neg || a > 65535)
			return -EINVAL;
		if (*s && *s != '-' && *s != ',' && *s != '\n')
			return -EINVAL;
		b = a;
		if (*s == '-') {
			s++;
			if (parse_number(&s, &b, &neg) || neg || b > 65535 || a > b)
				return -EINVAL;
			if (*s && *s != ',' && *s != '\n')
				return -EINVAL;
		}
		if (*s)
			s++;
		if (*s == '\n')
			s++;
		for (unsigned long p = a; p <= b; p++)
			bitmap_set(bm, (uint32_t)p);
	}
	memcpy(sc->reserved, bm, sizeof(bm));
	return 0;
}

static int read_reserved(const struct stack_sysctl *sc, char *buf, size_t len)
{
	size_t pos = 0;
	int first = 1;

	if (len)
		buf[0] = '\0';
	for (uint32_t p = 0; p < 65536; p++) {
		uint32_t q = p;
		char item[16];
		int n;

		if (!bitmap_test(sc->reserved, p))
			continue;
		while (q + 1 < 65536 && bitmap_test(sc->reserved, q + 1))
			q++;
		if (q == p)
			n = snprintf(item, sizeof(item), "%s%u", first ? "" : ",", p);
		else
			n = snprintf(item, sizeof(item), "%s%u-%u", first ? "" : ",", p, q);
		if (len && pos < len - 1)
			snprintf(buf + pos, len - pos, "%s", item);
		pos += (size_t)n;
		first = 0;
		p = q;
	}
	return (int)pos;
}

enum sysctl_kind { SK_INT, SK_INT3, SK_U8, SK_RANGE, SK_UNPRIV, SK_BITMAP };

struct sysctl_entry {
	const char *name;
	enum sysctl_kind kind;
	size_t off;
	long min, max;
};

#define OFF(f) offsetof(struct stack_sysctl, f)

static const struct sysctl_entry sysctl_table[] = {
	{ "net.ipv4.ip_local_port_range", SK_RANGE, 0, 0, 0 },
	{ "net.ipv4.ip_local_reserved_ports", SK_BITMAP, 0, 0, 0 },
	{ "net.ipv4.ip_unprivileged_port_start", SK_UNPRIV, 0, 0, 0 },
	{ "net.ipv4.ip_autobind_reuse", SK_U8, OFF(autobind_reuse), 0, 1 },
	{ "net.ipv4.ip_nonlocal_bind", SK_U8, OFF(nonlocal_bind), 0, 255 },
	{ "net.ipv6.ip_nonlocal_bind", SK_U8, OFF(ip6_nonlocal_bind), 0, 255 },
	{ "net.ipv4.tcp_tw_reuse", SK_U8, OFF(tcp_tw_reuse), 0, 2 },
	{ "net.ipv4.tcp_tw_reuse_delay", SK_INT, OFF(tcp_tw_reuse_delay), 1, 60000 },
	{ "net.ipv4.tcp_timestamps", SK_U8, OFF(tcp_timestamps), 0, 255 },
	{ "net.core.somaxconn", SK_INT, OFF(somaxconn), 0, INT_MAX },
	{ "net.core.rmem_max", SK_INT, OFF(rmem_max), 0, INT_MAX },
	{ "net.ipv4.tcp_max_syn_backlog", SK_INT, OFF(tcp_max_syn_backlog), INT_MIN, INT_MAX },
	{ "net.core.wmem_max", SK_INT, OFF(wmem_max), 0, INT_MAX },
	{ "net.ipv4.tcp_rmem", SK_INT3, OFF(tcp_rmem), 1, INT_MAX },
	{ "net.ipv4.tcp_wmem", SK_INT3, OFF(tcp_wmem), 1, INT_MAX },
};

static const struct sysctl_entry *sysctl_find(const char *name)
{
	char norm[128];
	size_t n = strlen(name);

	if (n >= sizeof(norm))
		return NULL;
	/* "net/ipv4/x" and "net.ipv4.x" name the same entry. */
	for (size_t i = 0; i <= n; i++)
		norm[i] = name[i] == '/' ? '.' : name[i];
	for (size_t i = 0; i < sizeof(sysctl_table) / sizeof(sysctl_table[0]); i++)
		if (!strcmp(sysctl_table[i].name, norm))
			return &sysctl_table[i];
	return NULL;
}

int sysctl_write(struct stack_sysctl *sc, const char *name, const char *value)
{
	const struct sysctl_entry *e = sysctl_find(name);

	if (!e)
		return -ENOENT;
	if (!value)
		return -EINVAL;
	switch (e->kind) {
	case SK_RANGE:
		return write_port_range(sc, value);
	case SK_UNPRIV:
		return write_unpriv_start(sc, value);
	case SK_BITMAP:
		return write_reserved(sc, value);
	case SK_U8:
		return write_u8((uint8_t *)((char *)sc + e->off), value, e->min, e->max);
	case SK_INT:
		return write_int((int *)((char *)sc + e->off), value, e->min, e->max);
	case SK_INT3:
		return write_ints((int *)((char *)sc + e->off), 3, value, e->min, e->max);
	}
	return -EINVAL;
}

int sysctl_read(const struct stack_sysctl *sc, const char *name, char *buf, size_t len)
{
	const struct sysctl_entry *e = sysctl_find(name);
	const char *base = (const char *)sc;

	if (!e)
		return -ENOENT;
	switch (e->kind) {
	case SK_RANGE:
		return snprintf(buf, len, "%d\t%d", sc->port_lo, sc->port_hi);
	case SK_UNPRIV:
		return snprintf(buf, len, "%d", sc->unpriv_port_start);
	case SK_BITMAP:
		return read_reserved(sc, buf, len);
	case SK_U8:
		return snprintf(buf, len, "%u", *(const uint8_t *)(base + e->off));
	case SK_INT:
		return snprintf(buf, len, "%d", *(const int *)(base + e->off));
	case SK_INT3: {
		const int *v = (const int *)(base + e->off);

		return snprintf(buf, len, "%d\t%d\t%d", v[0], v[1], v[2]);
	}
	}
	return -ENOENT;
}
