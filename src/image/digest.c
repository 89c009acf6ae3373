/* sha256 digests through OpenSSL's libcrypto, written as "sha256:<hex>". */
#include "image/store_internal.h"

#include <stdio.h>
#include <string.h>

bool cell_image_digest_valid(const char *s)
{
    if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != CELL_IMAGE_DIGEST_LEN)
        return false;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int image_sha256_init(struct image_sha256 *h, cell_err_t *err)
{
    /* errno: ENOMEM, or ELIBACC when cell could not load libcrypto
     * (crypto_dl.c). */
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx)
        return cell_error(err, errno, "sha256 context");
    if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        image_sha256_free(h);
        return cell_error(err, 0, "sha256 context: init failed");
    }
    return 0;
}

void image_sha256_update(struct image_sha256 *h, const void *buf, size_t len)
{
    EVP_DigestUpdate(h->ctx, buf, len);
}

void image_sha256_final(struct image_sha256 *h, char out[CELL_IMAGE_DIGEST_SIZE])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    image_sha256_free(h);
}

void image_sha256_free(struct image_sha256 *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int cell_image_digest_of(const void *data, size_t len, char out[CELL_IMAGE_DIGEST_SIZE],
                         cell_err_t *err)
{
    struct image_sha256 h;
    if (image_sha256_init(&h, err) < 0)
        return -1;
    image_sha256_update(&h, data, len);
    image_sha256_final(&h, out);
    return 0;
}

int cell_image_chain_ids(char *const *diff_ids, size_t n, char **out, cell_err_t *err)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n; i++) {
        char buf[2 * CELL_IMAGE_DIGEST_SIZE + 1];
        char id[CELL_IMAGE_DIGEST_SIZE];
        if (!cell_image_digest_valid(diff_ids[i]))
            return cell_error(err, 0, "invalid diff ID \"%s\"", diff_ids[i]);
        if (i == 0) {
            snprintf(id, sizeof id, "%s", diff_ids[0]);
        } else {
            int len = snprintf(buf, sizeof buf, "%s %s", out[i - 1], diff_ids[i]);
            if (cell_image_digest_of(buf, (size_t)len, id, err) < 0)
                return -1;
        }
        out[i] = strdup(id);
        if (!out[i])
            return cell_error(err, ENOMEM, "chain ID");
    }
    return 0;
}
