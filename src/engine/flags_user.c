/* -u/--user and --group-add, resolved in the image's root filesystem the way
 * Docker does it (runc's libcontainer user lookup, then Docker's daemon
 * putting the pieces into process.user). /etc/passwd and /etc/group are
 * opened inside the rootfs with RESOLVE_IN_ROOT: an image whose /etc is a
 * symlink to "/" or "../../etc" reads its own files or none, never the
 * host's. */
#include "engine/flags.h"
#include "engine/flags_internal.h"

#include "base/cleanup.h"
#include "base/path.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ID 2147483647 /* runc's maxID */

/* One line of passwd or group split at ':' (fields past the end are ""). */
struct entry {
    char *line;
    size_t cap; /* getline's buffer, reused line after line */
    char *field[7];
};

/* Go's strconv.Atoi, failures as 0 (runc's parseLine does that). */
static int64_t id_field(const char *s)
{
    int64_t v;
    return parse_go_int(s, &v) == 0 ? v : 0;
}

static bool is_number(const char *s, int64_t *v)
{
    return parse_go_int(s, v) == 0;
}

/* The next non-empty line of f (blanks trimmed at both ends), split. */
static bool next_entry(FILE *f, struct entry *e)
{
    ssize_t n;
    while ((n = getline(&e->line, &e->cap, f)) >= 0) {
        char *p = e->line, *end = e->line + n;
        while (p < end && strchr(" \t\r\n\v\f", *p))
            p++;
        while (end > p && strchr(" \t\r\n\v\f", end[-1]))
            end--;
        if (p == end)
            continue;
        *end = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(e->field); i++) {
            e->field[i] = p;
            p += strcspn(p, ":");
            if (*p)
                *p++ = '\0';
        }
        return true;
    }
    return false;
}

/* <rootfs>/etc/NAME for reading, or NULL when it cannot be opened (Docker
 * takes a missing file as empty). Only a regular file is read: a FIFO or a
 * device planted in an image must not block or read the host's. */
static FILE *open_etc(int rootfd, const char *name)
{
    int fd = cell_openat_in_root(rootfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "re") : NULL;
    if (!f)
        close(fd);
    return f;
}

struct exec_user {
    int64_t uid, gid;
    char *home, *name;
    int64_t *gids; /* additionalGids */
    size_t ngids;
};

static int add_gid(struct exec_user *u, int64_t gid)
{
    int64_t *more = realloc(u->gids, (u->ngids + 1) * sizeof(*more));
    if (!more)
        return -ENOMEM;
    u->gids = more;
    u->gids[u->ngids++] = gid;
    return 0;
}

static const char range_error[] = "uids and gids must be in range 0-2147483647";

/* The passwd part: uid, gid, home and the matched name. */
static int find_user(int rootfd, const char *user_arg, struct exec_user *u, cell_err_t *err)
{
    int64_t uid_arg = 0;
    bool numeric = is_number(user_arg, &uid_arg);
    _cleanup_fclose_ FILE *f = open_etc(rootfd, "/etc/passwd");
    struct entry e = {0};
    bool found = false;
    while (f && !found && next_entry(f, &e)) {
        /* name:password:uid:gid:gecos:home:shell; "" is the default user, root */
        int64_t uid = id_field(e.field[2]);
        found = !*user_arg ? uid == 0
                : numeric  ? uid == uid_arg
                           : strcmp(e.field[0], user_arg) == 0;
        if (found) {
            u->uid = uid;
            u->gid = id_field(e.field[3]);
            u->name = strdup(e.field[0]);
            u->home = strdup(*e.field[5] ? e.field[5] : "/");
            if (!u->name || !u->home) {
                free(e.line);
                return cell_error(err, ENOMEM, "user %s", user_arg);
            }
        }
    }
    free(e.line);
    if (found || !*user_arg)
        return 0;
    if (!numeric)
        return cell_error(err, 0, "unable to find user %s: no matching entries in passwd file",
                          user_arg);
    if (uid_arg < 0 || uid_arg > MAX_ID)
        return cell_error(err, 0, "%s", range_error);
    u->uid = uid_arg;
    return 0;
}

/* The group part: an explicit group sets the gid; otherwise the groups that
 * list the matched user name are its supplementary groups (runc's rule). */
