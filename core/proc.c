/* proc — fork/exec with line-wise output capture, cancel and timeout. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define TAIL_MAX 2048
#define LINE_MAX_LEN 4096

struct stream {
	int fd;                  /* -1 when closed */
	bool is_stderr;
	char line[LINE_MAX_LEN];
	size_t len;
};

struct proc {
	pid_t pid;
	char *name;
	struct stream out, errs;
	char tail[TAIL_MAX];
	size_t tail_len;
	struct proc_opts opts;   /* a copy; env and paths are used only at spawn */
	void *owned;             /* freed with the proc */
};

/* Keep the newest TAIL_MAX bytes of stderr. */
static void tail_append(struct proc *p, const char *line)
{
	size_t n = strlen(line) + 1;
	if (n > TAIL_MAX - 1)
		return;
	if (p->tail_len + n > TAIL_MAX - 1) {
		size_t drop = p->tail_len + n - (TAIL_MAX - 1);
		const char *nl = memchr(p->tail + drop, '\n', p->tail_len - drop);
		drop = nl ? (size_t)(nl - p->tail) + 1 : p->tail_len;
		memmove(p->tail, p->tail + drop, p->tail_len - drop);
		p->tail_len -= drop;
	}
	memcpy(p->tail + p->tail_len, line, n - 1);
	p->tail_len += n - 1;
	p->tail[p->tail_len++] = '\n';
	p->tail[p->tail_len] = '\0';
}

static void deliver_line(struct proc *p, struct stream *s)
{
	s->line[s->len] = '\0';
	if (s->is_stderr)
		tail_append(p, s->line);
	if (p->opts.on_line)
		p->opts.on_line(p->opts.ud, s->line, s->is_stderr);
	s->len = 0;
}

