/* ssh — SSH connections to a profile's host: remote commands and verified,
 * resumable uploads. core/ssh/ is the only folder that includes libssh
 * (its private header is ssh_int.h); everyone else includes "ssh/ssh.h".
 *
 * Prefix: sshc_ (libssh owns the ssh_* names, so "ssh_" would clash).
 *
 * Host keys are always checked against the profile's known_hosts file
 * (ssh.known_hosts): a known key connects, an unknown key fails (ERR_SSH)
 * unless the caller accepts it (flag or callback) — then it is recorded in
 * that file — and a changed key is refused, always. There is no way to skip
 * the check.
 *
 * Ownership: sshc_connect() returns a heap object freed (and disconnected)
 * by sshc_free(), NULL-safe. Strings returned by sshc_* accessors belong to
 * the connection. struct sshc_buf contents are owned by the caller and freed
 * with sshc_buf_done(). Functions returning char * hand over a heap string.
 * A connection is used from one thread at a time. */
#ifndef FERRY_SSH_H
#define FERRY_SSH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"

typedef struct sshc_conn sshc_conn;

/* What the host key check found. */
enum sshc_hostkey_status {
	SSHC_HOSTKEY_KNOWN = 0,   /* the key is in known_hosts for host:port */
	SSHC_HOSTKEY_UNKNOWN,     /* no entry for host:port (or no file yet) */
	SSHC_HOSTKEY_ACCEPTED,    /* was unknown, accepted and recorded now */
	SSHC_HOSTKEY_CHANGED,     /* another key of the same type is known */
	SSHC_HOSTKEY_OTHER,       /* only keys of other types are known */
	SSHC_HOSTKEY_REVOKED,     /* the key is marked @revoked */
};

/* The server's host key and where known_hosts mentions the host. */
struct sshc_hostkey {
	enum sshc_hostkey_status status;
	char host[256];            /* as looked up: the resolved host name */
	int port;
	char type[64];             /* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
	char fingerprint[128];     /* "SHA256:..." (base64, no padding) */
	char known_hosts[1024];    /* the file checked */
	int line;                  /* CHANGED / OTHER / REVOKED: the line of the
	                            * conflicting entry (1-based); 0 = none */
};

struct sshc_connect_opts {
	/* Record an unknown host key in known_hosts and go on. */
	bool accept_new_host_key;
	/* Asked when the key is unknown and accept_new_host_key is false;
	 * return non-zero to accept (it is then recorded). NULL = refuse. */
	int (*confirm_new_key)(void *ud, const char *host, int port,
			       const char *fingerprint, const char *type);
	void *confirm_ud;
	int connect_timeout_s;     /* TCP connect + handshake; 0 = 10 s */
	int io_timeout_s;          /* a single blocked read/write; 0 = 120 s */
	int keepalive_s;           /* keepalive after this much silence; 0 = 30 s */
	/* Filled (when not NULL) once the host key was seen, also on failure:
	 * the wizard shows the fingerprint from here. */
	struct sshc_hostkey *hostkey_out;
	const struct event_sink *events;   /* log lines; NULL = none */
};

/* Connect to the profile's ssh section and authenticate.
 *   host, port, user, identity_file from the profile; ~/.ssh/config (and
 *   /etc/ssh/ssh_config) are read for that host first unless
 *   ssh.use_ssh_config is false; what the profile sets wins (its port when
 *   it is not the default 22, so a Port in ssh_config is honoured).
 *   No identity_file: ssh-agent, then the identities of ssh_config / the
 *   default ~/.ssh/id_*. Passphrase-protected keys must be in ssh-agent:
 *   nothing is ever prompted for.
 *   TCP_NODELAY and TCP keepalive on, compression off, ciphers preferring
 *   aes128-gcm@openssh.com (then chacha20-poly1305, aes256-gcm, aes-ctr).
 * Errors (ERR_SSH, message names user@host:port): cannot connect, host key
 * unknown / changed, authentication failed; ERR_PROFILE when the profile
 * has no ssh section. Returns NULL with e filled. */
sshc_conn *sshc_connect(const struct profile *p, const struct sshc_connect_opts *o,
			struct err *e);
void sshc_free(sshc_conn *c);

/* "user@host:port" of the connection, for messages. */
const char *sshc_target(const sshc_conn *c);
/* The resolved host name (after ssh_config HostName). */
const char *sshc_host(const sshc_conn *c);
/* The negotiated client-to-server cipher, e.g. "aes128-gcm@openssh.com". */
const char *sshc_cipher(const sshc_conn *c);

/* A growable byte buffer; data is NUL-terminated when not NULL. */
struct sshc_buf {
	char *data;
	size_t len;
	size_t cap;
	bool truncated;            /* capture_max was reached; the rest dropped */
};
void sshc_buf_done(struct sshc_buf *b);

