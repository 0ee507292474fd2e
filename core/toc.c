/* toc — reading and parsing a dump's table of contents. */
#include "toc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "dump.h"
#include "fsx.h"

/* The head of a custom-format dump that holds its TOC, read when the whole
 * member is larger (the TOC comes before the data). */
#define CUSTOM_TOC_HEAD (64u << 20)

/* Every kind pg_dump writes, longest first where one is a prefix of another. */
static const char *const kinds[] = {
	"MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "TABLE DATA", "TABLE ATTACH", "TABLE",
	"SEQUENCE SET", "SEQUENCE OWNED BY", "SEQUENCE", "FK CONSTRAINT", "CHECK CONSTRAINT",
	"CONSTRAINT", "INDEX ATTACH", "INDEX", "DEFAULT ACL", "DEFAULT", "LARGE OBJECT", "BLOB DATA",
	"BLOBS", "BLOB", "EXTENSION", "SCHEMA", "COMMENT", "ACL", "VIEW", "FUNCTION", "PROCEDURE",
	"AGGREGATE", "TYPE", "DOMAIN", "TRIGGER", "EVENT TRIGGER", "RULE", "POLICY", "ROW SECURITY",
	"PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA", "PUBLICATION", "SUBSCRIPTION",
	"STATISTICS", "COLLATION", "CONVERSION", "CAST", "OPERATOR CLASS", "OPERATOR FAMILY",
	"OPERATOR", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER",
	"TEXT SEARCH TEMPLATE", "FOREIGN DATA WRAPPER", "SERVER", "USER MAPPING", "FOREIGN TABLE",
	"PROCEDURAL LANGUAGE", "TRANSFORM", "ACCESS METHOD", "ENCODING", "STDSTRINGS",
	"SEARCHPATH", "DATABASE PROPERTIES", "DATABASE", NULL,
};

void toc_done(struct toc *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].desc);
		free(t->v[i].rest);
	}
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* The kind at the start of s, or NULL. */
static const char *kind_at(const char *s)
{
	for (const char *const *k = kinds; *k; k++) {
		size_t n = strlen(*k);
		if (strncmp(s, *k, n) == 0 && (s[n] == ' ' || s[n] == '\0'))
			return *k;
	}
	return NULL;
}

static void parse_line(const char *line, struct toc *out)
{
	int id, used = 0;
	unsigned tableoid, oid;
	if (line[0] == ';' || sscanf(line, "%d; %u %u %n", &id, &tableoid, &oid, &used) != 3 || !used)
		return;
	const char *kind = kind_at(line + used);
	if (!kind)
		return;
	const char *rest = line + used + strlen(kind);
	while (*rest == ' ')
		rest++;
	out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
	out->v[out->n++] = (struct toc_entry){id, tableoid, oid, xstrdup(kind), xstrdup(rest)};
}

void toc_parse(const char *list, struct toc *out)
{
	memset(out, 0, sizeof *out);
	char *copy = xstrdup(list), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_line(line, out);
	free(copy);
}

void toc_extensions(const struct toc *t, struct strv *out)
{
	for (size_t i = 0; i < t->n; i++) {
		char name[256];
		/* "EXTENSION - plpgsql " : namespace "-", the tag is the name. */
		if (strcmp(t->v[i].desc, "EXTENSION") == 0 &&
		    sscanf(t->v[i].rest, "- %255s", name) == 1 && !strv_contains(out, name))
			strv_push(out, name);
	}
}

void toc_owners(const struct toc *t, struct strv *out)
{
	for (size_t i = 0; i < t->n; i++) {
		/* "namespace tag owner": the owner is the last word, empty when the
		 * line ends in a blank (extensions, comments). */
		const char *space = strrchr(t->v[i].rest, ' ');
		const char *owner = space ? space + 1 : NULL;
		if (owner && *owner && !strv_contains(out, owner))
			strv_push(out, owner);
	}
}

void toc_data_oids(const struct toc *t, unsigned **oids, size_t *n)
{
	*oids = xcalloc(t->n + 1, sizeof **oids);
	*n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].desc, "TABLE DATA") == 0 ||
		    strcmp(t->v[i].desc, "MATERIALIZED VIEW DATA") == 0)
			(*oids)[(*n)++] = t->v[i].oid;
}

