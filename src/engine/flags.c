/* The scalar `run` flags (sizes, CPUs, ulimits, restart policy, sysctls,
 * --add-host, --stop-signal) and the helpers that give every flag error
 * Docker's shape. */
#include "engine/flags.h"
#include "engine/flags_internal.h"

#include "base/cleanup.h"
#include "runtime/runtime.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- error frame --------------------------------------------------------- */

/* Docker's one-letter flags of `run`, so that a flag prints as pflag names it. */
static const struct {
    const char *name;
    char shorthand;
} shorthands[] = {{"attach", 'a'},   {"cpu-shares", 'c'},  {"detach", 'd'}, {"env", 'e'},
                  {"hostname", 'h'}, {"interactive", 'i'}, {"label", 'l'},  {"memory", 'm'},
                  {"publish", 'p'},  {"publish-all", 'P'}, {"tty", 't'},    {"user", 'u'},
                  {"volume", 'v'},   {"workdir", 'w'}};

static void flag_display(const char *flag, char *buf, size_t n)
{
    if (strchr(flag, ',')) { /* already "-m, --memory" */
        snprintf(buf, n, "%s", flag);
        return;
    }
    while (*flag == '-')
        flag++;
    for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++)
        if (strcmp(flag, shorthands[i].name) == 0) {
            snprintf(buf, n, "-%c, --%s", shorthands[i].shorthand, flag);
            return;
        }
    snprintf(buf, n, "--%s", flag);
}

char *go_quote(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len * 4 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        static const char named[] = "\a\b\f\n\r\t\v", letters[] = "abfnrtv";
        const char *esc = *p ? strchr(named, *p) : NULL;
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (esc) {
            *o++ = '\\';
            *o++ = letters[esc - named];
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\x%02x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

int flag_error(cell_err_t *err, int errnum, const char *flag, const char *value, const char *fmt,
               ...)
{
    char name[96];
    flag_display(flag, name, sizeof(name));
    _cleanup_free_ char *quoted = go_quote(value);
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0 || !quoted)
        return cell_error(err, ENOMEM, "%s", name);
    return cell_error(err, errnum, "invalid argument %s for \"%s\" flag: %s", quoted, name, msg);
}

/* ---- Go's number parsers -------------------------------------------------- */

int parse_go_uint(const char *s, uint64_t *out)
{
    if (!*s)
        return -EINVAL;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_go_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    uint64_t v;
    int r = parse_go_uint(s + (*s == '-' || *s == '+'), &v);
    if (r < 0)
        return r;
    if (v > (uint64_t)INT64_MAX + neg)
        return -ERANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

char *go_num_error(const char *func, const char *s, int r)
{
    _cleanup_free_ char *q = go_quote(s);
    char *msg = NULL;
    if (!q || asprintf(&msg, "strconv.%s: parsing %s: %s", func, q,
                       r == -ERANGE ? "value out of range" : "invalid syntax") < 0)
        return NULL;
    return msg;
}

bool parse_go_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcmp(s, yes[i]) == 0)
            return (*out = true);
        if (strcmp(s, no[i]) == 0)
            return !(*out = false);
    }
    return false;
}

/* Go's strconv.ParseFloat over a decimal number (what can reach it from
 * RAMInBytes: the text ends in a digit or '.'): sign, digits, one '.',
 * exponent. -EINVAL or -ERANGE. */
static int parse_go_float(const char *s, double *out)
{
    const char *p = s + (*s == '+' || *s == '-');
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac;
        p += 1 + frac;
    }
    if (!digits)
        return -EINVAL;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        size_t exp = strspn(p, "0123456789");
        if (!exp)
            return -EINVAL;
        p += exp;
    }
    if (*p)
        return -EINVAL;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno == ERANGE && isinf(v))
        return -ERANGE;
    *out = v;
    return 0;
}

/* ---- sizes ---------------------------------------------------------------- */

static int size_error(char **why, const char *kind, const char *what)
{
    if (asprintf(why, "invalid %s: '%s'", kind, what) < 0)
        *why = NULL;
    return -EINVAL;
}

