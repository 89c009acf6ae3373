/* base/sha256.c against FIPS 180-4's examples and OpenSSL on other input. */
#include "base/sha256.h"

#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void hex_of(const char *s, char out[65])
{
    cell_sha256_hex(s, strlen(s), out);
}

static void test_known_vectors(void **state)
{
    (void)state;
    char out[65];
    hex_of("", out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_a_million_a_in_pieces(void **state)
{
    (void)state;
    struct cell_sha256 c;
    unsigned char md[32];
    char a[1000];
    memset(a, 'a', sizeof a);
    cell_sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        cell_sha256_update(&c, a, sizeof a);
    cell_sha256_final(&c, md);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_every_length_against_openssl(void **state)
{
    (void)state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof data; len++) {
        unsigned char want[32];
        unsigned int n = 0;
        EVP_Digest(data, len, want, &n, EVP_sha256(), NULL);
        char want_hex[65], got[65];
        for (int i = 0; i < 32; i++)
            snprintf(want_hex + 2 * i, 3, "%02x", want[i]);
        cell_sha256_hex(data, len, got);
        assert_string_equal(got, want_hex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_a_million_a_in_pieces),
        cmocka_unit_test(test_every_length_against_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
