/* ssh — SSH connections, remote commands and verified, resumable uploads
 * over libssh (the only file that includes it). */
#include "ssh.h"
#include "fault.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>   /* ssh_send_keepalive */

#include "hash.h"
#include "util.h"

#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_IO_TIMEOUT_S 120
#define DEFAULT_KEEPALIVE_S 30
#define DEFAULT_CAPTURE_MAX (16u * 1024 * 1024)
#define READ_CHUNK (64 * 1024)          /* one read of remote output */
#define STDIN_CHUNK (64 * 1024)         /* one read of a stdin fd */
#define UPLOAD_CHUNK (1024 * 1024)      /* one write of upload data */
#define POLL_MS 100                     /* cancel / timeout granularity */

/* aes128-gcm first: with AES-NI it is the cheapest cipher on both ends
 * (measured on OpenSSH 9.2: clearly faster than chacha20-poly1305). */
static const char PREFERRED_CIPHERS[] =
	"aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
	"aes128-ctr,aes192-ctr,aes256-ctr";

struct sshc_conn {
	ssh_session s;
	struct ssh_callbacks_struct cb;   /* must live as long as the session */
	char *target;                     /* user@host:port */
	char *host;
	char *user;
	int port;
	int keepalive_s;
	const struct event_sink *events;
};

/* ---- small helpers ---------------------------------------------------------- */

char *sshc_quote(const char *s)
{
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *out = xmalloc(n);
	char *o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *sshc_known_hosts_name(const char *host, int port)
{
	if (port == 22 || port <= 0)
		return xstrdup(host);
	return xasprintf("[%s]:%d", host, port);
}

int sshc_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} sigs[] = {
		{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL},
		{"ABRT", SIGABRT}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
		{"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
		{"TERM", SIGTERM},
	};
	if (!name)
		return 0;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (strcmp(sigs[i].name, name) == 0)
			return sigs[i].num;
	return 0;
}

char *sshc_remote_join(const char *remote_dir, const char *local_path)
{
	const char *base = strrchr(local_path, '/');
	base = base ? base + 1 : local_path;
	size_t n = strlen(remote_dir);
	while (n > 1 && remote_dir[n - 1] == '/')
		n--;
	if (n == 0)
		return xstrdup(base);
	if (n == 1 && remote_dir[0] == '/')
		return xasprintf("/%s", base);
	return xasprintf("%.*s/%s", (int)n, remote_dir, base);
}

int sshc_parse_sha256(const char *s, char hex[65])
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (int i = 0; i < 64; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -1;
		hex[i] = ch;
	}
	char end = s[64];
	if (end != '\0' && end != ' ' && end != '\t' && end != '\n' && end != '\r')
		return -1;
	hex[64] = '\0';
	return 0;
}

void sshc_buf_done(struct sshc_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof *b);
}

static void buf_append(struct sshc_buf *b, const char *data, size_t len, size_t max)
{
	if (b->len >= max) {
		b->truncated = b->truncated || len > 0;
		return;
	}
	if (len > max - b->len) {
		len = max - b->len;
		b->truncated = true;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Keep the last cap-1 bytes of a stream in tail (NUL-terminated). */
static void tail_append(char *tail, size_t cap, const char *data, size_t len)
{
	size_t have = strlen(tail);
	if (len >= cap - 1) {
		memcpy(tail, data + len - (cap - 1), cap - 1);
		tail[cap - 1] = '\0';
		return;
	}
	if (have + len > cap - 1) {
		size_t drop = have + len - (cap - 1);
		memmove(tail, tail + drop, have - drop);
		have -= drop;
	}
	memcpy(tail + have, data, len);
	tail[have + len] = '\0';
}

/* The last non-empty line of text, into out. */
static void last_line(const char *text, char *out, size_t len)
{
	out[0] = '\0';
	if (!text)
		return;
	const char *end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), start);
}

void sshc_lines_feed(void *lines, const char *data, size_t len)
{
	struct sshc_lines *l = lines;
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		size_t room = sizeof l->buf - 1 - l->len;
		if (take > room) {
			/* An overlong line: hand over what fits, continue with the rest. */
			memcpy(l->buf + l->len, data, room);
			l->len += room;
			sshc_lines_flush(l);
			data += room;
			len -= room;
			continue;
		}
		memcpy(l->buf + l->len, data, take);
		l->len += take;
		if (!nl)
			return;
		if (l->len > 0 && l->buf[l->len - 1] == '\r')
			l->len--;
		l->buf[l->len] = '\0';
		if (l->on_line)
			l->on_line(l->ud, l->buf);
		l->len = 0;
		data += take + 1;
		len -= take + 1;
	}
}

void sshc_lines_flush(struct sshc_lines *l)
{
	if (l->len == 0)
		return;
	l->buf[l->len] = '\0';
	if (l->on_line)
		l->on_line(l->ud, l->buf);
	l->len = 0;
}

/* ---- known_hosts ---------------------------------------------------------- */

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

static void fill_hostkey_basics(struct sshc_hostkey *out, const char *file, const char *host,
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
static int known_hosts_scan(const char *file, const char *host, int port, ssh_key key,
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

int sshc_known_hosts_check(const char *file, const char *host, int port,
			   const char *key_type, const char *key_b64,
			   struct sshc_hostkey *out, struct err *e)
{
	char *fp = sshc_fingerprint(key_type, key_b64);
	fill_hostkey_basics(out, file, host, port, key_type, fp);
	free(fp);
	enum ssh_keytypes_e t = ssh_key_type_from_name(key_type);
	ssh_key key = NULL;
	if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(key_b64, t, &key) != SSH_OK)
		return err_set(e, ERR_SSH, "not a %s public key: %.40s...", key_type, key_b64);
	int rc = known_hosts_scan(file, host, port, key, out, e);
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

/* ---- connect ---------------------------------------------------------------- */

/* Never prompt for a passphrase: protected keys belong in ssh-agent. */
static int no_prompt(const char *prompt, char *buf, size_t len, int echo, int verify,
		     void *userdata)
{
	(void)prompt, (void)buf, (void)len, (void)echo, (void)verify, (void)userdata;
	return -1;
}

static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		const struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	return xasprintf("%s/%s", home, rel);
}

static char *local_user(void)
{
	const struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		return xstrdup(pw->pw_name);
	const char *u = getenv("USER");
	return xstrdup(u && *u ? u : "root");
}

/* A string option of the session (after ssh_config), or NULL. */
static char *session_option(ssh_session s, enum ssh_options_e opt)
{
	char *v = NULL;
	if (ssh_options_get(s, opt, &v) != SSH_OK || !v)
		return NULL;
	char *copy = xstrdup(v);
	ssh_string_free_char(v);
	return copy;
}

/* libssh's "Failed to connect: X" / "Connection refused" -> the reason alone. */
static const char *connect_reason(ssh_session s)
{
	const char *msg = ssh_get_error(s);
	if (!msg || !*msg)
		return "unknown error";
	const char *colon = strstr(msg, "Failed to connect: ");
	return colon ? colon + strlen("Failed to connect: ") : msg;
}

static void set_keepalive(int fd, int idle_s)
{
	int on = 1, idle = idle_s, intvl = idle_s > 10 ? 10 : idle_s, cnt = 6;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
#ifdef TCP_KEEPIDLE
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#else
	(void)idle, (void)intvl, (void)cnt;
#endif
}

static int configure(sshc_conn *c, const struct profile *p, int connect_timeout_s,
		     const char *known_hosts, struct err *e)
{
	ssh_session s = c->s;
	int verbosity = SSH_LOG_NOLOG;
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	if (ssh_options_set(s, SSH_OPTIONS_HOST, p->ssh.host) != SSH_OK)
		return err_set(e, ERR_PROFILE, "%s: ssh.host \"%s\" is not a valid host",
			       p->name, p->ssh.host);
	/* ~/.ssh follows $HOME, as "~" in the profile does (libssh would take
	 * the passwd entry). */
	const char *home = getenv("HOME");
	if (home && *home) {
		char *sshdir = xasprintf("%s/.ssh", home);
		ssh_options_set(s, SSH_OPTIONS_SSH_DIR, sshdir);
		free(sshdir);
	}
	ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, PREFERRED_CIPHERS);
	ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, PREFERRED_CIPHERS);
	if (p->ssh.use_ssh_config) {
		if (ssh_options_parse_config(s, NULL) != SSH_OK) {
			err_set(e, ERR_SSH, "cannot read the ssh configuration for %s: %s",
				p->ssh.host, ssh_get_error(s));
			return err_hint(e, "fix ~/.ssh/config, or set ssh.use_ssh_config to false");
		}
	} else {
		bool process = false;
		ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &process);
	}
	if (p->ssh.user && *p->ssh.user)
		ssh_options_set(s, SSH_OPTIONS_USER, p->ssh.user);
	if (p->ssh.port > 0 && (p->ssh.port != 22 || !p->ssh.use_ssh_config)) {
		unsigned int port = (unsigned int)p->ssh.port;
		ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	}
	/* Only the profile's known_hosts counts: no system-wide file. */
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, known_hosts);
	ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	long timeout = connect_timeout_s;
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	int one = 1;
	ssh_options_set(s, SSH_OPTIONS_NODELAY, &one);
	/* Bundles are compressed already; ssh compression only costs CPU. */
	ssh_options_set(s, SSH_OPTIONS_COMPRESSION, "no");

	char *host = session_option(s, SSH_OPTIONS_HOST);
	c->host = host ? host : xstrdup(p->ssh.host);
	unsigned int port = 22;
	if (ssh_options_get_port(s, &port) != SSH_OK)
		port = p->ssh.port > 0 ? (unsigned int)p->ssh.port : 22;
	c->port = (int)port;
	char *user = session_option(s, SSH_OPTIONS_USER);
	c->user = user ? user : local_user();
	c->target = xasprintf("%s@%s:%d", c->user, c->host, c->port);
	return 0;
}

