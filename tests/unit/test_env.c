/* The default environment's random bytes: a keystream per thread, taken
 * afresh from the system in a forked child, never repeating a block, and
 * filling requests of any size across its blocks. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env.h"

static void rnd(void *buf, size_t len)
{
	stack_env_system.random_bytes(stack_env_system.arg, buf, len);
}

/* Whether two buffers share any aligned 16-byte run. */
static int share_a_run(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	for (size_t i = 0; i + 16 <= na; i += 16)
		for (size_t j = 0; j + 16 <= nb; j += 16)
			if (!memcmp(a + i, b + j, 16))
				return 1;
	return 0;
}

Test(env, random_bytes_do_not_repeat)
{
	static uint8_t a[5000], b[5000];
	size_t ones = 0;

	cr_assert_geq(sodium_init(), 0);
	rnd(a, sizeof(a));
	/* Small requests across block edges, then one large. */
	for (size_t off = 0; off < 1000; off += 7)
		rnd(b + off, 7);
	rnd(b + 1001, sizeof(b) - 1001);
	cr_assert(!share_a_run(a, sizeof(a), b, sizeof(b)));
	for (size_t i = 0; i < sizeof(a); i++)
		ones += (size_t)__builtin_popcount(a[i]);
	/* 40,000 fair bits: 20,000 ones, sd 100. */
	cr_assert(ones > 19400 && ones < 20600, "%zu ones", ones);
}

Test(env, a_forked_child_draws_its_own)
{
	uint8_t parent[64], child[64];
	int fds[2], status;
	pid_t pid;

	cr_assert_geq(sodium_init(), 0);
	rnd(parent, 8);   /* the keystream exists before the fork */
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		rnd(child, sizeof(child));
		_exit(write(fds[1], child, sizeof(child)) == (ssize_t)sizeof(child) ? 0 : 1);
	}
	rnd(parent, sizeof(parent));
	cr_assert_eq(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert(!share_a_run(parent, sizeof(parent), child, sizeof(child)), "the child repeats the parent's bytes");
	close(fds[0]);
	close(fds[1]);
}
