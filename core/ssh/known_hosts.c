/* known_hosts — host keys: lookup in a known_hosts file (plain, hashed,
 * patterns, @revoked), recording an accepted key, SHA256 fingerprints. */
#include "ssh_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* "host" for port 22, else "[host]:port"; caller frees. */
char *sshc_known_hosts_name(const char *host, int port)
{
	if (port == 22 || port <= 0)
		return xstrdup(host);
	return xasprintf("[%s]:%d", host, port);
}

/* The "SHA256:..." fingerprint of a base64 key; caller frees. */
char *sshc_fingerprint(const char *key_type, const char *key_b64)
{
	enum ssh_keytypes_e t = ssh_key_type_from_name(key_type);
	ssh_key key = NULL;
	if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(key_b64, t, &key) != SSH_OK)
		return NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *out = NULL;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		if (fp) {
			out = xstrdup(fp);
			ssh_string_free_char(fp);
		}
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_key_free(key);
	return out;
}

/* Reset out to UNKNOWN for host:port with the key's type and fingerprint. */
void sshc_hostkey_fill(struct sshc_hostkey *out, const char *file, const char *host,
		       int port, const char *type, const char *fingerprint)
{
	memset(out, 0, sizeof *out);
	out->status = SSHC_HOSTKEY_UNKNOWN;
	snprintf(out->host, sizeof out->host, "%s", host);
	out->port = port;
	snprintf(out->type, sizeof out->type, "%s", type ? type : "");
	snprintf(out->fingerprint, sizeof out->fingerprint, "%s", fingerprint ? fingerprint : "");
	snprintf(out->known_hosts, sizeof out->known_hosts, "%s", file);
}

/* OpenSSH host pattern match: '*' any run, '?' one character, case-blind. */
static bool wildcard_match(const char *pat, const char *str)
{
	while (*pat) {
		if (*pat == '*') {
			pat++;
			for (const char *s = str;; s++) {
				if (wildcard_match(pat, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (!*str)
			return false;
		if (*pat != '?' && tolower((unsigned char)*pat) != tolower((unsigned char)*str))
			return false;
		pat++;
		str++;
	}
	return *str == '\0';
}

/* true when the host field (plain, comma separated) excludes name with a
 * "!pattern" (libssh does not honour negations). */
static bool host_negated(const char *field, size_t len, const char *name)
{
	char *copy = xstrndup(field, len);
	bool neg = false;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !neg;
	     tok = strtok_r(NULL, ",", &save))
		neg = tok[0] == '!' && wildcard_match(tok + 1, name);
	free(copy);
	return neg;
}

/* Scan file for entries naming host:port and compare them with key. */
int sshc_known_hosts_scan(const char *file, const char *host, int port, ssh_key key,
			  struct sshc_hostkey *out, struct err *e)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;   /* no file yet: unknown */
		err_set(e, ERR_SSH, "cannot read known_hosts file %s: %s", file, strerror(errno));
		return err_hint(e, "check ssh.known_hosts in the profile and the file's permissions");
	}
	char *name = sshc_known_hosts_name(host, port);
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, known = 0, changed = 0, other = 0, revoked = 0;
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		for (char *p = line; *p; p++)
			if (*p == '\t' || *p == '\n' || *p == '\r')
				*p = *p == '\t' ? ' ' : '\0';
		char *p = line;
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		bool is_revoked = false;
		if (*p == '@') {
			/* Markers: @revoked refuses a key; certificates are not used. */
			is_revoked = str_starts(p, "@revoked ");
			if (!is_revoked)
				continue;
			p += strlen("@revoked ");
			while (*p == ' ')
				p++;
		}
		if (*p != '|' && host_negated(p, strcspn(p, " "), name))
			continue;
		struct ssh_knownhosts_entry *ent = NULL;
		if (ssh_known_hosts_parse_line(name, p, &ent) != SSH_OK || !ent || !ent->publickey) {
			SSH_KNOWNHOSTS_ENTRY_FREE(ent);
			continue;   /* another host, or a line libssh cannot parse */
		}
		bool same = ssh_key_cmp(key, ent->publickey, SSH_KEY_CMP_PUBLIC) == 0;
		bool same_type = ssh_key_type(key) == ssh_key_type(ent->publickey);
		SSH_KNOWNHOSTS_ENTRY_FREE(ent);
		if (is_revoked) {
			if (same && !revoked)
				revoked = lineno;
		} else if (same) {
			if (!known)
				known = lineno;
		} else if (same_type) {
			if (!changed)
				changed = lineno;
		} else if (!other) {
			other = lineno;
		}
	}
	free(line);
	free(name);
	fclose(f);
	if (revoked) {
		out->status = SSHC_HOSTKEY_REVOKED;
		out->line = revoked;
	} else if (known) {
		out->status = SSHC_HOSTKEY_KNOWN;
		out->line = known;
	} else if (changed) {
		out->status = SSHC_HOSTKEY_CHANGED;
		out->line = changed;
	} else if (other) {
		out->status = SSHC_HOSTKEY_OTHER;
		out->line = other;
	}
	return 0;
}

/* Look host:port and the key up in file (see ssh.h). */
int sshc_known_hosts_check(const char *file, const char *host, int port,
			   const char *key_type, const char *key_b64,
			   struct sshc_hostkey *out, struct err *e)
{
	char *fp = sshc_fingerprint(key_type, key_b64);
	sshc_hostkey_fill(out, file, host, port, key_type, fp);
	free(fp);
	enum ssh_keytypes_e t = ssh_key_type_from_name(key_type);
	ssh_key key = NULL;
	if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(key_b64, t, &key) != SSH_OK)
		return err_set(e, ERR_SSH, "not a %s public key: %.40s...", key_type, key_b64);
	int rc = sshc_known_hosts_scan(file, host, port, key, out, e);
	ssh_key_free(key);
	return rc;
}

/* mkdir -p of the directory part of path, mode for new directories. */
static int mkdir_parent(const char *path, mode_t mode)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) != 0 && errno != EEXIST) {
			free(dir);
			return -1;
		}
		*p = '/';
	}
	int rc = mkdir(dir, mode) != 0 && errno != EEXIST ? -1 : 0;
	free(dir);
	return rc;
}

/* Append the key of host:port to file (see ssh.h). */
int sshc_known_hosts_add(const char *file, const char *host, int port,
			 const char *key_type, const char *key_b64, struct err *e)
{
	if (mkdir_parent(file, 0700) != 0)
		return err_set(e, ERR_SSH, "cannot create the directory of %s: %s", file, strerror(errno));
	int fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_SSH, "cannot open known_hosts file %s: %s", file, strerror(errno));
	/* Start on a new line when the file does not end with one. */
	bool need_nl = false;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		char last = '\n';
		if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
			need_nl = true;
	}
	char *name = sshc_known_hosts_name(host, port);
	char *text = xasprintf("%s%s %s %s\n", need_nl ? "\n" : "", name, key_type, key_b64);
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int saved = errno;
	free(text);
	free(name);
	if (w != (ssize_t)len || fsync(fd) != 0) {
		close(fd);
		return err_set(e, ERR_SSH, "cannot write known_hosts file %s: %s", file,
			       w < 0 ? strerror(saved) : "short write");
	}
	if (close(fd) != 0)
		return err_set(e, ERR_SSH, "cannot write known_hosts file %s: %s", file, strerror(errno));
	return 0;
}