static int hostkey_refused(const sshc_conn *c, const struct sshc_hostkey *hk, struct err *e)
{
	char *name = sshc_known_hosts_name(c->host, c->port);
	char *qname = sshc_quote(name);
	char *qfile = sshc_quote(hk->known_hosts);
	switch (hk->status) {
	case SSHC_HOSTKEY_CHANGED:
		if (hk->line > 0)
			err_set(e, ERR_SSH, "host key for %s:%d has CHANGED (now %s); the known key is "
				"at %s:%d", c->host, c->port, hk->fingerprint, hk->known_hosts, hk->line);
		else
			err_set(e, ERR_SSH, "host key for %s:%d has CHANGED (now %s); the known key is "
				"in %s", c->host, c->port, hk->fingerprint, hk->known_hosts);
		break;
	case SSHC_HOSTKEY_OTHER:
		err_set(e, ERR_SSH, "host key for %s:%d has CHANGED (now %s %s); the known key, of "
			"another type, is at %s:%d", c->host, c->port, hk->type, hk->fingerprint,
			hk->known_hosts, hk->line);
		break;
	default:
		err_set(e, ERR_SSH, "host key for %s:%d (%s) is marked @revoked at %s:%d",
			c->host, c->port, hk->fingerprint, hk->known_hosts, hk->line);
		err_hint(e, "the server presents a revoked key: ask its administrator");
		goto out;
	}
	err_hint(e, "if the server was reinstalled, remove that line (ssh-keygen -R %s -f %s) "
		 "and connect again", qname, qfile);
out:
	free(qfile);
	free(qname);
	free(name);
	return -1;
}

/* Check the server's key against known_hosts; record it when accepted. */
static int check_host_key(sshc_conn *c, const char *known_hosts, const struct sshc_connect_opts *o,
			  struct sshc_hostkey *hk, struct err *e)
{
	ssh_key key = NULL;
	if (ssh_get_server_publickey(c->s, &key) != SSH_OK || !key)
		return err_set(e, ERR_SSH, "cannot get the host key of %s: %s", c->target,
			       ssh_get_error(c->s));
	char *b64 = NULL;
	const char *type = ssh_key_type_to_char(ssh_key_type(key));
	if (!type || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		ssh_key_free(key);
		return err_set(e, ERR_SSH, "cannot read the host key of %s", c->target);
	}
	char *fp = sshc_fingerprint(type, b64);
	fill_hostkey_basics(hk, known_hosts, c->host, c->port, type, fp ? fp : "SHA256:?");
	free(fp);
	int rc = known_hosts_scan(known_hosts, c->host, c->port, key, hk, e);
	/* libssh's own verdict as a second opinion: the stricter one wins. */
	enum ssh_known_hosts_e lib = ssh_session_is_known_server(c->s);
	if (rc == 0 && hk->status != SSHC_HOSTKEY_REVOKED) {
		if (lib == SSH_KNOWN_HOSTS_CHANGED && hk->status != SSHC_HOSTKEY_CHANGED)
			hk->status = SSHC_HOSTKEY_CHANGED;
		else if (lib == SSH_KNOWN_HOSTS_OTHER && hk->status == SSHC_HOSTKEY_UNKNOWN)
			hk->status = SSHC_HOSTKEY_OTHER;
		else if (lib == SSH_KNOWN_HOSTS_OK && hk->status == SSHC_HOSTKEY_UNKNOWN)
			hk->status = SSHC_HOSTKEY_KNOWN;
	}
	ssh_key_free(key);
	if (rc != 0) {
		ssh_string_free_char(b64);
		return -1;
	}
	switch (hk->status) {
	case SSHC_HOSTKEY_KNOWN:
	case SSHC_HOSTKEY_ACCEPTED:
		break;
	case SSHC_HOSTKEY_UNKNOWN: {
		bool accept = o->accept_new_host_key ||
			      (o->confirm_new_key &&
			       o->confirm_new_key(o->confirm_ud, c->host, c->port, hk->fingerprint,
						  hk->type) != 0);
		if (!accept) {
			err_set(e, ERR_SSH, "unknown host key for %s:%d: %s (%s)", c->host, c->port,
				hk->fingerprint, hk->type);
			err_hint(e, "check the fingerprint with the server's administrator, then accept it "
				 "(on a terminal, or with --accept-new-host-key); nothing was recorded");
			rc = -1;
			break;
		}
		rc = sshc_known_hosts_add(known_hosts, c->host, c->port, hk->type, b64, e);
		if (rc == 0) {
			hk->status = SSHC_HOSTKEY_ACCEPTED;
			event_log(o->events, EV_INFO, "recorded the host key of %s:%d (%s %s) in %s",
				  c->host, c->port, hk->type, hk->fingerprint, known_hosts);
		}
		break;
	}
	default:
		rc = hostkey_refused(c, hk, e);
		break;
	}
	ssh_string_free_char(b64);
	return rc;
}