/* The suffix after the number: "", b, or k|m|g|t|p then nothing, b or ib
 * (any case). The multiplier, or 0 when it is not one. */
static int64_t size_suffix(const char *sfx)
{
    static const char units[] = "kmgtp";
    if (!*sfx)
        return 1;
    if (tolower((unsigned char)sfx[0]) == 'b')
        return sfx[1] ? 0 : 1;
    const char *u = strchr(units, tolower((unsigned char)sfx[0]));
    if (!u)
        return 0;
    if (sfx[1] && strcasecmp(sfx + 1, "b") != 0 && strcasecmp(sfx + 1, "ib") != 0)
        return 0;
    return (int64_t)1 << (10 * (u - units + 1));
}

int ram_in_bytes(const char *s, int64_t *bytes, char **why)
{
    *why = NULL;
    /* The number ends at the last digit, '.' or space (go-units 0.5). */
    const char *sep = NULL;
    for (const char *p = s; *p; p++)
        if (strchr("0123456789. ", *p))
            sep = p;
    if (!sep)
        return size_error(why, "size", s);
    const char *sfx = sep + 1;
    _cleanup_free_ char *num = strndup(s, (size_t)(sep - s) + (*sep != ' '));
    if (!num)
        return -ENOMEM;
    double v;
    int r = parse_go_float(num, &v);
    if (r < 0) {
        *why = go_num_error("ParseFloat", num, r);
        return -EINVAL;
    }
    if (v < 0)
        return size_error(why, "size", s);
    if (strlen(sfx) > 3)
        return size_error(why, "suffix", sfx);
    int64_t mul = size_suffix(sfx);
    if (!mul) {
        char lower[4] = {0};
        for (size_t i = 0; sfx[i]; i++)
            lower[i] = (char)tolower((unsigned char)sfx[i]);
        return size_error(why, "suffix", lower);
    }
    v *= (double)mul;
    if (v >= 0x1p63) /* Go would wrap; a size that large is a mistake */
        return size_error(why, "size", s);
    *bytes = (int64_t)v;
    return 0;
}

#define MIN_MEMORY (6 * 1024 * 1024) /* Docker's daemon: linuxMinMemory */

int cell_flags_size(const char *flag, const char *s, int64_t *bytes, cell_err_t *err)
{
    const char *name = flag + strspn(flag, "-");
    if (strcmp(name, "memory-swap") == 0 && strcmp(s, "-1") == 0) {
        *bytes = -1;
        return 0;
    }
    int64_t v;
    _cleanup_free_ char *why = NULL;
    int r = ram_in_bytes(s, &v, &why);
    if (r < 0)
        return flag_error(err, r == -ENOMEM ? ENOMEM : 0, flag, s, "%s",
                          why ? why : "invalid size");
    if (v != 0 && v < MIN_MEMORY) {
        if (strcmp(name, "memory") == 0)
            return flag_error(err, 0, flag, s, "Minimum memory limit allowed is 6MB");
        if (strcmp(name, "memory-reservation") == 0)
            return flag_error(err, 0, flag, s, "Minimum memory reservation allowed is 6MB");
    }
    *bytes = v;
    return 0;
}

/* ---- --cpus ------------------------------------------------------------- */

/* v * 10^exp10 as an exact integer, or -ERANGE / -EDOM (not an integer). */
static int scale_exact(uint64_t v, int exp10, uint64_t *out)
{
    for (; exp10 < 0; exp10++) {
        if (v % 10)
            return -EDOM;
        v /= 10;
    }
    for (; exp10 > 0; exp10--) {
        if (v > UINT64_MAX / 10)
            return v ? -ERANGE : 0;
        v *= 10;
    }
    *out = v;
    return 0;
}

/* A decimal with exponent, in nanos: -EINVAL (not a number), -EDOM (finer
 * than a nano), -ERANGE. Digits past 19 significant ones must be zeros. */
