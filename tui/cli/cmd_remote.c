/* cmd_remote — `ferry remote -- COMMAND`: run a shell command on the
 * profile's SSH host, ssh-like. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "ssh/ssh.h"

struct remote_args {
	bool accept_new_host_key;
	bool no_stdin;
	int timeout_s;
};

static const struct cmd_option options[] = {
	CMD_USE(cmd_opt_accept_new_host_key, struct remote_args, accept_new_host_key),
	{.name = "timeout", .kind = CMD_INT, .min = 0, .max = 86400 * 30, .metavar = "S",
	 .field = offsetof(struct remote_args, timeout_s),
	 .help = "stop the command after S seconds (then exit 5), 0 = no limit"},
	{.name = "no-stdin", .short_name = 'n', .kind = CMD_FLAG, .field = offsetof(struct remote_args, no_stdin),
	 .help = "do not send our stdin (the command reads EOF)"},
	{0},
};

static const struct cmd_arg args[] = {
	{.name = "COMMAND", .what = "command"},
	{.name = "ARG"},
	{0},
};

/* The command words joined with spaces, as ssh does. */
static char *join_words(int argc, char **argv)
{
	size_t n = 1;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = xmalloc(n);
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Write everything, dropping it when our side went away. */
static void write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;   /* our side went away (closed pipe): drop */
		data += n;
		len -= (size_t)n;
	}
}

/* The remote command's stdout, as it comes. */
static void to_stdout(void *ud, const char *data, size_t len)
{
	(void)ud;
	write_all(STDOUT_FILENO, data, len);
}

/* The remote command's stderr, as it comes. */
static void to_stderr(void *ud, const char *data, size_t len)
{
	(void)ud;
	write_all(STDERR_FILENO, data, len);
}

/* --json: the collected output and the exit status. */
static void print_json(const char *target, int status, const struct sshc_exec_info *info,
		       const struct sshc_buf *out, const struct sshc_buf *err)
{
	json_t *o = json_pack("{s:s, s:s, s:i}", "status", "ok", "host", target,
			      "exit_status", status);
	json_object_set_new(o, "signal", info->signal[0] ? json_string(info->signal) : json_null());
	json_object_set_new(o, "stdout", json_stringn(out->data ? out->data : "", out->len));
	json_object_set_new(o, "stderr", json_stringn(err->data ? err->data : "", err->len));
	if (out->truncated || err->truncated)
		json_object_set_new(o, "truncated", json_true());
	cli_print_json(o);
}

/* Connect, run the command, pass its output on; its exit status. */
static int remote_exec(struct cmd_run *r, struct err *e)
{
	const struct remote_args *ro = r->args;
	struct sshc_connect_opts co = {.accept_new_host_key = ro->accept_new_host_key,
				       .confirm_new_key = cli_ask_host_key, .confirm_ud = r->c};
	sshc_conn *conn = sshc_connect(r->p, &co, e);
	if (!conn)
		return -1;
	char *command = join_words(r->argc, r->argv);
	struct sshc_buf out = {0}, errbuf = {0};
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts eo = {
		.stdin_from_fd = !ro->no_stdin,
		.stdin_fd = STDIN_FILENO,
		.timeout_s = ro->timeout_s,
		.cancel = r->cancel,
		.info = &info,
	};
	if (r->c->json) {
		eo.capture_stdout = &out;
		eo.capture_stderr = &errbuf;
	} else {
		eo.on_stdout = to_stdout;
		eo.on_stderr = to_stderr;
	}
	int status = -1;
	int rc = sshc_exec(conn, command, &eo, &status, e);
	if (rc == 0) {
		if (r->c->json)
			print_json(sshc_target(conn), status, &info, &out, &errbuf);
		else if (info.signal[0])
			fprintf(stderr, "ferry: the remote command was killed by signal %s%s\n",
				info.signal, info.core_dumped ? " (core dumped)" : "");
		rc = status;
	}
	sshc_buf_done(&out);
	sshc_buf_done(&errbuf);
	free(command);
	sshc_free(conn);
	return rc;
}

const struct cmd_entry cmd_remote_entry = {
	.name = "remote",
	.summary = "run a shell command on the profile's SSH host",
	.description =
		"Runs COMMAND on the host of the profile's ssh section, with its settings\n"
		"(host, port, user, identity_file or ssh-agent, known_hosts, ~/.ssh/config\n"
		"unless use_ssh_config is false), as `ssh host COMMAND` would: the words are\n"
		"joined with spaces and run by the remote user's shell, so quote what the\n"
		"remote shell must see as one word. Our stdin goes to the command; its\n"
		"stdout and stderr come back as they are written. ferry exits with the\n"
		"command's exit status (128+N when signal N killed it). The first word of\n"
		"COMMAND ends ferry's options.\n",
	.footer =
		"Exit status: the command's, or 5 when the connection, the host key check or\n"
		"the login fails, 2 for a bad command line or profile, 130 when interrupted.\n"
		"\n"
		"Example: ferry remote --profile production -- 'df -h /var/backups'\n",
	.options = options,
	.args = args,
	.args_min = 1,
	.args_max = -1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_CANCEL | CMD_WORDS_END,
	.json_help = "collect the output and print one JSON object:\n"
		     "{\"status\",\"host\",\"exit_status\",\"signal\",\"stdout\",\"stderr\"}\n"
		     "(output capped at 16 MiB each)",
	.args_size = sizeof(struct remote_args),
	.exec = remote_exec,
};