static const char *auth_methods_text(int methods, char *buf, size_t len)
{
	buf[0] = '\0';
	static const struct {
		int bit;
		const char *name;
	} m[] = {
		{SSH_AUTH_METHOD_PUBLICKEY, "publickey"}, {SSH_AUTH_METHOD_PASSWORD, "password"},
		{SSH_AUTH_METHOD_INTERACTIVE, "keyboard-interactive"},
		{SSH_AUTH_METHOD_HOSTBASED, "hostbased"}, {SSH_AUTH_METHOD_GSSAPI_MIC, "gssapi"},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (methods & m[i].bit)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "",
				 m[i].name);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

static int auth_failed(const sshc_conn *c, int rc, const char *what, struct err *e)
{
	if (rc == SSH_AUTH_ERROR)
		return err_set(e, ERR_SSH, "authentication with %s failed: %s", c->target,
			       ssh_get_error(c->s));
	if (rc == SSH_AUTH_PARTIAL) {
		err_set(e, ERR_SSH, "authentication with %s: %s was accepted but the server wants "
			"a second factor", c->target, what);
		return err_hint(e, "ferry logs in with a key alone; allow that for this user in sshd_config");
	}
	return err_set(e, ERR_SSH, "authentication failed for %s: the server refused %s",
		       c->target, what);
}

static int authenticate_identity(sshc_conn *c, const char *file, struct err *e)
{
	ssh_key priv = NULL;
	struct stat st;
	if (stat(file, &st) != 0) {
		err_set(e, ERR_SSH, "cannot use ssh.identity_file %s: %s", file, strerror(errno));
		return err_hint(e, "set ssh.identity_file to a private key file, or leave it out to use ssh-agent");
	}
	if (ssh_pki_import_privkey_file(file, NULL, no_prompt, NULL, &priv) != SSH_OK) {
		/* Passphrase-protected (or not a key): ssh-agent may hold it. */
		if (getenv("SSH_AUTH_SOCK") && ssh_userauth_agent(c->s, NULL) == SSH_AUTH_SUCCESS)
			return 0;
		err_set(e, ERR_SSH, "cannot log in to %s: the key %s cannot be loaded without a "
			"passphrase (or is not a private key), and ssh-agent had no accepted key",
			c->target, file);
		return err_hint(e, "load it into ssh-agent (ssh-add %s) and run again", file);
	}
	char *fp = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	if (ssh_get_publickey_hash(priv, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		ssh_clean_pubkey_hash(&hash);
	}
	int rc = ssh_userauth_publickey(c->s, NULL, priv);
	ssh_key_free(priv);
	if (rc == SSH_AUTH_SUCCESS) {
		ssh_string_free_char(fp);
		return 0;
	}
	char *what = xasprintf("the key %s (%s)", file, fp ? fp : "?");
	ssh_string_free_char(fp);
	auth_failed(c, rc, what, e);
	free(what);
	if (rc == SSH_AUTH_DENIED)
		err_hint(e, "add %s.pub to ~%s/.ssh/authorized_keys on %s (ssh-copy-id -i %s -p %d %s@%s)",
			 file, c->user, c->host, file, c->port, c->user, c->host);
	return -1;
}

static int authenticate(sshc_conn *c, const struct profile *p, struct err *e)
{
	int rc = ssh_userauth_none(c->s, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR)
		return auth_failed(c, rc, "", e);
	int methods = ssh_userauth_list(c->s, NULL);
	if (!(methods & SSH_AUTH_METHOD_PUBLICKEY)) {
		char buf[128];
		err_set(e, ERR_SSH, "cannot log in to %s: the server does not accept keys "
			"(it offers: %s)", c->target, auth_methods_text(methods, buf, sizeof buf));
		return err_hint(e, "enable PubkeyAuthentication in the server's sshd_config");
	}
	if (p->ssh.identity_file && *p->ssh.identity_file)
		return authenticate_identity(c, p->ssh.identity_file, e);
	rc = ssh_userauth_publickey_auto(c->s, NULL, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	const char *agent = getenv("SSH_AUTH_SOCK");
	char *what = xasprintf("every key offered (ssh-agent%s, then the IdentityFile of ssh_config "
			       "or ~/.ssh/id_ed25519, id_ecdsa, id_rsa)",
			       agent && *agent ? "" : ": not running");
	auth_failed(c, rc, what, e);
	free(what);
	if (rc == SSH_AUTH_DENIED)
		err_hint(e, "set ssh.identity_file in the profile, or add your public key to "
			 "~%s/.ssh/authorized_keys on %s", c->user, c->host);
	return -1;
}

sshc_conn *sshc_connect(const struct profile *p, const struct sshc_connect_opts *o,
			struct err *e)
{
	static const struct sshc_connect_opts defaults = {0};
	if (!o)
		o = &defaults;
	if (!p->has_ssh || !p->ssh.host || !*p->ssh.host) {
		err_set(e, ERR_PROFILE, "profile \"%s\" has no ssh section (ssh.host)", p->name);
		err_hint(e, "add \"ssh\": {\"host\": ..., \"user\": ...} to the profile");
		return NULL;
	}
	sshc_conn *c = xcalloc(1, sizeof *c);
	c->events = o->events;
	c->keepalive_s = o->keepalive_s > 0 ? o->keepalive_s : DEFAULT_KEEPALIVE_S;
	c->s = ssh_new();
	if (!c->s) {
		fprintf(stderr, "ferry: out of memory (libssh session)\n");
		abort();
	}
	c->cb.userdata = c;
	c->cb.auth_function = no_prompt;
	ssh_callbacks_init(&c->cb);
	ssh_set_callbacks(c->s, &c->cb);

	char *kh_default = NULL;
	const char *known_hosts = p->ssh.known_hosts;
	if (!known_hosts || !*known_hosts)
		known_hosts = kh_default = home_path(".ssh/known_hosts");
	int connect_timeout = o->connect_timeout_s > 0 ? o->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
	struct sshc_hostkey hk_local = {0};
	struct sshc_hostkey *hk = o->hostkey_out ? o->hostkey_out : &hk_local;
	memset(hk, 0, sizeof *hk);

	if (configure(c, p, connect_timeout, known_hosts, e) != 0)
		goto fail;
	if (ssh_connect(c->s) != SSH_OK) {
		err_set(e, ERR_SSH, "cannot connect to %s: %s", c->target, connect_reason(c->s));
		err_hint(e, "check ssh.host / ssh.port in the profile and that sshd runs there");
		goto fail;
	}
	set_keepalive(ssh_get_fd(c->s), c->keepalive_s);
	if (check_host_key(c, known_hosts, o, hk, e) != 0)
		goto fail;
	if (authenticate(c, p, e) != 0)
		goto fail;
	long io_timeout = o->io_timeout_s > 0 ? o->io_timeout_s : DEFAULT_IO_TIMEOUT_S;
	ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &io_timeout);
	event_log(o->events, EV_INFO, "connected to %s (%s)", c->target, sshc_cipher(c));
	free(kh_default);
	return c;
fail:
	free(kh_default);
	sshc_free(c);
	return NULL;
}

void sshc_free(sshc_conn *c)
{
	if (!c)
		return;
	if (c->s) {
		if (ssh_is_connected(c->s))
			ssh_disconnect(c->s);
		ssh_free(c->s);
	}
	free(c->target);
	free(c->host);
	free(c->user);
	free(c);
}

const char *sshc_target(const sshc_conn *c)
{
	return c->target;
}

const char *sshc_host(const sshc_conn *c)
{
	return c->host;
}

const char *sshc_cipher(const sshc_conn *c)
{
	const char *ci = ssh_get_cipher_out(c->s);
	return ci ? ci : "?";
}

/* ---- exec ------------------------------------------------------------------- */

/* Fills buf with up to max bytes of stdin; 0 = end, -1 = error (e filled),
 * PRODUCE_LATER = nothing yet (asked again once the command wrote output). */
typedef ssize_t (*producer_fn)(void *ud, char *buf, size_t max, struct err *e);
#define PRODUCE_LATER (-2)

struct exec_state {
	sshc_conn *c;
	const struct sshc_exec_opts *o;
	struct sshc_exec_info *info;
	bool got_status;
	int status;
	char signal[32];
	bool core;
	size_t capture_max;
};

static void on_exit_status(ssh_session session, ssh_channel channel, int status, void *ud)
{
	(void)session, (void)channel;
	struct exec_state *st = ud;
	st->got_status = true;
	st->status = status;
}

static void on_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
			   int core, const char *errmsg, const char *lang, void *ud)
{
	(void)session, (void)channel, (void)errmsg, (void)lang;
	struct exec_state *st = ud;
	snprintf(st->signal, sizeof st->signal, "%s", signal ? signal : "?");
	st->core = core != 0;
}

static void deliver(struct exec_state *st, const char *data, size_t n, bool is_stderr)
{
	const struct sshc_exec_opts *o = st->o;
	if (is_stderr) {
		tail_append(st->info->stderr_tail, sizeof st->info->stderr_tail, data, n);
		if (o && o->on_stderr)
			o->on_stderr(o->ud, data, n);
		if (o && o->capture_stderr)
			buf_append(o->capture_stderr, data, n, st->capture_max);
	} else {
		if (o && o->on_stdout)
			o->on_stdout(o->ud, data, n);
		if (o && o->capture_stdout)
			buf_append(o->capture_stdout, data, n, st->capture_max);
	}
}

/* Where stdin comes from during one exec. */
struct exec_input {
	producer_fn produce;   /* or: */
	void *ud;
	bool later;            /* produce said PRODUCE_LATER: wait for output */
	const char *buf;       /* a buffer */
	size_t len;
	int fd;                /* a descriptor; -1 = none */
	char *chunk;           /* read buffer for fd / producer */
	size_t chunk_size;
	size_t pend_off, pend_len;   /* pending bytes in chunk */
	bool done;             /* EOF sent */
};

/* Read more stdin into the pending chunk when it is empty. Returns 1 when
 * there is something to send, 0 when not now, -1 on a producer error. */
static int input_fill(struct exec_input *in, bool fd_readable, struct err *e)
{
	if (in->pend_len > 0)
		return 1;
	if (in->produce) {
		if (in->later)
			return 0;
		ssize_t n = in->produce(in->ud, in->chunk, in->chunk_size, e);
		if (n == PRODUCE_LATER) {
			in->later = true;
			return 0;
		}
		if (n < 0)
			return -1;
		if (n == 0) {
			in->produce = NULL;
			return 0;
		}
		in->pend_off = 0;
		in->pend_len = (size_t)n;
		return 1;
	}
	if (in->fd >= 0 && fd_readable) {
		ssize_t n = read(in->fd, in->chunk, in->chunk_size);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n <= 0) {
			in->fd = -1;   /* EOF or a read error: end of stdin */
			return 0;
		}
		in->pend_off = 0;
		in->pend_len = (size_t)n;
		return 1;
	}
	return 0;
}

static bool input_exhausted(const struct exec_input *in)
{
	return in->pend_len == 0 && !in->produce && in->fd < 0 && in->len == 0;
}

/* Send what the window allows. Returns 0, or -1 on errors (e filled). */
static int input_send(struct exec_state *st, ssh_channel ch, struct exec_input *in,
		      bool fd_readable, struct err *e)
{
	for (int round = 0; round < 64 && !in->done; round++) {
		uint32_t window = ssh_channel_window_size(ch);
		if (window == 0)
			return 0;
		const char *data;
		size_t n;
		if (in->len > 0) {
			data = in->buf;
			n = in->len;
		} else {
			int r = input_fill(in, fd_readable && round == 0, e);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
			data = in->chunk + in->pend_off;
			n = in->pend_len;
		}
		if (n > window)
			n = window;
		if (n > UPLOAD_CHUNK)
			n = UPLOAD_CHUNK;
		int w = ssh_channel_write(ch, data, (uint32_t)n);
		if (w == SSH_ERROR || w < 0)
			return err_set(e, ERR_SSH, "cannot send data to %s: %s", st->c->target,
				       ssh_get_error(st->c->s));
		if (in->len > 0) {
			in->buf += w;
			in->len -= (size_t)w;
		} else {
			in->pend_off += (size_t)w;
			in->pend_len -= (size_t)w;
		}
	}
	if (!in->done && input_exhausted(in)) {
		ssh_channel_send_eof(ch);
		in->done = true;
	}
	return 0;
}

static void stop_remote(ssh_channel ch)
{
	ssh_channel_request_send_signal(ch, "TERM");
	ssh_channel_close(ch);
}

/* Read what is there from stdout and stderr. Returns bytes read, or -1. */
static ssize_t drain(struct exec_state *st, ssh_channel ch, char *buf)
{
	ssize_t total = 0;
	for (int is_stderr = 0; is_stderr <= 1; is_stderr++) {
		for (;;) {
			int n = ssh_channel_read_nonblocking(ch, buf, READ_CHUNK, is_stderr);
			if (n == SSH_ERROR)
				return -1;
			if (n <= 0)
				break;
			deliver(st, buf, (size_t)n, is_stderr != 0);
			total += n;
		}
	}
	return total;
}

/* One running command: the channel, its input and the event that waits. */
struct pump {
	struct exec_state *st;
	ssh_channel ch;
	struct exec_input *in;
	ssh_event ev;
	char *buf;
	int ev_fd;                 /* stdin fd registered with ev, -1 = none */
	bool fd_readable;
	bool (*until)(void *ud);   /* stop pumping once this says so */
	void *until_ud;
	bool stopped;              /* ...and it did */
};

static int on_fd_ready(socket_t fd, int revents, void *ud)
{
	(void)fd;
	struct pump *pu = ud;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		pu->fd_readable = true;
	return 0;
}

/* Watch the stdin fd only while its data could be sent: a readable fd we do
 * not read would make every wait return at once. */
static void watch_stdin(struct pump *pu, bool want)
{
	if (want && pu->ev_fd < 0 && pu->in->fd >= 0) {
		if (ssh_event_add_fd(pu->ev, pu->in->fd, POLLIN, on_fd_ready, pu) == SSH_OK)
			pu->ev_fd = pu->in->fd;
	} else if (!want && pu->ev_fd >= 0) {
		ssh_event_remove_fd(pu->ev, pu->ev_fd);
		pu->ev_fd = -1;
	}
}

static bool pump_finished(const struct pump *pu)
{
	return ssh_channel_is_closed(pu->ch) ||
	       (ssh_channel_is_eof(pu->ch) && (pu->st->got_status || pu->st->signal[0]));
}

