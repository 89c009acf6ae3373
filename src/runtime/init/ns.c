#include "runtime/init/ns.h"
#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* setns order in the child: user first (its rights let us enter the rest),
 * mount last but one so that the paths of the others were opened before,
 * cgroup last. pid and time are the parent's business. */
static const enum cell_ns_type join_order[] = {
    CELL_NS_USER, CELL_NS_IPC, CELL_NS_UTS, CELL_NS_NET, CELL_NS_MNT, CELL_NS_CGROUP,
};

static int open_ns_paths(struct cell_container *c, cell_err_t *err)
{
    for (int t = 0; t < CELL_NS_COUNT; t++) {
        const struct cell_namespace *ns = &c->spec->linux.ns[t];
        c->ns_fds[t] = -1;
        if (!ns->present || !ns->path)
            continue;
        c->ns_fds[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (c->ns_fds[t] < 0)
            return cell_error(err, errno, "linux.namespaces: %s namespace %s", cell_ns_name(t),
                              ns->path);
    }
    return 0;
}

static bool any_joined_besides(const struct cell_container *c, int skip)
{
    for (int t = 0; t < CELL_NS_COUNT; t++)
        if (t != skip && t != CELL_NS_PID && t != CELL_NS_TIME && c->ns_fds[t] >= 0)
            return true;
    return false;
}

int cell_ns_plan(struct cell_container *c, cell_err_t *err)
{
    int r = open_ns_paths(c, err);
    if (r < 0)
        return r;
    unsigned long fresh = 0;
    for (int t = 0; t < CELL_NS_COUNT; t++) {
        const struct cell_namespace *ns = &c->spec->linux.ns[t];
        if (ns->present && !ns->path && t != CELL_NS_TIME)
            fresh |= (unsigned long)cell_ns_clone_flag(t);
    }
    c->userns = fresh & CLONE_NEWUSER;
    /* A namespace owned by the host's user namespace can only be joined
     * before a new user namespace is entered; a joined user namespace must
     * own the pid namespace made after it. Both need the join to happen
     * first and the new namespaces to be unshared afterwards, in an
     * intermediate process that forks the init. The common case clones
     * every namespace at once. */
    c->two_stage = (c->userns && any_joined_besides(c, CELL_NS_USER)) || c->ns_fds[CELL_NS_USER] >= 0;
    if (c->two_stage) {
        c->clone_flags = 0;
        c->unshare_flags = fresh;
    } else {
        /* The cgroup namespace must be made after the init joined its
         * cgroup (its root is the cgroup at unshare time), unless clone3
         * places the child in the cgroup directly. */
        c->clone_flags = fresh & ~(unsigned long)CLONE_NEWCGROUP;
        c->unshare_flags = fresh & CLONE_NEWCGROUP;
    }
    return 0;
}

static int write_time_offsets(const struct cell_spec *spec, cell_err_t *err)
{
    const typeof(spec->linux.time_offsets) *t = &spec->linux.time_offsets;
    char buf[256];
    int len = 0;
    if (t->has_monotonic)
        len += snprintf(buf + len, sizeof buf - len, "monotonic %lld %lld\n",
                        (long long)t->monotonic_secs, (long long)t->monotonic_nanosecs);
    if (t->has_boottime)
        len += snprintf(buf + len, sizeof buf - len, "boottime %lld %lld\n",
                        (long long)t->boottime_secs, (long long)t->boottime_nanosecs);
    if (len == 0)
        return 0;
    /* One write per line: the kernel parses a single offset per write. */
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        int r = cell_write_file_at(AT_FDCWD, "/proc/self/timens_offsets", line,
                                   (size_t)(nl - line + 1));
        if (r < 0)
            return cell_error(err, -r, "linux.timeOffsets: write /proc/self/timens_offsets");
        line = nl + 1;
    }
    return 0;
}

int cell_ns_prepare_parent(struct cell_container *c, cell_err_t *err)
{
    const struct cell_spec *spec = c->spec;
    if (c->ns_fds[CELL_NS_PID] >= 0 && setns(c->ns_fds[CELL_NS_PID], CLONE_NEWPID) < 0)
        return cell_error(err, errno, "join pid namespace %s", spec->linux.ns[CELL_NS_PID].path);
    if (c->ns_fds[CELL_NS_TIME] >= 0) {
        if (setns(c->ns_fds[CELL_NS_TIME], CLONE_NEWTIME) < 0)
            return cell_error(err, errno, "join time namespace %s",
                              spec->linux.ns[CELL_NS_TIME].path);
    } else if (spec->linux.ns[CELL_NS_TIME].present) {
        if (unshare(CLONE_NEWTIME) < 0)
            return cell_error(err, errno, "make time namespace");
        return write_time_offsets(spec, err);
    }
    return 0;
}

static int write_map(pid_t pid, const char *file, const struct cell_id_mapping *m, size_t n,
                     cell_err_t *err)
{
    if (n == 0)
        return 0;
    char buf[4096];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + len, sizeof buf - len, "%u %u %u\n", m[i].container_id,
                         m[i].host_id, m[i].size);
        if (w < 0 || (size_t)w >= sizeof buf - len)
            return cell_error(err, E2BIG, "linux.%s: too many mappings", file);
        len += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    /* The kernel takes the whole map in one write. */
    int r = cell_write_file_at(AT_FDCWD, path, buf, len);
    if (r < 0)
        return cell_error(err, -r, "write %s", path);
    return 0;
}

int cell_ns_write_mappings(pid_t pid, const struct cell_spec *spec, cell_err_t *err)
{
    const struct cell_linux *l = &spec->linux;
    int r = write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err);
    if (r < 0)
        return r;
    return write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err);
}

int cell_ns_join(struct cell_container *c, cell_err_t *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(join_order); i++) {
        enum cell_ns_type t = join_order[i];
        if (c->ns_fds[t] < 0)
            continue;
        if (setns(c->ns_fds[t], cell_ns_clone_flag(t)) < 0)
            return cell_error(err, errno, "join %s namespace %s", cell_ns_name(t),
                              c->spec->linux.ns[t].path);
        close(c->ns_fds[t]);
        c->ns_fds[t] = -1;
    }
    return 0;
}

void cell_ns_close(struct cell_container *c)
{
    for (int t = 0; t < CELL_NS_COUNT; t++)
        if (c->ns_fds[t] >= 0) {
            close(c->ns_fds[t]);
            c->ns_fds[t] = -1;
        }
}
