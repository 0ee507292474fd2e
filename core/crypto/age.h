/* age — encryption of whole files in the age format, by running the `age`
 * program (Debian package age) as a child: `age -r RECIPIENT... -o OUT IN`
 * to encrypt, `age -d -i IDENTITY -o OUT IN` to decrypt. No cipher is
 * implemented here; what ferry writes, `age -d` reads, and the other way
 * round. Recipients are public keys (X25519 "age1...", "ssh-ed25519 ...",
 * "ssh-rsa ..."); an identity is an age key file or an ssh private key.
 *
 * Both write OUT.part (0600) and rename it to OUT only when age succeeded;
 * nothing is left under either name after a failure. Errors: ERR_TOOL when
 * age is missing, ERR_VERIFY when the file cannot be decrypted (no
 * identity matches, damaged), ERR_INTERRUPTED, ERR_FAILED otherwise. */
#ifndef FERRY_CRYPTO_AGE_H
#define FERRY_CRYPTO_AGE_H

#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "util.h"

/* The suffix of an encrypted copy: "x.ferry.tar.zst.age". */
#define AGE_SUFFIX ".age"

int age_encrypt_file(const struct strv *recipients, const char *in, const char *out,
		     volatile sig_atomic_t *cancel, struct err *e);
int age_decrypt_file(const char *identity, const char *in, const char *out,
		     volatile sig_atomic_t *cancel, struct err *e);
/* Whether the file starts with age's header line. */
bool age_is_encrypted(const char *path);

#endif