static int decimal_nanos(const char *s, uint64_t *nanos)
{
    uint64_t mant = 0;
    int exp10 = 9, digits = 0;
    bool dot = false, big = false;
    const char *p = s;
    for (; isdigit((unsigned char)*p) || (*p == '.' && !dot); p++) {
        if (*p == '.') {
            dot = true;
            continue;
        }
        digits++;
        if (mant > (UINT64_MAX - 9) / 10) { /* keep the scale, remember the loss */
            big |= *p != '0';
            exp10 += !dot;
            continue;
        }
        mant = mant * 10 + (uint64_t)(*p - '0');
        exp10 -= dot;
    }
    if (!digits)
        return -EINVAL;
    if (*p == 'e' || *p == 'E') {
        int64_t e;
        if (parse_go_int(p + 1, &e) < 0 || p[1] == '\0')
            return -EINVAL;
        if (e > 400 || e < -400)
            return mant ? (e > 0 ? -ERANGE : -EDOM) : (*nanos = 0, 0);
        exp10 += (int)e;
    } else if (*p) {
        return -EINVAL;
    }
    if (big)
        return -ERANGE;
    return scale_exact(mant, exp10, nanos);
}

/* "a/b" in nanos, as big.Rat reads a fraction. */
static int fraction_nanos(const char *s, const char *slash, uint64_t *nanos)
{
    _cleanup_free_ char *num = strndup(s, (size_t)(slash - s));
    uint64_t a, b;
    if (!num || parse_go_uint(num, &a) < 0 || parse_go_uint(slash + 1, &b) < 0 || b == 0)
        return -EINVAL;
    unsigned __int128 n = (unsigned __int128)a * 1000000000u;
    if (n % b)
        return -EDOM;
    n /= b;
    if (n > INT64_MAX)
        return -ERANGE;
    *nanos = (uint64_t)n;
    return 0;
}

