/* The PCB tables on their own: established table at 2,000,000 entries,
 * destination occupancy transitions, listener lookup order, descriptors. */
#include "harness.h"

#include <stdlib.h>

TestSuite(tables, .init = th_setup, .fini = th_teardown);

Test(tables, ehash_two_million, .timeout = 120)
{
	const uint32_t n = 2000000;
	struct ehash eh;
	struct inet_sock *socks = calloc(n, sizeof(*socks));
	uint32_t longest = 0;

	cr_assert_not_null(socks);
	cr_assert_eq(ehash_init(&eh, n, 0x1234), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct inet_sock *sk = &socks[i];

		/* One source, 64 destinations on one port: the flows benchmark's shape. */
		addr_set_mapped(&sk->rcv_saddr, htonl(0x7f000001));
		addr_set_mapped(&sk->daddr, htonl(0xc6120000 + (i % 64)));
		sk->num = (uint16_t)(1024 + i / 64);
		sk->dport = 44983;
		ehash_insert(&eh, sk);
	}
	cr_assert_eq(eh.count, n);
	/* Groups at about 4 of 7 slots: no group may be passed by more than a
	 * few entries, or the hash is broken. */
	for (uint32_t g = 0; g <= eh.mask; g++)
		longest = DTCP_MAX(longest, eh.groups[g].overflow);
	cr_assert_leq(longest, 16, "a group passed by %u entries", longest);
	for (uint32_t i = 0; i < n; i += 7)
		cr_assert_eq(ehash_lookup(&eh, &socks[i].rcv_saddr, socks[i].num, &socks[i].daddr, 44983), &socks[i]);
	for (uint32_t i = 0; i < n; i += 2)
		ehash_remove(&eh, &socks[i]);
	cr_assert_eq(eh.count, n / 2);
	cr_assert_null(ehash_lookup(&eh, &socks[0].rcv_saddr, socks[0].num, &socks[0].daddr, 44983));
	cr_assert_eq(ehash_lookup(&eh, &socks[1].rcv_saddr, socks[1].num, &socks[1].daddr, 44983), &socks[1]);
	for (uint32_t i = 1; i < n; i += 2)
		cr_assert_eq(ehash_lookup(&eh, &socks[i].rcv_saddr, socks[i].num, &socks[i].daddr, 44983), &socks[i]);
	for (uint32_t i = 1; i < n; i += 2)
		ehash_remove(&eh, &socks[i]);
	cr_assert_eq(eh.count, 0);
	for (uint32_t g = 0; g <= eh.mask; g++)
		cr_assert(eh.groups[g].overflow == 0 || eh.groups[g].overflow == 255, "group %u still counts %u", g,
		          eh.groups[g].overflow);
	ehash_fini(&eh);
	free(socks);
}

/* An insert left for later is in the table at once for lookups and
 * removals, and written to its slot by the next insert or a flush; a full
 * group overflows into the next one either way. */
