/* Image references as Docker normalises them, the errors for malformed
 * ones, the short names Docker prints, digests and chain IDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "image/image.h"

#include <stdlib.h>
#include <string.h>

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check(const char *in, const char *domain, const char *path, const char *tag,
                  const char *digest, const char *name)
{
    struct cell_image_ref ref;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_image_ref_parse(in, &ref, &err) < 0)
        fail_msg("%s: %s", in, cell_error_text(&err));
    assert_string_equal(ref.domain, domain);
    assert_string_equal(ref.path, path);
    if (tag)
        assert_string_equal(ref.tag, tag);
    else
        assert_null(ref.tag);
    if (digest)
        assert_string_equal(ref.digest, digest);
    else
        assert_null(ref.digest);
    assert_string_equal(ref.name, name);
    cell_image_ref_clear(&ref);
}

static void test_ref_docker_defaults(void **state)
{
    (void)state;
    check("busybox", "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest");
    check("library/busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
          "docker.io/library/busybox:1.36");
    check("user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest");
    check("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest");
    check("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", NULL,
          "docker.io/library/busybox:1");
}

static void test_ref_registry_domains(void **state)
{
    (void)state;
    check("127.0.0.1:5000/x/y@sha256:" HEX64, "127.0.0.1:5000", "x/y", NULL, "sha256:" HEX64,
          "127.0.0.1:5000/x/y@sha256:" HEX64);
    check("localhost/app:v1", "localhost", "app", "v1", NULL, "localhost/app:v1");
    check("localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", NULL, "localhost:5000/a/b/c:t");
    check("quay.io/org/img:1.0@sha256:" HEX64, "quay.io", "org/img", "1.0", "sha256:" HEX64,
          "quay.io/org/img:1.0@sha256:" HEX64);
    check("[::1]:5000/x", "[::1]:5000", "x", "latest", NULL, "[::1]:5000/x:latest");
    /* A first component that is neither host-like nor localhost is a path. */
    check("a-b/c_d__e.f", "docker.io", "a-b/c_d__e.f", "latest", NULL,
          "docker.io/a-b/c_d__e.f:latest");
}

static void bad(const char *in, const char *why)
{
    struct cell_image_ref ref;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_image_ref_parse(in, &ref, &err) < 0);
    assert_non_null(err.msg);
    if (!strstr(err.msg, why))
        fail_msg("%s: \"%s\" does not say \"%s\"", in, err.msg, why);
    assert_null(ref.name);
}

static void test_ref_malformed(void **state)
{
    (void)state;
    bad("", "empty");
    bad("Busybox", "must be lowercase");
    bad("docker.io/Library/busybox", "must be lowercase");
    bad("busybox:", "invalid tag");
    bad("busybox:-x", "invalid tag");
    bad("busybox@sha256:abc", "digest");
    bad("busybox@md5:" HEX64, "digest");
    bad("a//b", "invalid repository name");
    bad("a/b_", "invalid repository name");
    bad("a/-b", "invalid repository name");
    bad("a/b___c", "invalid repository name");
    bad(":tag", "missing repository name");
    bad(HEX64, "image ID");
    bad("exa mple", "invalid repository name");
    bad("host:port/x", "invalid registry domain");
}

static void test_ref_familiar(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"docker.io/library/busybox:latest", "busybox:latest"},
        {"docker.io/user/app:1", "user/app:1"},
        {"docker.io/library/a/b:1", "library/a/b:1"},
        {"localhost/bb:1", "localhost/bb:1"},
        {"127.0.0.1:5000/x/y:2", "127.0.0.1:5000/x/y:2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *f = cell_image_ref_familiar(cases[i][0]);
        assert_string_equal(f, cases[i][1]);
        free(f);
    }
}

static void test_digest_valid(void **state)
{
    (void)state;
    assert_true(cell_image_digest_valid("sha256:" HEX64));
    assert_false(cell_image_digest_valid("sha256:" HEX64 "0"));
    assert_false(cell_image_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcd"
                                         "ef0123456789abcdef"));
    assert_false(cell_image_digest_valid("sha512:" HEX64));
    assert_false(cell_image_digest_valid(NULL));
}

static void test_digest_and_chain_ids(void **state)
{
    (void)state;
    char d[CELL_IMAGE_DIGEST_SIZE];
    assert_int_equal(cell_image_digest_of("", 0, d, NULL), 0);
    assert_string_equal(d,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* ChainID(L1) = sha256(ChainID(L0) + " " + DiffID(L1)). */
    char *diff[] = {"sha256:" HEX64, d};
    char *chain[2];
    assert_int_equal(cell_image_chain_ids(diff, 2, chain, NULL), 0);
    assert_string_equal(chain[0], "sha256:" HEX64);
    char buf[200], expect[CELL_IMAGE_DIGEST_SIZE];
    int n = snprintf(buf, sizeof buf, "sha256:%s %s", HEX64, d);
    cell_image_digest_of(buf, (size_t)n, expect, NULL);
    assert_string_equal(chain[1], expect);
    free(chain[0]);
    free(chain[1]);
}

static void test_manifest_parse_and_select(void **state)
{
    (void)state;
    static const char manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" CELL_MT_DOCKER_MANIFEST "\","
        "\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:" HEX64 "\",\"size\":7},"
        "\"layers\":[{\"mediaType\":\"" CELL_MT_DOCKER_LAYER "\",\"digest\":\"sha256:" HEX64
        "\",\"size\":9}]}";
    struct cell_image_manifest m;
    assert_int_equal(cell_image_manifest_parse(manifest, strlen(manifest), &m, NULL), 0);
    assert_string_equal(m.media_type, CELL_MT_DOCKER_MANIFEST);
    assert_int_equal(m.config.size, 7);
    assert_int_equal(m.nlayers, 1);
    assert_int_equal(m.layers[0].size, 9);
    cell_image_manifest_clear(&m);

    static const char index[] =
        "{\"manifests\":[{\"digest\":\"sha256:" HEX64 "\",\"size\":1,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}},"
        "{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    assert_string_equal(cell_image_media_type_detect(index, strlen(index)), CELL_MT_OCI_INDEX);
    struct cell_image_descriptor d;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
#if defined(__x86_64__)
    assert_int_equal(cell_image_index_select(index, strlen(index), &d, &err), 0);
    assert_int_equal(d.size, 2);
    cell_image_descriptor_clear(&d);
#endif
    static const char bad_manifest[] = "{\"config\":{\"digest\":\"md5:1\"},\"layers\":[]}";
    assert_true(cell_image_manifest_parse(bad_manifest, strlen(bad_manifest), &m, &err) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_docker_defaults),
        cmocka_unit_test(test_ref_registry_domains),
        cmocka_unit_test(test_ref_malformed),
        cmocka_unit_test(test_ref_familiar),
        cmocka_unit_test(test_digest_valid),
        cmocka_unit_test(test_digest_and_chain_ids),
        cmocka_unit_test(test_manifest_parse_and_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
