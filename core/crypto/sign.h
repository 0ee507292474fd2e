/* sign — the signature of a bundle's manifest, in OpenSSH's signature
 * format (`ssh-keygen -Y sign -n ferry`), checked against one public key
 * (`ssh-keygen -Y verify` with an allowed-signers line made from it), so a
 * plain OpenSSH can check a bundle without ferry:
 *
 *   tar --zstd -xOf B manifest.json > m.json
 *   tar --zstd -xOf B manifest.json.sig > m.sig
 *   echo "ferry namespaces=\"ferry\" $(cat sign_ed25519.pub)" > allowed
 *   ssh-keygen -Y verify -f allowed -I ferry -n ferry -s m.sig < m.json
 *
 * The signature is the bundle member SIGN_MEMBER, right after the manifest
 * (the manifest lists every other member's SHA-256, SHA256SUMS the
 * signature's). Errors: ERR_TOOL without ssh-keygen, ERR_PROFILE for a key
 * that cannot be read, ERR_VERIFY for a signature that does not verify. */
#ifndef FERRY_CRYPTO_SIGN_H
#define FERRY_CRYPTO_SIGN_H

#include <stddef.h>

#include "bundle/bundle.h"
#include "err.h"

#define SIGN_MEMBER BUNDLE_MANIFEST_SIG
#define SIGN_NAMESPACE "ferry"

/* Sign len bytes of data with the private key file key: *sig is the
 * armored signature text (caller frees). */
int sign_data(const char *key, const char *data, size_t len, char **sig, struct err *e);

/* Check sig over data against the public key file public_key: 0 when it
 * was made by that key for the "ferry" namespace, else -1 (ERR_VERIFY
 * naming what for, with ssh-keygen's reason). what names the data in the
 * message ("the manifest of x.ferry.tar.zst"). */
int sign_verify(const char *public_key, const char *data, size_t len, const char *sig,
		const char *what, struct err *e);

#endif
