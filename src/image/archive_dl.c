/* libarchive, loaded when the first archive is read or written rather than
 * when `cell` starts. Linked normally, libarchive brings 13 shared
 * libraries (nettle, acl, lzma, zstd, lz4, bz2, z, xml2, ICU with its
 * 30 MB of data, libstdc++, ...) that the loader maps and relocates on
 * every `cell` command, and that every container monitor forked from
 * `cell` carries. Only the commands that read or write tar (pull, import,
 * load, save) need it.
 *
 * These are the libarchive functions cell calls, by the same names, each
 * forwarding to libarchive.so.13 opened with dlopen on first use. All of
 * them are looked up at once, so either every function is there or none.
 * When the library cannot be opened, archive_read_new and
 * archive_write_new return a stand-in archive on which every call fails
 * with ARCHIVE_FATAL and archive_error_string says why: the callers' usual
 * error path ("read layer: <why>") then names the cause. */
#include <archive.h>
#include <archive_entry.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LIBARCHIVE "libarchive.so.13"

#define ARCHIVE_FUNCTIONS(X)                                                                       \
    X(archive_error_string)                                                                        \
    X(archive_set_error)                                                                           \
    X(archive_read_new)                                                                            \
    X(archive_read_free)                                                                           \
    X(archive_read_support_filter_all)                                                             \
    X(archive_read_support_format_raw)                                                             \
    X(archive_read_support_format_tar)                                                             \
    X(archive_read_open)                                                                           \
    X(archive_read_open_fd)                                                                        \
    X(archive_read_next_header)                                                                    \
    X(archive_read_data)                                                                           \
    X(archive_read_data_block)                                                                     \
    X(archive_read_data_skip)                                                                      \
    X(archive_write_new)                                                                           \
    X(archive_write_free)                                                                          \
    X(archive_write_set_format_pax_restricted)                                                     \
    X(archive_write_open_fd)                                                                       \
    X(archive_write_header)                                                                        \
    X(archive_write_data)                                                                          \
    X(archive_write_close)                                                                         \
    X(archive_entry_new)                                                                           \
    X(archive_entry_free)                                                                          \
    X(archive_entry_pathname)                                                                      \
    X(archive_entry_hardlink)                                                                      \
    X(archive_entry_symlink)                                                                       \
    X(archive_entry_filetype)                                                                      \
    X(archive_entry_perm)                                                                          \
    X(archive_entry_uid)                                                                           \
    X(archive_entry_gid)                                                                           \
    X(archive_entry_size)                                                                          \
    X(archive_entry_rdev)                                                                          \
    X(archive_entry_mtime)                                                                         \
    X(archive_entry_mtime_nsec)                                                                    \
    X(archive_entry_xattr_reset)                                                                   \
    X(archive_entry_xattr_next)                                                                    \
    X(archive_entry_set_pathname)                                                                  \
    X(archive_entry_set_filetype)                                                                  \
    X(archive_entry_set_perm)                                                                      \
    X(archive_entry_set_size)                                                                      \
    X(archive_entry_set_mtime)

/* la.name: libarchive's own function, of the type archive.h declares. */
#define ARCHIVE_FIELD(name) __typeof__(name) *name;
static struct {
    ARCHIVE_FUNCTIONS(ARCHIVE_FIELD)
} la;

static bool la_loaded;
static char la_error[256];
static pthread_once_t la_once = PTHREAD_ONCE_INIT;

/* What archive_read_new and archive_write_new return when the library is
 * missing: never dereferenced, only compared. */
static char dead_archive;
#define DEAD ((struct archive *)&dead_archive)

static void la_load(void)
{
    void *lib = dlopen(LIBARCHIVE, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(la_error, sizeof la_error, "load %s: %s", LIBARCHIVE, e ? e : "failed");
        return;
    }
#define ARCHIVE_LOOKUP(name)                                                                       \
    if (!(*(void **)&la.name = dlsym(lib, #name))) {                                               \
        snprintf(la_error, sizeof la_error, "%s: no %s", LIBARCHIVE, #name);                       \
        memset(&la, 0, sizeof la);                                                                 \
        dlclose(lib);                                                                              \
        return;                                                                                    \
    }
    ARCHIVE_FUNCTIONS(ARCHIVE_LOOKUP)
    la_loaded = true;
}

/* pthread_once: cell calls libarchive from one thread today, but two
 * racing first calls must not load it twice. */
static bool la_ready(void)
{
    pthread_once(&la_once, la_load);
    return la_loaded;
}

/* Every struct archive but DEAD came from the loaded library, and so did
 * every struct archive_entry: those calls need no check. */

const char *archive_error_string(struct archive *a)
{
    return a == DEAD ? la_error : la.archive_error_string(a);
}

void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
    if (a == DEAD)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    la.archive_set_error(a, err, "%s", msg);
}

struct archive *archive_read_new(void)
{
    return la_ready() ? la.archive_read_new() : DEAD;
}

int archive_read_free(struct archive *a)
{
    return !a || a == DEAD ? ARCHIVE_OK : la.archive_read_free(a);
}

int archive_read_support_filter_all(struct archive *a)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_support_filter_all(a);
}

int archive_read_support_format_raw(struct archive *a)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_support_format_raw(a);
}

