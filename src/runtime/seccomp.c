/* Being written: see seccomp.h. Until then a config with linux.seccomp is
 * refused: running without the asked-for filter would be a silent hole. */
#include "runtime/seccomp.h"

int cell_seccomp_prepare(const struct cell_spec *spec, struct cell_seccomp **out, cell_err_t *err)
{
    *out = NULL;
    if (spec->linux.seccomp)
        return cell_error(err, 0, "config.json: linux.seccomp: not supported yet");
    return 0;
}

int cell_seccomp_install(const struct cell_seccomp *s, int *notify_fd, cell_err_t *err)
{
    (void)s;
    (void)err;
    *notify_fd = -1;
    return 0;
}

int cell_seccomp_send_to_listener(const struct cell_spec *spec, int notify_fd,
                                  const char *state_json, cell_err_t *err)
{
    (void)spec;
    (void)notify_fd;
    (void)state_json;
    return cell_error(err, 0, "linux.seccomp.listenerPath: not supported yet");
}

void cell_seccomp_free(struct cell_seccomp *s)
{
    (void)s;
}
