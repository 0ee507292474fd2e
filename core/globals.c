/* globals — see globals.h. */
#include "globals.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strset.h"
#include "util.h"

#define GLOBALS_HINT "the roles file of this bundle is not what pg_dumpall writes: do not restore it"

/* ---- tokens --------------------------------------------------------------- */

enum tok_kind { TOK_WORD, TOK_QIDENT, TOK_STRING, TOK_NUMBER, TOK_PUNCT };

struct tok {
	enum tok_kind kind;
	char *text;     /* as written */
	char *value;    /* a name unquoted (a word lowercased), else the text */
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

static void toks_push(struct toks *t, enum tok_kind kind, const char *s, size_t len, char *value)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n++] = (struct tok){.kind = kind, .text = xstrndup(s, len), .value = value};
}

static void toks_done(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].text), free(t->v[i].value);
	free(t->v);
	*t = (struct toks){0};
}

/* A quoted run from s (at the opening quote q) to its closing quote, a
 * doubled quote standing for one: its length, 0 when it does not close;
 * *value gets the unquoted text. */
static size_t quoted_len(const char *s, char q, char **value)
{
	struct sbuf b = {0};
	for (size_t i = 1; s[i]; i++) {
		if (s[i] == q && s[i + 1] == q) {
			sbuf_addc(&b, q);
			i++;
		} else if (s[i] == q) {
			*value = b.len ? sbuf_take(&b) : xstrdup("");
			return i + 1;
		} else {
			sbuf_addc(&b, s[i]);
		}
	}
	sbuf_done(&b);
	return 0;
}

static bool word_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80 ||
	       (!first && (isdigit((unsigned char)c) || c == '$'));
}

/* One token at s: its length, 0 when s starts with something no roles
 * statement holds. */
static size_t next_token(const char *s, struct toks *t)
{
	char *value = NULL;
	size_t n = 0;
	if (*s == '\'' || *s == '"') {
		n = quoted_len(s, *s, &value);
		if (n)
			toks_push(t, *s == '"' ? TOK_QIDENT : TOK_STRING, s, n, value);
	} else if (word_char(*s, true)) {
		while (word_char(s[n], n == 0))
			n++;
		value = xstrndup(s, n);
		for (char *p = value; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		toks_push(t, TOK_WORD, s, n, value);
	} else if (isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))) {
		n = 1;
		while (isdigit((unsigned char)s[n]) || s[n] == '.')
			n++;
		toks_push(t, TOK_NUMBER, s, n, xstrndup(s, n));
	} else if (*s == ',' || *s == '=' || *s == '.') {
		n = 1;
		toks_push(t, TOK_PUNCT, s, 1, xstrndup(s, 1));
	}
	return n;
}

/* ---- the grammar ---------------------------------------------------------------- */

struct cursor {
	const struct toks *t;
	size_t i;
};

static const struct tok *peek(const struct cursor *c)
{
	return c->i < c->t->n ? &c->t->v[c->i] : NULL;
}

/* Take the keyword kw (a word, any case). */
static bool take_kw(struct cursor *c, const char *kw)
{
	const struct tok *k = peek(c);
	if (k && k->kind == TOK_WORD && strcmp(k->value, kw) == 0) {
		c->i++;
		return true;
	}
	return false;
}

static bool take_punct(struct cursor *c, char ch)
{
	const struct tok *k = peek(c);
	if (k && k->kind == TOK_PUNCT && k->text[0] == ch) {
		c->i++;
		return true;
	}
	return false;
}

/* A name: a word or a "quoted identifier"; its unquoted value. */
static const char *take_name(struct cursor *c)
{
	const struct tok *k = peek(c);
	if (k && (k->kind == TOK_WORD || k->kind == TOK_QIDENT)) {
		c->i++;
		return k->value;
	}
	return NULL;
}

static bool take_kind(struct cursor *c, enum tok_kind kind)
{
	const struct tok *k = peek(c);
	if (k && k->kind == kind) {
		c->i++;
		return true;
	}
	return false;
}

static bool at_end(const struct cursor *c)
{
	return c->i == c->t->n;
}