/* Move data both ways until the command has exited (or cancel / timeout). */
static int exec_loop(struct pump *pu, struct err *e)
{
	struct exec_state *st = pu->st;
	const struct sshc_exec_opts *o = st->o;
	sshc_conn *c = st->c;
	double start = util_now(), last_rx = start;
	for (;;) {
		if (o && o->cancel && *o->cancel) {
			stop_remote(pu->ch);
			return err_set(e, ERR_INTERRUPTED, "interrupted: the remote command on %s "
				       "was stopped", c->target);
		}
		double t = util_now();
		if (o && o->timeout_s > 0 && t - start >= o->timeout_s) {
			stop_remote(pu->ch);
			err_set(e, ERR_SSH, "remote command on %s timed out after %d s", c->target,
				o->timeout_s);
			return err_hint(e, "raise the timeout (--timeout) or check what the command "
					"waits for");
		}
		ssize_t got = drain(st, pu->ch, pu->buf);
		if (got < 0)
			return err_set(e, ERR_SSH, "connection to %s lost: %s", c->target,
				       ssh_get_error(c->s));
		if (got > 0) {
			last_rx = t;
			pu->in->later = false;   /* the producer may have news now */
		}
		if (pu->until && pu->until(pu->until_ud)) {
			pu->stopped = true;
			return 0;
		}
		/* The remote's EOF on its output says nothing about its input:
		 * keep sending until it has exited. */
		if (!pu->in->done && !pump_finished(pu)) {
			bool readable = pu->fd_readable;
			pu->fd_readable = false;
			if (input_send(st, pu->ch, pu->in, readable, e) != 0) {
				stop_remote(pu->ch);
				return -1;
			}
		}
		if (pump_finished(pu)) {
			if (drain(st, pu->ch, pu->buf) > 0)
				continue;
			return 0;
		}
		if (got > 0)
			continue;
		struct exec_input *in = pu->in;
		bool window = ssh_channel_window_size(pu->ch) > 0;
		if (!in->done && window && (in->len > 0 || in->pend_len > 0 ||
					    (in->produce && !in->later)))
			continue;   /* more to send right now */
		watch_stdin(pu, !in->done && in->fd >= 0 && in->pend_len == 0 && window);
		/* Wait for packets (processed into the channel) or stdin. */
		int pr = ssh_event_dopoll(pu->ev, POLL_MS);
		if (pr == SSH_ERROR && !ssh_is_connected(c->s))
			return err_set(e, ERR_SSH, "connection to %s lost: %s", c->target,
				       ssh_get_error(c->s));
		if (pr == SSH_AGAIN && util_now() - last_rx >= c->keepalive_s) {
			ssh_send_keepalive(c->s);
			last_rx = util_now();
		}
	}
}

/* A command started on its own channel; pumped later (exec_pump), so two
 * commands can start at once. Lives where the channel callbacks can reach
 * it until exec_close. */
struct chan_run {
	sshc_conn *c;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	struct exec_state st;
	struct sshc_exec_info info_local;
};

/* Open a channel and start command on it. */
static int exec_start(sshc_conn *c, const char *command, struct chan_run *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	r->c = c;
	r->st.c = c;
	r->st.info = &r->info_local;
	r->ch = ssh_channel_new(c->s);
	if (!r->ch)
		return err_set(e, ERR_SSH, "cannot open a channel to %s: %s", c->target,
			       ssh_get_error(c->s));
	r->cb.userdata = &r->st;
	r->cb.channel_exit_status_function = on_exit_status;
	r->cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&r->cb);
	ssh_set_channel_callbacks(r->ch, &r->cb);
	if (ssh_channel_open_session(r->ch) != SSH_OK) {
		err_set(e, ERR_SSH, "cannot open a session channel to %s: %s", c->target,
			ssh_get_error(c->s));
		ssh_channel_free(r->ch);
		r->ch = NULL;
		return -1;
	}
	if (ssh_channel_request_exec(r->ch, command) != SSH_OK) {
		err_set(e, ERR_SSH, "cannot run a command on %s: %s", c->target, ssh_get_error(c->s));
		ssh_channel_close(r->ch);
		ssh_channel_free(r->ch);
		r->ch = NULL;
		return -1;
	}
	return 0;
}

/* Close and free the channel of r (NULL channel: nothing). */
static void exec_close(struct chan_run *r)
{
	if (!r->ch)
		return;
	if (!ssh_channel_is_closed(r->ch))
		ssh_channel_close(r->ch);
	ssh_channel_free(r->ch);
	r->ch = NULL;
}

/* Feed stdin, deliver output and wait for the exit of a started command,
 * or (until != NULL) only until until(ud) says so. Returns 1 when until
 * stopped it, 0 when the command exited (*exit_status), -1 on errors. */
static int exec_pump_until(struct chan_run *r, const struct sshc_exec_opts *o,
			   struct exec_input *in, bool (*until)(void *ud), void *until_ud,
			   int *exit_status, struct err *e)
{
	sshc_conn *c = r->c;
	struct exec_state *st = &r->st;
	st->o = o;
	st->info = o && o->info ? o->info : &r->info_local;
	memset(st->info, 0, sizeof *st->info);
	st->capture_max = o && o->capture_max ? o->capture_max : DEFAULT_CAPTURE_MAX;
	if (exit_status)
		*exit_status = -1;
	ssh_event ev = ssh_event_new();
	if (!ev || ssh_event_add_session(ev, c->s) != SSH_OK) {
		if (ev)
			ssh_event_free(ev);
		return err_set(e, ERR_SSH, "cannot wait for %s: %s", c->target, ssh_get_error(c->s));
	}
	char *buf = xmalloc(READ_CHUNK);
	struct pump pump = {.st = st, .ch = r->ch, .in = in, .ev = ev, .buf = buf, .ev_fd = -1,
			    .until = until, .until_ud = until_ud};
	int rc = exec_loop(&pump, e);
	if (pump.ev_fd >= 0)
		ssh_event_remove_fd(ev, pump.ev_fd);
	ssh_event_remove_session(ev, c->s);
	ssh_event_free(ev);
	free(buf);
	if (rc != 0)
		return -1;
	if (pump.stopped)
		return 1;
	if (st->got_status) {
		if (exit_status)
			*exit_status = st->status;
	} else if (st->signal[0]) {
		snprintf(st->info->signal, sizeof st->info->signal, "%s", st->signal);
		st->info->core_dumped = st->core;
		int num = sshc_signal_number(st->signal);
		if (exit_status)
			*exit_status = 128 + (num ? num : 127);
	} else {
		return err_set(e, ERR_SSH, "the remote command on %s ended without an exit status "
			       "(connection closed)", c->target);
	}
	return 0;
}

/* exec_pump_until without a stop condition. */
static int exec_pump(struct chan_run *r, const struct sshc_exec_opts *o, struct exec_input *in,
		     int *exit_status, struct err *e)
{
	return exec_pump_until(r, o, in, NULL, NULL, exit_status, e);
}

static int exec_run(sshc_conn *c, const char *command, const struct sshc_exec_opts *o,
		    struct exec_input *in, int *exit_status, struct err *e)
{
	struct chan_run r;
	if (exit_status)
		*exit_status = -1;
	if (exec_start(c, command, &r, e) != 0)
		return -1;
	int rc = exec_pump(&r, o, in, exit_status, e);
	exec_close(&r);
	return rc;
}

int sshc_exec(sshc_conn *c, const char *command, const struct sshc_exec_opts *o,
	      int *exit_status, struct err *e)
{
	struct exec_input in = {.fd = -1};
	if (o && o->stdin_buf && o->stdin_len) {
		in.buf = o->stdin_buf;
		in.len = o->stdin_len;
	} else if (o && o->stdin_from_fd && o->stdin_fd >= 0) {
		in.fd = o->stdin_fd;
		in.chunk_size = STDIN_CHUNK;
		in.chunk = xmalloc(in.chunk_size);
	}
	int rc = exec_run(c, command, o, &in, exit_status, e);
	free(in.chunk);
	return rc;
}

/* A command for messages: its first line, at most 120 characters. */
static void short_command(const char *command, char *out, size_t len)
{
	size_t n = strcspn(command, "\n");
	if (n > 120)
		snprintf(out, len, "%.117s...", command);
	else
		snprintf(out, len, "%.*s", (int)n, command);
}

static int exec_failed(const sshc_conn *c, const char *command, int status,
		       const struct sshc_exec_info *info, struct err *e)
{
	char cmd[128], tail[512];
	short_command(command, cmd, sizeof cmd);
	last_line(info->stderr_tail, tail, sizeof tail);
	if (info->signal[0])
		err_set(e, ERR_SSH, "remote command failed on %s: `%s` was killed by signal %s%s%s",
			c->target, cmd, info->signal, tail[0] ? ": " : "", tail);
	else
		err_set(e, ERR_SSH, "remote command failed on %s: `%s` exited with status %d%s%s",
			c->target, cmd, status, tail[0] ? ": " : "", tail);
	return -1;
}

int sshc_run(sshc_conn *c, const char *command, struct sshc_buf *out, struct err *e)
{
	struct sshc_exec_info info;
	struct sshc_exec_opts o = {.capture_stdout = out, .info = &info};
	int status = -1;
	if (sshc_exec(c, command, &o, &status, e) != 0)
		return -1;
	if (status != 0)
		return exec_failed(c, command, status, &info, e);
	return 0;
}

/* ---- upload ----------------------------------------------------------------- */

/* How an upload goes (all of it over the one connection):
 *
 * VERIFY, a small sh script on an exec channel, is started first: its login
 * shell starts while everything else happens. It reads lines on its stdin:
 *   "check N HEX"  (resume) hash the first N bytes of PART, answer
 *                  "ferry-prefix same|differ"
 *   "hash A B"     add MiB blocks [A, A+B) of PART to a running SHA-256
 *   "end A"        add the blocks from A to the end, check PART's size
 *                  ("ferry-short S", exit 6), print "ferry-hashed" and
 *                  "ferry-sha256 HEX"
 *   "want HEX"     ours: equal -> mv PART FINAL, else rm PART and exit 4.
 * So the remote file itself is hashed, while it is being written: each
 * "hash" covers only bytes the server has confirmed written, and only the
 * last few MiB are left to hash when the data is all there.
 *
 * The data goes over SFTP (the server's sftp subsystem; no shell, the server
 * writes the file itself): pipelined 128 KiB writes, batched into 1 MiB
 * channel writes. When the server has no sftp subsystem, it goes to DATA, an
 * exec'd sh script that `cat`s its stdin to PART (after the same prefix
 * check, done by itself), and VERIFY hashes at the end.
 *
 * The local SHA-256 is computed as the file is read for sending. */
