#include "runtime/process.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "runtime/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int cell_process_set_rlimits(const struct cell_process *p, cell_err_t *err)
{
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct cell_rlimit *l = &p->rlimits[i];
        struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard};
        if (setrlimit(l->resource, &rl) < 0)
            return cell_error(err, errno, "process.rlimits[%zu]: set soft %llu hard %llu", i,
                              (unsigned long long)l->soft, (unsigned long long)l->hard);
    }
    return 0;
}

int cell_process_switch_user(const struct cell_process *p, cell_err_t *err)
{
    /* A user namespace with setgroups denied refuses even an empty list;
     * that is only an error when groups were asked for. With
     * keep_original_groups the groups the runtime was started with stay
     * (podman's --group-add keep-groups: a rootless user's groups reach
     * the devices and files they open). */
    if (!p->keep_original_groups && setgroups(p->n_additional_gids, p->additional_gids) < 0 &&
        !(errno == EPERM && p->n_additional_gids == 0))
        return cell_error(err, errno, "process.user.additionalGids: setgroups");
    if (setresgid(p->gid, p->gid, p->gid) < 0)
        return cell_error(err, errno, "process.user.gid: setgid %u", p->gid);
    /* Keep the permitted set across setuid; cell_caps_apply then sets the
     * sets the config asks for. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return cell_error(err, errno, "keep capabilities");
    if (setresuid(p->uid, p->uid, p->uid) < 0)
        return cell_error(err, errno, "process.user.uid: setuid %u", p->uid);
    int r = cell_caps_apply(&p->caps, err);
    if (r < 0)
        return r;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return cell_error(err, errno, "reset keep capabilities");
    return 0;
}

/* 0, or why execve would refuse it: -ENOENT, -EACCES, ... */
static int check_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 0 : -EACCES;
}

/* Docker's CLI takes the exit status of a `docker run` whose command cannot
 * start from the runtime's words, case included: 127 for "no such file or
 * directory", 126 for "permission denied" (runc's, which are Go's errno
 * texts); strerror's capitals would make it 125. */
static int cannot_exec(const char *name, int e, cell_err_t *err)
{
    if (e == ENOENT)
        return cell_error(err, 0, "exec %s: no such file or directory", name);
    if (e == EACCES)
        return cell_error(err, 0, "exec %s: permission denied", name);
    return cell_error(err, e, "exec %s", name);
}

int cell_process_find_executable(const struct cell_process *p, char **out, cell_err_t *err)
{
    const char *name = p->args[0];
    if (strchr(name, '/')) {
        int r = check_executable(name);
        if (r < 0)
            return cannot_exec(name, -r, err);
        *out = strdup(name);
        return *out ? 0 : cell_error(err, ENOMEM, "exec");
    }
    const char *path = cell_strv_env_get(p->env, "PATH");
    _cleanup_free_ char *copy = strdup(path ? path : DEFAULT_PATH);
    if (!copy)
        return cell_error(err, ENOMEM, "exec");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", *dir ? dir : ".", name) >= (int)sizeof full)
            continue;
        if (check_executable(full) == 0) {
            *out = strdup(full);
            return *out ? 0 : cell_error(err, ENOMEM, "exec");
        }
    }
    return cell_error(err, 0, "exec \"%s\": executable file not found in $PATH", name);
}

/* The home directory of uid in /etc/passwd, read directly: no NSS module
 * of the host may run against the container's files. */
static char *passwd_home(uid_t uid)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *fields[7] = {0};
        char *save = NULL, *p = line;
        int n = 0;
        for (char *tok; n < 7 && (tok = strsep(&p, ":")); n++)
            fields[n] = tok;
        (void)save;
        if (n >= 6 && fields[2] && strtoul(fields[2], NULL, 10) == uid && *fields[2] &&
            fields[5][0] == '/')
            return strdup(fields[5]);
    }
    return NULL;
}

char **cell_process_env_with_home(const struct cell_process *p)
{
    if (cell_strv_env_get(p->env, "HOME"))
        return p->env;
    size_t n = cell_strv_len(p->env);
    char **env = calloc(n + 2, sizeof(char *));
    if (!env)
        return p->env;
    memcpy(env, p->env, n * sizeof(char *));
    _cleanup_free_ char *home = passwd_home(p->uid);
    if (asprintf(&env[n], "HOME=%s", home ? home : "/") < 0)
        env[n] = NULL;
    return env;
}

int cell_process_set_oom_score_adj(pid_t pid, int64_t adj, cell_err_t *err)
{
    if (adj == CELL_UNSET)
        return 0;
    char path[64], val[32];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", pid);
    int n = snprintf(val, sizeof val, "%lld", (long long)adj);
    int r = cell_write_file_at(AT_FDCWD, path, val, (size_t)n);
    if (r < 0)
        return cell_error(err, -r, "process.oomScoreAdj: write %s", val);
    return 0;
}