/* ALTER ROLE r WITH <attributes>: the words pg_dumpall writes there. */
static bool role_attributes(struct cursor *c)
{
	static const char *const flags[] = {"superuser", "nosuperuser", "inherit", "noinherit",
					    "createrole", "nocreaterole", "createdb", "nocreatedb",
					    "login", "nologin", "replication", "noreplication",
					    "bypassrls", "nobypassrls"};
	while (!at_end(c)) {
		bool ok = false;
		for (size_t i = 0; !ok && i < sizeof flags / sizeof flags[0]; i++)
			ok = take_kw(c, flags[i]);
		if (ok)
			continue;
		if (take_kw(c, "connection")) {
			if (!take_kw(c, "limit") || !take_kind(c, TOK_NUMBER))
				return false;
		} else if (take_kw(c, "valid")) {
			if (!take_kw(c, "until") || !take_kind(c, TOK_STRING))
				return false;
		} else if (take_kw(c, "encrypted") || take_kw(c, "password")) {
			take_kw(c, "password");
			if (!take_kind(c, TOK_STRING) && !take_kw(c, "null"))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* A setting's value list: 'a', 'b' / 10 / word. */
static bool setting_values(struct cursor *c)
{
	do {
		if (!take_kind(c, TOK_STRING) && !take_kind(c, TOK_NUMBER) && !take_name(c))
			return false;
	} while (take_punct(c, ','));
	return at_end(c);
}

/* [IN DATABASE d] SET name [.name] TO|= values | RESET name|ALL */
static bool role_setting(struct cursor *c)
{
	if (take_kw(c, "in") && (!take_kw(c, "database") || !take_name(c)))
		return false;
	if (take_kw(c, "reset"))
		return (take_kw(c, "all") || (take_name(c) && (!take_punct(c, '.') || take_name(c)))) && at_end(c);
	if (!take_kw(c, "set") || !take_name(c))
		return false;
	if (take_punct(c, '.') && !take_name(c))
		return false;
	if (!take_kw(c, "to") && !take_punct(c, '='))
		return false;
	return setting_values(c);
}

static bool name_list(struct cursor *c, const char **last)
{
	do {
		if (!(*last = take_name(c)))
			return false;
	} while (take_punct(c, ','));
	return true;
}

/* GRANT r[, ...] TO r[, ...] [WITH ADMIN OPTION | WITH opt val, ...] [GRANTED BY r] */
static bool grant_stmt(struct cursor *c, struct globals_stmt *st, size_t *granted_by_at)
{
	const char *role = NULL;
	if (!name_list(c, &role) || !take_kw(c, "to") || !name_list(c, &role))
		return false;
	st->role = xstrdup(role);
	if (take_kw(c, "with")) {
		do {
			if (!take_kw(c, "admin") && !take_kw(c, "inherit") && !take_kw(c, "set"))
				return false;
			if (!take_kw(c, "option") && !take_kw(c, "true") && !take_kw(c, "false"))
				return false;
		} while (take_punct(c, ','));
	}
	*granted_by_at = c->i;
	if (take_kw(c, "granted")) {
		const char *by = take_kw(c, "by") ? take_name(c) : NULL;
		if (!by)
			return false;
		st->grantor = xstrdup(by);
	}
	return at_end(c);
}

static bool session_setting(struct cursor *c)
{
	static const char *const allowed[] = {"client_encoding", "standard_conforming_strings",
					      "default_transaction_read_only"};
	const char *name = take_name(c);
	bool ok = false;
	for (size_t i = 0; name && !ok && i < sizeof allowed / sizeof allowed[0]; i++)
		ok = strcmp(name, allowed[i]) == 0;
	return ok && (take_kw(c, "to") || take_punct(c, '=')) && setting_values(c);
}

/* Classify and check one statement's tokens; false when it is not one pg_dumpall writes. */
static bool check_statement(const struct toks *t, struct globals_stmt *st, size_t *granted_by_at)
{
	struct cursor c = {.t = t};
	const char *role;
	*granted_by_at = 0;
	if (take_kw(&c, "set")) {
		st->kind = GLOBALS_SET;
		return session_setting(&c);
	}
	if (take_kw(&c, "create")) {
		st->kind = GLOBALS_CREATE;
		if (!take_kw(&c, "role") || !(role = take_name(&c)) || !at_end(&c))
			return false;
	} else if (take_kw(&c, "alter")) {
		st->kind = GLOBALS_ALTER;
		if (!take_kw(&c, "role") || !(role = take_name(&c)))
			return false;
		if (take_kw(&c, "with") ? !role_attributes(&c) : !role_setting(&c))
			return false;
	} else if (take_kw(&c, "comment")) {
		st->kind = GLOBALS_ALTER;
		if (!take_kw(&c, "on") || !take_kw(&c, "role") || !(role = take_name(&c)) || !take_kw(&c, "is"))
			return false;
		if ((!take_kind(&c, TOK_STRING) && !take_kw(&c, "null")) || !at_end(&c))
			return false;
	} else if (take_kw(&c, "grant")) {
		st->kind = GLOBALS_GRANT;
		return grant_stmt(&c, st, granted_by_at);
	} else {
		return false;
	}
	st->role = xstrdup(role);
	return true;
}

/* The statement's text from tokens [from, to). */
static char *join_range(const struct toks *t, size_t from, size_t to)
{
	struct sbuf b = {0};
	for (size_t i = from; i < to; i++)
		sbuf_addf(&b, "%s%s", i > from ? " " : "", t->v[i].text);
	return b.len ? sbuf_take(&b) : xstrdup("");
}

static char *join_tokens(const struct toks *t, size_t n)
{
	return join_range(t, 0, n);
}

/* ---- the file ----------------------------------------------------------------- */

static int refuse_line(const char *what, int line, const char *why, struct err *e)
{
	err_set(e, ERR_VERIFY, "%s line %d: %s", what, line, why);
	return err_hint(e, GLOBALS_HINT);
}

/* psql's \restrict KEY and \unrestrict KEY, which pg_dumpall writes since
 * the 2025 releases; no other meta-command is accepted. */
static bool restrict_line(const char *s, size_t len)
{
	const char *arg = NULL;
	if (len > 10 && strncmp(s, "\\restrict ", 10) == 0)
		arg = s + 10;
	else if (len > 12 && strncmp(s, "\\unrestrict ", 12) == 0)
		arg = s + 12;
	if (!arg)
		return false;
	for (const char *p = arg; p < s + len; p++)
		if (!isalnum((unsigned char)*p))
			return false;
	return true;
}

static void push_stmt(struct globals_script *out, const struct globals_stmt *st)
{
	if ((out->n & (out->n + 1)) == 0 || out->n == 0)
		out->v = xrealloc(out->v, (out->n ? 2 * out->n + 2 : 4) * sizeof *out->v);
	out->v[out->n++] = *st;
}

/* Tokens up to the ';' that ends the statement at *s; false with *why on a
 * character no roles statement holds or a statement that never ends. */
static bool read_statement(const char **s, int *line, struct toks *t, const char **why,
			   const char **at)
{
	const char *p = *s;
	while (*p && *p != ';') {
		if (*p == '\n' || *p == ' ' || *p == '\t' || *p == '\r') {
			*line += *p == '\n';
			p++;
			continue;
		}
		size_t n = next_token(p, t);
		if (!n) {
			*at = p;
			*why = *p == '\'' || *p == '"' ? "a quoted text that never ends"
						       : "a character no roles statement holds";
			return false;
		}
		for (size_t i = 0; i < n; i++)
			*line += p[i] == '\n';
		p += n;
	}
	if (*p != ';') {
		*why = "a statement without its ';'";
		return false;
	}
	*s = p + 1;
	return true;
}

static int parse_one(const char **s, int *line, const char *what, struct globals_script *out,
		     struct err *e)
{
	struct toks t = {0};
	const char *why = NULL, *at = NULL;
	int start = *line;
	if (!read_statement(s, line, &t, &why, &at)) {
		char *text = join_tokens(&t, t.n < 8 ? t.n : 8);
		char *msg = at ? xasprintf("%s (\"%c\" after \"%.200s\"): not a statement pg_dumpall writes for roles",
					   why, *at, text)
			       : xstrdup(why);
		int rc = refuse_line(what, start, msg, e);
		free(text), free(msg);
		toks_done(&t);
		return rc;
	}
	struct globals_stmt st = {.line = start};
	size_t granted_by_at = 0;
	if (!check_statement(&t, &st, &granted_by_at)) {
		char *text = join_tokens(&t, t.n < 8 ? t.n : 8);
		char *msg = xasprintf("not a statement pg_dumpall writes for roles: %.200s%s", text,
				      t.n > 8 ? " …" : "");
		int rc = refuse_line(what, start, msg, e);
		free(text), free(msg), free(st.role), free(st.grantor);
		toks_done(&t);
		return rc;
	}
	if (st.kind == GLOBALS_SET) {
		/* LOCAL: the setting ends with the transaction, not the session. */
		char *rest = join_range(&t, 1, t.n);
		st.sql = xasprintf("SET LOCAL %s", rest);
		free(rest);
	} else {
		st.sql = join_tokens(&t, t.n);
	}
	if (st.grantor)
		st.sql_no_grantor = join_tokens(&t, granted_by_at);
	push_stmt(out, &st);
	toks_done(&t);
	return 0;
}

int globals_parse(const char *text, const char *what, struct globals_script *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	int line = 1;
	const char *s = text;
	while (*s) {
		if (*s == '\n' || *s == ' ' || *s == '\t' || *s == '\r') {
			line += *s++ == '\n';
			continue;
		}
		size_t len = strcspn(s, "\n");
		if (strncmp(s, "--", 2) == 0 || (*s == '\\' && restrict_line(s, len))) {
			s += len;
			continue;
		}
		if (*s == '\\') {
			globals_script_done(out);
			return refuse_line(what, line, "a psql meta-command", e);
		}
		if (parse_one(&s, &line, what, out, e) < 0) {
			globals_script_done(out);
			return -1;
		}
	}
	return 0;
}

void globals_script_done(struct globals_script *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].role), free(s->v[i].grantor);
		free(s->v[i].sql), free(s->v[i].sql_no_grantor);
	}
	free(s->v);
	*s = (struct globals_script){0};
}

