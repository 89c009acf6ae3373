/* Sizes and durations as Docker and Go spell them (base/units.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/units.h"

#include <errno.h>

static int64_t size_of(const char *s)
{
    int64_t v = 0;
    assert_int_equal(cell_size_parse(s, &v), 0);
    return v;
}

static void test_size_units_are_powers_of_1024(void **state)
{
    (void)state;
    assert_int_equal(size_of("100"), 100);
    assert_int_equal(size_of("100b"), 100);
    assert_int_equal(size_of("4k"), 4096);
    assert_int_equal(size_of("512m"), 512 << 20);
    assert_int_equal(size_of("512M"), 512 << 20);
    assert_int_equal(size_of("512MiB"), 512 << 20);
    assert_int_equal(size_of("256mb"), 256 << 20);
    assert_int_equal(size_of("1g"), 1 << 30);
    assert_int_equal(size_of("1.5g"), 3LL << 29);
    assert_int_equal(size_of("2t"), 2LL << 40);
    assert_int_equal(size_of("1p"), 1LL << 50);
    assert_int_equal(size_of("-1"), -1);
}

static void test_size_refuses_what_docker_refuses(void **state)
{
    (void)state;
    int64_t v = 7;
    const char *bad[] = {"",     "12q", "m",   "-5m",   "1gg", "1 g",  " 1g",
                         "0x10", "1e3", "inf", "1.2.3", "+1g", "1gbb", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cell_size_parse(bad[i], &v), -EINVAL);
    assert_int_equal(cell_size_parse("9p9", &v), -EINVAL);
    assert_int_equal(cell_size_parse("8192p", &v), -ERANGE);
    assert_int_equal(v, 7);
}

static int64_t duration_of(const char *s)
{
    int64_t v = 0;
    assert_int_equal(cell_duration_parse(s, &v), 0);
    return v;
}

static void test_duration_reads_gos_spellings(void **state)
{
    (void)state;
    assert_int_equal(duration_of("0"), 0);
    assert_int_equal(duration_of("5s"), 5000000000LL);
    assert_int_equal(duration_of("500ms"), 500000000LL);
    assert_int_equal(duration_of("10m"), 600000000000LL);
    assert_int_equal(duration_of("1h30m"), 5400000000000LL);
    assert_int_equal(duration_of("2h45m10.5s"), 9910500000000LL);
    assert_int_equal(duration_of("1.5h"), 5400000000000LL);
    assert_int_equal(duration_of("250us"), 250000);
    assert_int_equal(duration_of("250\xc2\xb5s"), 250000);
    assert_int_equal(duration_of("42ns"), 42);
    assert_int_equal(duration_of(".5s"), 500000000LL);
}

static void test_duration_refuses_the_rest(void **state)
{
    (void)state;
    int64_t v = 7;
    const char *bad[] = {"", "5", "s", "5x", "-5s", "+5s", "5 s", "1d", "5sm", "1.s.", "ms5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cell_duration_parse(bad[i], &v), -EINVAL);
    assert_int_equal(cell_duration_parse("3000000h", &v), -ERANGE);
    assert_int_equal(v, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_units_are_powers_of_1024),
        cmocka_unit_test(test_size_refuses_what_docker_refuses),
        cmocka_unit_test(test_duration_reads_gos_spellings),
        cmocka_unit_test(test_duration_refuses_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