size_t toc_large_objects(const struct toc *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += strcmp(t->v[i].desc, "BLOB") == 0 || strcmp(t->v[i].desc, "LARGE OBJECT") == 0;
	return n;
}

int toc_read_dump(const char *pg_restore, const char *dump, const char *list_path,
		  volatile sig_atomic_t *cancel, struct toc *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	struct strv argv = {0};
	strv_push(&argv, pg_restore);
	strv_push(&argv, "--list");
	strv_push(&argv, dump);
	struct dump_run_opts ro = {.cancel = cancel};
	int rc = dump_run_pg_program(&argv, NULL, list_path, &ro, e);
	strv_done(&argv);
	char *text = rc == 0 ? fsx_read_file(list_path, 0, NULL, e) : NULL;
	unlink(list_path);
	if (!text)
		return -1;
	toc_parse(text, out);
	free(text);
	return 0;
}

/* Copy up to max bytes of the reader's current member into path. */
static int copy_member(bundle_reader *br, const char *path, uint64_t max, struct err *e)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return err_set(e, ERR_FAILED, "cannot write %s: %m", path);
	char *buf = xmalloc(BUNDLE_BUFSIZE);
	uint64_t got = 0;
	ssize_t n = 0;
	while (got < max && (n = bundle_reader_read(br, buf, BUNDLE_BUFSIZE, e)) > 0) {
		size_t take = (uint64_t)n > max - got ? (size_t)(max - got) : (size_t)n;
		if (fwrite(buf, 1, take, f) != take)
			n = err_set(e, ERR_SPACE, "cannot write %s: %m", path);
		got += take;
		if (n < 0)
			break;
	}
	free(buf);
	if (fclose(f) != 0 && n >= 0)
		n = err_set(e, ERR_SPACE, "cannot write %s: %m", path);
	return n < 0 ? -1 : 0;
}

/* Unpack the member that holds the TOC into tmpdir; *listed is what to
 * hand pg_restore (the directory, or the custom file's head). */
static int unpack_toc_member(const char *bundle, const struct manifest *m, const char *tmpdir,
			     volatile sig_atomic_t *cancel, char **listed, struct err *e)
{
	bool directory = !m->dump.format || strcmp(m->dump.format, "directory") == 0;
	char *want = directory ? xasprintf("%s/toc.dat", m->dump.path) : xstrdup(m->dump.path);
	*listed = directory ? xasprintf("%s/toc", tmpdir) : xasprintf("%s/toc.custom", tmpdir);
	char *file = directory ? xasprintf("%s/toc.dat", *listed) : xstrdup(*listed);
	bundle_reader *br = bundle_reader_open(bundle, e);
	int rc = br ? 0 : -1, found = 0;
	if (br)
		bundle_reader_set_cancel(br, cancel);
	struct bundle_entry ent;
	while (rc == 0 && !found && (rc = bundle_reader_next(br, &ent, e)) == 1) {
		rc = 0;
		found = strcmp(ent.name, want) == 0 && ent.type == BUNDLE_REG;
	}
	if (rc == 0 && !found) {
		err_set(e, ERR_VERIFY, "%s: no member %s (the dump's table of contents)", bundle, want);
		rc = err_hint(e, "the bundle is incomplete or was not made by ferry");
	}
	if (rc == 0 && directory && mkdir(*listed, 0700) < 0)
		rc = err_set(e, ERR_FAILED, "cannot create %s: %m", *listed);
	if (rc == 0)
		rc = copy_member(br, file, directory ? UINT64_MAX : CUSTOM_TOC_HEAD, e);
	bundle_reader_free(br);
	free(want);
	free(file);
	return rc;
}

int toc_read_bundle(const char *bundle, const struct manifest *m, const char *pg_restore,
		    const char *tmpdir, volatile sig_atomic_t *cancel, struct toc *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!m->dump.path)
		return 0;
	char *listed = NULL;
	int rc = unpack_toc_member(bundle, m, tmpdir, cancel, &listed, e);
	char *list_path = xasprintf("%s/toc.txt", tmpdir);
	if (rc == 0)
		rc = toc_read_dump(pg_restore, listed, list_path, cancel, out, e);
	free(list_path);
	if (listed)
		fsx_rm_rf(listed);
	free(listed);
	return rc;
}
