/* Files and directories of cgroup filesystems, for both drivers. */
#include "runtime/cgroup/cgroup_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <ctype.h>
#include <inttypes.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void (*cell_cgroup_write_hook)(const char *path, const char *value);

static int join(char *buf, size_t size, const char *dir, const char *file)
{
    int n = snprintf(buf, size, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* No O_TRUNC: a cgroup file takes each write(2) as one command, and the
 * truncation would cost a setattr for nothing. */
static int write_path(const char *path, const char *value)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = cell_write_all(fd, value, strlen(value));
    if (r == 0 && cell_cgroup_write_hook)
        cell_cgroup_write_hook(path, value);
    return r;
}

int cg_try_write(const char *dir, const char *file, const char *value)
{
    char path[PATH_MAX];
    int r = join(path, sizeof path, dir, file);
    return r < 0 ? r : write_path(path, value);
}

int cg_write_error(const char *dir, const char *file, const char *value, const char *field, int r,
                   cell_err_t *err)
{
    if (r == -ENOENT && field) {
        /* The directory exists (we made it): the kernel lacks the knob. */
        cell_error(err, 0, "%s: not supported by this kernel (%s missing)", field, file);
        return -ENOENT;
    }
    return cell_error(err, -r, "%s%swrite %s to %s/%s", field ? field : "", field ? ": " : "",
                      value, dir, file);
}

int cg_write_hugetlb(const char *dir, const struct cell_resources *r, const char *limit_file,
                     const char *rsvd_file, cell_err_t *err)
{
    for (size_t i = 0; i < r->n_hugepage_limits; i++) {
        const struct cell_hugepage_limit *h = &r->hugepage_limits[i];
        char file[96], rsvd[96], value[24];
        snprintf(file, sizeof file, "hugetlb.%s.%s", h->page_size, limit_file);
        snprintf(rsvd, sizeof rsvd, "hugetlb.%s.%s", h->page_size, rsvd_file);
        snprintf(value, sizeof value, "%" PRIu64, h->limit);
        int ret = cg_write(dir, file, value, CG_FIELD("hugepageLimits"), err);
        if (ret < 0)
            return ret;
        ret = cg_try_write(dir, rsvd, value);
        if (ret < 0 && ret != -ENOENT)
            return cg_write_error(dir, rsvd, value, CG_FIELD("hugepageLimits"), ret, err);
    }
    return 0;
}

int cg_write(const char *dir, const char *file, const char *value, const char *field,
             cell_err_t *err)
{
    int r = cg_try_write(dir, file, value);
    return r == 0 ? 0 : cg_write_error(dir, file, value, field, r, err);
}

int cg_read(const char *dir, const char *file, char **out)
{
    char path[PATH_MAX];
    int r = join(path, sizeof path, dir, file);
    size_t len = 0;
    if (r == 0)
        r = cell_read_file_at(AT_FDCWD, path, out, &len);
    if (r < 0)
        return r;
    while (len > 0 && isspace((unsigned char)(*out)[len - 1]))
        (*out)[--len] = '\0';
    return 0;
}

int64_t cg_keyed_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == ' ')
            return strtoll(p + kl + 1, NULL, 10);
    return 0;
}

/* --- making --- */

size_t cg_path_depth(const char *path)
{
    size_t n = 0;
    for (const char *p = path; *p; p++)
        n += p[0] == '/' && p[1] && p[1] != '/';
    return n;
}

/* One top-down pass over the components. -ENOENT when a parent vanished
 * under us (a concurrent destroy removed its last child and it). */
static int mkdir_walk(char *full, size_t root_len, size_t n, unsigned *first_made, bool *made,
                      cg_parent_hook made_parent, void *data, cell_err_t *err)
{
    size_t depth = 0;
    for (char *p = full + root_len + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        depth++;
        int r = mkdir(full, 0755) == 0 ? 0 : -errno;
        if (r == 0 && depth < *first_made)
            *first_made = (unsigned)depth;
        if (r == 0 && depth == n)
            *made = true;
        if (r == 0 && depth < n && made_parent && (r = made_parent(full, data, err)) < 0) {
            *p = saved;
            return r;
        }
        if (r < 0 && r != -EEXIST) {
            int e = -r;
            if (e != ENOENT)
                cell_error(err, e, "mkdir %s", full);
            *p = saved;
            return -e;
        }
        *p = saved;
        if (!saved)
            return 0;
    }
}