static int find_groups(int rootfd, const char *group_arg, struct exec_user *u, cell_err_t *err)
{
    if (!*group_arg && !u->name)
        return 0;
    int64_t gid_arg = 0;
    bool numeric = is_number(group_arg, &gid_arg), found = false;
    _cleanup_fclose_ FILE *f = open_etc(rootfd, "/etc/group");
    struct entry e = {0};
    while (f && !found && next_entry(f, &e)) {
        /* name:password:gid:member,member */
        int64_t gid = id_field(e.field[2]);
        if (*group_arg) {
            found = numeric ? gid == gid_arg : strcmp(e.field[0], group_arg) == 0;
            if (found)
                u->gid = gid;
            continue;
        }
        for (char *m = e.field[3]; *m;) {
            size_t n = strcspn(m, ",");
            if (n == strlen(u->name) && strncmp(m, u->name, n) == 0) {
                if (add_gid(u, gid) < 0) {
                    free(e.line);
                    return cell_error(err, ENOMEM, "groups");
                }
                break;
            }
            m += n + (m[n] == ',');
        }
    }
    free(e.line);
    if (!*group_arg || found)
        return 0;
    if (!numeric)
        return cell_error(err, 0, "unable to find group %s: no matching entries in group file",
                          group_arg);
    if (gid_arg < 0 || gid_arg > MAX_ID)
        return cell_error(err, 0, "%s", range_error);
    u->gid = gid_arg;
    return 0;
}

static bool has_gid(const int64_t *gids, size_t n, int64_t gid)
{
    for (size_t i = 0; i < n; i++)
        if (gids[i] == gid)
            return true;
    return false;
}

/* One --group-add value: a group name or gid in /etc/group, else a number. */
static int group_add_gid(int rootfd, const char *ag, int64_t *out, cell_err_t *err)
{
    _cleanup_fclose_ FILE *f = open_etc(rootfd, "/etc/group");
    struct entry e = {0};
    bool found = false;
    while (f && !found && next_entry(f, &e)) {
        int64_t gid = id_field(e.field[2]);
        char num[24];
        snprintf(num, sizeof(num), "%lld", (long long)gid);
        found = strcmp(e.field[0], ag) == 0 || strcmp(num, ag) == 0;
        if (found)
            *out = gid;
    }
    free(e.line);
    if (found)
        return 0;
    if (!is_number(ag, out))
        return cell_error(err, 0, "Unable to find group %s: no matching entries in group file", ag);
    if (*out < 0 || *out > MAX_ID)
        return cell_error(err, 0, "%s", range_error);
    return 0;
}

/* Docker: additionalGids = [gid] + the user's groups + --group-add (each
 * --group-add gid once). */
static int group_adds(int rootfd, char *const *group_add, struct exec_user *u, cell_err_t *err)
{
    size_t first = u->ngids;
    for (size_t i = 0; group_add && group_add[i]; i++) {
        int64_t gid;
        if (group_add_gid(rootfd, group_add[i], &gid, err) < 0)
            return -1;
        if (!has_gid(u->gids + first, u->ngids - first, gid) && add_gid(u, gid) < 0)
            return cell_error(err, ENOMEM, "--group-add");
    }
    return 0;
}

static void exec_user_clear(struct exec_user *u)
{
    free(u->home);
    free(u->name);
    free(u->gids);
}

static json_t *process_user_json(const struct exec_user *u)
{
    json_t *gids = json_array();
    for (size_t i = 0; gids && i < u->ngids; i++)
        if (json_array_append_new(gids, json_integer(u->gids[i])) < 0) {
            json_decref(gids);
            return NULL;
        }
    return gids ? json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u->uid, "gid", (json_int_t)u->gid,
                            "additionalGids", gids)
                : NULL;
}

int cell_flags_resolve_user(int rootfd, const char *user, char *const *group_add,
                            json_t **process_user, char **home, cell_err_t *err)
{
    __attribute__((cleanup(exec_user_clear))) struct exec_user u = {0};
    /* "user:group:more" is "user:group" to runc. */
    size_t ulen = strcspn(user, ":");
    _cleanup_free_ char *user_arg = strndup(user, ulen);
    _cleanup_free_ char *group_arg =
        user[ulen] ? strndup(user + ulen + 1, strcspn(user + ulen + 1, ":")) : strdup("");
    if (!user_arg || !group_arg)
        return cell_error(err, ENOMEM, "user %s", user);
    if (find_user(rootfd, user_arg, &u, err) < 0 || find_groups(rootfd, group_arg, &u, err) < 0)
        return -1;
    /* Docker puts the gid first, then what runc found. */
    int64_t *found = TAKE_PTR(u.gids);
    size_t nfound = u.ngids;
    u.ngids = 0;
    int r = add_gid(&u, u.gid);
    for (size_t i = 0; r == 0 && i < nfound; i++)
        r = add_gid(&u, found[i]);
    free(found);
    if (r < 0)
        return cell_error(err, ENOMEM, "user %s", user);
    if (group_adds(rootfd, group_add, &u, err) < 0)
        return -1;
    json_t *j = process_user_json(&u);
    char *h = strdup(u.home ? u.home : "/");
    if (!j || !h) {
        json_decref(j);
        free(h);
        return cell_error(err, ENOMEM, "user %s", user);
    }
    *process_user = j;
    *home = h;
    return 0;
}