/* ---- applying ------------------------------------------------------------------ */

struct apply_state {
	struct strset existing;   /* roles before this run */
	struct strset created;    /* roles made by this run */
	char *self;               /* current_user: never altered */
	bool update_roles;
};

static int load_roles(db_conn *admin, struct apply_state *a, struct err *e)
{
	db_result *r = db_query(admin, "SELECT rolname, rolname = current_user FROM pg_roles", 0, NULL, e);
	if (!r)
		return -1;
	for (int i = 0; i < db_result_rows(r); i++) {
		strset_add(&a->existing, db_result_value(r, i, 0), 0);
		if (strcmp(db_result_value(r, i, 1), "t") == 0)
			a->self = xstrdup(db_result_value(r, i, 0));
	}
	db_result_free(r);
	return 0;
}

/* The SQL to run for st, or NULL to leave it out. */
static const char *decide(struct apply_state *a, const struct globals_stmt *st, struct globals_report *r)
{
	bool made = st->role && strset_get(&a->created, st->role, NULL);
	bool self = st->role && a->self && strcmp(st->role, a->self) == 0;
	switch (st->kind) {
	case GLOBALS_SET:
		return st->sql;
	case GLOBALS_CREATE:
		if (strset_get(&a->existing, st->role, NULL) || made) {
			r->kept++;
			return NULL;
		}
		strset_add(&a->created, st->role, 0);
		r->created++;
		return st->sql;
	case GLOBALS_ALTER:
	case GLOBALS_GRANT:
		break;
	}
	if (!made && (!a->update_roles || self))
		return NULL;
	bool grantor_known = !st->grantor || strset_get(&a->existing, st->grantor, NULL) ||
			     strset_get(&a->created, st->grantor, NULL);
	return grantor_known ? st->sql : st->sql_no_grantor;
}

