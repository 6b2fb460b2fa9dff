/* The default environment: the system's monotonic clock and a real random
 * source (libsodium, seeded by the kernel's getrandom). Any thread. */
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "env.h"

/* Random bytes come from a ChaCha20 keystream kept per thread
 * (randombytes_buf_deterministic()): each block's first 32 bytes key the
 * next block and are never handed out (fast key erasure), and the key is
 * taken afresh from the system every RESEED_BYTES and in a forked child.
 * The system's source costs a system call per request; a stack making a
 * million connections a second asks for a few bytes each time. */
#define BLOCK_BYTES 1024
#define RESEED_BYTES (1u << 20)

struct rng {
	unsigned char key[randombytes_SEEDBYTES];
	unsigned char out[BLOCK_BYTES];
	size_t pos;                    /* next unread byte of out */
	size_t since_seed;             /* bytes handed out since the system's key */
	int keyed;
};

static _Thread_local struct rng rng;
static pthread_once_t rng_once = PTHREAD_ONCE_INIT;

static void rng_forget(void)
{
	sodium_memzero(&rng, sizeof(rng));
}

static void rng_init_once(void)
{
	(void)pthread_atfork(NULL, NULL, rng_forget);
}

static void rng_refill(void)
{
	unsigned char block[randombytes_SEEDBYTES + BLOCK_BYTES];

	if (!rng.keyed || rng.since_seed >= RESEED_BYTES) {
		randombytes_buf(rng.key, sizeof(rng.key));
		rng.keyed = 1;
		rng.since_seed = 0;
	}
	randombytes_buf_deterministic(block, sizeof(block), rng.key);
	memcpy(rng.key, block, sizeof(rng.key));
	memcpy(rng.out, block + sizeof(rng.key), sizeof(rng.out));
	sodium_memzero(block, sizeof(block));
	rng.pos = 0;
}

static uint64_t sys_now_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sys_random_bytes(void *arg, void *buf, size_t len)
{
	unsigned char *p = buf;

	(void)arg;
	(void)pthread_once(&rng_once, rng_init_once);
	while (len) {
		size_t n;

		if (!rng.keyed || rng.pos == sizeof(rng.out))
			rng_refill();
		n = sizeof(rng.out) - rng.pos < len ? sizeof(rng.out) - rng.pos : len;
		memcpy(p, rng.out + rng.pos, n);
		/* Handed out once: not kept after use. */
		sodium_memzero(rng.out + rng.pos, n);
		rng.pos += n;
		rng.since_seed += n;
		p += n;
		len -= n;
	}
}

const struct stack_env stack_env_system = {
	.now_ns = sys_now_ns,
	.random_bytes = sys_random_bytes,
	.arg = NULL,
};
