/* What /proc says of a process. */
#include "base/pid.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long long cell_proc_starttime(pid_t pid, bool *zombie)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    _cleanup_free_ char *text = NULL;
    if (pid <= 0 || cell_read_file_at(AT_FDCWD, path, &text, NULL) < 0)
        return 0;
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
