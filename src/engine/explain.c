/* `cell explain`: a running container's cage as the kernel reports it.
 *
 * Every fact is read from what the kernel shows of the container's init
 * (/proc/PID/{ns,status,cgroup,uid_map,gid_map,mountinfo}) and from the
 * cgroup files it lives in; config.json adds only what the kernel does not
 * show (the seccomp profile's rules, the masked and read-only paths). So
 * the picture is the cage as it is, not as it was asked for.
 *
 * The init is reached through one fd of its /proc directory, opened
 * before the runtime's state confirms that pid is still the container's
 * (runtime state compares start times): should the init die and its pid
 * be reused later, reads through that fd fail with ESRCH instead of
 * describing another process. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "engine/explain.h"
#include "runtime/runtime.h"
#include "runtime/spec/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small readers ----------------------------------------------------------------- */

char *cell_explain_read(int dirfd, const char *path)
{
    char *s = NULL;
    size_t n;
    return cell_read_file_at(dirfd, path, &s, &n) < 0 ? NULL : s;
}

/* The value of "Key:\t..." in /proc/PID/status, up to the end of its line
 * (allocated), or NULL. */
static char *status_field(const char *status, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) || p[kl] != ':')
            continue;
        const char *v = p + kl + 1;
        v += strspn(v, " \t");
        return strndup(v, strcspn(v, "\n"));
    }
    return NULL;
}

static json_t *status_int(const char *status, const char *key)
{
    _cleanup_free_ char *v = status_field(status, key);
    char *end;
    long long n = v ? strtoll(v, &end, 10) : 0;
    return v && end != v ? json_integer(n) : json_null();
}

/* ---- namespaces ---------------------------------------------------------------------- */

/* /proc/PID/ns names, in the order nsenter's flags are usually written. */
static const struct {
    const char *name, *flag;
} namespaces[] = {
    {"mnt", "-m"}, {"uts", "-u"},    {"ipc", "-i"},  {"net", "-n"},
    {"pid", "-p"}, {"cgroup", "-C"}, {"user", "-U"}, {"time", "-T"},
};

/* The host's view: PID 1's namespaces when this process may read them
 * (it may not inside a sandbox, or without ptrace rights over PID 1),
 * else cell's own, which are the host's unless cell itself runs
 * confined. */
static const char *host_view(void)
{
    struct stat st;
    for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/1/ns/%s", namespaces[i].name);
        if (stat(path, &st) < 0 && errno != ENOENT)
            return "/proc/self";
    }
    return "/proc/1";
}

/* The namespace's inode, 0 when the kernel has no such namespace; -errno
 * when it cannot be read (the process is gone). */
static long long ns_inode(int dirfd, const char *path, dev_t *dev)
{
    struct stat st;
    if (fstatat(dirfd, path, &st, 0) < 0)
        return errno == ENOENT ? 0 : -errno;
    *dev = st.st_dev;
    return (long long)st.st_ino;
}

static json_t *inode_json(long long ino)
{
    return ino > 0 ? json_integer(ino) : json_null();
}

static int add_namespaces(json_t *o, int procfd, cell_err_t *err)
{
    const char *view = host_view();
    _cleanup_close_ int hostfd = open(view, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (hostfd < 0)
        return cell_error(err, errno, "open %s", view);
    json_t *all = json_object();
    json_object_set_new(o, "Namespaces", all);
    json_object_set_new(o, "HostNamespaces", json_string(view));
    for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
        char path[32];
        snprintf(path, sizeof path, "ns/%s", namespaces[i].name);
        dev_t dev = 0, hdev = 0;
        long long in = ns_inode(procfd, path, &dev), host = ns_inode(hostfd, path, &hdev);
        if (in < 0)
            return cell_error(err, (int)-in, "/proc/PID/%s", path);
        bool private = in > 0 && (in != host || dev != hdev);
        json_object_set_new(all, namespaces[i].name,
                            json_pack("{s:b, s:o, s:o}", "Private", private, "Inode",
                                      inode_json(in), "HostInode", inode_json(host)));
    }
    return 0;
}

/* The nsenter(1) line that joins every namespace the container has of its
 * own; -r and -w also take its root and working directory, so paths mean
 * what they mean inside. */
static void add_nsenter(json_t *o, pid_t pid)
{
    char line[160];
    int n = snprintf(line, sizeof line, "nsenter -t %d", (int)pid);
    json_t *all = json_object_get(o, "Namespaces");
    for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
        json_t *ns = json_object_get(all, namespaces[i].name);
        if (json_is_true(json_object_get(ns, "Private")))
            n += snprintf(line + n, sizeof line - (size_t)n, " %s", namespaces[i].flag);
    }
    snprintf(line + n, sizeof line - (size_t)n, " -r -w");
    json_object_set_new(o, "Nsenter", json_string(line));
}

