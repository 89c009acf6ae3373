/* AppArmor and SELinux for the container's process (lsm.h). Both work the
 * same way at exec time: the process writes the label it wants into a
 * /proc/self/attr file and the kernel applies it at the next execve, so
 * the runtime's own code never runs confined by the container's profile. */
#include "runtime/process/lsm.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

static bool read_starts_with(const char *path, char c)
{
    char b = 0;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 && read(fd, &b, 1) == 1 && b == c;
}

/* AppArmor's module parameter says whether it is active; securityfs may
 * not be mounted in every mount namespace, the parameter always is. */
bool cell_lsm_apparmor_enabled(void)
{
    return read_starts_with("/sys/module/apparmor/parameters/enabled", 'Y') ||
           access("/sys/kernel/security/apparmor", F_OK) == 0;
}

/* selinuxfs is mounted at /sys/fs/selinux on every SELinux host. */
bool cell_lsm_selinux_enabled(void)
{
    return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static bool set(const char *s)
{
    return s && *s;
}

int cell_lsm_check(const struct cell_spec *spec, cell_err_t *err)
{
    const struct cell_process *p = &spec->process;
    if (set(p->apparmor_profile) && !cell_lsm_apparmor_enabled())
        return cell_error(err, 0,
                          "process.apparmorProfile \"%s\": AppArmor is not enabled on this host",
                          p->apparmor_profile);
    /* runc refuses this one too ("selinux label is specified in config,
     * but selinux is disabled"): the process would run unconfined. */
    if (set(p->selinux_label) && !cell_lsm_selinux_enabled())
        return cell_error(err, 0,
                          "process.selinuxLabel \"%s\": SELinux is not enabled on this host",
                          p->selinux_label);
    /* linux.mountLabel is not checked: without SELinux there are no file
     * labels to confine anything by, and cell_lsm_mount_context leaves the
     * option out. crun ignores it there too; runc 1.1 passes context= to
     * the kernel, which refuses the mount (EINVAL). */
    return 0;
}

/* The label goes to the container's /proc, which its rootfs could fake with
 * plain files (a symlinked /proc, CVE-2019-16884): the write would land and
 * the process run unconfined. Only a file on procfs is written. */
static int write_proc_attr(const char *path, const char *value)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return -errno;
    if (sf.f_type != PROC_SUPER_MAGIC)
        return -EXDEV;
    return cell_write_all(fd, value, strlen(value));
}

/* Newer kernels give each LSM its own attr directory; the shared
 * attr/exec belongs to whichever LSM came first. */
static int write_attr(const char *own, const char *shared, const char *value)
{
    int r = write_proc_attr(own, value);
    if (r == -ENOENT)
        r = write_proc_attr(shared, value);
    return r;
}

int cell_lsm_set_exec_labels(const struct cell_process *p, cell_err_t *err)
{
    if (set(p->apparmor_profile)) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "exec %s", p->apparmor_profile);
        int r =
            write_attr("/proc/thread-self/attr/apparmor/exec", "/proc/thread-self/attr/exec", cmd);
        if (r < 0)
            return cell_error(err, -r, "process.apparmorProfile: set \"%s\"", p->apparmor_profile);
    }
    if (set(p->selinux_label)) {
        int r = write_attr("/proc/thread-self/attr/selinux/exec", "/proc/thread-self/attr/exec",
                           p->selinux_label);
        if (r < 0)
            return cell_error(err, -r, "process.selinuxLabel: set \"%s\"", p->selinux_label);
    }
    return 0;
}

const char *cell_lsm_mount_context(const struct cell_spec *spec)
{
    return set(spec->linux.mount_label) && cell_lsm_selinux_enabled() ? spec->linux.mount_label
                                                                      : NULL;
}
