/* ssh_int — what the files of core/ssh/ share, and no one else sees: the
 * connection, the exec machinery the upload drives, the SFTP client's
 * session and requests, the upload's state. The only header outside
 * libssh itself that includes libssh.
 *
 *   conn.c          connect, ssh_config, host key check, authentication
 *   known_hosts.c   known_hosts lookup and recording, fingerprints
 *   exec.c          remote commands: channels, stdin/stdout pumping
 *   upload.c        the resumable, verified upload (scripts, exec path)
 *   upload_sftp.c   the upload's data over SFTP
 *   sftp.c          a minimal pipelined SFTP v3 client
 *
 * Internal names carry the module's prefix too (sshc_), as they are
 * visible to the linker. */
#ifndef FERRY_SSH_INT_H
#define FERRY_SSH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "ssh/ssh.h"
#include "hash.h"

#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_IO_TIMEOUT_S 120
#define DEFAULT_KEEPALIVE_S 30
#define DEFAULT_CAPTURE_MAX (16u * 1024 * 1024)
#define READ_CHUNK (64 * 1024)          /* one read of remote output */
#define STDIN_CHUNK (64 * 1024)         /* one read of a stdin fd */
#define UPLOAD_CHUNK (1024 * 1024)      /* one write of upload data */
#define POLL_MS 100                     /* cancel / timeout granularity */

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

/* ---- known_hosts.c ---------------------------------------------------------- */

/* Reset out to UNKNOWN for host:port with the key's type and fingerprint. */
void sshc_hostkey_fill(struct sshc_hostkey *out, const char *file, const char *host, int port,
		       const char *type, const char *fingerprint);
/* Scan file for entries naming host:port and compare them with key: sets
 * out->status and out->line. A missing file leaves it UNKNOWN. 0 or -1. */
int sshc_known_hosts_scan(const char *file, const char *host, int port, ssh_key key,
			  struct sshc_hostkey *out, struct err *e);

/* ---- exec.c ----------------------------------------------------------------- */

/* The last non-empty line of text, into out. */
void sshc_last_line(const char *text, char *out, size_t len);

/* Fills buf with up to max bytes of stdin; 0 = end, -1 = error (e filled),
 * PRODUCE_LATER = nothing yet (asked again once the command wrote output). */
typedef ssize_t (*sshc_producer_fn)(void *ud, char *buf, size_t max, struct err *e);
#define PRODUCE_LATER (-2)

struct sshc_exec_state {
	sshc_conn *c;
	const struct sshc_exec_opts *o;
	struct sshc_exec_info *info;
	bool got_status;
	int status;
	char signal[32];
	bool core;
	size_t capture_max;
};

/* Where stdin comes from during one exec. */
struct sshc_exec_input {
	sshc_producer_fn produce;   /* or: */
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

/* A command started on its own channel; pumped later (sshc_exec_pump), so
 * two commands can start at once. Lives where the channel callbacks can
 * reach it until sshc_exec_close. */
struct sshc_chan_run {
	sshc_conn *c;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	struct sshc_exec_state st;
	struct sshc_exec_info info_local;
};

/* Open a channel and start command on it. */
int sshc_exec_start(sshc_conn *c, const char *command, struct sshc_chan_run *r, struct err *e);
/* Close and free the channel of r (NULL channel: nothing). */
void sshc_exec_close(struct sshc_chan_run *r);
/* Feed stdin, deliver output and wait for the exit of a started command,
 * or (until != NULL) only until until(ud) says so. Returns 1 when until
 * stopped it, 0 when the command exited (*exit_status), -1 on errors. */
int sshc_exec_pump_until(struct sshc_chan_run *r, const struct sshc_exec_opts *o,
			 struct sshc_exec_input *in, bool (*until)(void *ud), void *until_ud,
			 int *exit_status, struct err *e);
/* sshc_exec_pump_until without a stop condition. */
int sshc_exec_pump(struct sshc_chan_run *r, const struct sshc_exec_opts *o,
		   struct sshc_exec_input *in, int *exit_status, struct err *e);

/* ---- sftp.c: a minimal pipelined SFTP client (version 3) --------------------- */

#define SFTP_MAX_OUTSTANDING 64    /* unanswered requests */

enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5, FXP_WRITE = 6,
	FXP_OPENDIR = 11, FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_STAT = 17,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104, FXP_ATTRS = 105,
};
enum { FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3 };
enum { FXF_READ = 0x01, FXF_WRITE = 0x02, FXF_CREAT = 0x08, FXF_TRUNC = 0x10 };
enum { ATTR_SIZE = 0x1, ATTR_UIDGID = 0x2, ATTR_PERMS = 0x4, ATTR_TIME = 0x8,
       ATTR_EXTENDED = 0x80000000u };

/* One request in flight: its id, what it covers, whether it was answered. */
struct sshc_fx_out {
	uint32_t id;
	uint64_t off;
	uint64_t end;
	bool done;
};

