/* Paths inside a container root, over a temporary tree whose symlinks try to
 * leave it. Every test runs twice: with openat2(RESOLVE_IN_ROOT), then with
 * openat2 made to fail with ENOSYS by a seccomp filter, so that the
 * userspace walker for old kernels answers the same questions.
 *
 * The tree (T = a fresh directory under /tmp):
 *   T/outside/marker            "outside"   (what an escape would reach)
 *   T/root/outside/marker       "inside"
 *   T/root/dir/file             "file"
 *   T/root/dir/up        -> ..
 *   T/root/abs           -> T/outside      (absolute, names the host path)
 *   T/root/T/outside/marker     "inside"   (where abs lands inside the root)
 *   T/root/rel           -> ../outside
 *   T/root/deep          -> ../../../../../outside
 *   T/root/dotdot        -> ../../..
 *   T/root/filelink      -> dir/file
 *   T/root/loop1 -> loop2, T/root/loop2 -> loop1
 *   T/root/dangling      -> /newplace/made
 *   T/root/dir/resolv    -> ../run/x/r.conf
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct tree {
    char top[64];
    int rootfd;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_dirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

static void in_top(const struct tree *t, char *buf, size_t size, const char *rel)
{
    assert_true(snprintf(buf, size, "%s/%s", t->top, rel) < (int)size);
}

static void make_link(const struct tree *t, const char *target, const char *name)
{
    char path[512];
    in_top(t, path, sizeof path, name);
    assert_int_equal(symlink(target, path), 0);
}

static void make_tree(struct tree *t)
{
    char p[512], q[512];
    snprintf(t->top, sizeof t->top, "/tmp/cell-test-path-XXXXXX");
    assert_non_null(mkdtemp(t->top));
    in_top(t, p, sizeof p, "outside");
    make_dirs(p);
    in_top(t, p, sizeof p, "outside/marker");
    write_file(p, "outside");
    in_top(t, p, sizeof p, "root/outside");
    make_dirs(p);
    in_top(t, p, sizeof p, "root/outside/marker");
    write_file(p, "inside");
    in_top(t, p, sizeof p, "root/dir");
    make_dirs(p);
    in_top(t, p, sizeof p, "root/dir/file");
    write_file(p, "file");
    assert_true(snprintf(q, sizeof q, "root%s/outside", t->top) < (int)sizeof q);
    in_top(t, p, sizeof p, q);
    make_dirs(p);
    assert_true(snprintf(q, sizeof q, "root%s/outside/marker", t->top) < (int)sizeof q);
    in_top(t, p, sizeof p, q);
    write_file(p, "inside");
    in_top(t, q, sizeof q, "outside");
    make_link(t, q, "root/abs");
    make_link(t, "..", "root/dir/up");
    make_link(t, "../outside", "root/rel");
    make_link(t, "../../../../../outside", "root/deep");
    make_link(t, "../../..", "root/dotdot");
    make_link(t, "dir/file", "root/filelink");
    make_link(t, "loop2", "root/loop1");
    make_link(t, "loop1", "root/loop2");
    make_link(t, "/newplace/made", "root/dangling");
    make_link(t, "../run/x/r.conf", "root/dir/resolv");
    in_top(t, p, sizeof p, "root");
    t->rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(t->rootfd >= 0);
}

static int setup(void **state)
{
    struct tree *t = calloc(1, sizeof *t);
    assert_non_null(t);
    make_tree(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tree *t = *state;
    close(t->rootfd);
    assert_int_equal(cell_rm_rf_at(AT_FDCWD, t->top), 0);
    free(t);
    return 0;
}

/* Opens rel in the root and returns the file's text ("" for a directory). */
static char *read_in_root(const struct tree *t, const char *rel)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_open_in_root(t->rootfd, rel, O_RDONLY, &err);
    if (fd < 0)
        fail_msg("open %s: %s", rel, cell_error_text(&err));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    if (S_ISDIR(st.st_mode))
        return strdup("");
    char *text = NULL;
    assert_int_equal(cell_read_all(fd, &text, NULL), 0);
    return text;
}

static void expect_text(const struct tree *t, const char *rel, const char *want)
{
    _cleanup_free_ char *text = read_in_root(t, rel);
    assert_string_equal(text, want);
}

static bool host_exists(const struct tree *t, const char *rel)
{
    char p[512];
    in_top(t, p, sizeof p, rel);
    return access(p, F_OK) == 0;
}