static const char VERIFY_SCRIPT[] =
	"exec 3>&1\n"
	"read -r cmd a b || exit 5\n"
	"if [ \"$cmd\" = check ]; then\n"
	"  h=$(head -c \"$a\" \"$1\" | { openssl dgst -sha256 -r 2>/dev/null || sha256sum; }) || exit 3\n"
	"  if [ \"${h%% *}\" = \"$b\" ]; then echo ferry-prefix same; else echo ferry-prefix differ; fi\n"
	"  read -r cmd a b || exit 5\n"
	"fi\n"
	"h=$(while :; do\n"
	"    case $cmd in\n"
	"      hash) dd if=\"$1\" bs=1048576 skip=\"$a\" count=\"$b\" 2>/dev/null || { echo ferry-hash-failed >&3; exit 3; } ;;\n"
	"      end) dd if=\"$1\" bs=1048576 skip=\"$a\" 2>/dev/null || { echo ferry-hash-failed >&3; exit 3; }\n"
	"           echo ferry-hashed >&3; exit 0 ;;\n"
	"      *) exit 5 ;;\n"
	"    esac\n"
	"    read -r cmd a b || exit 5\n"
	"  done | { openssl dgst -sha256 -r 2>/dev/null || sha256sum; }) || exit 3\n"
	"s=$(wc -c < \"$1\") || exit 12\n"
	"[ \"$s\" -eq \"$3\" ] || { echo \"ferry-short $s\"; exit 6; }\n"
	"h=${h%% *}; echo \"ferry-sha256 $h\"\n"
	"read -r cmd want || exit 5\n"
	"[ \"$cmd\" = want ] || exit 5\n"
	"if [ \"$h\" = \"$want\" ]; then mv -f \"$1\" \"$2\" || exit 13; else rm -f \"$1\"; exit 4; fi\n";

/* The fallback data path (no sftp): see above. */
static const char DATA_SCRIPT[] =
	"umask 077\n"
	"mkdir -p \"$1\" || exit 10\n"
	"exec 9>>\"$2\" || exit 10\n"
	"if command -v flock >/dev/null 2>&1; then flock -w 60 9 || exit 14; fi\n"
	"n=$(wc -c < \"$2\") || exit 10\n"
	"echo \"ferry-size $n\"\n"
	"read -r op arg || exit 11\n"
	"if [ \"$op\" = check ]; then\n"
	"  h=$(head -c \"$n\" \"$2\" | { openssl dgst -sha256 -r 2>/dev/null || sha256sum; }) || exit 3\n"
	"  if [ \"${h%% *}\" = \"$arg\" ]; then echo ferry-prefix same; else echo ferry-prefix differ; fi\n"
	"  read -r op arg || exit 11\n"
	"fi\n"
	"case $op in\n"
	"  append) exec cat >> \"$2\" ;;\n"
	"  new) exec cat > \"$2\" ;;\n"
	"esac\n"
	"exit 11\n";

#define MIB (1024u * 1024u)
#define HASH_AHEAD_MIB 32          /* VERIFY gets "hash" lines this often */
#define SFTP_DATA (128 * 1024)     /* data in one SFTP write (< 256 KiB!) */
#define SFTP_BATCH 8               /* SFTP writes per channel write */
#define SFTP_MAX_OUTSTANDING 64    /* unanswered writes */

enum upload_state {
	UP_WAIT_SIZE,      /* DATA: waiting for "ferry-size" */
	UP_SEND_CHECK,     /* DATA: send "check HEX" */
	UP_WAIT_PREFIX,    /* waiting for "ferry-prefix" */
	UP_SEND_HEADER,    /* DATA: send "append" | "new" */
	UP_DATA,           /* DATA: send the bytes */
	UP_SEND_END,       /* VERIFY: send "end A" */
	UP_WAIT_SHA,       /* VERIFY: waiting for "ferry-sha256" */
	UP_SEND_WANT,      /* VERIFY: send "want HEX" */
	UP_DONE,
};

struct upload {
	sshc_conn *c;
	const struct sshc_upload_opts *o;
	const char *step;
	const char *local;
	int fd;
	uint64_t size;
	enum upload_state state;
	uint64_t remote_have;  /* bytes in PART when we started */
	bool append;
	bool prefix_answer;    /* "ferry-prefix" seen */
	uint64_t off;          /* next byte to send */
	uint64_t sent;
	uint64_t hashed;       /* the local hash covers [0, hashed) */
	uint64_t remote_hash_mib;   /* VERIFY was told to hash [0, this) MiB */
	struct hash_ctx full;
	char hex[HASH_HEX_SIZE];          /* ours, when known */
	char remote_hex[HASH_HEX_SIZE];   /* theirs */
	bool remote_hashed;    /* "ferry-hashed": the whole PART went in */
	bool hash_failed;      /* "ferry-hash-failed" */
	uint64_t short_size;   /* "ferry-short N": what PART held */
	bool protocol_error;
	char bad_line[128];
	struct sshc_lines lines;
	bool via_sftp;
};

/* Read len bytes at off; -1 with e filled on errors or a short file. */
static int read_at(struct upload *u, char *buf, size_t len, uint64_t off, struct err *e)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(u->fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, ERR_FAILED, "cannot read %s: %s", u->local, strerror(errno));
		if (n == 0)
			return err_set(e, ERR_FAILED, "%s shrank while it was being sent", u->local);
		got += (size_t)n;
	}
	return 0;
}

/* Data just read at off for sending: feed what the local hash lacks. */
static void hash_sent(struct upload *u, const char *buf, size_t n, uint64_t off)
{
	if (off + n <= u->hashed || off > u->hashed)
		return;
	uint64_t skip = u->hashed - off;
	hash_update(&u->full, buf + skip, n - (size_t)skip);
	u->hashed = off + n;
}

/* Feed [u->hashed, end) of the local file to the full hash and to pre. */
static int hash_local(struct upload *u, uint64_t end, struct hash_ctx *pre, struct err *e)
{
	char *buf = xmalloc(UPLOAD_CHUNK);
	int rc = 0;
	while (u->hashed < end) {
		if (u->o->cancel && *u->o->cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "interrupted while hashing %s", u->local);
			break;
		}
		size_t n = end - u->hashed > UPLOAD_CHUNK ? UPLOAD_CHUNK : (size_t)(end - u->hashed);
		if (read_at(u, buf, n, u->hashed, e) != 0) {
			rc = -1;
			break;
		}
		hash_update(&u->full, buf, n);
		if (pre)
			hash_update(pre, buf, n);
		u->hashed += n;
	}
	free(buf);
	return rc;
}

/* Our hash of [0, len) (the full hash is fed on the way). */
static int hash_prefix(struct upload *u, uint64_t len, char hex[HASH_HEX_SIZE], struct err *e)
{
	struct hash_ctx pre = {0};
	int rc = hash_init(&pre, e);
	if (rc == 0)
		rc = hash_local(u, len, &pre, e);
	if (rc == 0)
		hash_final(&pre, hex);
	hash_done(&pre);
	return rc;
}

static uint64_t parse_u64(const char *s, bool *ok)
{
	*ok = false;
	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return 0;
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	*ok = *end == '\0';
	return (uint64_t)v;
}

/* After "ferry-size" / an SFTP stat: what to do with n bytes already there. */
static void decide_resume(struct upload *u, uint64_t n)
{
	u->remote_have = n;
	if (n > 0 && n <= u->size) {
		event_log(u->o->events, EV_INFO, "found %llu bytes of an earlier upload on %s; "
			  "checking them", (unsigned long long)n, u->c->target);
	} else if (n > u->size) {
		event_log(u->o->events, EV_WARN, "the partial upload on %s is larger than %s; "
			  "starting over", u->c->target, u->local);
	}
}

static bool resume_candidate(const struct upload *u)
{
	return u->remote_have > 0 && u->remote_have <= u->size;
}

static void prefix_answer(struct upload *u, bool same)
{
	u->prefix_answer = true;
	u->append = same;
	if (same) {
		u->off = u->remote_have;
		event_log(u->o->events, EV_INFO, "resuming after %llu bytes",
			  (unsigned long long)u->remote_have);
	} else {
		event_log(u->o->events, EV_WARN, "the partial upload on %s differs from %s; "
			  "starting over", u->c->target, u->local);
	}
}

/* A line from a script. Other lines (a chatty login shell) are ignored. */
static void upload_line(void *ud, const char *line)
{
	struct upload *u = ud;
	bool ok = true;
	if (str_starts(line, "ferry-size ") && u->state == UP_WAIT_SIZE) {
		uint64_t n = parse_u64(line + strlen("ferry-size "), &ok);
		if (ok) {
			decide_resume(u, n);
			u->state = resume_candidate(u) ? UP_SEND_CHECK : UP_SEND_HEADER;
		}
	} else if (str_starts(line, "ferry-prefix ")) {
		prefix_answer(u, strcmp(line + strlen("ferry-prefix "), "same") == 0);
		if (u->state == UP_WAIT_PREFIX)
			u->state = UP_SEND_HEADER;
	} else if (strcmp(line, "ferry-hashed") == 0) {
		u->remote_hashed = true;
	} else if (strcmp(line, "ferry-hash-failed") == 0) {
		u->hash_failed = true;
	} else if (str_starts(line, "ferry-sha256 ")) {
		ok = sshc_parse_sha256(line + strlen("ferry-sha256 "), u->remote_hex) == 0;
		if (ok && u->state == UP_WAIT_SHA)
			u->state = UP_SEND_WANT;
	} else if (str_starts(line, "ferry-short ")) {
		u->short_size = parse_u64(line + strlen("ferry-short "), &ok);
	}
	if (!ok && !u->protocol_error) {
		u->protocol_error = true;
		snprintf(u->bad_line, sizeof u->bad_line, "%s", line);
	}
}

static void upload_stdout(void *ud, const char *data, size_t len)
{
	struct upload *u = ud;
	sshc_lines_feed(&u->lines, data, len);
}