Test(tables, ehash_insert_later)
{
	struct ehash eh;
	struct inet_sock socks[10];
	uint64_t h[10];
	uint32_t in_slots = 0;

	memset(socks, 0, sizeof(socks));
	cr_assert_eq(ehash_init(&eh, 64, 0x99), 0);
	/* Nine 4-tuples with one home group, and a tenth anywhere. */
	for (int i = 0, port = 40000; i < 10; port++) {
		struct inet_sock *sk = &socks[i];

		addr_set_mapped(&sk->rcv_saddr, htonl(0x7f000001));
		addr_set_mapped(&sk->daddr, htonl(0xc6120001));
		sk->num = (uint16_t)port;
		sk->dport = 44983;
		h[i] = ehash_hash(&eh, &sk->rcv_saddr, sk->num, &sk->daddr, 44983);
		if (i == 0 || ((h[i] & eh.mask) == (h[0] & eh.mask)) == (i < 9))
			i++;
		cr_assert_lt(port, 50000);
	}
	ehash_insert_later(&eh, &socks[0], h[0]);
	cr_assert_eq(eh.count, 1);
	cr_assert(socks[0].ehashed);
	cr_assert_eq(ehash_lookup(&eh, &socks[0].rcv_saddr, socks[0].num, &socks[0].daddr, 44983), &socks[0]);
	cr_assert_null(ehash_lookup(&eh, &socks[1].rcv_saddr, socks[1].num, &socks[1].daddr, 44983));
	for (uint64_t i = 0; i < ehash_slots(&eh); i++)
		cr_assert_null(ehash_at(&eh, i), "not written yet");
	/* Removed while pending: gone, nothing written. */
	ehash_remove(&eh, &socks[0]);
	cr_assert_eq(eh.count, 0);
	cr_assert(!socks[0].ehashed);
	cr_assert_null(ehash_lookup(&eh, &socks[0].rcv_saddr, socks[0].num, &socks[0].daddr, 44983));
	cr_assert_null(eh.pending);
	/* Each insert writes the one before; the nine share a home group of
	 * seven slots, so the eighth and ninth overflow past it. */
	for (int i = 0; i < 9; i++) {
		ehash_insert_later(&eh, &socks[i], h[i]);
		for (int j = 0; j <= i; j++)
			cr_assert_eq(ehash_lookup(&eh, &socks[j].rcv_saddr, socks[j].num, &socks[j].daddr, 44983),
			             &socks[j], "entry %d after insert %d", j, i);
	}
	ehash_insert_h(&eh, &socks[9], h[9]);
	cr_assert_null(eh.pending, "an insert writes the pending one first");
	cr_assert_eq(eh.count, 10);
	cr_assert_eq(eh.groups[(uint32_t)h[0] & eh.mask].overflow, 2, "two passed the full home group");
	for (uint64_t i = 0; i < ehash_slots(&eh); i++)
		in_slots += ehash_at(&eh, i) != NULL;
	cr_assert_eq(in_slots, 10);
	for (int i = 0; i < 9; i++)
		ehash_remove(&eh, &socks[i]);
	ehash_remove(&eh, &socks[9]);
	cr_assert_eq(eh.count, 0);
	cr_assert_eq(eh.groups[(uint32_t)h[0] & eh.mask].overflow, 0);
	ehash_insert_later(&eh, &socks[3], h[3]);
	ehash_flush(&eh);
	cr_assert_null(eh.pending);
	in_slots = 0;
	for (uint64_t i = 0; i < ehash_slots(&eh); i++)
		in_slots += ehash_at(&eh, i) == &socks[3];
	cr_assert_eq(in_slots, 1, "the flush wrote it");
	ehash_fini(&eh);
}

Test(tables, dest_sparse_dense_sparse)
{
	struct inet_sock socks[40];
	struct dest_entry *e;
	uint64_t live, tw;

	memset(socks, 0, sizeof(socks));
	for (int i = 0; i < 40; i++) {
		addr_set_mapped(&socks[i].rcv_saddr, htonl(0x7f000001));
		addr_set_mapped(&socks[i].daddr, htonl(0x7f000002));
		socks[i].dport = 5000;
		socks[i].num = (uint16_t)(40000 + i * 130); /* spread over several chunks */
		cr_assert_eq(dest_add(&st->dt, &socks[i]), 0);
	}
	e = dest_lookup(&st->dt, &socks[0].rcv_saddr, &socks[0].daddr, 5000);
	cr_assert_not_null(e);
	cr_assert_eq(e->nsparse, DEST_DENSE);
	cr_assert_eq(dest_count(e), 40);
	cr_assert_eq(dest_to_timewait(&st->dt, &socks[3]), 0);
	dest_words(e, socks[3].num / 64, &live, &tw);
	cr_assert(tw & (UINT64_C(1) << (socks[3].num % 64)));
	cr_assert(!(live & (UINT64_C(1) << (socks[3].num % 64))));
	for (int i = 39; i >= 3; i--)
		dest_del(&st->dt, &socks[i]);
	cr_assert_neq(e->nsparse, DEST_DENSE, "back inline once small");
	cr_assert_eq(dest_count(e), 3);
	cr_assert_eq(st->dt.chunk_pool.in_use, 0);
	cr_assert_eq(st->dt.dense_pool.in_use, 0);
	for (int i = 0; i < 3; i++) {
		dest_words(e, socks[i].num / 64, &live, &tw);
		cr_assert(live & (UINT64_C(1) << (socks[i].num % 64)));
	}
	for (int i = 0; i < 3; i++)
		dest_del(&st->dt, &socks[i]);
	cr_assert_null(dest_lookup(&st->dt, &socks[0].rcv_saddr, &socks[0].daddr, 5000));
}

