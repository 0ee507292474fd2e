/* cmd_offsite — `ferry offsite push BUNDLE [--to TARGET]`, `list [--from
 * TARGET]`, `pull NAME [--from TARGET] [--identity FILE]`, `prune
 * [--dry-run]`: core/flow/offsite's flows. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "flow/offsite.h"
#include "util.h"

struct offsite_args {
	const char *to, *from, *identity;
	bool accept_new_host_key;
};

#define ARG(member) offsetof(struct offsite_args, member)

static const struct cmd_option options[] = {
	{.name = "to", .kind = CMD_STRING, .metavar = "TARGET", .field = ARG(to),
	 .help = "push: only to this offsite target (default: every one)"},
	{.name = "from", .kind = CMD_STRING, .metavar = "TARGET", .field = ARG(from),
	 .help = "list, pull: this offsite target (list default: every one; pull: the only one)"},
	{.name = "identity", .kind = CMD_STRING, .value = CMD_V_FILE, .metavar = "FILE",
	 .field = ARG(identity), .help = "pull: the age key or ssh private key that decrypts"},
	CMD_USE(cmd_opt_accept_new_host_key, struct offsite_args, accept_new_host_key),
	{0},
};

static const char *const actions[] = {"push", "list", "pull", "prune", NULL};

static const struct cmd_arg args[] = {
	{.name = "ACTION", .what = "action", .choices = actions},
	{.name = "NAME", .value = CMD_V_BUNDLE},
	{0},
};

/* push and pull need their bundle; the others take none. */
static int offsite_check(struct cmd_run *r, struct err *e)
{
	const char *a = r->argv[0];
	bool needs = strcmp(a, "push") == 0 || strcmp(a, "pull") == 0;
	if (needs && r->argc < 2) {
		err_set(e, ERR_USAGE, "ferry offsite %s needs a bundle", a);
		return err_hint(e, "ferry offsite %s NAME (names from `ferry %s`)", a,
				strcmp(a, "push") == 0 ? "list" : "offsite list");
	}
	if (!needs && r->argc > 1)
		return err_set(e, ERR_USAGE, "ferry offsite %s takes no bundle (got %s)", a, r->argv[1]);
	return 0;
}

static struct offsite_flow_opts opts_of(const struct cmd_run *r, const char *target)
{
	const struct offsite_args *a = r->args;
	return (struct offsite_flow_opts){
		.profile = r->p, .target = target, .accept_new_host_key = a->accept_new_host_key,
		.confirm_host_key = cli_ask_host_key, .hostkey_ud = r->c,
		.events = r->events, .cancel = r->cancel};
}

/* "2026-11-20 02:00:00" (UTC). */
static void format_time(time_t t, char *out, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_push(const struct cli *c, const struct offsite_push_result *r)
{
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->ncopies; i++) {
			const struct offsite_copy *cp = &r->copies[i];
			json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:i, s:s, s:f, s:f}",
				"target", cp->target, "where", cp->where, "bytes", (json_int_t)cp->bytes,
				"sent", (json_int_t)cp->sent, "resumed_from", (json_int_t)cp->resumed_from,
				"parts", (int)cp->parts, "parts_sent", (int)cp->parts_sent,
				"parts_resumed", (int)cp->parts_resumed, "sha256", cp->sha256,
				"seconds", cp->seconds, "mb_per_s", cp->mb_per_s));
		}
		cli_print_json(json_pack("{s:s, s:s, s:s, s:b, s:o}", "status", "ok", "bundle", r->bundle,
					 "object", r->object, "encrypted", r->encrypted, "copies", a));
		return;
	}
	for (size_t i = 0; i < r->ncopies; i++) {
		const struct offsite_copy *cp = &r->copies[i];
		printf("copied %s to %s (%llu bytes, sha256 %s, %.1f s, %.0f MB/s", r->bundle, cp->where,
		       (unsigned long long)cp->bytes, cp->sha256, cp->seconds, cp->mb_per_s);
		if (cp->parts)
			printf(", %u parts: %u sent, %u from an earlier run", cp->parts, cp->parts_sent,
			       cp->parts_resumed);
		printf(")\n");
	}
}

static void print_list(const struct cli *c, const struct offsite_listing *v, size_t n)
{
	json_t *all = c->json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct bundle_list *l = &v[i].list;
		if (!c->json)
			printf("%s (%s):%s\n", v[i].t->name, v[i].t->type, l->n ? "" : " no bundles");
		for (size_t k = 0; k < l->n; k++) {
			char when[32], sz[32];
			format_time(l->v[k].created, when, sizeof when);
			if (c->json)
				json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:I}", "target",
					v[i].t->name, "name", l->v[k].name, "profile", l->v[k].profile,
					"created", when, "size_bytes", (json_int_t)l->v[k].size));
			else
				printf("  %-19s  %10s  %s\n", when, util_human_bytes(l->v[k].size, sz, sizeof sz),
				       l->v[k].name);
		}
	}
	if (c->json)
		cli_print_json(all);
}

static void print_pull(const struct cli *c, const struct offsite_pull_flow_result *r)
{
	const struct offsite_pull_result *p = &r->pull;
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b, s:b, s:b, s:i}", "status", "ok",
			"target", r->target, "object", r->object, "path", p->path,
			"bytes", (json_int_t)p->bytes, "sha256", p->sha256,
			"stored_hash_checked", p->stored_hash_checked, "decrypted", p->decrypted,
			"signature_verified", p->signature_ok, "members", (int)p->members));
		return;
	}
	printf("pulled %s from %s: %s (%zu members verified%s%s%s)\n", r->object, r->target, p->path,
	       p->members, p->stored_hash_checked ? ", stored sha256 matches" : "",
	       p->decrypted ? ", decrypted" : "", p->signature_ok ? ", signature verified" : "");
}