/* Splits a byte stream into lines (without '\n' or a trailing '\r') for
 * on_line: pass sshc_lines_feed as on_stdout / on_stderr and a struct
 * sshc_lines as its ud. Lines longer than the buffer come in pieces. Call
 * sshc_lines_flush at the end for an unterminated last line. */
struct sshc_lines {
	void (*on_line)(void *ud, const char *line);
	void *ud;
	size_t len;
	char buf[8192];
};
void sshc_lines_feed(void *lines, const char *data, size_t len);
void sshc_lines_flush(struct sshc_lines *l);

/* How a remote command ended, beyond its exit status. */
struct sshc_exec_info {
	char signal[32];           /* "TERM", ... when killed by a signal; "" else */
	bool core_dumped;
	char stderr_tail[2048];    /* the last bytes of its stderr */
};

struct sshc_exec_opts {
	/* stdin: a buffer, or a file descriptor read until EOF (not closed),
	 * or nothing; then EOF is sent. */
	const void *stdin_buf;
	size_t stdin_len;
	bool stdin_from_fd;
	int stdin_fd;
	/* Output as it arrives (chunks, not lines; see sshc_lines). */
	void (*on_stdout)(void *ud, const char *data, size_t len);
	void (*on_stderr)(void *ud, const char *data, size_t len);
	void *ud;
	/* Collected output (appended to), capped at capture_max bytes each
	 * (0 = 16 MiB). */
	struct sshc_buf *capture_stdout;
	struct sshc_buf *capture_stderr;
	size_t capture_max;
	int timeout_s;                     /* whole command; 0 = none */
	volatile sig_atomic_t *cancel;     /* non-zero: signal TERM, close, fail */
	struct sshc_exec_info *info;       /* filled when not NULL */
};

/* Run command with the remote user's shell (like `ssh host command`).
 * Returns 0 when the command ran to its end, with *exit_status set to its
 * status (0..255), or 128 + N when a signal N killed it (info->signal names
 * it). Returns -1 with e filled when the connection failed, the command
 * could not be started, it timed out (ERR_SSH) or was cancelled
 * (ERR_INTERRUPTED); the remote command is then signalled and the channel
 * closed. o may be NULL (no stdin, output dropped). */
int sshc_exec(sshc_conn *c, const char *command, const struct sshc_exec_opts *o,
	      int *exit_status, struct err *e);

/* sshc_exec capturing stdout into out (may be NULL); a non-zero exit is an
 * error (ERR_SSH): "remote command failed on user@host:port: `cmd` exited
 * with status N: <last stderr line>". */
int sshc_run(sshc_conn *c, const char *command, struct sshc_buf *out, struct err *e);

struct sshc_upload_opts {
	const struct event_sink *events;   /* progress ("upload"), logs */
	const char *step;                  /* step id for progress; NULL = "upload" */
	volatile sig_atomic_t *cancel;
};

struct sshc_upload_result {
	uint64_t bytes;            /* size of the file */
	uint64_t resumed_from;     /* bytes already on the remote side and kept */
	uint64_t sent;             /* bytes sent this time */
	char sha256[65];           /* hex of the file, checked on both sides */
	double seconds;            /* wall time of the whole upload */
};

/* Copy local_path to remote_path, resumable and verified:
 *   the remote directory is created (mkdir -p, umask 077); bytes go to
 *   "<remote_path>.part"; when a .part exists, its prefix is hashed on the
 *   remote side and compared with the same prefix here — equal: continue
 *   after it, else start over; at the end the whole remote .part is hashed
 *   (openssl dgst, else sha256sum) and compared with the local SHA-256, and
 *   only then renamed to remote_path (mv -f). A final mismatch removes the
 *   .part (ERR_VERIFY).
 *   Data travels over the server's sftp subsystem (pipelined 128 KiB
 *   writes) while a remote script hashes what the server has confirmed
 *   written; without an sftp subsystem, over one exec channel (`cat >>
 *   .part`). Memory stays flat. The local SHA-256 is computed as the file
 *   is read for sending. r is filled also on failure (bytes sent so far).
 * remote_path: absolute, or relative to the remote user's home.
 * Test build (core/fault.h): FERRY_FAULT_KILL_AFTER_BYTES=N makes the
 * process SIGKILL itself once N bytes were sent (tests of the resume).
 * Returns 0 (r filled when not NULL) or -1 with e filled. */
int sshc_upload(sshc_conn *c, const char *local_path, const char *remote_path,
		const struct sshc_upload_opts *o, struct sshc_upload_result *r,
		struct err *e);

/* ---- SFTP: files on the remote side ------------------------------------------ */

/* An SFTP session (the server's sftp subsystem, on its own channel of a
 * connection): stat, list, remove and download. Uploads do not need one
 * (sshc_upload opens its own). Errors are ERR_SSH naming the path and
 * user@host:port, ERR_INTERRUPTED when the cancel flag stopped it. */
