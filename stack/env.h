/* The stack's environment: its clock and its source of random bytes, both
 * injected so tests pin exact port sequences. stack/ modules call these,
 * never clock_gettime() or a random generator directly. */
#ifndef DTCP_ENV_H
#define DTCP_ENV_H

#include <stddef.h>
#include <stdint.h>

struct stack_env {
	uint64_t (*now_ns)(void *arg);                      /* monotonic */
	void (*random_bytes)(void *arg, void *buf, size_t len);
	void *arg;
};

/* CLOCK_MONOTONIC and libsodium's randombytes_buf (sys_env.c). */
extern const struct stack_env stack_env_system;

#endif