int cg_mkdir_path(const char *root, const char *path, unsigned *kept, bool *made,
                  cg_parent_hook made_parent, void *data, cell_err_t *err)
{
    char full[PATH_MAX];
    int r = snprintf(full, sizeof full, "%s%s", root, path);
    if (r < 0 || (size_t)r >= sizeof full)
        return cell_error(err, ENAMETOOLONG, "mkdir %s%s", root, path);
    size_t n = cg_path_depth(path);
    *made = false;
    *kept = (unsigned)(n - 1);
    /* The parent usually exists already: one mkdir. */
    if (mkdir(full, 0755) == 0) {
        *made = true;
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return cell_error(err, errno, "mkdir %s", full);
    unsigned first_made = (unsigned)n + 1;
    for (int attempt = 0; attempt < 20; attempt++) {
        r = mkdir_walk(full, strlen(root), n, &first_made, made, made_parent, data, err);
        if (first_made <= n)
            *kept = first_made - 1;
        if (r != -ENOENT)
            return r;
    }
    return cell_error(err, ENOENT, "mkdir %s: its parent keeps disappearing", full);
}

/* --- removing --- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int remove_dir(const char *dir, int64_t deadline);

/* A container may have made cgroups of its own inside its cgroup. */
static int remove_children(const char *dir, int64_t deadline)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char child[PATH_MAX];
        int r = join(child, sizeof child, dir, de->d_name);
        if (r == 0)
            r = remove_dir(child, deadline);
        if (r < 0)
            return r;
    }
    return 0;
}

/* rmdir, retried while the kernel says EBUSY: the container's processes are
 * killed but may still be exiting. */
static int remove_dir(const char *dir, int64_t deadline)
{
    long delay_us = 1000;
    bool children_tried = false;
    for (;;) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        int e = errno;
        if (e != EBUSY && e != ENOTEMPTY)
            return -e;
        if (!children_tried) {
            children_tried = true;
            int r = remove_children(dir, deadline);
            if (r < 0)
                return r;
            continue;
        }
        /* ENOTEMPTY is a plain directory with files, not a busy cgroup. */
        if (e == ENOTEMPTY || now_ns() >= deadline)
            return -e;
        usleep((useconds_t)delay_us);
        delay_us = delay_us * 2 > 5000 ? 5000 : delay_us * 2;
    }
}

int cg_remove_path(const char *root, const char *path, unsigned keep, cell_err_t *err)
{
    char full[PATH_MAX];
    int r = snprintf(full, sizeof full, "%s%s", root, path);
    if (r < 0 || (size_t)r >= sizeof full)
        return cell_error(err, ENAMETOOLONG, "rmdir %s%s", root, path);
    r = remove_dir(full, now_ns() + 1000000000);
    if (r < 0)
        return cell_error(err, -r, "rmdir %s", full);
    /* Then the parents that are ours, while empty; another container's
     * cgroup in one of them (EBUSY) ends the walk, and that is fine. */
    size_t root_len = strlen(root);
    for (size_t depth = cg_path_depth(path); depth > keep + 1; depth--) {
        char *slash = strrchr(full + root_len, '/');
        if (!slash || slash == full + root_len)
            break;
        *slash = '\0';
        if (rmdir(full) < 0 && errno != ENOENT)
            break;
    }
    return 0;
}

/* --- pids --- */

static int append_pids(const char *text, pid_t **pids, size_t *n)
{
    for (const char *p = text; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        pid_t *bigger = realloc(*pids, (*n + 1) * sizeof **pids);
        if (!bigger)
            return -ENOMEM;
        *pids = bigger;
        (*pids)[(*n)++] = (pid_t)v;
        p = end;
    }
    return 0;
}

int cg_read_pids(const char *dir, pid_t **pids, size_t *n, cell_err_t *err)
{
    _cleanup_free_ char *text = NULL;
    int r = cg_read(dir, "cgroup.procs", &text);
    if (r == -ENOENT)
        return 0; /* gone, or never made: nobody in it */
    if (r == 0)
        r = append_pids(text, pids, n);
    if (r < 0)
        return cell_error(err, -r, "read %s/cgroup.procs", dir);
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char child[PATH_MAX];
        if (join(child, sizeof child, dir, de->d_name) == 0 &&
            (r = cg_read_pids(child, pids, n, err)) < 0)
            return r;
    }
    return 0;
}

int cg_write_group(const char *dir, const struct cg_knob *knobs, size_t n, cell_err_t *err)
{
    bool refused[8] = {false};
    for (size_t i = 0; i < n && i < ARRAY_SIZE(refused); i++) {
        if (!knobs[i].value)
            continue;
        int r = cg_try_write(dir, knobs[i].file, knobs[i].value);
        if (r == -EINVAL)
            refused[i] = true;
        else if (r < 0)
            return cg_write_error(dir, knobs[i].file, knobs[i].value, knobs[i].field, r, err);
    }
    for (size_t i = 0; i < n && i < ARRAY_SIZE(refused); i++) {
        int r = refused[i] ? cg_write(dir, knobs[i].file, knobs[i].value, knobs[i].field, err) : 0;
        if (r < 0)
            return r;
    }
    return 0;
}

int cg_write_either(const char *dir, const char *file, const char *alt, const char *value,
                    const char *field, cell_err_t *err)
{
    int r = cg_try_write(dir, file, value);
    if (r == -ENOENT)
        r = cg_try_write(dir, alt, value);
    if (r == 0)
        return 0;
    if (r == -ENOENT) {
        cell_error(err, 0, "%s: not supported by this kernel (%s and %s missing)", field, file,
                   alt);
        return r;
    }
    return cg_write_error(dir, file, value, field, r, err);
}

int cg_write_i64(const char *dir, const char *file, int64_t v, const char *field, cell_err_t *err)
{
    if (v == CELL_UNSET)
        return 0;
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cg_write(dir, file, buf, field, err);
}