Test(tables, dest_sparse_same_port_live_and_tw)
{
	struct inet_sock a, b;

	memset(&a, 0, sizeof(a));
	addr_set_mapped(&a.rcv_saddr, htonl(0x7f000001));
	addr_set_mapped(&a.daddr, htonl(0x7f000002));
	a.dport = 5000;
	a.num = 40000;
	b = a;
	cr_assert_eq(dest_add(&st->dt, &a), 0);
	cr_assert_eq(dest_to_timewait(&st->dt, &a), 0);
	cr_assert_eq(dest_add(&st->dt, &b), 0, "a recycled TIME_WAIT and its successor");
	dest_del(&st->dt, &a);
	cr_assert_eq(b.dest->tw_mask, 0, "the live one stays");
	dest_del(&st->dt, &b);
	cr_assert_eq(st->dt.entry_pool.in_use, 0);
}

Test(tables, listener_lookup_order)
{
	int any4 = th_socket(AF_INET, "p"), exact = th_socket(AF_INET, "p");
	int v6only = th_socket(AF_INET6, "6"), dual = th_socket(AF_INET6, NULL);
	struct in6_addr d;

	cr_assert_eq(th_bind(any4, "0.0.0.0", 7000), 0);
	cr_assert_eq(th_listen(any4), 0);
	cr_assert_eq(th_bind(exact, "127.0.0.5", 7000), 0);
	cr_assert_eq(th_listen(exact), 0);
	cr_assert_eq(th_bind(v6only, "::", 7001), 0);
	cr_assert_eq(th_listen(v6only), 0);
	cr_assert_eq(th_bind(dual, "::", 7002), 0);
	cr_assert_eq(th_listen(dual), 0);
	addr_set_mapped(&d, htonl(0x7f000005));
	cr_assert_eq(lhash_lookup(&st->lh, &d, 7000), th_sk(exact));
	addr_set_mapped(&d, htonl(0x7f000006));
	cr_assert_eq(lhash_lookup(&st->lh, &d, 7000), th_sk(any4));
	cr_assert_null(lhash_lookup(&st->lh, &d, 7001), "a V6ONLY listener takes no IPv4");
	cr_assert_eq(lhash_lookup(&st->lh, &d, 7002), th_sk(dual));
	d = (struct in6_addr)IN6ADDR_LOOPBACK_INIT;
	cr_assert_eq(lhash_lookup(&st->lh, &d, 7001), th_sk(v6only));
	cr_assert_null(lhash_lookup(&st->lh, &d, 7000));
	dtcp_close(st, exact);
	addr_set_mapped(&d, htonl(0x7f000005));
	cr_assert_eq(lhash_lookup(&st->lh, &d, 7000), th_sk(any4));
}

Test(tables, bucket_lifecycle)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.2", 5000), 0);
	cr_assert_eq(st->bt.tb_pool.in_use, 1);
	cr_assert_eq(st->bt.tb2_count, 2);
	cr_assert_eq(st->bt.tb2_pool.in_use, 1, "the port's first address bucket is its port bucket's");
	cr_assert(bitmap_test(st->bt.bind_owned, 5000));
	dtcp_close(st, a);
	cr_assert_eq(st->bt.tb2_count, 1);
	dtcp_close(st, b);
	cr_assert_eq(st->bt.tb2_count, 0);
	cr_assert_eq(st->bt.tb2_pool.in_use, 0);
	cr_assert_eq(st->bt.tb_pool.in_use, 0);
	cr_assert(!bitmap_test(st->bt.bind_owned, 5000));
	cr_assert_null(bind_table_port(&st->bt, 5000));
}

Test(tables, descriptors_lowest_first)
{
	int fds[200];

	for (int i = 0; i < 200; i++)
		cr_assert_eq(fds[i] = dtcp_socket(st, AF_INET, SOCK_STREAM, 0), 3 + i);
	dtcp_close(st, fds[150]);
	dtcp_close(st, fds[70]);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM, 0), 73);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM, 0), 153);
	cr_assert_eq(dtcp_socket(st, AF_INET, SOCK_STREAM, 0), 203);
}