static int online_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int cell_flags_cpus(const char *s, int64_t *nano_cpus, cell_err_t *err)
{
    bool neg = *s == '-';
    const char *body = s + (*s == '-' || *s == '+');
    const char *slash = strchr(body, '/');
    uint64_t nanos = 0;
    int r = slash ? fraction_nanos(body, slash, &nanos) : decimal_nanos(body, &nanos);
    if (r == -EINVAL)
        return flag_error(err, 0, "cpus", s, "failed to parse %s as a rational number", s);
    if (r == -EDOM)
        return flag_error(err, 0, "cpus", s, "value is too precise");
    int ncpu = online_cpus();
    /* Docker's daemon refuses what its CLI let through. */
    if (r == -ERANGE || (neg && nanos) || nanos > (uint64_t)ncpu * 1000000000u)
        return flag_error(
            err, 0, "cpus", s,
            "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ncpu, ncpu);
    *nano_cpus = (int64_t)nanos;
    return 0;
}

/* ---- --ulimit ----------------------------------------------------------- */

static const char *const ulimit_names[] = {"core",    "cpu",      "data",   "fsize",      "locks",
                                           "memlock", "msgqueue", "nice",   "nofile",     "nproc",
                                           "rss",     "rtprio",   "rttime", "sigpending", "stack"};

json_t *cell_flags_json_u64(uint64_t v)
{
    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%c%llu", '\0', (unsigned long long)v);
    return json_stringn_nocheck(buf, (size_t)n);
}

/* jansson writes the tagged form as "\u0000DIGITS"; no other string of a
 * spec can hold a NUL (none is loaded with JSON_ALLOW_NUL, and C strings
 * end at one), so each such string is one of ours. */
char *cell_flags_json_dumps(const json_t *v, size_t flags)
{
    static const char tag[] = "\"\\u0000";
    _cleanup_free_ char *text = json_dumps(v, flags);
    if (!text)
        return NULL;
    char *out = malloc(strlen(text) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        size_t digits =
            strncmp(p, tag, sizeof(tag) - 1) == 0 ? strspn(p + sizeof(tag) - 1, "0123456789") : 0;
        if (digits && p[sizeof(tag) - 1 + digits] == '"') {
            memcpy(o, p + sizeof(tag) - 1, digits);
            o += digits;
            p += sizeof(tag) + digits;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static int ulimit_value(const char *s, const char *v, int64_t *out, cell_err_t *err)
{
    if (strcmp(v, "infinity") == 0) {
        *out = -1;
        return 0;
    }
    int r = parse_go_int(v, out);
    if (r < 0) {
        _cleanup_free_ char *why = go_num_error("ParseInt", v, r);
        return flag_error(err, 0, "ulimit", s, "%s", why ? why : "invalid value");
    }
    return 0;
}

static int ulimit_values(const char *s, const char *values, int64_t *soft, int64_t *hard,
                         cell_err_t *err)
{
    const char *colon = strchr(values, ':');
    if (colon && strchr(colon + 1, ':'))
        return flag_error(err, 0, "ulimit", s,
                          "too many limit value arguments - %s, can only have up to two, "
                          "`soft[:hard]`",
                          values);
    _cleanup_free_ char *first = strndup(values, colon ? (size_t)(colon - values) : strlen(values));
    if (!first)
        return cell_error(err, ENOMEM, "--ulimit");
    if (colon && ulimit_value(s, colon + 1, hard, err) < 0)
        return -1;
    if (ulimit_value(s, first, soft, err) < 0)
        return -1;
    if (!colon)
        *hard = *soft;
    if (*hard != -1 && *soft == -1)
        return flag_error(err, 0, "ulimit", s,
                          "ulimit soft limit must be less than or equal to hard limit: soft: -1 "
                          "(unlimited), hard: %lld",
                          (long long)*hard);
    if (*hard != -1 && *soft > *hard)
        return flag_error(err, 0, "ulimit", s,
                          "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                          (long long)*soft, (long long)*hard);
    return 0;
}

int cell_flags_ulimit(const char *s, json_t **rlimit, cell_err_t *err)
{
    const char *eq = strchr(s, '=');
    if (!eq)
        return flag_error(err, 0, "ulimit", s, "invalid ulimit argument: %s", s);
    _cleanup_free_ char *name = strndup(s, (size_t)(eq - s));
    if (!name)
        return cell_error(err, ENOMEM, "--ulimit");
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
        known |= strcmp(name, ulimit_names[i]) == 0;
    if (!known)
        return flag_error(err, 0, "ulimit", s, "invalid ulimit type: %s", name);
    int64_t soft, hard;
    if (ulimit_values(s, eq + 1, &soft, &hard, err) < 0)
        return -1;
    char type[32];
    snprintf(type, sizeof(type), "RLIMIT_%s", name);
    for (char *p = type; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    /* Docker passes the numbers on as uint64: -1 is RLIM_INFINITY. */
    json_t *o =
        json_pack("{s:s, s:o, s:o}", "type", type, "soft", cell_flags_json_u64((uint64_t)soft),
                  "hard", cell_flags_json_u64((uint64_t)hard));
    if (!o)
        return cell_error(err, ENOMEM, "--ulimit");
    *rlimit = o;
    return 0;
}

/* ---- --restart ---------------------------------------------------------- */

static int restart_error(const char *s, cell_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int restart_error(const char *s, cell_err_t *err, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    return flag_error(err, n < 0 ? ENOMEM : 0, "restart", s, "%s", n < 0 ? "" : msg);
}

int cell_flags_restart(const char *s, char **name, int *max_retries, cell_err_t *err)
{
    const char *colon = strchr(s, ':');
    if (colon == s)
        return restart_error(s, err,
                             "invalid restart policy format: no policy provided before colon");
    int64_t count = 0;
    if (colon && colon[1] && (parse_go_int(colon + 1, &count) < 0 || count != (int)count))
        return restart_error(
            s, err, "invalid restart policy format: maximum retry count must be an integer");
    _cleanup_free_ char *policy = strndup(s, colon ? (size_t)(colon - s) : strlen(s));
    if (!policy)
        return cell_error(err, ENOMEM, "--restart");
    if (!*policy) { /* --restart "" is the default */
        free(policy);
        policy = strdup("no");
        if (!policy)
            return cell_error(err, ENOMEM, "--restart");
    }
    bool on_failure = strcmp(policy, "on-failure") == 0;
    if (!on_failure && strcmp(policy, "no") != 0 && strcmp(policy, "always") != 0 &&
        strcmp(policy, "unless-stopped") != 0)
        return restart_error(s, err,
                             "invalid restart policy: unknown policy '%s'; use one of 'no', "
                             "'always', 'on-failure', or 'unless-stopped'",
                             policy);
    if (!on_failure && count != 0)
        return restart_error(s, err,
                             "invalid restart policy: maximum retry count can only be used with "
                             "'on-failure'%s",
                             count < 0 ? " and cannot be negative" : "");
    if (count < 0)
        return restart_error(s, err,
                             "invalid restart policy: maximum retry count cannot be negative");
    *name = TAKE_PTR(policy);
    *max_retries = (int)count;
    return 0;
}

/* ---- --sysctl ----------------------------------------------------------- */

static bool sysctl_namespaced(const char *key)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                      "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                      "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
        if (strcmp(key, ipc[i]) == 0)
            return true;
    return strncmp(key, "net.", 4) == 0 || strncmp(key, "fs.mqueue.", 10) == 0;
}

int cell_flags_sysctl(const char *s, bool host_network, char **key, char **value, cell_err_t *err)
{
    const char *eq = strchr(s, '=');
    _cleanup_free_ char *k = eq ? strndup(s, (size_t)(eq - s)) : NULL;
    if (eq && !k)
        return cell_error(err, ENOMEM, "--sysctl");
    if (!k || !*k || !sysctl_namespaced(k))
        return flag_error(err, 0, "sysctl", s, "sysctl '%s' is not allowed", s);
    /* runc's check: the host's network namespace is not the container's to tune. */
    if (host_network && strncmp(k, "net.", 4) == 0)
        return flag_error(err, 0, "sysctl", s,
                          "sysctl \"%s\" not allowed in host network namespace", k);
    char *v = strdup(eq + 1);
    if (!v)
        return cell_error(err, ENOMEM, "--sysctl");
    *key = TAKE_PTR(k);
    *value = v;
    return 0;
}

/* ---- --add-host ------------------------------------------------------- */

static bool ip_valid(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    /* net.ParseIP after strings.TrimSpace */
    while (isspace((unsigned char)*s))
        s++;
    _cleanup_free_ char *t = strdup(s);
    if (!t)
        return false;
    for (size_t n = strlen(t); n && isspace((unsigned char)t[n - 1]); n--)
        t[n - 1] = '\0';
    return inet_pton(AF_INET, t, buf) == 1 || inet_pton(AF_INET6, t, buf) == 1;
}

int cell_flags_add_host(const char *s, char **name, char **ip, cell_err_t *err)
{
    const char *sep = strchr(s, '=');
    if (!sep)
        sep = strchr(s, ':');
    _cleanup_free_ char *n = sep ? strndup(s, (size_t)(sep - s)) : NULL;
    _cleanup_free_ char *quoted = go_quote(s);
    if ((sep && !n) || !quoted)
        return cell_error(err, ENOMEM, "--add-host");
    if (!n || !*n || strchr(n, ':'))
        return flag_error(err, 0, "add-host", s, "bad format for add-host: %s", quoted);
    const char *a = sep + 1;
    size_t alen = strlen(a);
    if (alen > 2 && a[0] == '[' && a[alen - 1] == ']') {
        a++;
        alen -= 2;
    }
    _cleanup_free_ char *addr = strndup(a, alen);
    if (!addr)
        return cell_error(err, ENOMEM, "--add-host");
    if (strcmp(sep + 1, "host-gateway") != 0 && !ip_valid(addr)) {
        _cleanup_free_ char *qa = go_quote(addr);
        return flag_error(err, 0, "add-host", s, "invalid IP address in add-host: %s",
                          qa ? qa : addr);
    }
    *name = TAKE_PTR(n);
    *ip = TAKE_PTR(addr);
    return 0;
}

/* ---- --stop-signal ------------------------------------------------------ */

int cell_flags_signal(const char *s, int *sig, cell_err_t *err)
{
    int n = cell_signal_from_string(s);
    if (n <= 0)
        return flag_error(err, 0, "stop-signal", s, "invalid signal: %s", s);
    *sig = n;
    return 0;
}