/* stdin of the scripts, following the state. */
static ssize_t upload_produce(void *ud, char *buf, size_t max, struct err *e)
{
	struct upload *u = ud;
	switch (u->state) {
	case UP_WAIT_SIZE:
	case UP_WAIT_PREFIX:
	case UP_WAIT_SHA:
		return PRODUCE_LATER;
	case UP_SEND_CHECK: {
		char hex[HASH_HEX_SIZE];
		if (hash_prefix(u, u->remote_have, hex, e) != 0)
			return -1;
		u->state = UP_WAIT_PREFIX;
		return snprintf(buf, max, "check %s\n", hex);
	}
	case UP_SEND_HEADER:
		u->state = UP_DATA;
		event_progress(u->o->events, u->step, u->off, u->size);
		return snprintf(buf, max, "%s\n", u->append ? "append" : "new");
	case UP_DATA: {
		if (fault_kill_after(u->sent))
			raise(SIGKILL);
		if (u->off >= u->size)
			return 0;
		size_t n = max;
		if (n > u->size - u->off)
			n = (size_t)(u->size - u->off);
		if (read_at(u, buf, n, u->off, e) != 0)
			return -1;
		hash_sent(u, buf, n, u->off);
		u->off += n;
		u->sent += n;
		event_progress(u->o->events, u->step, u->off, u->size);
		return (ssize_t)n;
	}
	case UP_SEND_END:
		u->state = UP_WAIT_SHA;
		return snprintf(buf, max, "end %llu\n", (unsigned long long)u->remote_hash_mib);
	case UP_SEND_WANT:
		/* Only for a whole, cleanly hashed PART: else EOF, and VERIFY
		 * exits without touching it. */
		if (!u->remote_hashed || u->hash_failed || u->protocol_error) {
			u->state = UP_DONE;
			return 0;
		}
		if (hash_local(u, u->size, NULL, e) != 0)
			return -1;
		hash_final(&u->full, u->hex);
		u->state = UP_DONE;
		return snprintf(buf, max, "want %s\n", u->hex);
	case UP_DONE:
	default:
		return 0;
	}
}

/* A path for the remote shell: "./" before a leading '-'. Caller frees. */
static char *remote_arg(const char *path)
{
	if (path[0] == '-') {
		char *p = xasprintf("./%s", path);
		char *q = sshc_quote(p);
		free(p);
		return q;
	}
	return sshc_quote(path);
}

static char *remote_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Turn a script's exit status into an error. */
static int upload_failed(struct upload *u, const char *part, int status,
			 const struct sshc_exec_info *info, struct err *e)
{
	char tail[512];
	last_line(info->stderr_tail, tail, sizeof tail);
	const char *sep = tail[0] ? ": " : "";
	switch (status) {
	case 4:
		err_set(e, ERR_VERIFY, "the copy on %s does not match %s: sha256 %s there, %s here; "
			"the partial file was removed", u->c->target, u->local,
			u->remote_hex[0] ? u->remote_hex : "(none)", u->hex);
		return err_hint(e, "run the push again; if it fails the same way, check the remote disk");
	case 6:
		err_set(e, ERR_SSH, "upload of %s to %s is incomplete: %s holds %llu of %llu bytes",
			u->local, u->c->target, part, (unsigned long long)u->short_size,
			(unsigned long long)u->size);
		return err_hint(e, "run the same push again: it resumes after the bytes already copied");
	case 10:
		return err_set(e, ERR_SSH, "cannot prepare the directory of %s on %s%s%s", part,
			       u->c->target, sep, tail);
	case 12:
		return err_set(e, ERR_SSH, "cannot write %s on %s%s%s", part, u->c->target, sep, tail);
	case 13:
		return err_set(e, ERR_SSH, "cannot rename %s into place on %s%s%s", part,
			       u->c->target, sep, tail);
	case 14:
		err_set(e, ERR_SSH, "another upload to %s on %s still runs (waited 60 s for its lock)",
			part, u->c->target);
		return err_hint(e, "wait for it to end, or stop it, and push again");
	case 3:
		err_set(e, ERR_SSH, "cannot hash %s on %s (openssl or sha256sum and dd needed)%s%s",
			part, u->c->target, sep, tail);
		return err_hint(e, "install coreutils on the server");
	case 5:
		if (u->hash_failed || u->protocol_error || (u->state >= UP_SEND_WANT && !u->remote_hashed))
			return err_set(e, ERR_SSH, "hashing %s on %s failed; it was left in place%s%s",
				       part, u->c->target, sep, tail);
		/* fall through */
	default:
		if (info->signal[0])
			return err_set(e, ERR_SSH, "the upload to %s was killed by signal %s%s%s",
				       u->c->target, info->signal, sep, tail);
		if (tail[0] && status == 1)
			return err_set(e, ERR_SSH, "cannot write %s on %s: %s", part, u->c->target, tail);
		return err_set(e, ERR_SSH, "the upload to %s failed (remote script exit status %d)%s%s",
			       u->c->target, status, sep, tail);
	}
}

/* "exec sh -c SCRIPT ferry-upload ARGS...": sh, whatever the login shell. */
static char *script_command(const char *script, const char *const *args, size_t nargs)
{
	char *q = sshc_quote(script);
	char *cmd = xasprintf("exec sh -c %s ferry-upload", q);
	free(q);
	for (size_t i = 0; i < nargs; i++) {
		char *a = remote_arg(args[i]);
		char *next = xasprintf("%s %s", cmd, a);
		free(a);
		free(cmd);
		cmd = next;
	}
	return cmd;
}

/* Pump a script to its end with the upload's producer and line parser. */
static int upload_pump(struct upload *u, struct chan_run *r, const char *part,
		       struct err *e)
{
	struct exec_input in = {.fd = -1, .produce = upload_produce, .ud = u,
				.chunk_size = UPLOAD_CHUNK};
	in.chunk = xmalloc(in.chunk_size);
	struct sshc_exec_info info;
	struct sshc_exec_opts eo = {.on_stdout = upload_stdout, .ud = u, .info = &info,
				    .cancel = u->o->cancel};
	int status = -1;
	int rc = exec_pump(r, &eo, &in, &status, e);
	sshc_lines_flush(&u->lines);
	free(in.chunk);
	if (rc == 0 && status != 0)
		rc = upload_failed(u, part, status, &info, e);
	return rc;
}

/* Write a line to a script's stdin. */
static int script_say(struct upload *u, struct chan_run *r, const char *line, struct err *e)
{
	size_t len = strlen(line);
	if (ssh_channel_write(r->ch, line, (uint32_t)len) != (int)len)
		return err_set(e, ERR_SSH, "connection to %s lost: %s", u->c->target,
			       ssh_get_error(u->c->s));
	return 0;
}

static bool got_prefix_answer(void *ud)
{
	const struct upload *u = ud;
	return u->prefix_answer;
}

/* Resume check through VERIFY: is PART's prefix ours? */
static int verify_check_prefix(struct upload *u, struct chan_run *verify, const char *part,
			       struct err *e)
{
	char hex[HASH_HEX_SIZE];
	if (hash_prefix(u, u->remote_have, hex, e) != 0)
		return -1;
	char line[128];
	snprintf(line, sizeof line, "check %llu %s\n", (unsigned long long)u->remote_have, hex);
	if (script_say(u, verify, line, e) != 0)
		return -1;
	struct exec_input none = {.fd = -1, .done = true};
	struct sshc_exec_info info;
	struct sshc_exec_opts eo = {.on_stdout = upload_stdout, .ud = u, .info = &info,
				    .cancel = u->o->cancel};
	int status = -1;
	int rc = exec_pump_until(verify, &eo, &none, got_prefix_answer, u, &status, e);
	if (rc == 0)   /* it exited instead of answering */
		return upload_failed(u, part, status == 0 ? 5 : status, &info, e);
	return rc < 0 ? -1 : 0;
}

/* ---- a minimal pipelined SFTP client (version 3) for the data --------- */

enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_WRITE = 6,
	FXP_STAT = 17, FXP_MKDIR = 14, FXP_STATUS = 101, FXP_HANDLE = 102, FXP_ATTRS = 105,
};
enum { FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3 };
enum { FXF_WRITE = 0x02, FXF_CREAT = 0x08, FXF_TRUNC = 0x10 };
enum { ATTR_SIZE = 0x1, ATTR_UIDGID = 0x2, ATTR_PERMS = 0x4, ATTR_TIME = 0x8 };

struct sftp {
	struct upload *u;
	ssh_channel ch;
	uint32_t next_id;
	unsigned char *in;         /* bytes received, not yet parsed */
	size_t in_len, in_cap;
	unsigned char *pkt;        /* the last packet taken from in */
	size_t pkt_len;
	char handle[256];
	size_t handle_len;
	char *batch;               /* SFTP_BATCH write requests, built in place */
	/* unanswered writes, in the order sent: id and end offset */
	struct {
		uint32_t id;
		uint64_t end;
		bool done;
	} out[SFTP_MAX_OUTSTANDING];
	size_t out_head, out_n;
	uint64_t confirmed;        /* every byte below this is written */
	int status_code;           /* of the last failing STATUS */
	char status_msg[128];
};

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A request being built: length, type, id, then fields. */
struct fxbuf {
	unsigned char b[1024];
	size_t len;
	bool overflow;
};