/* ---- capabilities, seccomp, no_new_privs --------------------------------------------- */

static json_t *cap_names(const char *status, const char *key)
{
    _cleanup_free_ char *hex = status_field(status, key);
    uint64_t mask = hex ? strtoull(hex, NULL, 16) : 0;
    json_t *names = json_array();
    for (int cap = 0; cap < 64; cap++) {
        if (!(mask & (1ULL << cap)))
            continue;
        const char *name = cell_cap_name(cap);
        char other[16];
        snprintf(other, sizeof other, "CAP_%d", cap);
        json_array_append_new(names, json_string(name ? name : other));
    }
    return names;
}

/* How many capabilities the running kernel has. */
static json_int_t caps_known(void)
{
    _cleanup_free_ char *last = cell_explain_read(AT_FDCWD, "/proc/sys/kernel/cap_last_cap");
    return last ? atoi(last) + 1 : cell_cap_last() + 1;
}

static void add_caps(json_t *o, const char *status)
{
    json_object_set_new(
        o, "Capabilities",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:I}", "Effective", cap_names(status, "CapEff"),
                  "Permitted", cap_names(status, "CapPrm"), "Bounding", cap_names(status, "CapBnd"),
                  "Inheritable", cap_names(status, "CapInh"), "Ambient",
                  cap_names(status, "CapAmb"), "Known", caps_known()));
}

/* linux.seccomp as configured: its default action and how many rules and
 * syscall names it lists; null when there is none. */
static json_t *seccomp_profile(const json_t *config)
{
    const json_t *sc = json_object_get(json_object_get(config, "linux"), "seccomp");
    if (!json_is_object(sc))
        return json_null();
    const json_t *rules = json_object_get(sc, "syscalls");
    size_t i, names = 0;
    const json_t *rule;
    json_array_foreach(rules, i, rule) names += json_array_size(json_object_get(rule, "names"));
    const json_t *arches = json_object_get(sc, "architectures");
    return json_pack(
        "{s:O?, s:I, s:I, s:O?}", "DefaultAction", json_object_get(sc, "defaultAction"), "Rules",
        (json_int_t)json_array_size(rules), "Syscalls", (json_int_t)names, "Architectures", arches);
}

static void add_seccomp(json_t *o, const char *status, const json_t *config)
{
    json_t *mode = status_int(status, "Seccomp");
    static const char *const modes[] = {"disabled", "strict", "filter"};
    json_int_t m = json_integer_value(mode);
    json_object_set_new(o, "Seccomp",
                        json_pack("{s:o, s:s, s:o, s:o}", "Mode", mode, "ModeName",
                                  json_is_integer(mode) && m >= 0 && m <= 2 ? modes[m] : "unknown",
                                  "Filters", status_int(status, "Seccomp_filters"), "Profile",
                                  seccomp_profile(config)));
    json_t *nnp = status_int(status, "NoNewPrivs");
    json_object_set_new(o, "NoNewPrivs", json_boolean(json_integer_value(nnp) == 1));
    json_decref(nnp);
}

/* ---- user and group ids -------------------------------------------------------------- */

/* uid_map / gid_map lines: "inside outside count". */
static json_t *id_map(int procfd, const char *file)
{
    _cleanup_free_ char *text = cell_explain_read(procfd, file);
    json_t *map = json_array();
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        unsigned long long in, out, count;
        if (sscanf(line, "%llu %llu %llu", &in, &out, &count) == 3)
            json_array_append_new(map,
                                  json_pack("{s:I, s:I, s:I}", "ContainerID", (json_int_t)in,
                                            "HostID", (json_int_t)out, "Size", (json_int_t)count));
    }
    return map;
}

/* The id inside for a host id, by the map; null when unmapped. */
static json_t *id_inside(const json_t *map, json_int_t host)
{
    size_t i;
    const json_t *m;
    json_array_foreach(map, i, m)
    {
        json_int_t in = json_integer_value(json_object_get(m, "ContainerID"));
        json_int_t out = json_integer_value(json_object_get(m, "HostID"));
        json_int_t size = json_integer_value(json_object_get(m, "Size"));
        if (host >= out && host - out < size)
            return json_integer(in + (host - out));
    }
    return json_null();
}