static void print_prune(const struct cli *c, const struct offsite_prune_result *r, bool dry_run)
{
	json_t *all = c->json ? json_array() : NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct prune_report *pr = &r->v[i].decisions;
		for (size_t k = 0; k < pr->n; k++) {
			const char *action = pr->v[k].keep ? "keep" : dry_run ? "would delete" : "delete";
			if (c->json)
				json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s}", "target",
					r->v[i].target, "file", pr->v[k].file, "action", action,
					"rule", pr->v[k].rule));
			else
				printf("%-8s %-12s %s  (%s)\n", r->v[i].target, action, pr->v[k].file,
				       pr->v[k].rule);
		}
		if (!c->json && pr->n == 0)
			printf("%-8s no bundles to consider\n", r->v[i].target);
	}
	if (c->json)
		cli_print_json(all);
}

static int offsite_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	const struct offsite_args *a = r->args;
	const char *act = r->argv[0];
	if (strcmp(act, "push") == 0) {
		struct offsite_flow_opts o = opts_of(r, a->to);
		char *path = cli_resolve_bundle(r->argv[1], r->p, e);
		int rc = path ? offsite_push_plan(&o, path, plan, e) : -1;
		free(path);
		return rc;
	}
	if (strcmp(act, "pull") == 0) {
		struct offsite_flow_opts o = opts_of(r, a->from);
		return offsite_pull_plan(&o, r->argv[1], a->identity, plan, e);
	}
	return CMD_PLAN_BY_EXEC;   /* prune decides and deletes nothing; list only reads */
}

static int offsite_exec(struct cmd_run *r, struct err *e)
{
	const struct offsite_args *a = r->args;
	const char *act = r->argv[0];
	int rc;
	if (strcmp(act, "push") == 0) {
		struct offsite_flow_opts o = opts_of(r, a->to);
		char *path = cli_resolve_bundle(r->argv[1], r->p, e);
		struct offsite_push_result res = {0};
		rc = path ? offsite_push_run(&o, path, &res, e) : -1;
		if (rc == 0)
			print_push(r->c, &res);
		offsite_push_result_done(&res);
		free(path);
	} else if (strcmp(act, "pull") == 0) {
		struct offsite_flow_opts o = opts_of(r, a->from);
		struct offsite_pull_flow_result res;
		rc = offsite_pull_run(&o, r->argv[1], a->identity, &res, e);
		if (rc == 0)
			print_pull(r->c, &res);
		offsite_pull_flow_result_done(&res);
	} else if (strcmp(act, "prune") == 0) {
		struct offsite_flow_opts o = opts_of(r, a->to);
		struct offsite_prune_result res;
		rc = offsite_prune_run(&o, r->c->dry_run, &res, e);
		if (rc == 0)
			print_prune(r->c, &res, r->c->dry_run);
		offsite_prune_result_done(&res);
	} else {
		struct offsite_flow_opts o = opts_of(r, a->from);
		struct offsite_listing *v;
		size_t n;
		rc = offsite_list_targets(&o, false, &v, &n, e);
		if (rc == 0)
			print_list(r->c, v, n);
		offsite_listings_free(v, n);
	}
	return rc;
}

const struct cmd_entry cmd_offsite_entry = {
	.name = "offsite",
	.summary = "copies of bundles off the server: push, list, pull, prune",
	.description =
		"push BUNDLE copies a bundle to every offsite target of the profile (or\n"
		"--to TARGET): encrypted first with age when encryption.recipients is set\n"
		"(the object is then BUNDLE.age), to S3 as a resumable multipart upload with\n"
		"the object's SHA-256 as metadata, to SFTP as a resumable .part hashed on\n"
		"the server. An interrupted push resumes: run it again.\n"
		"\n"
		"list shows the bundles on every target (or --from TARGET), newest first.\n"
		"\n"
		"pull NAME fetches a bundle into backup.dir as .part, checks the stored\n"
		"SHA-256, decrypts it with --identity FILE, verifies every member's hash and,\n"
		"with signing.public_key, the manifest's signature, and only then gives it\n"
		"its name. `ferry restore NAME --from TARGET` does the same, then restores.\n"
		"\n"
		"prune applies each target's keep (its own, else backup.keep); with\n"
		"--dry-run it says what it would delete and deletes nothing.\n",
	.footer =
		"Exit status: 0 done; 2 bad command line or profile; 4 a copy did not verify\n"
		"(hash, signature); 5 SFTP connection or host key; 9 age or ssh-keygen\n"
		"missing; 11 S3 refused the request (credentials) or cannot be reached (a\n"
		"failed upload is aborted); 130 interrupted (run the same push to resume).\n",
	.options = options,
	.args = args,
	.args_min = 1,
	.args_max = 2,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "push: {\"status\", \"bundle\", \"object\", \"encrypted\", \"copies\": [{\"target\",\n"
		     " \"where\", \"bytes\", \"sent\", \"parts\", \"parts_sent\", \"parts_resumed\", ...}]};\n"
		     "list: [{\"target\", \"name\", \"profile\", \"created\", \"size_bytes\"}];\n"
		     "pull: {\"status\", \"target\", \"object\", \"path\", \"sha256\", \"decrypted\",\n"
		     " \"signature_verified\", ...}; prune: [{\"target\", \"file\", \"action\", \"rule\"}]",
	.args_size = sizeof(struct offsite_args),
	.check = offsite_check,
	.plan = offsite_plan_hook,
	.exec = offsite_exec,
};
