/* linux.seccomp.listenerPath: the runtime process hands the init's notify
 * fd to a seccomp agent, with the container process state (config-linux.md
 * "The Container Process State"): one connection, one JSON document, the fd
 * in SCM_RIGHTS of the first sendmsg. */
#include "runtime/seccomp/seccomp_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *process_state(const json_t *sc, const char *state_json)
{
    json_t *state = json_loads(state_json ? state_json : "{}", 0, NULL);
    json_t *pid = json_object_get(state, "pid");
    json_t *md = json_object_get(sc, "listenerMetadata");
    json_t *o = json_pack("{s:s, s:[s], s:I}", "ociVersion", CELL_OCI_VERSION, "fds", "seccompFd",
                          "pid", (json_int_t)(json_is_integer(pid) ? json_integer_value(pid) : 0));
    if (o && md)
        json_object_set(o, "metadata", md);
    if (o && state)
        json_object_set(o, "state", state);
    json_decref(state);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

int cell_seccomp_send_to_listener(const struct cell_spec *spec, int notify_fd,
                                  const char *state_json, cell_err_t *err)
{
    const json_t *sc = spec->linux.seccomp;
    const char *path = json_string_value(json_object_get(sc, "listenerPath"));
    if (!path)
        return cell_error(err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath");
    _cleanup_free_ char *text = process_state(sc, state_json);
    if (!text)
        return cell_error(err, ENOMEM, "linux.seccomp.listenerPath: container process state");
    _cleanup_close_ int sock = cell_unix_connect(path);
    if (sock < 0)
        return cell_error(err, -sock, "linux.seccomp.listenerPath: connect %s", path);
    /* The fd rides on the first sendmsg; the rest of a long state follows. */
    int r = cell_send_with_fd(sock, text, strlen(text), notify_fd);
    if (r < 0)
        return cell_error(err, -r, "linux.seccomp.listenerPath: send to %s", path);
    return 0;
}
