/* SHA-256 (FIPS 180-4), for the runtime's content keys: small and
 * dependency-free, so that neither cell-runtime nor a container's start in
 * cell needs libcrypto (whose loading costs more than the hashing). Bulk
 * hashing (image blobs) keeps OpenSSL's accelerated code. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct cell_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
};

void cell_sha256_init(struct cell_sha256 *c);
void cell_sha256_update(struct cell_sha256 *c, const void *data, size_t len);
void cell_sha256_final(struct cell_sha256 *c, unsigned char out[32]);
/* The digest as 64 lowercase hex digits and a NUL. */
void cell_sha256_hex(const void *data, size_t len, char out[65]);