/* /proc/PID/status shows ids as the reader's user namespace sees them,
 * so what it gives are host ids; the maps give the ids inside. */
static void add_user(json_t *o, int procfd, const char *status)
{
    json_t *uids = status_int(status, "Uid"), *gids = status_int(status, "Gid");
    json_t *umap = id_map(procfd, "uid_map"), *gmap = id_map(procfd, "gid_map");
    _cleanup_free_ char *groups = status_field(status, "Groups");
    json_t *glist = json_array();
    for (char *g = groups, *end; g && *g; g = end) {
        long long v = strtoll(g, &end, 10);
        if (end == g)
            break;
        json_array_append_new(glist, json_integer(v));
    }
    json_object_set_new(o, "User",
                        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "Uid",
                                  id_inside(umap, json_integer_value(uids)), "Gid",
                                  id_inside(gmap, json_integer_value(gids)), "HostUid", uids,
                                  "HostGid", gids, "HostGroups", glist, "UidMap", umap, "GidMap",
                                  gmap));
}

/* ---- the root filesystem ---------------------------------------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else
            *w++ = *r;
    }
    *w = 0;
}

/* Overlay's lower layers: "lowerdir=a:b" (a colon inside a path escaped
 * as "\:"), or one "lowerdir+=a" per layer (kernel 6.8 on). */
static void add_lowers(json_t *lowers, const char *value)
{
    _cleanup_free_ char *copy = strdup(value);
    char *w = copy, *start = copy;
    for (const char *r = value; copy; r++) {
        if (r[0] == '\\' && r[1] == ':') {
            *w++ = ':';
            r++;
            continue;
        }
        if (*r == ':' || !*r) {
            *w = 0;
            if (*start)
                json_array_append_new(lowers, json_string(start));
            start = ++w;
            if (!*r)
                break;
            continue;
        }
        *w++ = *r;
    }
}

/* Fills root from the superblock options of the root mount. */
static void overlay_dirs(json_t *root, const char *super)
{
    json_t *lowers = json_array();
    _cleanup_free_ char *copy = strdup(super);
    char *save = NULL;
    for (char *opt = copy ? strtok_r(copy, ",", &save) : NULL; opt;
         opt = strtok_r(NULL, ",", &save)) {
        unescape(opt);
        if (!strncmp(opt, "lowerdir=", 9))
            add_lowers(lowers, opt + 9);
        else if (!strncmp(opt, "lowerdir+=", 10))
            json_array_append_new(lowers, json_string(opt + 10));
        else if (!strncmp(opt, "upperdir=", 9))
            json_object_set_new(root, "UpperDir", json_string(opt + 9));
        else if (!strncmp(opt, "workdir=", 8))
            json_object_set_new(root, "WorkDir", json_string(opt + 8));
    }
    json_object_set_new(root, "LowerDirs", lowers);
}

/* Whether a comma-separated option list has opt. */
static bool has_option(const char *list, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = list; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
            return true;
    return false;
}

/* The mount at "/" as the init sees it: the last of them in mountinfo is
 * the one on top. Fields: id parent dev root mountpoint options
 * [optional...] - fstype source super-options. */
static void root_mount(int procfd, json_t *root)
{
    _cleanup_free_ char *info = cell_explain_read(procfd, "mountinfo");
    _cleanup_free_ char *top = NULL;
    for (char *line = info, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char mp[8];
        if (sscanf(line, "%*s %*s %*s %*s %7s", mp) == 1 && !strcmp(mp, "/")) {
            free(top);
            top = strdup(line);
        }
    }
    char *sep = top ? strstr(top, " - ") : NULL;
    char opts[256], fstype[64], source[4096], super[8192] = "";
    if (!sep || sscanf(top, "%*s %*s %*s %*s %*s %255s", opts) != 1 ||
        sscanf(sep + 3, "%63s %4095s %8191s", fstype, source, super) < 2)
        return;
    unescape(source);
    json_object_set_new(root, "Type", json_string(fstype));
    json_object_set_new(root, "Source", json_string(source));
    json_object_set_new(root, "ReadOnly", json_boolean(has_option(opts, "ro")));
    if (!strcmp(fstype, "overlay"))
        overlay_dirs(root, super);
}

/* Before Linux 6.8 the snapshot's overlay is mounted from inside its
 * directory with short relative options ("lowerdir=l/0,upperdir=upper",
 * l/N a link to a layer; image.h), and mountinfo shows them as given:
 * such a path is made whole against the snapshot directory, the parent
 * of the merged dir, and its links resolved. */
