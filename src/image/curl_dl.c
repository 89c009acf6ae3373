/* libcurl, loaded when the first registry request is made rather than when
 * `cell` starts. Linked normally, libcurl brings ~35 shared libraries
 * (TLS, Kerberos, LDAP, SSH, IDN, ...) that the loader maps and relocates
 * and whose constructors run on every `cell` command: measured ~25 ms of
 * CPU of a `cell ps` that does 30 ms in all, and the monitor that every
 * detached container keeps, forked from `cell`, carries their pages.
 * Only pull, push and login talk to a registry.
 *
 * These are the libcurl functions the image layer calls, by the same
 * names, each forwarding to libcurl.so.4 opened with dlopen on first use.
 * When it cannot be opened: handles come back NULL, calls fail with
 * CURLE_FAILED_INIT, and curl_easy_strerror says why. */
#define CURL_DISABLE_TYPECHECK /* the real prototypes, not the checking macros */
#include <curl/curl.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#define LIBCURL "libcurl.so.4"

static void *curl_lib;
static char curl_lib_error[256];

static void *curl_sym(const char *name)
{
    void *lib = __atomic_load_n(&curl_lib, __ATOMIC_ACQUIRE);
    if (!lib) {
        /* dlopen is thread safe and counts references: two racing
         * first calls get the same library. */
        lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char *e = dlerror();
            snprintf(curl_lib_error, sizeof curl_lib_error, "load %s: %s", LIBCURL,
                     e ? e : "failed");
            return NULL;
        }
        __atomic_store_n(&curl_lib, lib, __ATOMIC_RELEASE);
    }
    void *p = dlsym(lib, name);
    if (!p)
        snprintf(curl_lib_error, sizeof curl_lib_error, "%s: no %s", LIBCURL, name);
    return p;
}

/* fn: libcurl's own name, of the type curl.h declares, looked up once. */
#define CURL_FN(name)                                                                              \
    static __typeof__(name) *fn;                                                                   \
    if (!fn)                                                                                       \
    fn = (__typeof__(name) *)curl_sym(#name)

CURL *curl_easy_init(void)
{
    CURL_FN(curl_easy_init);
    return fn ? fn() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
    CURL_FN(curl_easy_cleanup);
    if (fn && h)
        fn(h);
}

void curl_easy_reset(CURL *h)
{
    CURL_FN(curl_easy_reset);
    if (fn && h)
        fn(h);
}

CURLcode curl_easy_perform(CURL *h)
{
    CURL_FN(curl_easy_perform);
    return fn ? fn(h) : CURLE_FAILED_INIT;
}

/* The one argument after option has the type its number says (curl.h's
 * CURLOPTTYPE_* ranges). */
CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    CURL_FN(curl_easy_setopt);
    if (!fn)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, option);
    CURLcode r;
    if (option < CURLOPTTYPE_OBJECTPOINT)
        r = fn(h, option, va_arg(ap, long));
    else if (option < CURLOPTTYPE_FUNCTIONPOINT)
        r = fn(h, option, va_arg(ap, void *));
    else if (option < CURLOPTTYPE_OFF_T)
        r = fn(h, option, va_arg(ap, void (*)(void)));
    else if (option < CURLOPTTYPE_BLOB)
        r = fn(h, option, va_arg(ap, curl_off_t));
    else
        r = fn(h, option, va_arg(ap, void *));
    va_end(ap);
    return r;
}

/* Every CURLINFO takes a pointer to where the value goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    CURL_FN(curl_easy_getinfo);
    if (!fn)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    CURLcode r = fn(h, info, va_arg(ap, void *));
    va_end(ap);
    return r;
}

CURLHcode curl_easy_header(CURL *h, const char *name, size_t index, unsigned int origin,
                           int request, struct curl_header **hout)
{
    CURL_FN(curl_easy_header);
    return fn ? fn(h, name, index, origin, request, hout) : CURLHE_NOT_BUILT_IN;
}

const char *curl_easy_strerror(CURLcode code)
{
    CURL_FN(curl_easy_strerror);
    return fn ? fn(code) : curl_lib_error;
}

char *curl_easy_escape(CURL *h, const char *s, int length)
{
    CURL_FN(curl_easy_escape);
    return fn ? fn(h, s, length) : NULL;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
    CURL_FN(curl_slist_append);
    return fn ? fn(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
    if (!list)
        return; /* nothing was appended, so nothing needs libcurl */
    CURL_FN(curl_slist_free_all);
    if (fn)
        fn(list);
}

CURLM *curl_multi_init(void)
{
    CURL_FN(curl_multi_init);
    return fn ? fn() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
    CURL_FN(curl_multi_cleanup);
    return fn ? fn(m) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
    CURL_FN(curl_multi_add_handle);
    return fn ? fn(m, h) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
    CURL_FN(curl_multi_remove_handle);
    return fn ? fn(m, h) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
    CURL_FN(curl_multi_perform);
    return fn ? fn(m, running) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd extra[], unsigned int n, int timeout_ms,
                          int *numfds)
{
    CURL_FN(curl_multi_poll);
    return fn ? fn(m, extra, n, timeout_ms, numfds) : CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
    CURL_FN(curl_multi_info_read);
    return fn ? fn(m, left) : NULL;
}

const char *curl_multi_strerror(CURLMcode code)
{
    CURL_FN(curl_multi_strerror);
    return fn ? fn(code) : curl_lib_error;
}
