/* The inline SipHash-2-4 behind port offsets and ISNs gives the
 * reference's output: libsodium's crypto_shorthash, for every input length
 * up to 64 bytes under random keys, and the paper's own test vector. */
#include <criterion/criterion.h>
#include <sodium.h>

#include "siphash.h"

Test(siphash, matches_the_reference)
{
	uint8_t key[16], msg[64], out[8];

	cr_assert_geq(sodium_init(), 0);
	for (int t = 0; t < 5000; t++) {
		size_t len = (size_t)t % 65;
		uint64_t ref = 0;

		randombytes_buf(key, sizeof(key));
		randombytes_buf(msg, sizeof(msg));
		crypto_shorthash(out, msg, len, key);
		for (int i = 7; i >= 0; i--)
			ref = ref << 8 | out[i];
		cr_assert_eq(siphash24(key, msg, len), ref, "length %zu", len);
	}
}

/* Appendix A of the SipHash paper: key 00..0f, message 00..0e. */
Test(siphash, paper_vector)
{
	uint8_t key[16], msg[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(siphash24(key, msg, sizeof(msg)), UINT64_C(0xa129ca6149be45e5));
}
