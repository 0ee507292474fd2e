/* hash — SHA-256 through OpenSSL's EVP interface. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util.h"

/* A digest step that fails after a successful init means OpenSSL itself is
 * broken; like out-of-memory, that is not an error a caller can handle. */
static void evp_broken(const char *what)
{
	fprintf(stderr, "ferry: openssl %s failed for sha-256\n", what);
	abort();
}

static void to_hex(const unsigned char *md, unsigned len, char hex[HASH_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < len && 2 * i + 1 < HASH_HEX_SIZE; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[HASH_HEX_LEN] = '\0';
}

int hash_init(struct hash_ctx *h, struct err *e)
{
	if (!h->evp) {
		h->evp = EVP_MD_CTX_new();
		if (!h->evp)
			evp_broken("context allocation");
	}
	if (EVP_DigestInit_ex(h->evp, EVP_sha256(), NULL) != 1) {
		err_set(e, ERR_FAILED, "cannot start a sha-256 digest: openssl has no sha-256");
		return err_hint(e, "check the OpenSSL configuration (OPENSSL_CONF, providers)");
	}
	return 0;
}

void hash_update(struct hash_ctx *h, const void *data, size_t n)
{
	if (n && EVP_DigestUpdate(h->evp, data, n) != 1)
		evp_broken("update");
}

void hash_final(struct hash_ctx *h, char hex[HASH_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (EVP_DigestFinal_ex(h->evp, md, &len) != 1 || len * 2 != HASH_HEX_LEN)
		evp_broken("final");
	to_hex(md, len, hex);
}

void hash_done(struct hash_ctx *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->evp);
	h->evp = NULL;
}

int hash_buffer(const void *data, size_t n, char hex[HASH_HEX_SIZE], struct err *e)
{
	struct hash_ctx h = {0};
	if (hash_init(&h, e) < 0) {
		hash_done(&h);
		return -1;
	}
	hash_update(&h, data, n);
	hash_final(&h, hex);
	hash_done(&h);
	return 0;
}

/* Feed the whole of fd to h; returns bytes read, or -1 with errno set
 * (EINTR when *cancel was set). */
static int64_t hash_fd(struct hash_ctx *h, int fd, volatile sig_atomic_t *cancel)
{
	unsigned char *buf = xmalloc(HASH_FILE_BUFSIZE);
	int64_t total = 0;
	for (;;) {
		if (cancel && *cancel) {
			errno = EINTR;
			total = -1;
			break;
		}
		ssize_t got = read(fd, buf, HASH_FILE_BUFSIZE);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got < 0)
				total = -1;
			break;
		}
		hash_update(h, buf, (size_t)got);
		total += got;
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return total;
}

int hash_file(const char *path, char hex[HASH_HEX_SIZE], uint64_t *bytes_out, struct err *e)
{
	return hash_file_cancellable(path, hex, bytes_out, NULL, e);
}

int hash_file_cancellable(const char *path, char hex[HASH_HEX_SIZE], uint64_t *bytes_out,
			  volatile sig_atomic_t *cancel, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_FAILED, "cannot open %s: %s", path, strerror(errno));
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct hash_ctx h = {0};
	int rc = hash_init(&h, e);
	if (rc == 0) {
		int64_t n = hash_fd(&h, fd, cancel);
		if (n < 0 && cancel && *cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "interrupted while hashing %s", path);
		} else if (n < 0) {
			rc = err_set(e, ERR_FAILED, "cannot read %s: %s", path, strerror(errno));
		} else {
			hash_final(&h, hex);
			if (bytes_out)
				*bytes_out = (uint64_t)n;
		}
	}
	hash_done(&h);
	close(fd);
	return rc;
}

bool hash_is_hex(const char *s)
{
	if (!s)
		return false;
	size_t i = 0;
	for (; s[i]; i++)
		if (i >= HASH_HEX_LEN || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == HASH_HEX_LEN;
}