static int run_all(db_conn *admin, struct apply_state *a, const struct globals_script *s, const char *what,
		   struct globals_report *r, struct err *e)
{
	struct strset updated = {0};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct globals_stmt *st = &s->v[i];
		const char *sql = decide(a, st, r);
		if (!sql)
			continue;
		if (st->kind != GLOBALS_SET && st->kind != GLOBALS_CREATE &&
		    !strset_get(&a->created, st->role, NULL) && strset_add(&updated, st->role, 0))
			r->updated++;
		if (db_exec(admin, sql, e) < 0)
			rc = err_prefix(e, "%s line %d", what, st->line);
	}
	strset_done(&updated);
	return rc;
}

int globals_apply(db_conn *admin, const struct globals_script *s, bool update_roles, const char *what,
		  const struct event_sink *ev, struct globals_report *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct apply_state a = {.update_roles = update_roles};
	int rc = load_roles(admin, &a, e);
	if (rc == 0)
		rc = db_exec(admin, "BEGIN", e);
	if (rc == 0) {
		rc = run_all(admin, &a, s, what, r, e);
		if (rc == 0)
			rc = db_exec(admin, "COMMIT", e);
		else
			db_rollback(admin);
	}
	if (rc == 0)
		event_log(ev, EV_INFO, "roles: %zu created, %zu kept as they are%s", r->created, r->kept,
			  r->updated ? " (some updated, --update-roles)" : "");
	strset_done(&a.existing), strset_done(&a.created);
	free(a.self);
	return rc;
}
