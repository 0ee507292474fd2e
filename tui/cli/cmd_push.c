/* cmd_push — `ferry push BUNDLE --target NAME`: copy a bundle into the
 * target profile's backup directory over SSH, resumable and verified. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "flow/push.h"

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
static void print_result(const struct cli *c, const struct push_result *r)
{
	if (!c->json) {
		printf("pushed %s to %s:%s (%llu bytes%s, sha256 %s, %.1f s, %.0f MB/s)\n", r->file,
		       r->host, r->remote, (unsigned long long)r->bytes,
		       r->resumed_from ? ", resumed" : "", r->sha256, r->seconds, r->mb_per_s);
		return;
	}
	cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:f, s:f}",
				 "status", "ok", "file", r->file, "host", r->host, "remote", r->remote,
				 "bytes", (json_int_t)r->bytes,
				 "resumed_from", (json_int_t)r->resumed_from,
				 "sent", (json_int_t)r->sent, "sha256", r->sha256,
				 "seconds", r->seconds, "mb_per_s", r->mb_per_s));
}

/* The push's options from the command line. */
static struct push_opts opts_of(const struct cmd_run *run)
{
	const struct push_args *pa = run->args;
	return (struct push_opts){
		.target = run->p, .bundle = run->argv[0],
		.accept_new_host_key = pa->accept_new_host_key,
		.confirm_host_key = cli_ask_host_key, .hostkey_ud = run->c,   /* on a terminal: asked */
		.events = run->events, .cancel = run->cancel,
	};
}

static int push_plan_hook(struct cmd_run *run, struct plan *plan, struct err *e)
{
	struct push_opts o = opts_of(run);
	return push_plan(&o, plan, e);
}

/* core/flow_push: connect, upload (resumable), verify. */
static int push_exec(struct cmd_run *run, struct err *e)
{
	struct push_opts o = opts_of(run);
	struct push_result r;
	int rc = push_run(&o, &r, e);
	if (rc == 0)
		print_result(run->c, &r);
	push_result_done(&r);
	return rc;
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
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_PROGRESS | CMD_CANCEL | CMD_REMOTE_PROFILE,
	.json_help = "progress as JSON lines, then the result:\n"
		     "{\"status\":\"ok\",\"file\",\"host\",\"remote\",\"bytes\",\n"
		     " \"resumed_from\",\"sent\",\"sha256\",\"seconds\",\"mb_per_s\"}\n"
		     "(mb_per_s: bytes sent this time / seconds / 10^6)",
	.args_size = sizeof(struct push_args),
	.plan = push_plan_hook,
	.exec = push_exec,
};
