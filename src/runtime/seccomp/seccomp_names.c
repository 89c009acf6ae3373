/* The names config.json uses for seccomp actions, operators, architectures
 * and flags (config-linux.md "Seccomp"), and the features object built from
 * the same tables, so what `features` lists is exactly what is accepted. */
#include "runtime/seccomp/seccomp_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

struct name_value {
    const char *name;
    uint32_t value;
};

/* ERRNO and TRACE carry their data in the low 16 bits; the caller adds it. */
static const struct name_value actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const struct name_value operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* Only the architectures the linked libseccomp knows: a name it cannot
 * build a filter for is refused rather than silently dropped. */
static const struct name_value archs[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

/* seccomp(2) flags; the filter is loaded by our own seccomp() call, so
 * these are the kernel's bits, not libseccomp attributes. */
static const struct name_value flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const struct name_value *table(enum seccomp_table t, size_t *n)
{
    switch (t) {
    case SECCOMP_ACTIONS:
        *n = ARRAY_SIZE(actions);
        return actions;
    case SECCOMP_OPERATORS:
        *n = ARRAY_SIZE(operators);
        return operators;
    case SECCOMP_ARCHS:
        *n = ARRAY_SIZE(archs);
        return archs;
    case SECCOMP_FLAGS:
        *n = ARRAY_SIZE(flags);
        return flags;
    }
    *n = 0;
    return NULL;
}

int seccomp_name_lookup(enum seccomp_table t, const char *name, uint32_t *value)
{
    size_t n;
    const struct name_value *tab = table(t, &n);
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(tab[i].name, name)) {
            *value = tab[i].value;
            return 0;
        }
    return -1;
}

static json_t *names_of(enum seccomp_table t, bool (*keep)(uint32_t))
{
    size_t n;
    const struct name_value *tab = table(t, &n);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if ((!keep || keep(tab[i].value)) &&
            json_array_append_new(a, json_string(tab[i].name)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* The kernel checks flags before the program pointer: EFAULT on a NULL
 * program means the flag was accepted, EINVAL that it is unknown. */
static bool kernel_has_flag(uint32_t flag)
{
    unsigned long f = flag;
    /* WAIT_KILLABLE_RECV is only valid with a listener. */
    if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
        f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, NULL) < 0 && errno == EFAULT;
}

json_t *cell_seccomp_features(void)
{
    return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
                     names_of(SECCOMP_ACTIONS, NULL), "operators",
                     names_of(SECCOMP_OPERATORS, NULL), "archs", names_of(SECCOMP_ARCHS, NULL),
                     "knownFlags", names_of(SECCOMP_FLAGS, NULL), "supportedFlags",
                     names_of(SECCOMP_FLAGS, kernel_has_flag));
}
