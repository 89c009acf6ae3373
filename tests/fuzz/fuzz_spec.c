/* libFuzzer target: config.json text -> cell_spec_parse, and, when the
 * document has linux.seccomp, the seccomp compiler that turns it into BPF
 * (both run on untrusted bundles before anything else happens).
 *
 *   make fuzz            build with clang -fsanitize=fuzzer,address,undefined
 *                        and run for FUZZ_TIME seconds over tests/fuzz/corpus_spec
 *   make fuzz-regress    replay the corpus and tests/fuzz/regressions once
 *
 * A crash found here is fixed and its input kept in tests/fuzz/regressions. */
#include "runtime/seccomp/seccomp_internal.h"
#include "runtime/spec/spec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cell_spec *spec = NULL;
    cell_err_t err = CELL_ERR_INIT;
    if (cell_spec_parse((const char *)data, size, &spec, &err) == 0) {
        if (spec->linux.seccomp) {
            struct cell_seccomp s = {0};
            cell_err_t serr = CELL_ERR_INIT;
            if (seccomp_compile(spec->linux.seccomp, &s, &serr) < 0)
                (void)cell_error_text(&serr);
            free(s.insns);
            cell_error_clear(&serr);
        }
        cell_spec_free(spec);
    } else {
        /* the message is built as the CLI would print it */
        (void)cell_error_text(&err);
    }
    cell_error_clear(&err);
    return 0;
}
