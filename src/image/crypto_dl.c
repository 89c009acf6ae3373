/* libcrypto (OpenSSL), loaded when cell first hashes or base64-codes
 * something rather than when `cell` starts. Linked normally, its
 * relocations and constructors cost every `cell` command ~4 ms of CPU and
 * ~120 page faults (measured on `cell --version`: 7 ms -> 3 ms, 200 -> 76
 * page faults), though run (once the image is unpacked), ps, images,
 * inspect, logs, start, stop and rm hash nothing. The image layer hashes
 * blobs (EVP) and base64-codes credentials (the runtime's seccomp cache
 * keys use base/sha256.c, and cell-runtime links no libcrypto at all).
 *
 * These are the libcrypto functions cell calls, by the same names, each
 * forwarding to libcrypto.so.3 opened with dlopen on first use; all are
 * looked up at once, so either every function is there or none. When the
 * library cannot be loaded, each returns libcrypto's own failure value
 * (NULL, 0, -1) with errno ELIBACC, so that a caller reporting errno says
 * why; EVP_EncodeBlock and EVP_DecodeBlock also leave an empty string
 * rather than an unwritten buffer. */
#include <openssl/evp.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define LIBCRYPTO "libcrypto.so.3"

#define CRYPTO_FUNCTIONS(X)                                                                        \
    X(EVP_MD_CTX_new)                                                                              \
    X(EVP_MD_CTX_free)                                                                             \
    X(EVP_sha256)                                                                                  \
    X(EVP_DigestInit_ex)                                                                           \
    X(EVP_DigestUpdate)                                                                            \
    X(EVP_DigestFinal_ex)                                                                          \
    X(EVP_EncodeBlock)                                                                             \
    X(EVP_DecodeBlock)

/* lc.name: libcrypto's own function, of the type its headers declare. */
#define CRYPTO_FIELD(name) __typeof__(name) *name;
static struct {
    CRYPTO_FUNCTIONS(CRYPTO_FIELD)
} lc;

static bool lc_loaded;
static pthread_once_t lc_once = PTHREAD_ONCE_INIT;

static void lc_load(void)
{
    void *lib = dlopen(LIBCRYPTO, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return;
#define CRYPTO_LOOKUP(name)                                                                        \
    if (!(*(void **)&lc.name = dlsym(lib, #name))) {                                               \
        memset(&lc, 0, sizeof lc);                                                                 \
        dlclose(lib);                                                                              \
        return;                                                                                    \
    }
    CRYPTO_FUNCTIONS(CRYPTO_LOOKUP)
    lc_loaded = true;
}

/* The calls that need no earlier call check it; the rest take a context
 * that only a loaded library could have made. pthread_once: two racing
 * first calls must not load it twice. */
static bool lc_ready(void)
{
    pthread_once(&lc_once, lc_load);
    if (!lc_loaded)
        errno = ELIBACC;
    return lc_loaded;
}

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
    return lc_ready() ? lc.EVP_MD_CTX_new() : NULL;
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
    if (ctx)
        lc.EVP_MD_CTX_free(ctx);
}

const EVP_MD *EVP_sha256(void)
{
    return lc_ready() ? lc.EVP_sha256() : NULL;
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
    return lc.EVP_DigestInit_ex(ctx, type, impl);
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
    return lc.EVP_DigestUpdate(ctx, d, cnt);
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)
{
    return lc.EVP_DigestFinal_ex(ctx, md, s);
}

int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
    if (lc_ready())
        return lc.EVP_EncodeBlock(t, f, n);
    *t = '\0';
    return -1;
}

int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n)
{
    if (lc_ready())
        return lc.EVP_DecodeBlock(t, f, n);
    *t = '\0';
    return -1;
}