struct sshc_sftp {
	sshc_conn *c;
	ssh_channel ch;
	volatile sig_atomic_t *cancel;   /* of the operation running now */
	const char *doing;         /* "upload to", "download from": for messages */
	uint32_t next_id;
	unsigned char *in;         /* bytes received, not yet parsed */
	size_t in_len, in_cap;
	unsigned char *pkt;        /* the last packet taken from in */
	size_t pkt_len;
	char handle[256];          /* of the open file or directory */
	size_t handle_len;
	char *batch;               /* write requests, built in place */
	/* unanswered requests, in the order sent */
	struct sshc_fx_out out[SFTP_MAX_OUTSTANDING];
	size_t out_head, out_n;
	uint64_t confirmed;        /* every byte below this is written */
	int status_code;           /* of the last failing STATUS */
	char status_msg[128];
};

uint32_t sshc_get_u32(const unsigned char *p);
void sshc_put_u32(unsigned char *p, uint32_t v);

/* Open the sftp subsystem on a new channel of c; 1 when the server has
 * none, -1 on errors. sshc_sftp_end frees what it holds either way. */
int sshc_sftp_begin(struct sshc_sftp *sf, sshc_conn *c, struct err *e);
void sshc_sftp_end(struct sshc_sftp *sf);
/* Wait for the next packet into sf->pkt (cancel / stall aware). */
int sshc_sftp_next(struct sshc_sftp *sf, struct err *e);
/* Read what the channel has into the input (waiting up to wait_ms when
 * nothing), then take one packet: 1 = got one, 0 = none yet, -1. */
int sshc_sftp_poll(struct sshc_sftp *sf, int wait_ms, struct err *e);
/* Code of the STATUS reply in sf->pkt (its message kept for status_text). */
int sshc_sftp_status_of(struct sshc_sftp *sf);
/* The server's text for a failing status, else a generic one. */
const char *sshc_sftp_status_text(const struct sshc_sftp *sf, int code);
/* stat path: 0 with *a, 1 when it does not exist, -1 on errors. */
int sshc_sftp_stat_path(struct sshc_sftp *sf, const char *path, struct sshc_attrs *a,
			struct err *e);
/* mkdir -p dir (0700 for new directories). */
int sshc_sftp_mkdirs(struct sshc_sftp *sf, const char *dir, struct err *e);
/* Open path for writing (created 0600, truncated when asked) or reading;
 * the handle goes to sf->handle. */
int sshc_sftp_open_file(struct sshc_sftp *sf, const char *path, uint32_t flags, struct err *e);
/* Open the directory path for reading (handle in sf->handle); 1 when it
 * does not exist. */
int sshc_sftp_open_dir(struct sshc_sftp *sf, const char *path, struct err *e);
/* Ask for the next names of the open directory; the reply is in sf->pkt
 * (NAME, or STATUS EOF at the end). */
int sshc_sftp_read_dir(struct sshc_sftp *sf, struct err *e);
/* Remove path: 0, 1 when it did not exist, -1 on errors. */
int sshc_sftp_remove_path(struct sshc_sftp *sf, const char *path, struct err *e);
/* Send a read of n bytes at off on the open handle as request id (the
 * reply is taken later: pipelined). */
int sshc_sftp_send_read(struct sshc_sftp *sf, uint32_t id, uint64_t off, uint32_t n,
			struct err *e);
/* Close sf->handle; errors name path. */
int sshc_sftp_close_handle(struct sshc_sftp *sf, const char *path, struct err *e);
/* Parse the ATTRS at sf->pkt + *pos (advanced past them); -1 when short. */
int sshc_sftp_parse_attrs(const struct sshc_sftp *sf, size_t *pos, struct sshc_attrs *a);
/* The write request header's size on the open handle (data follows it). */
size_t sshc_sftp_write_hdr(const struct sshc_sftp *sf);
/* Fill the header of a write of n bytes at off into p (data at p + hdr)
 * and queue it as the nth new request (sent with the batch). */
void sshc_sftp_queue_write(struct sshc_sftp *sf, unsigned char *p, uint64_t off, size_t n,
			   size_t nth);
/* Handle the write replies that are there; wait for one when block. */
int sshc_sftp_collect(struct sshc_sftp *sf, bool block, const char *path, struct err *e);

/* ---- upload.c / upload_sftp.c ------------------------------------------------ */

#define MIB (1024u * 1024u)

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

struct sshc_upload {
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
int sshc_upload_read_at(struct sshc_upload *u, char *buf, size_t len, uint64_t off,
			struct err *e);
/* Data just read at off for sending: feed what the local hash lacks. */
void sshc_upload_hash_sent(struct sshc_upload *u, const char *buf, size_t n, uint64_t off);
/* What to do with n bytes of an earlier upload already there. */
void sshc_upload_decide_resume(struct sshc_upload *u, uint64_t n);
bool sshc_upload_resume_candidate(const struct sshc_upload *u);
/* Resume check through VERIFY: is PART's prefix ours? */
int sshc_upload_check_prefix(struct sshc_upload *u, struct sshc_chan_run *verify,
			     const char *part, struct err *e);
/* Write a line to a script's stdin. */
int sshc_upload_say(struct sshc_upload *u, struct sshc_chan_run *r, const char *line,
		    struct err *e);
/* The directory part of a remote path ("." / "/" at the top); caller frees. */
char *sshc_remote_dirname(const char *path);
/* The data over SFTP. Returns 1 when there is no sftp subsystem. */
int sshc_upload_sftp(struct sshc_upload *u, struct sshc_chan_run *verify, const char *dir,
		     const char *part, struct err *e);

#endif
