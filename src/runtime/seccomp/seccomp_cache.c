/* Compiled filters kept by content: <root>/.seccomp-cache/<sha256>.bpf.
 * libseccomp needs ~13 ms for a Docker-sized profile on three
 * architectures, loading the kept program well under 0.1 ms. The key
 * covers everything the program depends on: the seccomp JSON (keys
 * sorted), the libseccomp version and API level, and the kernel release.
 * The directory is the state root's, writable by root only; a file that
 * does not look like one of ours is ignored and rebuilt. */
#include "runtime/seccomp/seccomp_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include "base/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CACHE_DIR ".seccomp-cache"
#define MAGIC     "CELLBPF1"

struct header {
    char magic[8];
    uint32_t flags, notify, len, pad;
};

int seccomp_cache_key(const json_t *sc, char key[65])
{
    _cleanup_free_ char *text = json_dumps(sc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return -ENOMEM;
    const struct scmp_version *v = seccomp_version();
    struct utsname u;
    uname(&u);
    char prefix[512];
    int n = snprintf(prefix, sizeof prefix, "cell-seccomp-2 libseccomp %u.%u.%u api %u kernel %s\n",
                     v->major, v->minor, v->micro, seccomp_api_get(), u.release);
    /* Our own SHA-256: a key of a few KiB does not need OpenSSL, whose
     * loading would cost a container's start more than the hashing. */
    struct cell_sha256 c;
    unsigned char md[32];
    cell_sha256_init(&c);
    cell_sha256_update(&c, prefix, (size_t)n);
    cell_sha256_update(&c, text, strlen(text));
    cell_sha256_final(&c, md);
    for (int i = 0; i < 32; i++)
        snprintf(key + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int open_cache_dir(const char *root, bool create)
{
    _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -errno;
    if (create && mkdirat(rootfd, CACHE_DIR, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(rootfd, CACHE_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* 0 and out filled, or negative when there is no usable entry. */
int seccomp_cache_load(const char *root, const char *key, struct cell_seccomp *out)
{
    _cleanup_close_ int dir = open_cache_dir(root, false);
    if (dir < 0)
        return dir;
    char name[80];
    snprintf(name, sizeof name, "%s.bpf", key);
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = cell_read_file_at(dir, name, &data, &len);
    if (r < 0)
        return r;
    struct header h;
    if (len < sizeof h)
        return -EINVAL;
    memcpy(&h, data, sizeof h);
    if (memcmp(h.magic, MAGIC, 8) || h.len == 0 || h.len > BPF_MAXINSNS ||
        len != sizeof h + h.len * sizeof(struct sock_filter))
        return -EINVAL;
    out->insns = malloc(h.len * sizeof(struct sock_filter));
    if (!out->insns)
        return -ENOMEM;
    memcpy(out->insns, data + sizeof h, h.len * sizeof(struct sock_filter));
    out->len = (unsigned short)h.len;
    out->flags = h.flags;
    out->notify = h.notify != 0;
    return 0;
}

/* Best effort: a failure to keep the program only costs the next start. */
void seccomp_cache_store(const char *root, const char *key, const struct cell_seccomp *s)
{
    _cleanup_close_ int dir = open_cache_dir(root, true);
    if (dir < 0)
        return;
    size_t body = s->len * sizeof(struct sock_filter);
    _cleanup_free_ char *data = malloc(sizeof(struct header) + body);
    if (!data)
        return;
    struct header h = {.flags = s->flags, .notify = s->notify, .len = s->len};
    memcpy(h.magic, MAGIC, 8);
    memcpy(data, &h, sizeof h);
    memcpy(data + sizeof h, s->insns, body);
    char name[80];
    snprintf(name, sizeof name, "%s.bpf", key);
    cell_write_file_atomic_at(dir, name, data, sizeof h + body, 0600);
}
