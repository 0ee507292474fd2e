/* cmd_push — `ferry push BUNDLE --target NAME`: copy a bundle into the
 * target profile's backup directory over SSH, resumable and verified. */
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ssh.h"

static int run_push(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_push = {
	"push", "copy a bundle to the target profile's server (resumable, verified)",
	"usage: ferry push BUNDLE --target NAME [--profiles FILE] [--accept-new-host-key] [--json]\n"
	"\n"
	"Copies BUNDLE (any file) over SSH to the host of profile NAME's ssh\n"
	"section, into that profile's backup.dir, under the same file name.\n"
	"\n"
	"  backup.dir is used on the remote side as written in the profile once\n"
	"  made absolute; write it as an absolute path in a target profile: a\n"
	"  relative backup.dir is resolved against the LOCAL profiles file's\n"
	"  directory, which rarely exists on the other server.\n"
	"\n"
	"The copy goes to BUNDLE.part first (directory created, mode 0600). An\n"
	"interrupted push resumes: the bytes already there are hashed on both sides\n"
	"and, when they match, the copy continues after them (else it starts over).\n"
	"At the end the whole remote file is hashed (SHA-256) and compared with the\n"
	"local one; only then is the .part renamed to its final name.\n"
	"\n"
	"  --target NAME          the profile to copy to (required)\n"
	"  --accept-new-host-key  the host key is not in ssh.known_hosts yet: record\n"
	"                         it and go on (check the printed SHA256 fingerprint\n"
	"                         with the server's administrator first). A changed\n"
	"                         key is always refused.\n"
	"  --json                 progress as JSON lines, then the result:\n"
	"                         {\"status\":\"ok\",\"file\",\"host\",\"remote\",\"bytes\",\n"
	"                          \"resumed_from\",\"sent\",\"sha256\",\"seconds\",\"mb_per_s\"}\n"
	"                         (mb_per_s: bytes sent this time / seconds / 10^6)\n"
	"\n"
	"Exit status: 0 copied and verified; 2 bad command line or profile; 4 the copy\n"
	"did not verify (the partial file was removed); 5 connection, host key, login\n"
	"or remote command failed; 130 interrupted (run the same push to resume).\n",
	run_push};

enum { OPT_TARGET = OPT_COMMAND_BASE, OPT_ACCEPT_NEW_HOST_KEY };

struct push_opts {
	const char *target;
	bool accept_new_host_key;
};

static int parse_options(struct cli *c, struct push_opts *po, int argc, char **argv,
			 struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"target", required_argument, NULL, OPT_TARGET},
		{"accept-new-host-key", no_argument, NULL, OPT_ACCEPT_NEW_HOST_KEY},
		{0, 0, 0, 0}};
	const struct cli_command *cmd = &command_push;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == OPT_TARGET) {
			po->target = optarg;
			continue;
		}
		if (opt == OPT_ACCEPT_NEW_HOST_KEY) {
			po->accept_new_host_key = true;
			continue;
		}
		int r = cli_common_option(c, cmd, opt, optarg, e);
		if (r == 0)
			return cli_bad_option(cmd, argv, e);
		if (r == 2)
			return 1;
	}
	return 0;
}

static void print_result(const struct cli *c, const char *file, const char *host,
			 const char *remote, const struct sshc_upload_result *r)
{
	double mbps = r->seconds > 0 ? (double)r->sent / r->seconds / 1e6 : 0;
	if (!c->json) {
		printf("pushed %s to %s:%s (%llu bytes%s, sha256 %s, %.1f s, %.0f MB/s)\n", file,
		       host, remote, (unsigned long long)r->bytes,
		       r->resumed_from ? ", resumed" : "", r->sha256, r->seconds, mbps);
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:f, s:f}",
			      "status", "ok", "file", file, "host", host, "remote", remote,
			      "bytes", (json_int_t)r->bytes,
			      "resumed_from", (json_int_t)r->resumed_from,
			      "sent", (json_int_t)r->sent, "sha256", r->sha256,
			      "seconds", r->seconds, "mb_per_s", mbps);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(o);
}

static int push(struct cli *c, const char *bundle, const struct profile *p,
		const struct push_opts *po, struct err *e)
{
	const char *dir = p->backup.dir;
	if (!dir || dir[0] != '/') {
		err_set(e, ERR_PROFILE, "profile \"%s\": backup.dir must be an absolute path to be "
			"used on the remote side (it is \"%s\")", p->name, dir ? dir : "");
		return err_hint(e, "set backup.dir in the target profile, e.g. \"/var/backups/ferry\"");
	}
	char *abs = realpath(bundle, NULL);
	const char *shown = abs ? abs : bundle;
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	volatile sig_atomic_t *interrupted = cli_cancel_flag();

	int rc = -1;
	char *remote = sshc_remote_join(dir, bundle);
	event_step_start(&sink, "connect", "connect to the target");
	struct sshc_connect_opts co = {
		.accept_new_host_key = po->accept_new_host_key,
		.confirm_new_key = cli_ask_host_key,   /* on a terminal: asked */
		.confirm_ud = c,
		.events = &sink,
	};
	sshc_conn *conn = sshc_connect(p, &co, e);
	if (!conn) {
		event_step_fail(&sink, "connect", e->msg);
		goto out;
	}
	event_step_done(&sink, "connect", sshc_target(conn));
	char *title = xasprintf("copy %s to %s:%s", shown, sshc_host(conn), remote);
	event_step_start(&sink, "upload", title);
	free(title);
	struct sshc_upload_result res;
	struct sshc_upload_opts uo = {.events = &sink, .step = "upload", .cancel = interrupted};
	rc = sshc_upload(conn, bundle, remote, &uo, &res, e);
	if (rc != 0) {
		if (res.sent > 0 && (e->kind == ERR_INTERRUPTED || e->kind == ERR_SSH))
			err_hint(e, "run the same push again: it resumes after the bytes already copied");
		event_step_fail(&sink, "upload", e->msg);
	} else {
		char note[128];
		snprintf(note, sizeof note, "verified, %.0f MB/s", res.seconds > 0 ?
			 (double)res.sent / res.seconds / 1e6 : 0.0);
		event_step_done(&sink, "upload", note);
		print_result(c, shown, sshc_target(conn), remote, &res);
	}
	sshc_free(conn);
out:
	free(remote);
	cli_render_free(render);
	free(abs);
	return rc;
}

static int run_push(struct cli *c, int argc, char **argv, struct err *e)
{
	struct push_opts po = {0};
	int r = parse_options(c, &po, argc, argv, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (optind >= argc) {
		err_set(e, ERR_USAGE, "push: which file? no BUNDLE given");
		return err_hint(e, "ferry push BUNDLE --target NAME");
	}
	if (optind + 1 < argc) {
		err_set(e, ERR_USAGE, "push: unexpected argument \"%s\"", argv[optind + 1]);
		return err_hint(e, "one bundle per push: ferry push BUNDLE --target NAME");
	}
	if (!po.target) {
		err_set(e, ERR_USAGE, "push: no --target profile given");
		return err_hint(e, "ferry push BUNDLE --target NAME (`ferry profiles list` shows them)");
	}
	const char *bundle = argv[optind];
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	const struct profile *p = profile_file_get(pf, po.target, e);
	int rc = p ? push(c, bundle, p, &po, e) : -1;
	profile_file_free(pf);
	return rc;
}
