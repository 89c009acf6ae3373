/* Signal names as users and callers write them: "KILL", "SIGKILL", "kill",
 * "9", "SIGRTMIN+3", "RTMAX-1". Real-time signals are counted from glibc's
 * SIGRTMIN (34, after the two that glibc keeps for itself), the numbering
 * that kill(1) and Go's moby/sys/signal use too. */
#include "runtime/runtime.h"

#include "base/cleanup.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct signal_name {
    const char *name;
    int sig;
};

/* Aliases (IOT, CLD, POLL) come after the name of the same number, so that
 * the first match by number is the name cell_signal_name gives back. */
// clang-format off
#define SIGNAL(x) {"SIG" #x, SIG##x}
// clang-format on
static const struct signal_name signal_names[] = {
    SIGNAL(HUP),    SIGNAL(INT),  SIGNAL(QUIT), SIGNAL(ILL),  SIGNAL(TRAP),   SIGNAL(ABRT),
    SIGNAL(IOT),    SIGNAL(BUS),  SIGNAL(FPE),  SIGNAL(KILL), SIGNAL(USR1),   SIGNAL(SEGV),
    SIGNAL(USR2),   SIGNAL(PIPE), SIGNAL(ALRM), SIGNAL(TERM),
#ifdef SIGSTKFLT
    SIGNAL(STKFLT),
#endif
    SIGNAL(CHLD),   SIGNAL(CLD),  SIGNAL(CONT), SIGNAL(STOP), SIGNAL(TSTP),   SIGNAL(TTIN),
    SIGNAL(TTOU),   SIGNAL(URG),  SIGNAL(XCPU), SIGNAL(XFSZ), SIGNAL(VTALRM), SIGNAL(PROF),
    SIGNAL(WINCH),  SIGNAL(IO),   SIGNAL(POLL), SIGNAL(PWR),  SIGNAL(SYS),
};
#undef SIGNAL

/* Names of the real-time signals, counted from either end the way kill -l
 * prints them; the two lists meet in the middle of the 31 signals. */
static const char *const rt_from_min[] = {
    "SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
    "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
    "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15",
};
static const char *const rt_from_max[] = {
    "SIGRTMAX",    "SIGRTMAX-1",  "SIGRTMAX-2",  "SIGRTMAX-3",  "SIGRTMAX-4",
    "SIGRTMAX-5",  "SIGRTMAX-6",  "SIGRTMAX-7",  "SIGRTMAX-8",  "SIGRTMAX-9",
    "SIGRTMAX-10", "SIGRTMAX-11", "SIGRTMAX-12", "SIGRTMAX-13", "SIGRTMAX-14",
};

static bool signal_in_range(long sig)
{
    return sig >= 1 && sig <= SIGRTMAX;
}

/* A whole string of decimal digits, or -1. */
static long parse_decimal(const char *s)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v != LONG_MAX ? v : -1;
}

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (already without "SIG"). */
static int parse_realtime(const char *s)
{
    bool from_min = strncasecmp(s, "RTMIN", 5) == 0;
    if (!from_min && strncasecmp(s, "RTMAX", 5) != 0)
        return -1;
    const char *rest = s + 5;
    if (*rest == '\0')
        return from_min ? SIGRTMIN : SIGRTMAX;
    if (*rest != (from_min ? '+' : '-'))
        return -1;
    long n = parse_decimal(rest + 1);
    if (n < 0 || n > SIGRTMAX - SIGRTMIN)
        return -1;
    return from_min ? SIGRTMIN + (int)n : SIGRTMAX - (int)n;
}

int cell_signal_from_string(const char *s)
{
    if (!s || !*s)
        return -1;
    long num = parse_decimal(s);
    if (num >= 0)
        return signal_in_range(num) ? (int)num : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
        if (strcasecmp(s, signal_names[i].name + 3) == 0)
            return signal_names[i].sig;
    return parse_realtime(s);
}

static const char *realtime_name(int sig)
{
    size_t from_min = (size_t)(sig - SIGRTMIN), from_max = (size_t)(SIGRTMAX - sig);
    if (from_min < ARRAY_SIZE(rt_from_min))
        return rt_from_min[from_min];
    if (from_max < ARRAY_SIZE(rt_from_max))
        return rt_from_max[from_max];
    return NULL;
}

const char *cell_signal_name(int sig)
{
    for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
        if (signal_names[i].sig == sig)
            return signal_names[i].name;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        return realtime_name(sig);
    return NULL;
}
