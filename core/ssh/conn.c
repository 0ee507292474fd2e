/* conn — connecting: the profile's ssh section over ssh_config, the host
 * key checked against known_hosts, key-only authentication. */
#include "ssh_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* aes128-gcm first: with AES-NI it is the cheapest cipher on both ends
 * (measured on OpenSSH 9.2: clearly faster than chacha20-poly1305). */
static const char PREFERRED_CIPHERS[] =
	"aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
	"aes128-ctr,aes192-ctr,aes256-ctr";

/* Never prompt for a passphrase: protected keys belong in ssh-agent. */
static int no_prompt(const char *prompt, char *buf, size_t len, int echo, int verify,
		     void *userdata)
{
	(void)prompt, (void)buf, (void)len, (void)echo, (void)verify, (void)userdata;
	return -1;
}

/* $HOME/rel (the passwd entry's home when $HOME is unset); caller frees. */
static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		const struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	return xasprintf("%s/%s", home, rel);
}

/* The name of the local user, the login name when ssh_config names none. */
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

/* TCP keepalive on the socket: first probe after idle_s of silence. */
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

/* Set the session's options from the profile (over ssh_config); fills target. */
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

/* The error for a changed, other-type or revoked host key. */
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
	sshc_hostkey_fill(hk, known_hosts, c->host, c->port, type, fp ? fp : "SHA256:?");
	free(fp);
	int rc = sshc_known_hosts_scan(known_hosts, c->host, c->port, key, hk, e);
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

/* "publickey, password" for a mask of SSH_AUTH_METHOD_* bits. */
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

/* The error for a refused, partial or failed authentication. */
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

/* Log in with the profile's identity_file (or ssh-agent holding it). */
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

/* Log in with a key: none, then the identity file, else agent / defaults. */
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

/* Connect, check the host key, authenticate (see ssh.h). */
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

/* Disconnect and free; NULL-safe. */
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

/* "user@host:port" for messages. */
const char *sshc_target(const sshc_conn *c)
{
	return c->target;
}

/* The resolved host name. */
const char *sshc_host(const sshc_conn *c)
{
	return c->host;
}

/* The negotiated client-to-server cipher. */
const char *sshc_cipher(const sshc_conn *c)
{
	const char *ci = ssh_get_cipher_out(c->s);
	return ci ? ci : "?";
}
