/* cmd_verify — `ferry verify BUNDLE [--deep]`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "cli/cli.h"
#include "flow.h"
#include "flow_util.h"

static int run_verify(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_verify = {
	"verify", "re-hash every member of a bundle against its manifest",
	"usage: ferry verify BUNDLE [--deep] [--profile NAME] [--json]\n"
	"\n"
	"Reads the bundle once and checks every member's size and SHA-256 against\n"
	"manifest.json and SHA256SUMS. A single changed byte names the member and\n"
	"exits 4. BUNDLE is a path or a file name in the profile's backup.dir.\n"
	"The outcome is recorded beside the bundle (<bundle>.verified) for `ferry list`.\n"
	"\n"
	"  --deep   also restore the dump into a scratch database on the profile's\n"
	"           server, compare every table's row count with the manifest,\n"
	"           then drop the scratch database\n",
	run_verify};

enum { OPT_DEEP = OPT_COMMAND_BASE };

static void print_json(const char *path, const struct verify_result *r)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:b, s:s, s:s, s:I, s:I, s:f}",
		"status", "ok", "bundle", path, "members", (json_int_t)r->members_checked,
		"bytes", (json_int_t)r->bytes_checked, "deep", r->deep_done,
		"schema_revision", r->manifest.schema_revision ? r->manifest.schema_revision : "unknown",
		"created_at", r->manifest.created_at ? r->manifest.created_at : "",
		"tables", (json_int_t)r->manifest.ntables,
		"total_rows", (json_int_t)manifest_total_rows(&r->manifest), "duration_s", r->duration_s);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static int verify_path(struct cli *c, const char *path, bool deep, const struct profile *p,
		       struct err *e)
{
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	struct verify_opts o = {.deep = deep, .profile = p, .events = &sink,
				.cancel = cli_cancel_flag()};
	struct verify_result r;
	int rc = verify_run(path, &o, &r, e);
	cli_render_free(render);
	if (rc == 0 && c->json) {
		print_json(path, &r);
	} else if (rc == 0) {
		char sz[32];
		printf("ok: %s: %zu members, %s, revision %s, created %s%s\n", path,
		       r.members_checked, util_human_bytes(r.bytes_checked, sz, sizeof sz),
		       r.manifest.schema_revision ? r.manifest.schema_revision : "unknown",
		       r.manifest.created_at ? r.manifest.created_at : "?",
		       r.deep_done ? "; restored and row counts match" : "");
	}
	verify_result_done(&r);
	return rc;
}

static int run_verify(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS, {"deep", no_argument, NULL, OPT_DEEP}, {0, 0, 0, 0}};
	bool deep = false;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_verify, opt, optarg, e);
		if (r == 2)
			return 0;
		if (r == 1)
			continue;
		if (opt == OPT_DEEP)
			deep = true;
		else
			return cli_bad_option(&command_verify, argv, e);
	}
	if (optind != argc - 1) {
		err_set(e, ERR_USAGE, "verify: expected one BUNDLE");
		return err_hint(e, "ferry verify BUNDLE [--deep]; `ferry list` shows the bundles");
	}
	profile_file *pf = NULL;
	const struct profile *p = NULL;
	const char *arg = argv[optind];
	bool need_profile = deep || access(arg, F_OK) != 0;
	if (need_profile) {
		pf = cli_load_profiles(c, e);
		p = pf ? cli_pick_profile(c, pf, e) : NULL;
		if (!p) {
			profile_file_free(pf);
			return -1;
		}
	}
	char *path = cli_resolve_bundle(arg, p, e);
	int rc = path ? verify_path(c, path, deep, p, e) : -1;
	free(path);
	profile_file_free(pf);
	return rc;
}
