/* hash — SHA-256 (OpenSSL EVP) as lowercase hex, for bundle members and files.
 *
 * struct hash_ctx is embedded by the caller: hash_init, any number of
 * hash_update, hash_final, then hash_done (always, also after a failed
 * hash_init; hash_done on a zeroed or finished context is safe).
 * A digest is HASH_HEX_LEN lowercase hex characters plus a NUL, so callers
 * keep it in a `char hex[HASH_HEX_SIZE]`. Only hash.c includes OpenSSL. */
#ifndef FERRY_HASH_H
#define FERRY_HASH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HASH_HEX_LEN 64
#define HASH_HEX_SIZE (HASH_HEX_LEN + 1)
#define HASH_FILE_BUFSIZE (1024 * 1024)   /* hash_file reads this much at a time */

struct hash_ctx {
	void *evp;   /* private: the OpenSSL EVP_MD_CTX */
};

/* Start a SHA-256. Fails (ERR_FAILED) only when OpenSSL cannot provide
 * SHA-256 (a broken OpenSSL configuration). */
int hash_init(struct hash_ctx *h, struct err *e);
void hash_update(struct hash_ctx *h, const void *data, size_t n);
/* Finish: write the digest to hex. The context must be re-initialised
 * with hash_init before it hashes again. */
void hash_final(struct hash_ctx *h, char hex[HASH_HEX_SIZE]);
/* Release the context; NULL-safe and idempotent. */
void hash_done(struct hash_ctx *h);

/* SHA-256 of a buffer. */
int hash_buffer(const void *data, size_t n, char hex[HASH_HEX_SIZE], struct err *e);

/* SHA-256 of a file's content, streamed with a fixed HASH_FILE_BUFSIZE
 * buffer (memory stays flat whatever the size). bytes_out (may be NULL)
 * receives the number of bytes hashed. Errors (ERR_FAILED) name the path:
 * "cannot open <path>: <reason>", "cannot read <path>: <reason>". */
int hash_file(const char *path, char hex[HASH_HEX_SIZE], uint64_t *bytes_out, struct err *e);

/* hash_file that stops between two reads once *cancel is set (ERR_INTERRUPTED
 * naming the path), so a very large file does not delay Ctrl-C. */
int hash_file_cancellable(const char *path, char hex[HASH_HEX_SIZE], uint64_t *bytes_out,
			  volatile sig_atomic_t *cancel, struct err *e);

/* true when s is exactly HASH_HEX_LEN lowercase hex digits. */
bool hash_is_hex(const char *s);

#endif