static json_t *whole_path(const char *p, const char *snapshot)
{
    char joined[8192], real[PATH_MAX];
    if (p[0] == '/' || !snapshot)
        return json_string(p);
    snprintf(joined, sizeof joined, "%s/%s", snapshot, p);
    return json_string(realpath(joined, real) ? real : joined);
}

static void make_whole(json_t *root)
{
    const char *merged = json_string_value(json_object_get(root, "MergedDir"));
    const char *slash = merged ? strrchr(merged, '/') : NULL;
    _cleanup_free_ char *snapshot = slash ? strndup(merged, (size_t)(slash - merged)) : NULL;
    static const char *const keys[] = {"UpperDir", "WorkDir"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const char *v = json_string_value(json_object_get(root, keys[i]));
        if (v)
            json_object_set_new(root, keys[i], whole_path(v, snapshot));
    }
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(root, "LowerDirs"), i, l) json_array_set_new(
        json_object_get(root, "LowerDirs"), i, whole_path(json_string_value(l), snapshot));
}

static void add_filesystem(json_t *o, int procfd, const json_t *rec, const json_t *config)
{
    json_t *root = json_pack(
        "{s:n, s:n, s:n, s:[], s:n, s:n, s:O?}", "Type", "Source", "ReadOnly", "LowerDirs",
        "UpperDir", "WorkDir", "MergedDir",
        json_object_get(json_object_get(json_object_get(rec, "GraphDriver"), "Data"), "MergedDir"));
    root_mount(procfd, root);
    make_whole(root);
    json_object_set_new(o, "RootFs", root);
    const json_t *linux = json_object_get(config, "linux");
    const json_t *masked = json_object_get(linux, "maskedPaths");
    const json_t *ro = json_object_get(linux, "readonlyPaths");
    json_object_set_new(o, "MaskedPaths",
                        json_is_array(masked) ? json_copy((json_t *)masked) : json_array());
    json_object_set_new(o, "ReadonlyPaths",
                        json_is_array(ro) ? json_copy((json_t *)ro) : json_array());
}

/* ---- the whole picture ------------------------------------------------------------- */

static int not_running(const struct cell_ctr *c, cell_err_t *err)
{
    const char *name = json_string_value(json_object_get(c->rec, "Name"));
    return cell_error(err, 0, "Container %s is not running", name ? name : c->id);
}

/* The init's /proc directory, once the runtime confirms that pid is still
 * the container's (see the top of the file). */
static int open_init(struct cell_engine *e, const struct cell_ctr *c, pid_t *pid, cell_err_t *err)
{
    const json_t *st = json_object_get(c->rec, "State");
    const char *status = json_string_value(json_object_get(st, "Status"));
    *pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
    if (*pid <= 0 || !status || (strcmp(status, "running") && strcmp(status, "paused")))
        return not_running(c, err);
    char path[32];
    snprintf(path, sizeof path, "/proc/%d", (int)*pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return not_running(c, err);
    json_t *rs = cell_runtime_state(e->runtime_root, c->id, NULL);
    const char *rstatus = json_string_value(json_object_get(rs, "status"));
    bool same = rstatus && (!strcmp(rstatus, "running") || !strcmp(rstatus, "paused")) &&
                json_integer_value(json_object_get(rs, "pid")) == *pid;
    json_decref(rs);
    if (!same)
        return not_running(c, err);
    return TAKE_FD(fd);
}

json_t *cell_engine_explain(struct cell_engine *e, const struct cell_ctr *c, cell_err_t *err)
{
    pid_t pid;
    _cleanup_close_ int procfd = open_init(e, c, &pid, err);
    if (procfd < 0)
        return NULL;
    _cleanup_free_ char *status = cell_explain_read(procfd, "status");
    json_t *config = NULL;
    _cleanup_free_ char *text = cell_explain_read(c->dirfd, "config.json");
    if (text)
        config = json_loads(text, 0, NULL);
    const char *name = json_string_value(json_object_get(c->rec, "Name"));
    json_t *o = json_pack("{s:s, s:s, s:i}", "Id", c->id, "Name", name ? name : "", "Pid", pid);
    if (!status || add_namespaces(o, procfd, NULL) < 0) {
        json_decref(config);
        json_decref(o);
        not_running(c, err);
        return NULL;
    }
    cell_explain_cgroup(o, procfd);
    add_caps(o, status);
    add_seccomp(o, status, config);
    add_user(o, procfd, status);
    add_filesystem(o, procfd, c->rec, config);
    add_nsenter(o, pid);
    json_decref(config);
    return o;
}