/* Read what is available; returns false at EOF or error. */
static bool stream_read(struct proc *p, struct stream *s)
{
	char buf[4096];
	ssize_t n = read(s->fd, buf, sizeof buf);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		if (s->len)
			deliver_line(p, s);
		close(s->fd);
		s->fd = -1;
		return false;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || s->len == LINE_MAX_LEN - 1) {
			deliver_line(p, s);
			if (buf[i] == '\n')
				continue;
		}
		s->line[s->len++] = buf[i];
	}
	return true;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0600);
	if (fd < 0) {
		fprintf(stderr, "ferry: cannot open %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	return fd;
}

static void child_setup_stdio(const struct proc_opts *o, int out_w, int err_w)
{
	int in = open_or_die(o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY);
	dup2(in, STDIN_FILENO);
	close(in);
	if (o->stdout_path) {
		int fd = open_or_die(o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	} else if (o->stdout_null) {
		int fd = open_or_die("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	} else if (out_w >= 0) {
		dup2(out_w, STDOUT_FILENO);
	} else {
		/* Keep our stdout clean (it may carry JSON): send the child's to stderr. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	dup2(err_w, STDERR_FILENO);
}

static void child_exec(const char *const argv[], const struct proc_opts *o,
		       int out_w, int err_w)
{
	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	child_setup_stdio(o, out_w, err_w);
	if (o->cwd && chdir(o->cwd) < 0) {
		fprintf(stderr, "cannot change to directory %s: %s\n", o->cwd, strerror(errno));
		_exit(127);
	}
	for (const char *const *kv = o->env; kv && *kv; kv++)
		putenv((char *)*kv);
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

proc *proc_spawn(const char *const argv[], const struct proc_opts *opts, struct err *e)
{
	static const struct proc_opts defaults = {0};
	const struct proc_opts *o = opts ? opts : &defaults;
	int errp[2], outp[2] = {-1, -1};
	bool want_out = o->stdout_lines && !o->stdout_path && !o->stdout_null;
	if (pipe2(errp, O_CLOEXEC) < 0 || (want_out && pipe2(outp, O_CLOEXEC) < 0)) {
		err_set(e, ERR_FAILED, "cannot start %s: %s", argv[0], strerror(errno));
		return NULL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		err_set(e, ERR_FAILED, "cannot start %s: %s", argv[0], strerror(errno));
		close(errp[0]), close(errp[1]);
		if (want_out)
			close(outp[0]), close(outp[1]);
		return NULL;
	}
	if (pid == 0)
		child_exec(argv, o, outp[1], errp[1]);
	setpgid(pid, pid);
	close(errp[1]);
	if (want_out)
		close(outp[1]);
	proc *p = xcalloc(1, sizeof *p);
	p->pid = pid;
	p->name = xstrdup(argv[0]);
	p->opts = *o;
	p->errs = (struct stream){.fd = errp[0], .is_stderr = true};
	p->out = (struct stream){.fd = want_out ? outp[0] : -1};
	return p;
}

static void stop_child(proc *p)
{
	kill(-p->pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = -1;
			return;
		}
		usleep(100 * 1000);
	}
	kill(-p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = -1;
}

/* Poll the child's output for up to 100 ms. */
static void pump_output(proc *p)
{
	struct pollfd fds[2];
	struct stream *streams[2];
	nfds_t n = 0;
	if (p->errs.fd >= 0)
		streams[n] = &p->errs, fds[n++] = (struct pollfd){.fd = p->errs.fd, .events = POLLIN};
	if (p->out.fd >= 0)
		streams[n] = &p->out, fds[n++] = (struct pollfd){.fd = p->out.fd, .events = POLLIN};
	if (n == 0) {
		usleep(50 * 1000);
		return;
	}
	if (poll(fds, n, 100) <= 0)
		return;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].revents)
			stream_read(p, streams[i]);
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int proc_wait(proc *p, struct err *e)
{
	double deadline = p->opts.timeout_s > 0 ? util_now() + p->opts.timeout_s : 0;
	int status = 0;
	bool exited = false;
	while (!exited || p->errs.fd >= 0 || p->out.fd >= 0) {
		if (p->opts.cancel && *p->opts.cancel) {
			stop_child(p);
			return err_set(e, ERR_INTERRUPTED, "%s: interrupted", p->name);
		}
		if (deadline && util_now() > deadline) {
			stop_child(p);
			return err_set(e, ERR_FAILED, "%s: timed out after %d s", p->name,
				       p->opts.timeout_s);
		}
		pump_output(p);
		if (p->opts.on_tick)
			p->opts.on_tick(p->opts.ud);
		if (!exited && waitpid(p->pid, &status, WNOHANG) == p->pid) {
			exited = true;
			p->pid = -1;
		}
	}
	return exit_status(status);
}

const char *proc_stderr_tail(const proc *p)
{
	return p->tail;
}

pid_t proc_pid(const proc *p)
{
	return p->pid;
}

bool proc_ended(const proc *p)
{
	if (p->pid <= 0)
		return true;
	siginfo_t info = {0};
	return waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == p->pid;
}

void proc_free(proc *p)
{
	if (!p)
		return;
	if (p->pid > 0)
		stop_child(p);
	if (p->errs.fd >= 0)
		close(p->errs.fd);
	if (p->out.fd >= 0)
		close(p->out.fd);
	free(p->name);
	free(p->owned);
	free(p);
}

void *proc_owned(const proc *p)
{
	return p->owned;
}

void proc_set_owned(proc *p, void *block)
{
	free(p->owned);
	p->owned = block;
}

/* The last non-empty line of a tail, for a one-line message. */
static void last_line(const char *tail, char *out, size_t len)
{
	if (!tail)
		tail = "";
	size_t n = strlen(tail);
	while (n && tail[n - 1] == '\n')
		n--;
	size_t start = n;
	while (start && tail[start - 1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(n - start), tail + start);
}

void proc_last_line(const proc *p, char *out, size_t len)
{
	last_line(p->tail, out, len);
}

int proc_run(const char *const argv[], const struct proc_opts *opts, struct err *e)
{
	proc *p = proc_spawn(argv, opts, e);
	if (!p)
		return -1;
	int rc = proc_wait(p, e);
	if (rc > 0) {
		char line[512];
		last_line(proc_stderr_tail(p), line, sizeof line);
		err_set(e, ERR_FAILED, "%s exited with status %d%s%s", argv[0], rc,
			line[0] ? ": " : "", line);
	}
	proc_free(p);
	return rc == 0 ? 0 : -1;
}

int proc_run_shell(const char *command, const struct proc_opts *opts, struct err *e)
{
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	if (proc_run(argv, opts, e) == 0)
		return 0;
	if (e && e->kind == ERR_FAILED && str_starts(e->msg, "/bin/sh exited")) {
		char rest[ERR_MSG_MAX];
		snprintf(rest, sizeof rest, "%s", e->msg + strlen("/bin/sh "));
		err_set(e, ERR_FAILED, "command `%s` %s", command, rest);
	}
	return -1;
}

char *proc_which(const char *program)
{
	if (strchr(program, '/'))
		return access(program, X_OK) == 0 ? xstrdup(program) : NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	char *copy = xstrdup(path), *save = NULL;
	char *found = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", program);
		if (access(cand, X_OK) == 0)
			found = cand;
		else
			free(cand);
	}
	free(copy);
	return found;
}
