/* cmd_verify — `ferry verify BUNDLE [--deep]`. */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "remote.h"
#include "flow/verify.h"
#include "util.h"

struct verify_args {
	bool deep;
	const char *identity;
};

static const struct cmd_option options[] = {
	{.name = "deep", .kind = CMD_FLAG, .field = offsetof(struct verify_args, deep),
	 .help = "also restore the dump into a scratch database on the profile's\n"
		 "server, compare every table's row count with the manifest,\n"
		 "then drop the scratch database"},
	{.name = "identity", .kind = CMD_STRING, .value = CMD_V_FILE, .metavar = "FILE",
	 .field = offsetof(struct verify_args, identity),
	 .help = "decrypts a bundle kept encrypted by encryption.local (x.ferry.tar.zst.age):\n"
		 "the age key or ssh private key of one of encryption.recipients"},
	{0},
};

static const struct cmd_arg args[] = {
	{.name = "BUNDLE", .value = CMD_V_BUNDLE},
	{0},
};

/* The verified bundle as JSON. */
static void print_json(const char *path, const struct verify_result *r)
{
	cli_print_json(remote_verify_json(path, r));
}

/* verify_run, then the outcome. */
static int verify_path(struct cmd_run *run, const char *path, const struct profile *p, struct err *e)
{
	const struct verify_args *a = run->args;
	struct verify_opts o = {.deep = a->deep, .profile = p, .events = run->events,
				.cancel = run->cancel, .public_key = p ? p->signing.public_key : NULL};
	struct verify_result r;
	int rc = verify_run(path, &o, &r, e);
	if (rc == 0 && run->c->json) {
		print_json(path, &r);
	} else if (rc == 0) {
		char sz[32];
		printf("ok: %s: %zu members, %s, revision %s, created %s%s\n", path,
		       r.members_checked, util_human_bytes(r.bytes_checked, sz, sizeof sz),
		       r.manifest.schema_revision ? r.manifest.schema_revision : "unknown",
		       r.manifest.created_at ? r.manifest.created_at : "?",
		       r.deep_done ? "; restored and row counts match" : "");
		if (r.signature_ok)
			printf("signature: verified with %s\n", p->signing.public_key);
	}
	verify_result_done(&r);
	return rc;
}

/* The bundle's path; a profile is loaded only for --deep, a name in
 * backup.dir or a profile named (--profile, FERRY_PROFILE: its
 * signing.public_key is then checked); *pf then holds it. NULL with e
 * filled. */
static char *bundle_path(struct cmd_run *r, profile_file **pf, const struct profile **p,
			 struct err *e)
{
	const struct verify_args *a = r->args;
	*pf = NULL;
	*p = NULL;
	const char *arg = r->argv[0];
	const char *named = getenv("FERRY_PROFILE");
	bool wants = a->deep || access(arg, F_OK) != 0 || r->c->profile_name || (named && *named);
	if (wants && !(*p = cli_profile(r->c, pf, e)))
		return NULL;
	return cli_resolve_bundle(arg, *p, e);
}

static int verify_exec(struct cmd_run *r, struct err *e)
{
	profile_file *pf;
	const struct profile *p;
	char *path = bundle_path(r, &pf, &p, e), *plain = NULL;
	const struct verify_args *a = r->args;
	r->p = p;   /* the log goes under its log_dir */
	int rc = path ? cli_decrypt_local(p, path, a->identity, r->events, r->cancel, &plain, e) : -1;
	if (rc == 0)
		rc = verify_path(r, plain ? plain : path, p, e);
	if (plain)
		unlink(plain);   /* only the encrypted bundle is kept */
	r->p = NULL;
	free(plain);
	free(path);
	profile_file_free(pf);
	return rc;
}

static int verify_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	profile_file *pf;
	const struct profile *p;
	char *path = bundle_path(r, &pf, &p, e);
	const struct verify_args *a = r->args;
	struct verify_opts o = {.deep = a->deep, .profile = p};
	int rc = path ? verify_plan(path, &o, plan, e) : -1;
	free(path);
	profile_file_free(pf);
	return rc;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.summary = "re-hash every member of a bundle against its manifest",
	.description =
		"Reads the bundle once and checks every member's size and SHA-256 against\n"
		"manifest.json and SHA256SUMS. A single changed byte names the member and\n"
		"exits 4. BUNDLE is a path or a file name in the profile's backup.dir.\n"
		"The outcome is recorded beside the bundle (<bundle>.verified) for `ferry list`.\n",
	.options = options,
	.args = args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_OPTIONAL,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.args_size = sizeof(struct verify_args),
	.plan = verify_plan_hook,
	.exec = verify_exec,
};
