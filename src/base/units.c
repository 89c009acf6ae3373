#include "base/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The leading decimal number of s (digits, one optional fraction), without
 * strtod's extras (sign, hex, inf, exponent, leading spaces). */
static int leading_number(const char *s, double *v, const char **end)
{
    const char *p = s;
    while (isdigit((unsigned char)*p))
        p++;
    const char *int_end = p;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p);)
            p++;
    if (int_end == s && p - s <= 1)
        return -EINVAL;
    char buf[64];
    if ((size_t)(p - s) >= sizeof buf)
        return -ERANGE;
    memcpy(buf, s, (size_t)(p - s));
    buf[p - s] = '\0';
    *v = strtod(buf, NULL);
    *end = p;
    return 0;
}

int cell_size_parse(const char *s, int64_t *bytes)
{
    if (strcmp(s, "-1") == 0) {
        *bytes = -1;
        return 0;
    }
    double v;
    const char *end;
    int r = leading_number(s, &v, &end);
    if (r < 0)
        return r;
    static const char units[] = "bkmgtp";
    const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : units;
    if (!u || !*u)
        return -EINVAL;
    if (*end)
        end++;
    if (*end && strcasecmp(end, "b") != 0 && strcasecmp(end, "ib") != 0)
        return -EINVAL;
    for (const char *p = units; p < u; p++)
        v *= 1024;
    if (v >= 0x1p63)
        return -ERANGE;
    *bytes = (int64_t)v;
    return 0;
}

static int64_t unit_ns(const char **p)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1},         {"us", 1000},         {"\xc2\xb5s", 1000},   {"ms", 1000000},
                 {"s", 1000000000}, {"m", 60000000000LL}, {"h", 3600000000000LL}};
    /* "ms" is tried before "m". */
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(*p, units[i].name, n) == 0) {
            *p += n;
            return units[i].ns;
        }
    }
    return 0;
}

int cell_duration_parse(const char *s, int64_t *ns)
{
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    double total = 0;
    for (const char *p = s; *p;) {
        double v;
        int r = leading_number(p, &v, &p);
        if (r < 0)
            return r;
        int64_t unit = unit_ns(&p);
        if (!unit)
            return -EINVAL;
        total += v * (double)unit;
    }
    if (total >= 0x1p63)
        return -ERANGE;
    *ns = (int64_t)(total + 0.5);
    return 0;
}
