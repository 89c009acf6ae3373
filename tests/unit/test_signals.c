/* Signal names and numbers as `kill` takes them (src/runtime/signals.c). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/runtime.h"

static void test_names_with_and_without_prefix(void **state)
{
    (void)state;
    assert_int_equal(cell_signal_from_string("KILL"), SIGKILL);
    assert_int_equal(cell_signal_from_string("SIGKILL"), SIGKILL);
    assert_int_equal(cell_signal_from_string("kill"), SIGKILL);
    assert_int_equal(cell_signal_from_string("TERM"), SIGTERM);
}

static void test_numbers(void **state)
{
    (void)state;
    assert_int_equal(cell_signal_from_string("9"), 9);
    assert_int_equal(cell_signal_from_string("15"), 15);
}

static void test_realtime_signals(void **state)
{
    (void)state;
    assert_int_equal(cell_signal_from_string("SIGRTMIN+3"), SIGRTMIN + 3);
    assert_int_equal(cell_signal_from_string("RTMAX-1"), SIGRTMAX - 1);
}

static void test_unknown_and_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(cell_signal_from_string("FOO"), -1);
    assert_int_equal(cell_signal_from_string("0"), -1);
    assert_int_equal(cell_signal_from_string("65"), -1);
    assert_int_equal(cell_signal_from_string(""), -1);
    assert_int_equal(cell_signal_from_string("9x"), -1);
}

static void test_name_of_number(void **state)
{
    (void)state;
    assert_string_equal(cell_signal_name(SIGKILL), "SIGKILL");
    assert_null(cell_signal_name(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_with_and_without_prefix),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_realtime_signals),
        cmocka_unit_test(test_unknown_and_out_of_range),
        cmocka_unit_test(test_name_of_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