int archive_read_support_format_tar(struct archive *a)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_support_format_tar(a);
}

int archive_read_open(struct archive *a, void *data, archive_open_callback *open,
                      archive_read_callback *read, archive_close_callback *close)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_open(a, data, open, read, close);
}

int archive_read_open_fd(struct archive *a, int fd, size_t block_size)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_open_fd(a, fd, block_size);
}

int archive_read_next_header(struct archive *a, struct archive_entry **e)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_next_header(a, e);
}

la_ssize_t archive_read_data(struct archive *a, void *buf, size_t size)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_data(a, buf, size);
}

int archive_read_data_block(struct archive *a, const void **buf, size_t *size, la_int64_t *offset)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_data_block(a, buf, size, offset);
}

int archive_read_data_skip(struct archive *a)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_read_data_skip(a);
}

struct archive *archive_write_new(void)
{
    return la_ready() ? la.archive_write_new() : DEAD;
}

int archive_write_free(struct archive *a)
{
    return !a || a == DEAD ? ARCHIVE_OK : la.archive_write_free(a);
}

int archive_write_set_format_pax_restricted(struct archive *a)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_write_set_format_pax_restricted(a);
}

int archive_write_open_fd(struct archive *a, int fd)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_write_open_fd(a, fd);
}

int archive_write_header(struct archive *a, struct archive_entry *e)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_write_header(a, e);
}

la_ssize_t archive_write_data(struct archive *a, const void *buf, size_t size)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_write_data(a, buf, size);
}

int archive_write_close(struct archive *a)
{
    return a == DEAD ? ARCHIVE_FATAL : la.archive_write_close(a);
}

/* NULL, as on allocation failure, when the library is missing. */
struct archive_entry *archive_entry_new(void)
{
    return la_ready() ? la.archive_entry_new() : NULL;
}

void archive_entry_free(struct archive_entry *e)
{
    if (e)
        la.archive_entry_free(e);
}

const char *archive_entry_pathname(struct archive_entry *e)
{
    return la.archive_entry_pathname(e);
}

const char *archive_entry_hardlink(struct archive_entry *e)
{
    return la.archive_entry_hardlink(e);
}

const char *archive_entry_symlink(struct archive_entry *e)
{
    return la.archive_entry_symlink(e);
}

__LA_MODE_T archive_entry_filetype(struct archive_entry *e)
{
    return la.archive_entry_filetype(e);
}

__LA_MODE_T archive_entry_perm(struct archive_entry *e)
{
    return la.archive_entry_perm(e);
}

la_int64_t archive_entry_uid(struct archive_entry *e)
{
    return la.archive_entry_uid(e);
}

la_int64_t archive_entry_gid(struct archive_entry *e)
{
    return la.archive_entry_gid(e);
}

la_int64_t archive_entry_size(struct archive_entry *e)
{
    return la.archive_entry_size(e);
}

dev_t archive_entry_rdev(struct archive_entry *e)
{
    return la.archive_entry_rdev(e);
}

time_t archive_entry_mtime(struct archive_entry *e)
{
    return la.archive_entry_mtime(e);
}

long archive_entry_mtime_nsec(struct archive_entry *e)
{
    return la.archive_entry_mtime_nsec(e);
}

int archive_entry_xattr_reset(struct archive_entry *e)
{
    return la.archive_entry_xattr_reset(e);
}

int archive_entry_xattr_next(struct archive_entry *e, const char **name, const void **value,
                             size_t *size)
{
    return la.archive_entry_xattr_next(e, name, value, size);
}

void archive_entry_set_pathname(struct archive_entry *e, const char *name)
{
    la.archive_entry_set_pathname(e, name);
}

void archive_entry_set_filetype(struct archive_entry *e, unsigned int type)
{
    la.archive_entry_set_filetype(e, type);
}

void archive_entry_set_perm(struct archive_entry *e, __LA_MODE_T perm)
{
    la.archive_entry_set_perm(e, perm);
}

void archive_entry_set_size(struct archive_entry *e, la_int64_t size)
{
    la.archive_entry_set_size(e, size);
}

void archive_entry_set_mtime(struct archive_entry *e, time_t sec, long nsec)
{
    la.archive_entry_set_mtime(e, sec, nsec);
}