/* --- cell_open_in_root --- */

static void test_open_plain_file(void **state)
{
    expect_text(*state, "dir/file", "file");
}

static void test_open_absolute_path_is_relative_to_root(void **state)
{
    expect_text(*state, "/dir/file", "file");
    expect_text(*state, "///dir//./file", "file");
}

static void test_open_root_itself(void **state)
{
    expect_text(*state, "/", "");
    expect_text(*state, ".", "");
    expect_text(*state, "", "");
}

static void test_dotdot_in_path_stays_inside(void **state)
{
    expect_text(*state, "../../../outside/marker", "inside");
    expect_text(*state, "dir/../../../outside/marker", "inside");
}

static void test_absolute_symlink_stays_inside(void **state)
{
    expect_text(*state, "abs/marker", "inside");
}

static void test_relative_symlink_stays_inside(void **state)
{
    expect_text(*state, "rel/marker", "inside");
    expect_text(*state, "deep/marker", "inside");
}

static void test_dotdot_symlink_stays_inside(void **state)
{
    expect_text(*state, "dotdot/dir/file", "file");
    expect_text(*state, "dir/up/dir/up/../../outside/marker", "inside");
}

static void test_trailing_symlink_to_file(void **state)
{
    expect_text(*state, "filelink", "file");
}

static void test_symlink_loop_fails_eloop(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_open_in_root(t->rootfd, "loop1", O_RDONLY, &err), -ELOOP);
    assert_string_equal(cell_error_text(&err),
                        "open loop1 in container root: Too many levels of symbolic links");
}

static void test_missing_path_fails_enoent(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_open_in_root(t->rootfd, "dir/nothing", O_RDONLY, &err), -ENOENT);
    assert_string_equal(cell_error_text(&err),
                        "open dir/nothing in container root: No such file or directory");
}

static void test_nofollow_opens_the_link(void **state)
{
    struct tree *t = *state;
    _cleanup_close_ int fd = cell_openat_in_root(t->rootfd, "abs", O_PATH | O_NOFOLLOW);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

static void test_create_returns_usable_fd(void **state)
{
    struct tree *t = *state;
    _cleanup_close_ int fd = cell_openat_in_root(t->rootfd, "dir/created", O_WRONLY | O_CREAT);
    assert_true(fd > 2);
    assert_int_equal(cell_write_all(fd, "new", 3), 0);
    expect_text(t, "dir/created", "new");
}

static void test_create_through_escaping_link_stays_inside(void **state)
{
    struct tree *t = *state;
    _cleanup_close_ int fd = cell_openat_in_root(t->rootfd, "rel/created", O_WRONLY | O_CREAT);
    assert_true(fd >= 0);
    assert_true(host_exists(t, "root/outside/created"));
    assert_false(host_exists(t, "outside/created"));
}

/* --- cell_mkdir_in_root / cell_mkfile_in_root --- */

static void test_mkdir_makes_parents(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkdir_in_root(t->rootfd, "/a/b/c", 0755, &err);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_true(host_exists(t, "root/a/b/c"));
}

static void test_mkdir_existing_is_fine(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkdir_in_root(t->rootfd, "dir", 0755, &err);
    assert_true(fd >= 0);
}

static void test_mkdir_through_escaping_links_stays_inside(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int a = cell_mkdir_in_root(t->rootfd, "rel/newdir", 0755, &err);
    assert_true(a >= 0);
    _cleanup_close_ int b = cell_mkdir_in_root(t->rootfd, "deep/x/y", 0755, &err);
    assert_true(b >= 0);
    _cleanup_close_ int c = cell_mkdir_in_root(t->rootfd, "dotdot/../z", 0755, &err);
    assert_true(c >= 0);
    assert_true(host_exists(t, "root/outside/newdir"));
    assert_true(host_exists(t, "root/outside/x/y"));
    assert_true(host_exists(t, "root/z"));
    assert_false(host_exists(t, "outside/newdir"));
    assert_false(host_exists(t, "outside/x"));
    assert_false(host_exists(t, "z"));
}

static void test_mkfile_makes_empty_file(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkfile_in_root(t->rootfd, "etc/resolv.conf", 0644, &err);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 0);
    assert_true(host_exists(t, "root/etc/resolv.conf"));
}

static void test_mkfile_keeps_existing_content(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkfile_in_root(t->rootfd, "filelink", 0644, &err);
    assert_true(fd >= 0);
    expect_text(t, "dir/file", "file");
}