typedef struct sshc_sftp sshc_sftp;

/* What the server says of a file (SFTP attributes). */
struct sshc_attrs {
	uint64_t size;
	int64_t mtime;             /* seconds since the epoch; 0 = not sent */
	unsigned mode;             /* type and permission bits; 0 = not sent */
	bool is_dir;
	bool is_reg;
};

/* Start a session on c, which must outlive it. NULL with e filled (ERR_SSH)
 * when it cannot start, also when the server has no sftp subsystem. */
sshc_sftp *sshc_sftp_new(sshc_conn *c, struct err *e);
/* End the session (its channel closes); NULL-safe. */
void sshc_sftp_free(sshc_sftp *s);

/* stat path (links followed): 0 with *a filled, 1 when it does not exist,
 * -1 with e filled. */
int sshc_sftp_stat(sshc_sftp *s, const char *path, struct sshc_attrs *a, struct err *e);

/* A directory listing; names and array are the caller's, freed with
 * sshc_dir_done. */
struct sshc_dirent {
	char *name;                /* the entry's name, no directory */
	struct sshc_attrs a;
};
struct sshc_dir {
	struct sshc_dirent *v;
	size_t n;
};
void sshc_dir_done(struct sshc_dir *d);

/* The entries of dir except "." and "..", sorted by name: 0, 1 when dir
 * does not exist (d left empty), -1 with e filled. */
int sshc_sftp_list(sshc_sftp *s, const char *dir, struct sshc_dir *d, struct err *e);

/* Remove the file path: 0, 1 when it did not exist, -1 with e filled. */
int sshc_sftp_remove(sshc_sftp *s, const char *path, struct err *e);

struct sshc_download_opts {
	const struct event_sink *events;   /* progress (bytes of the file) */
	const char *step;                  /* step id for progress; NULL = "download" */
	volatile sig_atomic_t *cancel;
};

struct sshc_download_result {
	uint64_t bytes;            /* written to fd */
	char sha256[65];           /* hex of what was written */
	double seconds;
};

/* Copy the remote file path into fd from offset 0 (pwrite; fd is neither
 * truncated, synced nor closed), with pipelined reads, hashing what arrives
 * (SHA-256 into r->sha256). A file that shrinks while it is read is an
 * error. Returns 0 (r filled when not NULL) or -1 with e filled; 1 when
 * path does not exist. */
int sshc_sftp_download(sshc_sftp *s, const char *path, int fd, const struct sshc_download_opts *o,
		       struct sshc_download_result *r, struct err *e);

/* ---- pure helpers (exported for the unit tests and callers) ---------------- */

/* s single-quoted for a POSIX shell: abc -> 'abc', it's -> 'it'\''s'. */
char *sshc_quote(const char *s);

/* The known_hosts name of host:port: "host" for port 22, else "[host]:port". */
char *sshc_known_hosts_name(const char *host, int port);

/* Look host:port up in a known_hosts file for the key given as its type
 * name and base64 blob (as in a .pub file). Plain, pattern (*, ?, !) and
 * hashed (|1|salt|hash) host fields are understood; @cert-authority lines
 * are skipped, @revoked lines refuse the key they name. Fills out->status
 * (KNOWN, UNKNOWN, CHANGED, OTHER or REVOKED), out->line (the matching line
 * for KNOWN, the conflicting one otherwise), type, fingerprint, host, port
 * and known_hosts. A missing file is UNKNOWN. Returns 0, or -1 (ERR_SSH)
 * when the file cannot be read or the key is malformed. */
int sshc_known_hosts_check(const char *file, const char *host, int port,
			   const char *key_type, const char *key_b64,
			   struct sshc_hostkey *out, struct err *e);

/* Append "name type base64" for host:port to file (creating it 0600 and its
 * directory 0700 when missing). Returns 0 or -1 (ERR_SSH). */
int sshc_known_hosts_add(const char *file, const char *host, int port,
			 const char *key_type, const char *key_b64, struct err *e);

/* The "SHA256:..." fingerprint of a base64 public key blob; caller frees;
 * NULL when the blob is not valid base64 / not a key. */
char *sshc_fingerprint(const char *key_type, const char *key_b64);

/* Signal number of an SSH signal name ("TERM" -> 15); 0 when unknown. */
int sshc_signal_number(const char *name);

/* remote_dir joined with the base name of local_path ("/srv/b" + "x/y.tar"
 * -> "/srv/b/y.tar"); caller frees. */
char *sshc_remote_join(const char *remote_dir, const char *local_path);

/* Parse the first whitespace-delimited word of s as 64 hex digits into
 * hex (lowercased). Returns 0, or -1 when it is not a SHA-256. */
int sshc_parse_sha256(const char *s, char hex[65]);

#endif
