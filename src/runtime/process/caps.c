#include "runtime/process/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's own last capability; the config may name ones it lacks. */
static int kernel_last_cap(void)
{
    static int last = -1;
    if (last < 0) {
        last = 0;
        while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
            last++;
    }
    return last;
}

int cell_caps_drop_bounding(const struct cell_caps *caps, cell_err_t *err)
{
    if (!caps->present)
        return 0;
    int last = kernel_last_cap();
    for (int cap = 0; cap <= last; cap++) {
        if (caps->bounding & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return cell_error(err, errno, "drop %s from the bounding set", cell_cap_name(cap));
    }
    return 0;
}

static int set_ambient(uint64_t ambient, cell_err_t *err)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return cell_error(err, errno, "clear ambient capabilities");
    int last = kernel_last_cap();
    for (int cap = 0; cap <= last; cap++)
        if ((ambient & (1ULL << cap)) &&
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return cell_error(err, errno, "raise ambient %s", cell_cap_name(cap));
    return 0;
}

int cell_caps_apply(const struct cell_caps *caps, cell_err_t *err)
{
    if (!caps->present)
        return 0;
    uint64_t known = kernel_last_cap() >= 63 ? ~0ULL : (1ULL << (kernel_last_cap() + 1)) - 1;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    uint64_t eff = caps->effective & known, perm = caps->permitted & known,
             inh = caps->inheritable & known;
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(eff >> (32 * i));
        data[i].permitted = (uint32_t)(perm >> (32 * i));
        data[i].inheritable = (uint32_t)(inh >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return cell_error(err, errno, "set capabilities");
    /* The kernel raises an ambient capability only when it is permitted
     * and inheritable; runc's default spec lists ambient ones without
     * inheritable, and runc then skips them. So do we. */
    return set_ambient(caps->ambient & perm & inh, err);
}
