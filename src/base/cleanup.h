/* Resource guards: a variable declared with one of these is released when it
 * goes out of scope, so an early return cannot leak. Ownership leaves a
 * guarded variable only through TAKE_PTR / TAKE_FD, which makes the hand-over
 * visible at the line that does it. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cell_freep(void *p)
{
    free(*(void **)p);
}

static inline void cell_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void cell_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void cell_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

static inline void cell_strv_freep(char ***v)
{
    if (*v) {
        for (char **p = *v; *p; p++)
            free(*p);
        free(*v);
    }
}

#define _cleanup_free_     __attribute__((cleanup(cell_freep)))
#define _cleanup_close_    __attribute__((cleanup(cell_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(cell_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(cell_closedirp)))
#define _cleanup_strv_     __attribute__((cleanup(cell_strv_freep)))

#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) _tmp = (p);                                                                  \
        (p) = NULL;                                                                                \
        _tmp;                                                                                      \
    })

#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int _tmp = (fd);                                                                           \
        (fd) = -1;                                                                                 \
        _tmp;                                                                                      \
    })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
