/* cmd_push — `ferry push BUNDLE --target NAME`: copy a bundle into the
 * target profile's backup directory over SSH, resumable and verified. */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ssh/ssh.h"

struct push_args {
	bool accept_new_host_key;
};

static const struct cmd_option options[] = {
	CMD_USE_CLI(cmd_opt_target),
	CMD_USE(cmd_opt_accept_new_host_key, struct push_args, accept_new_host_key),
	{0},
};

static const struct cmd_arg args[] = {
	{.name = "BUNDLE", .value = CMD_V_BUNDLE},
	{0},
};

/* What was copied, as text or JSON. */
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
	cli_print_json(o);
}

/* Connect, upload (resumable), verify; the steps as events. */
static int push(struct cmd_run *run, const char *bundle, struct err *e)
{
	const struct profile *p = run->p;
	const struct push_args *po = run->args;
	const struct event_sink *sink = run->events;
	const char *dir = p->backup.dir;
	if (!dir || dir[0] != '/') {
		err_set(e, ERR_PROFILE, "profile \"%s\": backup.dir must be an absolute path to be "
			"used on the remote side (it is \"%s\")", p->name, dir ? dir : "");
		return err_hint(e, "set backup.dir in the target profile, e.g. \"/var/backups/ferry\"");
	}
	char *abs = realpath(bundle, NULL);
	const char *shown = abs ? abs : bundle;

	int rc = -1;
	char *remote = sshc_remote_join(dir, bundle);
	event_step_start(sink, "connect", "connect to the target");
	struct sshc_connect_opts co = {
		.accept_new_host_key = po->accept_new_host_key,
		.confirm_new_key = cli_ask_host_key,   /* on a terminal: asked */
		.confirm_ud = run->c,
		.events = sink,
	};
	sshc_conn *conn = sshc_connect(p, &co, e);
	if (!conn) {
		event_step_fail(sink, "connect", e->msg);
		goto out;
	}
	event_step_done(sink, "connect", sshc_target(conn));
	char *title = xasprintf("copy %s to %s:%s", shown, sshc_host(conn), remote);
	event_step_start(sink, "upload", title);
	free(title);
	struct sshc_upload_result res;
	struct sshc_upload_opts uo = {.events = sink, .step = "upload", .cancel = run->cancel};
	rc = sshc_upload(conn, bundle, remote, &uo, &res, e);
	if (rc != 0) {
		if (res.sent > 0 && (e->kind == ERR_INTERRUPTED || e->kind == ERR_SSH))
			err_hint(e, "run the same push again: it resumes after the bytes already copied");
		event_step_fail(sink, "upload", e->msg);
	} else {
		char note[128];
		snprintf(note, sizeof note, "verified, %.0f MB/s", res.seconds > 0 ?
			 (double)res.sent / res.seconds / 1e6 : 0.0);
		event_step_done(sink, "upload", note);
		print_result(run->c, shown, sshc_target(conn), remote, &res);
	}
	sshc_free(conn);
out:
	free(remote);
	free(abs);
	return rc;
}

/* Copy the one BUNDLE. */
static int push_exec(struct cmd_run *r, struct err *e)
{
	return push(r, r->argv[0], e);
}

const struct cmd_entry cmd_push_entry = {
	.name = "push",
	.summary = "copy a bundle to the target profile's server (resumable, verified)",
	.description =
		"Copies BUNDLE (any file) over SSH to the host of profile NAME's ssh\n"
		"section, into that profile's backup.dir, under the same file name.\n"
		"\n"
		"backup.dir is used on the remote side as written in the profile once made\n"
		"absolute; write it as an absolute path in a target profile: a relative\n"
		"backup.dir is resolved against the LOCAL profiles file's directory, which\n"
		"rarely exists on the other server.\n"
		"\n"
		"The copy goes to BUNDLE.part first (directory created, mode 0600). An\n"
		"interrupted push resumes: the bytes already there are hashed on both sides\n"
		"and, when they match, the copy continues after them (else it starts over).\n"
		"At the end the whole remote file is hashed (SHA-256) and compared with the\n"
		"local one; only then is the .part renamed to its final name.\n",
	.footer =
		"Exit status: 0 copied and verified; 2 bad command line or profile; 4 the copy\n"
		"did not verify (the partial file was removed); 5 connection, host key, login\n"
		"or remote command failed; 130 interrupted (run the same push to resume).\n",
	.options = options,
	.args = args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_TARGET,
	.flags = CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "progress as JSON lines, then the result:\n"
		     "{\"status\":\"ok\",\"file\",\"host\",\"remote\",\"bytes\",\n"
		     " \"resumed_from\",\"sent\",\"sha256\",\"seconds\",\"mb_per_s\"}\n"
		     "(mb_per_s: bytes sent this time / seconds / 10^6)",
	.args_size = sizeof(struct push_args),
	.exec = push_exec,
};