static void fx_bytes(struct fxbuf *f, const void *p, size_t n)
{
	if (f->len + n > sizeof f->b) {
		f->overflow = true;
		return;
	}
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void fx_u32(struct fxbuf *f, uint32_t v)
{
	unsigned char p[4];
	put_u32(p, v);
	fx_bytes(f, p, 4);
}

static void fx_str(struct fxbuf *f, const void *s, size_t n)
{
	fx_u32(f, (uint32_t)n);
	fx_bytes(f, s, n);
}

static void fx_start(struct fxbuf *f, int type)
{
	f->len = 4;
	f->overflow = false;
	unsigned char t = (unsigned char)type;
	fx_bytes(f, &t, 1);
}

static int sftp_send(struct sftp *sf, struct fxbuf *f, struct err *e)
{
	if (f->overflow)
		return err_set(e, ERR_FAILED, "sftp request too long (a path over 900 bytes?)");
	put_u32(f->b, (uint32_t)(f->len - 4));
	if (ssh_channel_write(sf->ch, f->b, (uint32_t)f->len) != (int)f->len)
		return err_set(e, ERR_SSH, "connection to %s lost: %s", sf->u->c->target,
			       ssh_get_error(sf->u->c->s));
	return 0;
}

/* Read what the channel has (waiting up to wait_ms when nothing). Returns
 * 0, or -1 when the channel or connection is gone. */
static int sftp_fill(struct sftp *sf, int wait_ms, struct err *e)
{
	if (sf->in_cap - sf->in_len < READ_CHUNK) {
		sf->in_cap = sf->in_len + READ_CHUNK;
		sf->in = xrealloc(sf->in, sf->in_cap);
	}
	int n = wait_ms > 0 ? ssh_channel_read_timeout(sf->ch, sf->in + sf->in_len, READ_CHUNK, 0, wait_ms)
			    : ssh_channel_read_nonblocking(sf->ch, sf->in + sf->in_len, READ_CHUNK, 0);
	if (n == SSH_ERROR || (n == 0 && ssh_channel_is_eof(sf->ch)))
		return err_set(e, ERR_SSH, "the sftp session with %s ended: %s", sf->u->c->target,
			       ssh_get_error(sf->u->c->s));
	if (n > 0)
		sf->in_len += (size_t)n;
	return 0;
}

/* Take one complete packet from the input into sf->pkt; 1 = got one. */
static int sftp_take(struct sftp *sf, struct err *e)
{
	if (sf->pkt) {
		size_t used = sf->pkt_len + 4;
		memmove(sf->in, sf->in + used, sf->in_len - used);
		sf->in_len -= used;
		sf->pkt = NULL;
	}
	if (sf->in_len < 4)
		return 0;
	uint32_t len = get_u32(sf->in);
	if (len < 5 || len > 256 * 1024)
		return err_set(e, ERR_SSH, "the sftp server on %s sent a malformed reply",
			       sf->u->c->target);
	if (sf->in_len < 4 + (size_t)len)
		return 0;
	sf->pkt = sf->in + 4;
	sf->pkt_len = len;
	return 1;
}

/* Wait for the next packet (cancel / stall aware). */
static int sftp_next(struct sftp *sf, struct err *e)
{
	double start = util_now();
	for (;;) {
		int r = sftp_take(sf, e);
		if (r != 0)
			return r < 0 ? -1 : 0;
		if (sf->u->o->cancel && *sf->u->o->cancel)
			return err_set(e, ERR_INTERRUPTED, "interrupted: upload to %s stopped",
				       sf->u->c->target);
		if (util_now() - start > DEFAULT_IO_TIMEOUT_S)
			return err_set(e, ERR_SSH, "the sftp server on %s did not answer for %d s",
				       sf->u->c->target, DEFAULT_IO_TIMEOUT_S);
		if (sftp_fill(sf, POLL_MS, e) != 0)
			return -1;
	}
}

/* STATUS reply fields: code and message. */
static int status_of(struct sftp *sf)
{
	if (sf->pkt_len < 9)
		return 4;
	int code = (int)get_u32(sf->pkt + 5);
	if (code != FX_OK && sf->pkt_len >= 13) {
		uint32_t mlen = get_u32(sf->pkt + 9);
		if (mlen <= sf->pkt_len - 13)
			snprintf(sf->status_msg, sizeof sf->status_msg, "%.*s", (int)mlen,
				 (const char *)sf->pkt + 13);
		sf->status_code = code;
	}
	return code;
}

/* One request, one reply (nothing else outstanding). */
static int sftp_call(struct sftp *sf, struct fxbuf *f, struct err *e)
{
	if (sftp_send(sf, f, e) != 0 || sftp_next(sf, e) != 0)
		return -1;
	return 0;
}

static const char *status_text(const struct sftp *sf, int code)
{
	if (sf->status_msg[0])
		return sf->status_msg;
	switch (code) {
	case FX_NO_SUCH_FILE: return "No such file";
	case FX_PERMISSION_DENIED: return "Permission denied";
	default: return "Failure";
	}
}

/* stat path: 0 with *size / *is_dir, 1 when it does not exist, -1 on errors. */
static int sftp_stat(struct sftp *sf, const char *path, uint64_t *size, bool *is_dir,
		     struct err *e)
{
	struct fxbuf f;
	uint32_t id = sf->next_id++;
	fx_start(&f, FXP_STAT);
	fx_u32(&f, id);
	fx_str(&f, path, strlen(path));
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	if (sf->pkt[0] == FXP_STATUS) {
		int code = status_of(sf);
		if (code == FX_NO_SUCH_FILE)
			return 1;
		return err_set(e, ERR_SSH, "cannot look at %s on %s: %s", path, sf->u->c->target,
			       status_text(sf, code));
	}
	if (sf->pkt[0] != FXP_ATTRS || sf->pkt_len < 9)
		return err_set(e, ERR_SSH, "the sftp server on %s sent an unexpected reply",
			       sf->u->c->target);
	uint32_t flags = get_u32(sf->pkt + 5);
	size_t pos = 9;
	*size = 0;
	*is_dir = false;
	if ((flags & ATTR_SIZE) && pos + 8 <= sf->pkt_len) {
		*size = (uint64_t)get_u32(sf->pkt + pos) << 32 | get_u32(sf->pkt + pos + 4);
		pos += 8;
	}
	if (flags & ATTR_UIDGID)
		pos += 8;
	if ((flags & ATTR_PERMS) && pos + 4 <= sf->pkt_len)
		*is_dir = (get_u32(sf->pkt + pos) & S_IFMT) == S_IFDIR;
	return 0;
}

static int sftp_mkdir(struct sftp *sf, const char *path, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_MKDIR);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, path, strlen(path));
	fx_u32(&f, ATTR_PERMS);
	fx_u32(&f, 0700);
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	int code = sf->pkt[0] == FXP_STATUS ? status_of(sf) : 4;
	if (code == FX_OK)
		return 0;
	/* Someone else made it meanwhile? */
	uint64_t size;
	bool is_dir;
	if (sftp_stat(sf, path, &size, &is_dir, e) == 0 && is_dir)
		return 0;
	return err_set(e, ERR_SSH, "cannot create the directory %s on %s: %s", path,
		       sf->u->c->target, status_text(sf, code));
}

/* mkdir -p dir (0700 for new directories). */
static int sftp_mkdirs(struct sftp *sf, const char *dir, struct err *e)
{
	uint64_t size;
	bool is_dir;
	int r = sftp_stat(sf, dir, &size, &is_dir, e);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (!is_dir)
			return err_set(e, ERR_SSH, "%s on %s is not a directory", dir, sf->u->c->target);
		return 0;
	}
	char *parent = remote_dirname(dir);
	bool top = strcmp(parent, dir) == 0 || strcmp(parent, ".") == 0 || strcmp(parent, "/") == 0;
	int rc = top ? 0 : sftp_mkdirs(sf, parent, e);
	free(parent);
	return rc == 0 ? sftp_mkdir(sf, dir, e) : -1;
}

static int sftp_open(struct sftp *sf, const char *path, bool truncate, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_OPEN);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, path, strlen(path));
	fx_u32(&f, FXF_WRITE | FXF_CREAT | (truncate ? FXF_TRUNC : 0));
	fx_u32(&f, ATTR_PERMS);
	fx_u32(&f, 0600);
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	if (sf->pkt[0] == FXP_HANDLE && sf->pkt_len >= 9) {
		uint32_t hl = get_u32(sf->pkt + 5);
		if (hl <= sizeof sf->handle && 9 + (size_t)hl <= sf->pkt_len) {
			memcpy(sf->handle, sf->pkt + 9, hl);
			sf->handle_len = hl;
			return 0;
		}
	}
	int code = sf->pkt[0] == FXP_STATUS ? status_of(sf) : 4;
	return err_set(e, ERR_SSH, "cannot write %s on %s: %s", path, sf->u->c->target,
		       status_text(sf, code));
}

static int sftp_close(struct sftp *sf, const char *path, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_CLOSE);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, sf->handle, sf->handle_len);
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	int code = sf->pkt[0] == FXP_STATUS ? status_of(sf) : 4;
	if (code != FX_OK)
		return err_set(e, ERR_SSH, "cannot write %s on %s: %s", path, sf->u->c->target,
			       status_text(sf, code));
	return 0;
}

