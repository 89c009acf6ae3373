/* Docker's default capabilities, its --cap-add / --cap-drop / --privileged
 * rules, and its masked and read-only paths (moby: oci/caps, oci/defaults.go). */
#include "engine/defaults.h"

#include "base/cleanup.h"
#include "base/strv.h"
#include "runtime/spec/spec.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static int strv_push_new(char ***v, const char *s)
{
    for (char **p = *v; p && *p; p++)
        if (strcmp(*p, s) == 0)
            return 0;
    return cell_strv_push(v, s);
}

static bool strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

char **cell_defaults_caps(void)
{
    _cleanup_strv_ char **v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
        if (cell_strv_push(&v, default_caps[i]) < 0)
            return NULL;
    return TAKE_PTR(v);
}

/* The capabilities this process has: what Docker calls "available in the
 * current environment". A container cannot be given more. */
static uint64_t own_caps(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {0};
    if (syscall(SYS_capget, &hdr, data) < 0)
        return 0;
    return (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
}

/* "sys_admin", "CAP_SYS_ADMIN", "Sys_Admin" -> "CAP_SYS_ADMIN"; "all" -> "ALL". */
static char *normalize_cap(const char *name)
{
    size_t n = strlen(name);
    char *s = malloc(n + 5);
    if (!s)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        s[i] = (char)toupper((unsigned char)name[i]);
    if (strcmp(s, "ALL") != 0 && strncmp(s, "CAP_", 4) != 0) {
        memmove(s + 4, s, n + 1);
        memcpy(s, "CAP_", 4);
    }
    return s;
}

/* One list normalised and checked; flag names it in errors. */
static int normalize_caps(char *const *in, const char *flag, uint64_t have, char ***out,
                          cell_err_t *err)
{
    _cleanup_strv_ char **v = calloc(1, sizeof *v);
    if (!v)
        return cell_error(err, ENOMEM, "%s", flag);
    for (; in && *in; in++) {
        _cleanup_free_ char *c = normalize_cap(*in);
        if (!c)
            return cell_error(err, ENOMEM, "%s", flag);
        int nr = strcmp(c, "ALL") == 0 ? -2 : cell_cap_from_name(c);
        if (nr == -1)
            return cell_error(err, 0, "%s: unknown capability: \"%s\"", flag, c);
        if (nr >= 0 && !(nr < 64 && (have & (1ULL << nr))))
            return cell_error(err, 0,
                              "%s: capability not supported by your kernel or not available in "
                              "the current environment: \"%s\"",
                              flag, c);
        if (strv_push_new(&v, c) < 0)
            return cell_error(err, ENOMEM, "%s", flag);
    }
    *out = TAKE_PTR(v);
    return 0;
}

/* Every capability this process has, in number order, minus skip. */
static int all_caps(uint64_t have, char *const *skip, char ***out)
{
    for (int c = 0; c <= cell_cap_last() && c < 64; c++) {
        const char *name = cell_cap_name(c);
        if (name && (have & (1ULL << c)) && !strv_has(skip, name) && strv_push_new(out, name) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int tweak_caps(char *const *add, char *const *drop, bool privileged, uint64_t have,
                      char ***out)
{
    if (privileged)
        return all_caps(have, NULL, out);
    if (strv_has(add, "ALL"))
        return all_caps(have, drop, out);
    if (!strv_has(drop, "ALL"))
        for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
            if (!strv_has(drop, default_caps[i]) && strv_push_new(out, default_caps[i]) < 0)
                return -ENOMEM;
    for (; add && *add; add++)
        if (strv_push_new(out, *add) < 0)
            return -ENOMEM;
    return 0;
}

int cell_defaults_apply_caps(char *const *add, char *const *drop, bool privileged, char ***out,
                             cell_err_t *err)
{
    uint64_t have = own_caps();
    _cleanup_strv_ char **adds = NULL, **drops = NULL;
    /* Docker checks both lists before it looks at --privileged. */
    int r = normalize_caps(add, "--cap-add", have, &adds, err);
    if (r < 0 || (r = normalize_caps(drop, "--cap-drop", have, &drops, err)) < 0)
        return r;
    _cleanup_strv_ char **v = calloc(1, sizeof *v);
    if (!v || tweak_caps(adds, drops, privileged, have, &v) < 0)
        return cell_error(err, ENOMEM, "capabilities");
    *out = TAKE_PTR(v);
    return 0;
}

/* ---- masked and read-only paths ------------------------------------------- */

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *string_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int add_thermal_throttle(json_t *a, unsigned cpu)
{
    char path[80];
    struct stat st;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/thermal_throttle", cpu);
    if (stat(path, &st) < 0)
        return 0;
    return json_array_append_new(a, json_string(path));
}

/* The thermal_throttle counters of each CPU tell a container how hot the
 * host runs, a side channel (GHSA-6fw5-f8r9-fgfm): each one that exists is
 * masked, for each CPU in /sys/devices/system/cpu/possible ("0-3,8"). */
static int add_cpu_paths(json_t *a)
{
    _cleanup_fclose_ FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
    char line[256];
    if (!f || !fgets(line, sizeof line, f))
        return 0;
    for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n")) {
        unsigned lo, hi;
        int n = sscanf(tok, "%u-%u", &lo, &hi);
        if (n < 1)
            continue;
        if (n == 1)
            hi = lo;
        for (unsigned c = lo; c <= hi && c < 8192; c++)
            if (add_thermal_throttle(a, c) < 0)
                return -1;
    }
    return 0;
}

json_t *cell_defaults_masked_paths(void)
{
    json_t *a = string_array(masked_paths, ARRAY_SIZE(masked_paths));
    if (a && add_cpu_paths(a) < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *cell_defaults_readonly_paths(void)
{
    return string_array(readonly_paths, ARRAY_SIZE(readonly_paths));
}
