/* The default environment: the system's monotonic clock and a real random
 * source (libsodium, seeded by the kernel's getrandom). Any thread. */
#include <sodium.h>
#include <time.h>

#include "env.h"

static uint64_t sys_now_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sys_random_bytes(void *arg, void *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

const struct stack_env stack_env_system = {
	.now_ns = sys_now_ns,
	.random_bytes = sys_random_bytes,
	.arg = NULL,
};
