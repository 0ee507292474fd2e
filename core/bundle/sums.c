/* bundle/sums — SHA256SUMS: the text the writer adds last, its parsing,
 * and the check of a pass's hashes against it. */
#include "bundle/bundle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* sha256sum escapes a name holding '\\' or '\n' and marks the line with '\\'. */
static bool needs_escape(const char *name)
{
	return strpbrk(name, "\\\n") != NULL;
}

/* The SHA256SUMS text of the regular members. */
char *bundle_sha256sums_text(const struct bundle_member *members, size_t n)
{
	struct sbuf s = {0};
	sbuf_add(&s, "", 0);
	for (size_t i = 0; i < n; i++) {
		const struct bundle_member *m = &members[i];
		if (m->type != BUNDLE_REG)
			continue;
		bool esc = needs_escape(m->name);
		if (esc)
			sbuf_addc(&s, '\\');
		sbuf_add(&s, m->sha256, strlen(m->sha256));
		sbuf_add(&s, "  ", 2);
		for (const char *p = m->name; *p; p++) {
			if (esc && *p == '\\')
				sbuf_add(&s, "\\\\", 2);
			else if (esc && *p == '\n')
				sbuf_add(&s, "\\n", 2);
			else
				sbuf_addc(&s, *p);
		}
		sbuf_addc(&s, '\n');
	}
	return s.data;
}

/* Append a name (taken) and its digest. */
void bundle_sums_push(struct bundle_sums *s, char *name_owned, const char *hex)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n].name = name_owned;
	snprintf(s->v[s->n].hex, sizeof s->v[s->n].hex, "%s", hex);
	s->n++;
}

/* Free the list. */
void bundle_sums_done(struct bundle_sums *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	*s = (struct bundle_sums){0};
}

/* Order by name, for qsort and bsearch. */
static int sum_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bundle_sum *)a)->name, ((const struct bundle_sum *)b)->name);
}

/* Undo sha256sum's escaping of [p, p+len); NULL when malformed. */
static char *unescape_name(const char *p, size_t len)
{
	struct sbuf s = {0};
	sbuf_add(&s, "", 0);
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\\') {
			sbuf_addc(&s, p[i]);
			continue;
		}
		char next = i + 1 < len ? p[++i] : '\0';
		if (next != '\\' && next != 'n') {
			sbuf_done(&s);
			return NULL;
		}
		sbuf_addc(&s, next == 'n' ? '\n' : '\\');
	}
	return s.data;
}

/* Parse one line "<hex>  <name>" (or " *<name>", or '\\'-escaped). */
static bool parse_sum_line(const char *line, size_t len, struct bundle_sums *out)
{
	bool esc = len > 0 && line[0] == '\\';
	if (esc) {
		line++;
		len--;
	}
	if (len < HASH_HEX_LEN + 3 || line[HASH_HEX_LEN] != ' ' ||
	    (line[HASH_HEX_LEN + 1] != ' ' && line[HASH_HEX_LEN + 1] != '*'))
		return false;
	char hex[HASH_HEX_SIZE];
	memcpy(hex, line, HASH_HEX_LEN);
	hex[HASH_HEX_LEN] = '\0';
	if (!hash_is_hex(hex))
		return false;
	const char *name = line + HASH_HEX_LEN + 2;
	size_t nlen = len - HASH_HEX_LEN - 2;
	char *owned = esc ? unescape_name(name, nlen) : xstrndup(name, nlen);
	if (!owned)
		return false;
	bundle_sums_push(out, owned, hex);
	return true;
}

/* Parse SHA256SUMS text into out, sorted by name. */
static int parse_sums(const char *bundle, const char *text, struct bundle_sums *out, struct err *e)
{
	size_t lineno = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (len > 0 && !parse_sum_line(p, len, out)) {
			err_set(e, ERR_VERIFY, "bundle %s: line %zu of %s is malformed", bundle, lineno,
				BUNDLE_SHA256SUMS);
			return err_hint(e, BUNDLE_CORRUPT_HINT);
		}
		p += len + (nl ? 1 : 0);
	}
	qsort(out->v, out->n, sizeof *out->v, sum_cmp);
	return 0;
}

/* The first mismatch found (got or want NULL when one side lacks it). */
static int sums_mismatch(const char *bundle, const struct bundle_sum *got,
			 const struct bundle_sum *want, size_t more, struct err *e)
{
	char extra[64] = "";
	if (more)
		snprintf(extra, sizeof extra, " (and %zu more)", more);
	if (!want)
		err_set(e, ERR_VERIFY, "bundle %s: member %s is not listed in %s%s", bundle,
			got->name, BUNDLE_SHA256SUMS, extra);
	else if (!got)
		err_set(e, ERR_VERIFY, "bundle %s: member %s listed in %s is missing%s", bundle,
			want->name, BUNDLE_SHA256SUMS, extra);
	else
		err_set(e, ERR_VERIFY, "bundle %s: member %s does not match %s (sha-256 %s, expected %s)%s",
			bundle, got->name, BUNDLE_SHA256SUMS, got->hex, want->hex, extra);
	return err_hint(e, BUNDLE_CORRUPT_HINT);
}

/* Every hashed member matches its line; every line was seen. */
int bundle_sums_check(const char *bundle, const char *sums_text, struct bundle_sums *seen,
		      struct err *e)
{
	if (!sums_text) {
		err_set(e, ERR_VERIFY, "bundle %s has no %s at its end", bundle, BUNDLE_SHA256SUMS);
		return err_hint(e, BUNDLE_CORRUPT_HINT);
	}
	struct bundle_sums want = {0};
	if (parse_sums(bundle, sums_text, &want, e) < 0) {
		bundle_sums_done(&want);
		return -1;
	}
	qsort(seen->v, seen->n, sizeof *seen->v, sum_cmp);
	const struct bundle_sum *bad_got = NULL, *bad_want = NULL;
	size_t bad = 0;
	for (size_t i = 0; i < seen->n; i++) {
		const struct bundle_sum *got = &seen->v[i];
		const struct bundle_sum *w = bsearch(got, want.v, want.n, sizeof *want.v, sum_cmp);
		if ((!w || strcmp(w->hex, got->hex) != 0) && bad++ == 0) {
			bad_got = got;
			bad_want = w;
		}
	}
	for (size_t i = 0; i < want.n; i++) {
		const struct bundle_sum *w = &want.v[i];
		if (!bsearch(w, seen->v, seen->n, sizeof *seen->v, sum_cmp) && bad++ == 0)
			bad_want = w;
	}
	int rc = bad ? sums_mismatch(bundle, bad_got, bad_want, bad - 1, e) : 0;
	bundle_sums_done(&want);
	return rc;
}