/* A dangling symlink (an image's /etc/resolv.conf -> ../run/...) is made
 * where it points, inside the root. */
static void test_mkfile_through_dangling_link_stays_inside(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkfile_in_root(t->rootfd, "dangling", 0644, &err);
    if (fd < 0)
        fail_msg("%s", cell_error_text(&err));
    assert_true(host_exists(t, "root/newplace/made"));
    assert_false(access("/newplace/made", F_OK) == 0);
}

static void test_mkfile_through_relative_dangling_link(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkfile_in_root(t->rootfd, "/dir/resolv", 0644, &err);
    if (fd < 0)
        fail_msg("%s", cell_error_text(&err));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_true(host_exists(t, "root/run/x/r.conf"));
    assert_false(host_exists(t, "run"));
}

static void test_mkdir_through_dangling_link(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_close_ int fd = cell_mkdir_in_root(t->rootfd, "dangling/sub", 0755, &err);
    if (fd < 0)
        fail_msg("%s", cell_error_text(&err));
    assert_true(host_exists(t, "root/newplace/made/sub"));
}

static void test_mkdir_errors_name_the_path(void **state)
{
    struct tree *t = *state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_mkdir_in_root(t->rootfd, "dir/file/sub", 0755, &err) < 0);
    assert_string_equal(cell_error_text(&err),
                        "mkdir dir/file/sub in container root: Not a directory");
}

/* --- cell_path_split --- */

static void expect_split(const char *path, const char *parent, const char *leaf)
{
    _cleanup_free_ char *got_parent = NULL;
    const char *got_leaf = NULL;
    assert_int_equal(cell_path_split(path, &got_parent, &got_leaf), 0);
    assert_string_equal(got_parent, parent);
    assert_int_equal(strcspn(got_leaf, "/"), strlen(leaf));
    assert_memory_equal(got_leaf, leaf, strlen(leaf));
}

static void test_path_split(void **state)
{
    (void)state;
    expect_split("a/b/c", "a/b", "c");
    expect_split("/a/b", "/a", "b");
    expect_split("/a", "/", "a");
    expect_split("a", ".", "a");
    expect_split("a/b/", "a", "b");
    expect_split("/etc/resolv.conf", "/etc", "resolv.conf");
}

static void test_path_is_absolute(void **state)
{
    (void)state;
    assert_true(cell_path_is_absolute("/x"));
    assert_false(cell_path_is_absolute("x"));
    assert_false(cell_path_is_absolute(NULL));
}

/* Makes openat2 fail with ENOSYS from now on, as on kernels before 5.6. */
static int disable_openat2(void **state)
{
    (void)state;
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = ARRAY_SIZE(filter), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return -1;
    return syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) < 0 && errno == ENOSYS ? 0 : -1;
}

#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TREE_TEST(test_open_plain_file),
        TREE_TEST(test_open_absolute_path_is_relative_to_root),
        TREE_TEST(test_open_root_itself),
        TREE_TEST(test_dotdot_in_path_stays_inside),
        TREE_TEST(test_absolute_symlink_stays_inside),
        TREE_TEST(test_relative_symlink_stays_inside),
        TREE_TEST(test_dotdot_symlink_stays_inside),
        TREE_TEST(test_trailing_symlink_to_file),
        TREE_TEST(test_symlink_loop_fails_eloop),
        TREE_TEST(test_missing_path_fails_enoent),
        TREE_TEST(test_nofollow_opens_the_link),
        TREE_TEST(test_create_returns_usable_fd),
        TREE_TEST(test_create_through_escaping_link_stays_inside),
        TREE_TEST(test_mkdir_makes_parents),
        TREE_TEST(test_mkdir_existing_is_fine),
        TREE_TEST(test_mkdir_through_escaping_links_stays_inside),
        TREE_TEST(test_mkfile_makes_empty_file),
        TREE_TEST(test_mkfile_keeps_existing_content),
        TREE_TEST(test_mkfile_through_dangling_link_stays_inside),
        TREE_TEST(test_mkfile_through_relative_dangling_link),
        TREE_TEST(test_mkdir_through_dangling_link),
        TREE_TEST(test_mkdir_errors_name_the_path),
        cmocka_unit_test(test_path_split),
        cmocka_unit_test(test_path_is_absolute),
    };
    int failed = cmocka_run_group_tests_name("openat2", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("fallback walker", tests, disable_openat2, NULL);
    return failed;
}