/* Handle the write replies that are there; wait for one when block. */
static int sftp_collect(struct sftp *sf, bool block, const char *path, struct err *e)
{
	if (block) {
		if (sftp_next(sf, e) != 0)
			return -1;
	} else {
		if (sftp_fill(sf, 0, e) != 0)
			return -1;
		int r = sftp_take(sf, e);
		if (r <= 0)
			return r;
	}
	do {
		if (sf->pkt[0] != FXP_STATUS || sf->pkt_len < 9)
			return err_set(e, ERR_SSH, "the sftp server on %s sent an unexpected reply",
				       sf->u->c->target);
		uint32_t id = get_u32(sf->pkt + 1);
		int code = status_of(sf);
		if (code != FX_OK)
			return err_set(e, ERR_SSH, "cannot write %s on %s: %s", path,
				       sf->u->c->target, status_text(sf, code));
		bool found = false;
		for (size_t i = 0; i < sf->out_n && !found; i++) {
			size_t k = (sf->out_head + i) % SFTP_MAX_OUTSTANDING;
			if (sf->out[k].id == id && !sf->out[k].done) {
				sf->out[k].done = true;
				found = true;
			}
		}
		if (!found)
			return err_set(e, ERR_SSH, "the sftp server on %s answered a request never made",
				       sf->u->c->target);
		while (sf->out_n > 0 && sf->out[sf->out_head].done) {
			sf->confirmed = sf->out[sf->out_head].end;
			sf->out_head = (sf->out_head + 1) % SFTP_MAX_OUTSTANDING;
			sf->out_n--;
		}
		if (sftp_fill(sf, 0, e) != 0)
			return -1;
		int r = sftp_take(sf, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	} while (true);
}

/* Tell VERIFY to hash what the server has confirmed, in whole MiB steps. */
static int feed_remote_hash(struct upload *u, struct chan_run *verify, uint64_t confirmed,
			    bool force, struct err *e)
{
	uint64_t mib = confirmed / MIB;
	if (mib <= u->remote_hash_mib || (!force && mib - u->remote_hash_mib < HASH_AHEAD_MIB))
		return 0;
	char line[96];
	snprintf(line, sizeof line, "hash %llu %llu\n", (unsigned long long)u->remote_hash_mib,
		 (unsigned long long)(mib - u->remote_hash_mib));
	u->remote_hash_mib = mib;
	return script_say(u, verify, line, e);
}

/* Send the bytes [u->off, size) as pipelined writes. */
static int sftp_send_data(struct sftp *sf, struct chan_run *verify, const char *path,
			  struct err *e)
{
	struct upload *u = sf->u;
	const size_t hdr = 4 + 1 + 4 + 4 + sf->handle_len + 8 + 4;
	sf->confirmed = u->off;
	while (u->off < u->size || sf->out_n > 0) {
		if (u->o->cancel && *u->o->cancel)
			return err_set(e, ERR_INTERRUPTED, "interrupted: upload to %s stopped",
				       u->c->target);
		if (fault_kill_after(u->sent))
			raise(SIGKILL);
		/* Build up to SFTP_BATCH requests in place, send them at once. */
		size_t nreq = 0, bytes = 0;
		while (nreq < SFTP_BATCH && u->off < u->size &&
		       sf->out_n + nreq < SFTP_MAX_OUTSTANDING) {
			unsigned char *p = (unsigned char *)sf->batch + bytes;
			size_t n = u->size - u->off > SFTP_DATA ? SFTP_DATA : (size_t)(u->size - u->off);
			if (read_at(u, (char *)p + hdr, n, u->off, e) != 0)
				return -1;
			hash_sent(u, (char *)p + hdr, n, u->off);
			uint32_t id = sf->next_id++;
			put_u32(p, (uint32_t)(hdr - 4 + n));
			p[4] = FXP_WRITE;
			put_u32(p + 5, id);
			put_u32(p + 9, (uint32_t)sf->handle_len);
			memcpy(p + 13, sf->handle, sf->handle_len);
			unsigned char *q = p + 13 + sf->handle_len;
			put_u32(q, (uint32_t)(u->off >> 32));
			put_u32(q + 4, (uint32_t)u->off);
			put_u32(q + 8, (uint32_t)n);
			size_t k = (sf->out_head + sf->out_n + nreq) % SFTP_MAX_OUTSTANDING;
			sf->out[k].id = id;
			sf->out[k].end = u->off + n;
			sf->out[k].done = false;
			u->off += n;
			bytes += hdr + n;
			nreq++;
		}
		if (nreq > 0) {
			if (ssh_channel_write(sf->ch, sf->batch, (uint32_t)bytes) != (int)bytes)
				return err_set(e, ERR_SSH, "connection to %s lost: %s", u->c->target,
					       ssh_get_error(u->c->s));
			sf->out_n += nreq;
			u->sent += bytes - nreq * hdr;
			event_progress(u->o->events, u->step, u->off, u->size);
		}
		/* Answers: take what is there; wait when we may not send more. */
		bool must_wait = nreq == 0 || sf->out_n >= SFTP_MAX_OUTSTANDING;
		if (sf->out_n > 0 && sftp_collect(sf, must_wait, path, e) != 0)
			return -1;
		if (feed_remote_hash(u, verify, sf->confirmed, false, e) != 0)
			return -1;
	}
	return 0;
}

/* Open the sftp subsystem; 1 when the server has none (fall back). */
static int sftp_begin(struct sftp *sf, struct err *e)
{
	sf->ch = ssh_channel_new(sf->u->c->s);
	if (!sf->ch)
		return err_set(e, ERR_SSH, "cannot open a channel to %s: %s", sf->u->c->target,
			       ssh_get_error(sf->u->c->s));
	if (ssh_channel_open_session(sf->ch) != SSH_OK)
		return err_set(e, ERR_SSH, "cannot open a session channel to %s: %s",
			       sf->u->c->target, ssh_get_error(sf->u->c->s));
	if (ssh_channel_request_subsystem(sf->ch, "sftp") != SSH_OK)
		return 1;
	struct fxbuf f;
	fx_start(&f, FXP_INIT);
	fx_u32(&f, 3);
	if (sftp_send(sf, &f, e) != 0 || sftp_next(sf, e) != 0)
		return -1;
	if (sf->pkt[0] != FXP_VERSION)
		return err_set(e, ERR_SSH, "the sftp server on %s did not start", sf->u->c->target);
	return 0;
}

static void sftp_end(struct sftp *sf)
{
	if (sf->ch) {
		if (!ssh_channel_is_closed(sf->ch))
			ssh_channel_close(sf->ch);
		ssh_channel_free(sf->ch);
	}
	free(sf->in);
	free(sf->batch);
}

/* The data over SFTP. Returns 1 when there is no sftp subsystem. */
static int upload_sftp(struct upload *u, struct chan_run *verify, const char *dir,
		       const char *part, struct err *e)
{
	struct sftp *sf = xcalloc(1, sizeof *sf);
	sf->u = u;
	sf->next_id = 1;
	int rc = sftp_begin(sf, e);
	if (rc == 0)
		rc = sftp_mkdirs(sf, dir, e);
	uint64_t have = 0;
	bool is_dir = false;
	if (rc == 0) {
		int r = sftp_stat(sf, part, &have, &is_dir, e);
		if (r < 0)
			rc = -1;
		else if (r == 1)
			have = 0;
		else if (is_dir)
			rc = err_set(e, ERR_SSH, "%s on %s is a directory", part, u->c->target);
	}
	if (rc == 0) {
		u->via_sftp = true;
		decide_resume(u, have);
		if (resume_candidate(u))
			rc = verify_check_prefix(u, verify, part, e);
	}
	if (rc == 0)
		rc = sftp_open(sf, part, !u->append, e);
	if (rc == 0) {
		event_progress(u->o->events, u->step, u->off, u->size);
		size_t hdr = 4 + 1 + 4 + 4 + sf->handle_len + 8 + 4;
		sf->batch = xmalloc(SFTP_BATCH * (hdr + SFTP_DATA));
		rc = sftp_send_data(sf, verify, part, e);
		if (rc == 0)
			rc = sftp_close(sf, part, e);
	}
	sftp_end(sf);
	free(sf);
	return rc;
}

/* The data through DATA (exec + cat). */
static int upload_exec(struct upload *u, const char *dir, const char *part, struct err *e)
{
	const char *dargs[] = {dir, part};
	char *dcmd = script_command(DATA_SCRIPT, dargs, 2);
	struct chan_run data;
	u->state = UP_WAIT_SIZE;
	int rc = exec_start(u->c, dcmd, &data, e);
	if (rc == 0) {
		rc = upload_pump(u, &data, part, e);
		exec_close(&data);
		if (rc == 0 && u->state != UP_DATA)
			rc = err_set(e, ERR_SSH, "unexpected answers from %s during the upload%s%s%s",
				     u->c->target, u->protocol_error ? ": \"" : "", u->bad_line,
				     u->protocol_error ? "\"" : "");
	}
	free(dcmd);
	return rc;
}

static int upload_run(struct upload *u, const char *remote_path, struct err *e)
{
	char *part = xasprintf("%s.part", remote_path);
	char *dir = remote_dirname(remote_path);
	char *size = xasprintf("%llu", (unsigned long long)u->size);
	const char *vargs[] = {part, remote_path, size};
	char *vcmd = script_command(VERIFY_SCRIPT, vargs, 3);
	u->lines.on_line = upload_line;
	u->lines.ud = u;
	struct chan_run verify;
	int rc = exec_start(u->c, vcmd, &verify, e);
	if (rc == 0) {
		rc = upload_sftp(u, &verify, dir, part, e);
		if (rc == 1) {
			event_log(u->o->events, EV_INFO, "%s has no sftp subsystem; sending through "
				  "a remote cat", u->c->target);
			rc = upload_exec(u, dir, part, e);
		}
		if (rc != 0 && u->sent > 0 && e->kind != ERR_VERIFY && e->kind != ERR_INTERRUPTED)
			err_prefix(e, "upload of %s stopped after %llu bytes", u->local,
				   (unsigned long long)u->off);
		if (rc == 0) {
			u->state = UP_SEND_END;
			rc = upload_pump(u, &verify, part, e);
			if (rc == 0 && (u->state != UP_DONE || strcmp(u->remote_hex, u->hex) != 0))
				rc = err_set(e, ERR_VERIFY, "unexpected answers from %s when verifying "
					     "the upload%s%s%s", u->c->target,
					     u->protocol_error ? ": \"" : "", u->bad_line,
					     u->protocol_error ? "\"" : "");
		}
		exec_close(&verify);
	}
	free(vcmd);
	free(size);
	free(dir);
	free(part);
	return rc;
}

int sshc_upload(sshc_conn *c, const char *local_path, const char *remote_path,
		const struct sshc_upload_opts *o, struct sshc_upload_result *r,
		struct err *e)
{
	static const struct sshc_upload_opts defaults = {0};
	struct sshc_upload_result r_local;
	if (!o)
		o = &defaults;
	if (!r)
		r = &r_local;
	memset(r, 0, sizeof *r);
	if (!remote_path || !*remote_path)
		return err_set(e, ERR_USAGE, "upload of %s: no remote path", local_path);
	double start = util_now();
	struct upload *u = xcalloc(1, sizeof *u);
	u->c = c;
	u->o = o;
	u->local = local_path;
	u->step = o->step ? o->step : "upload";
	u->fd = open(local_path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0) {
		free(u);
		return err_set(e, ERR_FAILED, "cannot open %s: %s", local_path, strerror(errno));
	}
	struct stat st;
	int rc = 0;
	if (fstat(u->fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = err_set(e, ERR_FAILED, "%s is not a regular file", local_path);
	else
		u->size = (uint64_t)st.st_size;
	posix_fadvise(u->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (rc == 0)
		rc = hash_init(&u->full, e);
	if (rc == 0)
		rc = upload_run(u, remote_path, e);
	if (rc == 0)
		memcpy(r->sha256, u->hex, sizeof r->sha256);
	r->resumed_from = u->append ? u->remote_have : 0;
	r->bytes = u->size;
	r->sent = u->sent;
	r->seconds = util_now() - start;
	hash_done(&u->full);
	close(u->fd);
	free(u);
	return rc;
}
