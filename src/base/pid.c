/* What /proc says of a process. */
#include "base/pid.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned long long cell_proc_starttime(pid_t pid, bool *zombie)
{
    char path[64], text[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    /* One read: procfs gives the whole line to a buffer this size (52
     * numeric fields and a 16-byte name), and `ps` of a thousand
     * containers does this a thousand times. */
    _cleanup_close_ int fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (n <= 0)
        return 0;
    text[n] = 0;
    /* The command name may hold spaces and parentheses: fields start after
     * the last ')'. */
    char *p = strrchr(text, ')');
    if (!p)
        return 0;
    char state = p[2];
    if (zombie)
        *zombie = state == 'Z' || state == 'X';
    p += 2;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

bool cell_proc_alive(pid_t pid, unsigned long long starttime)
{
    bool zombie = false;
    unsigned long long t = cell_proc_starttime(pid, &zombie);
    return t != 0 && t == starttime && !zombie;
}
