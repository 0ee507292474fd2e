/* cmd_remote — `ferry remote -- COMMAND`: run a shell command on the
 * profile's SSH host, ssh-like. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ssh.h"

static int run_remote(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_remote = {
	"remote", "run a shell command on the profile's SSH host",
	"usage: ferry remote [--profiles FILE] [--profile NAME] [--accept-new-host-key]\n"
	"                    [--timeout S] [-n] [--json] [--] COMMAND [ARG...]\n"
	"\n"
	"Runs COMMAND on the host of the profile's ssh section, with its settings\n"
	"(host, port, user, identity_file or ssh-agent, known_hosts, ~/.ssh/config\n"
	"unless use_ssh_config is false), as `ssh host COMMAND` would: the words are\n"
	"joined with spaces and run by the remote user's shell, so quote what the\n"
	"remote shell must see as one word. Our stdin goes to the command; its\n"
	"stdout and stderr come back as they are written. ferry exits with the\n"
	"command's exit status (128+N when signal N killed it).\n"
	"\n"
	"  --accept-new-host-key  the host key is not in ssh.known_hosts yet: record\n"
	"                         it and go on (check the printed SHA256 fingerprint\n"
	"                         with the server's administrator first). A changed\n"
	"                         key is always refused.\n"
	"  --timeout S            stop the command after S seconds (exit 5)\n"
	"  -n, --no-stdin         do not send our stdin (the command reads EOF)\n"
	"  --json                 collect the output and print one JSON object:\n"
	"                         {\"status\",\"host\",\"exit_status\",\"signal\",\n"
	"                          \"stdout\",\"stderr\"} (output capped at 16 MiB each)\n"
	"\n"
	"Exit status: the command's, or 5 when the connection, the host key check or\n"
	"the login fails, 2 for a bad command line or profile, 130 when interrupted.\n"
	"\n"
	"Example: ferry remote --profile production -- 'df -h /var/backups'\n",
	run_remote};

enum { OPT_ACCEPT_NEW_HOST_KEY = OPT_COMMAND_BASE, OPT_TIMEOUT, OPT_NO_STDIN };

struct remote_opts {
	bool accept_new_host_key;
	bool no_stdin;
	int timeout_s;
};

static int parse_timeout(const char *arg, int *out, struct err *e)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || !end || *end || v < 0 || v > 86400 * 30) {
		err_set(e, ERR_USAGE, "remote: --timeout wants whole seconds, not \"%s\"", arg);
		return err_hint(e, "e.g. --timeout 300; 0 = no limit");
	}
	*out = (int)v;
	return 0;
}

static int parse_options(struct cli *c, struct remote_opts *ro, int argc, char **argv,
			 struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"accept-new-host-key", no_argument, NULL, OPT_ACCEPT_NEW_HOST_KEY},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"no-stdin", no_argument, NULL, OPT_NO_STDIN},
		{0, 0, 0, 0}};
	const struct cli_command *cmd = &command_remote;
	optind = 1;
	opterr = 0;
	int opt;
	/* "+": the first word of COMMAND ends the options (its own options
	 * like `ls -l` are not ours). */
	while ((opt = getopt_long(argc, argv, "+n", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_ACCEPT_NEW_HOST_KEY: ro->accept_new_host_key = true; continue;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &ro->timeout_s, e) != 0)
				return -1;
			continue;
		case 'n':
		case OPT_NO_STDIN: ro->no_stdin = true; continue;
		default: break;
		}
		int r = cli_common_option(c, cmd, opt, optarg, e);
		if (r == 0)
			return cli_bad_option(cmd, argv, e);
		if (r == 2)
			return 1;
	}
	return 0;
}

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

static void to_stdout(void *ud, const char *data, size_t len)
{
	(void)ud;
	write_all(STDOUT_FILENO, data, len);
}

static void to_stderr(void *ud, const char *data, size_t len)
{
	(void)ud;
	write_all(STDERR_FILENO, data, len);
}

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
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(o);
}

static int run_remote(struct cli *c, int argc, char **argv, struct err *e)
{
	struct remote_opts ro = {0};
	int r = parse_options(c, &ro, argc, argv, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (optind >= argc) {
		err_set(e, ERR_USAGE, "remote: no command given");
		return err_hint(e, "ferry remote [--profile NAME] -- COMMAND ...");
	}
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	const struct profile *p = cli_pick_profile(c, pf, e);
	if (!p) {
		profile_file_free(pf);
		return -1;
	}
	volatile sig_atomic_t *interrupted = cli_cancel_flag();
	struct sshc_connect_opts co = {.accept_new_host_key = ro.accept_new_host_key,
				       .confirm_new_key = cli_ask_host_key, .confirm_ud = c};
	sshc_conn *conn = sshc_connect(p, &co, e);
	if (!conn) {
		profile_file_free(pf);
		return -1;
	}
	char *command = join_words(argc - optind, argv + optind);
	struct sshc_buf out = {0}, errbuf = {0};
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts eo = {
		.stdin_from_fd = !ro.no_stdin,
		.stdin_fd = STDIN_FILENO,
		.timeout_s = ro.timeout_s,
		.cancel = interrupted,
		.info = &info,
	};
	if (c->json) {
		eo.capture_stdout = &out;
		eo.capture_stderr = &errbuf;
	} else {
		eo.on_stdout = to_stdout;
		eo.on_stderr = to_stderr;
	}
	int status = -1;
	int rc = sshc_exec(conn, command, &eo, &status, e);
	if (rc == 0) {
		if (c->json)
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
	profile_file_free(pf);
	return rc;
}
