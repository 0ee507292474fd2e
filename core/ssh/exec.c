/* exec — remote commands: one channel each, stdin from a buffer, a
 * descriptor or a producer, output as it arrives, exit status or signal,
 * cancel and timeout; the byte/line helpers they use. */
#include "ssh_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/server.h>   /* ssh_send_keepalive */

#include "util.h"

/* s single-quoted for a POSIX shell; caller frees. */
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

/* The number of an SSH signal name, 0 when unknown. */
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

/* Free a buffer's data and reset it. */
void sshc_buf_done(struct sshc_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* Append to b, keeping at most max bytes (the rest marks it truncated). */
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
void sshc_last_line(const char *text, char *out, size_t len)
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

/* Split a chunk of a byte stream into lines for l->on_line. */
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

/* Hand over an unterminated last line. */
void sshc_lines_flush(struct sshc_lines *l)
{
	if (l->len == 0)
		return;
	l->buf[l->len] = '\0';
	if (l->on_line)
		l->on_line(l->ud, l->buf);
	l->len = 0;
}

/* ---- exec ------------------------------------------------------------------- */

/* Channel callback: the command's exit status. */
static void on_exit_status(ssh_session session, ssh_channel channel, int status, void *ud)
{
	(void)session, (void)channel;
	struct sshc_exec_state *st = ud;
	st->got_status = true;
	st->status = status;
}

/* Channel callback: the signal that killed the command. */
static void on_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
			   int core, const char *errmsg, const char *lang, void *ud)
{
	(void)session, (void)channel, (void)errmsg, (void)lang;
	struct sshc_exec_state *st = ud;
	snprintf(st->signal, sizeof st->signal, "%s", signal ? signal : "?");
	st->core = core != 0;
}

/* Output of the command to the callbacks, captures and stderr tail. */
static void deliver(struct sshc_exec_state *st, const char *data, size_t n, bool is_stderr)
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

/* Read more stdin into the pending chunk when it is empty. Returns 1 when
 * there is something to send, 0 when not now, -1 on a producer error. */
static int input_fill(struct sshc_exec_input *in, bool fd_readable, struct err *e)
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

/* Whether every byte of stdin was handed over. */
static bool input_exhausted(const struct sshc_exec_input *in)
{
	return in->pend_len == 0 && !in->produce && in->fd < 0 && in->len == 0;
}

/* Send what the window allows. Returns 0, or -1 on errors (e filled). */
static int input_send(struct sshc_exec_state *st, ssh_channel ch, struct sshc_exec_input *in,
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

/* Signal the remote command and close its channel. */
static void stop_remote(ssh_channel ch)
{
	ssh_channel_request_send_signal(ch, "TERM");
	ssh_channel_close(ch);
}

/* Read what is there from stdout and stderr. Returns bytes read, or -1. */
static ssize_t drain(struct sshc_exec_state *st, ssh_channel ch, char *buf)
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
	struct sshc_exec_state *st;
	ssh_channel ch;
	struct sshc_exec_input *in;
	ssh_event ev;
	char *buf;
	int ev_fd;                 /* stdin fd registered with ev, -1 = none */
	bool fd_readable;
	bool (*until)(void *ud);   /* stop pumping once this says so */
	void *until_ud;
	bool stopped;              /* ...and it did */
};

/* Event callback: the stdin descriptor is readable (or closed). */
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

/* Whether the command is over: channel closed, or EOF and an exit. */
static bool pump_finished(const struct pump *pu)
{
	return ssh_channel_is_closed(pu->ch) ||
	       (ssh_channel_is_eof(pu->ch) && (pu->st->got_status || pu->st->signal[0]));
}

/* Move data both ways until the command has exited (or cancel / timeout). */
static int exec_loop(struct pump *pu, struct err *e)
{
	struct sshc_exec_state *st = pu->st;
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
			return err_hint(e, "check what it waits for there: the login shell's startup "
					"files (~/.bashrc) run before every command");
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
		struct sshc_exec_input *in = pu->in;
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

/* Open a channel and start command on it. */
int sshc_exec_start(sshc_conn *c, const char *command, struct sshc_chan_run *r, struct err *e)
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
void sshc_exec_close(struct sshc_chan_run *r)
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
int sshc_exec_pump_until(struct sshc_chan_run *r, const struct sshc_exec_opts *o,
			 struct sshc_exec_input *in, bool (*until)(void *ud), void *until_ud,
			 int *exit_status, struct err *e)
{
	sshc_conn *c = r->c;
	struct sshc_exec_state *st = &r->st;
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
int sshc_exec_pump(struct sshc_chan_run *r, const struct sshc_exec_opts *o,
		   struct sshc_exec_input *in, int *exit_status, struct err *e)
{
	return sshc_exec_pump_until(r, o, in, NULL, NULL, exit_status, e);
}

/* Start a command, pump it to its end, close its channel. */
static int exec_run(sshc_conn *c, const char *command, const struct sshc_exec_opts *o,
		    struct sshc_exec_input *in, int *exit_status, struct err *e)
{
	struct sshc_chan_run r;
	if (exit_status)
		*exit_status = -1;
	if (sshc_exec_start(c, command, &r, e) != 0)
		return -1;
	int rc = sshc_exec_pump(&r, o, in, exit_status, e);
	sshc_exec_close(&r);
	return rc;
}

/* Run command remotely (see ssh.h). */
int sshc_exec(sshc_conn *c, const char *command, const struct sshc_exec_opts *o,
	      int *exit_status, struct err *e)
{
	struct sshc_exec_input in = {.fd = -1};
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

/* The error for a command that exited non-zero or was killed. */
static int exec_failed(const sshc_conn *c, const char *command, int status,
		       const struct sshc_exec_info *info, struct err *e)
{
	char cmd[128], tail[512];
	short_command(command, cmd, sizeof cmd);
	sshc_last_line(info->stderr_tail, tail, sizeof tail);
	if (info->signal[0])
		err_set(e, ERR_SSH, "remote command failed on %s: `%s` was killed by signal %s%s%s",
			c->target, cmd, info->signal, tail[0] ? ": " : "", tail);
	else
		err_set(e, ERR_SSH, "remote command failed on %s: `%s` exited with status %d%s%s",
			c->target, cmd, status, tail[0] ? ": " : "", tail);
	return -1;
}

/* sshc_exec capturing stdout; a non-zero exit is an error. */
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
