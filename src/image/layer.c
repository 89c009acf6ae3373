/* Layers unpacked once each, under layers/<chain-hex>: the chain ID names
 * a layer together with everything below it, which is what its unpacked
 * form depends on (a whiteout only means something over its parents). A
 * layer is extracted into tmp/ and renamed into place when complete and its
 * diff ID verified, so layers/ only ever holds whole layers. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool layer_present(struct cell_image_store *s, const char *chain_id)
{
    return faccessat(s->layersfd, image_digest_hex(chain_id), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The unpacked layers below layer i, nearest first (all are present:
 * layers unpack bottom up). */
static int open_lowers(struct cell_image_store *s, const struct cell_image *img, size_t i,
                       int *fds, cell_err_t *err)
{
    for (size_t k = 0; k < i; k++) {
        const char *hex = image_digest_hex(img->chain_ids[i - 1 - k]);
        fds[k] = openat(s->layersfd, hex, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fds[k] < 0)
            return cell_error(err, errno, "open layer %s", hex);
    }
    return 0;
}

static int extract_verified(struct cell_image_store *s, const struct cell_image *img, size_t i,
                            int dirfd, cell_err_t *err)
{
    const char *blob = img->manifest.layers[i].digest;
    _cleanup_close_ int fd = cell_image_blob_open(s, blob, err);
    if (fd < 0)
        return -1;
    int lowers[i + 1];
    for (size_t k = 0; k <= i; k++)
        lowers[k] = -1;
    char diff_id[CELL_IMAGE_DIGEST_SIZE];
    int r = open_lowers(s, img, i, lowers, err);
    if (r == 0)
        r = cell_image_layer_extract(fd, dirfd, lowers, i, diff_id, err);
    for (size_t k = 0; k < i; k++)
        if (lowers[k] >= 0)
            close(lowers[k]);
    if (r < 0)
        return -1;
    if (strcmp(diff_id, img->diff_ids[i]) != 0)
        return cell_error(err, 0, "diff ID mismatch: config says %s, layer has %s",
                          img->diff_ids[i], diff_id);
    return 0;
}

static int unpack_layer(struct cell_image_store *s, const struct cell_image *img, size_t i,
                        cell_err_t *err)
{
    const char *chain = img->chain_ids[i];
    char tmp[64];
    image_tmp_name(tmp, "layer");
    if (mkdirat(s->tmpfd, tmp, 0755) < 0)
        return cell_error(err, errno, "mkdir %s/tmp/%s", s->root, tmp);
    int dirfd = openat(s->tmpfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int r = dirfd < 0 ? cell_error(err, errno, "open %s/tmp/%s", s->root, tmp)
                      : extract_verified(s, img, i, dirfd, err);
    if (dirfd >= 0)
        close(dirfd);
    /* Another process may have unpacked the same layer meanwhile: then
     * rename finds the name taken, and its copy is as good as ours. */
    if (r == 0 && renameat(s->tmpfd, tmp, s->layersfd, image_digest_hex(chain)) < 0 &&
        errno != EEXIST && errno != ENOTEMPTY)
        r = cell_error(err, errno, "rename layer to %s/layers/%s", s->root,
                       image_digest_hex(chain));
    cell_rm_rf_at(s->tmpfd, tmp);
    if (r < 0)
        return cell_error_prepend(err, "layer %s", img->manifest.layers[i].digest);
    return 0;
}

int cell_image_unpack(struct cell_image_store *s, const struct cell_image *img, cell_err_t *err)
{
    if (image_store_hold(s, err) < 0)
        return -1;
    for (size_t i = 0; i < img->manifest.nlayers; i++)
        if (!layer_present(s, img->chain_ids[i]) && unpack_layer(s, img, i, err) < 0)
            return -1;
    return 0;
}
