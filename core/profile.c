/* profile — load, validate and expand JSON profiles (jansson).
 *
 * A profile is read in one pass per section, in a fixed order: app first
 * (its env file feeds ${VAR} expansion of everything else), then database,
 * backup, ssh, services, health, registry, hooks, migrations, actions,
 * seeds, log_dir, description. Every object's keys are checked against the
 * section's table before its values, so a typo is reported as a typo and
 * not as a missing key. */
#include "profile.h"
#include "fsx.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define KP_MAX 512
#define SPANS_MAX 8

#ifndef FERRY_SYSTEM_PROFILES
#define FERRY_SYSTEM_PROFILES "/etc/ferry/profiles.json"
#endif
#define LOCAL_PROFILES "./config/migration_profiles.json"

static const char *const PASSWORD_HINT =
	"remove it; libpq reads PGPASSWORD, ~/.pgpass (PGPASSFILE) or the env file"
	" \xe2\x80\x94 write ${DB_PASSWORD} to take it from there";
static const char *const FILE_SHAPE_HINT =
	"a profiles file looks like {\"production\": {\"database\": "
	"{\"url\": \"postgresql://USER@HOST:5432/DBNAME\"}}}";

struct profile_file {
	char *path;                 /* as given by the caller, for messages */
	struct profile *profiles;
	size_t n;
};

/* ---- values in messages ------------------------------------------------- */

struct desc {
	char s[256];
};

/* A JSON value as messages show it: strings quoted, numbers plain, the rest
 * named ("an object", "an array", true, false, null). */
static struct desc describe(const json_t *v)
{
	struct desc d;
	switch (json_typeof(v)) {
	case JSON_OBJECT: snprintf(d.s, sizeof d.s, "an object"); break;
	case JSON_ARRAY: snprintf(d.s, sizeof d.s, "an array"); break;
	case JSON_TRUE: snprintf(d.s, sizeof d.s, "true"); break;
	case JSON_FALSE: snprintf(d.s, sizeof d.s, "false"); break;
	case JSON_NULL: snprintf(d.s, sizeof d.s, "null"); break;
	default: {
		char *text = json_dumps(v, JSON_ENCODE_ANY);
		snprintf(d.s, sizeof d.s, "%s", text ? text : "?");
		free(text);
	}
	}
	return d;
}

/* A C string in double quotes, escaped as JSON would. */
static struct desc quote(const char *s)
{
	json_t *j = json_string(s);
	struct desc d;
	if (j)
		d = describe(j);
	else
		snprintf(d.s, sizeof d.s, "\"%s\"", s);
	json_decref(j);
	return d;
}

/* "a, b, c" from a NULL-terminated list. */
static char *join_list(const char *const *list)
{
	struct sbuf b = {0};
	for (size_t i = 0; list[i]; i++) {
		if (i)
			sbuf_adds(&b, ", ");
		sbuf_adds(&b, list[i]);
	}
	return sbuf_take(&b);
}

static bool list_has(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* The candidate closest to word: edit distance <= 2, else a prefix match
 * either way; NULL when none is close. */
static const char *did_you_mean(const char *const *cands, size_t n, const char *word)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = util_edit_distance(cands[i], word);
		if (d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	if (best || !*word)
		return best;
	for (size_t i = 0; i < n; i++)
		if (str_starts(cands[i], word) || str_starts(word, cands[i]))
			return cands[i];
	return NULL;
}

static size_t list_len(const char *const *list)
{
	size_t n = 0;
	while (list[n])
		n++;
	return n;
}

/* ---- paths ------------------------------------------------------------- */

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	if (home && *home)
		return home;
	const struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* "~" and "~/..." at the start become $HOME; anything else is copied. */
static char *expand_tilde(const char *s)
{
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/'))
		return xasprintf("%s%s", home_dir(), s + 1);
	return xstrdup(s);
}

/* Lexically clean an absolute path: no empty or "." parts, ".." folded,
 * no trailing slash. Nothing is required to exist. */
static char *path_clean(const char *abs)
{
	char *out = xmalloc(strlen(abs) + 2);
	size_t o = 0;
	const char *s = abs;
	while (*s) {
		while (*s == '/')
			s++;
		const char *end = s;
		while (*end && *end != '/')
			end++;
		size_t n = (size_t)(end - s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s = end;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* s with ~ expanded, made absolute against base and cleaned. */
static char *path_resolve(const char *base, const char *s)
{
	char *t = expand_tilde(s);
	char *joined = t[0] == '/' ? xstrdup(t) : xasprintf("%s/%s", base, t);
	char *clean = path_clean(joined);
	free(joined);
	free(t);
	return clean;
}

/* A path relative to the current directory, made absolute; NULL when the
 * current directory cannot be read. */
static char *path_absolute(const char *path)
{
	if (path[0] == '/')
		return path_clean(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	char *joined = xasprintf("%s/%s", cwd, path);
	char *clean = path_clean(joined);
	free(joined);
	free(cwd);
	return clean;
}

static char *path_dirname(const char *abs)
{
	const char *slash = strrchr(abs, '/');
	if (!slash || slash == abs)
		return xstrdup("/");
	return xstrndup(abs, (size_t)(slash - abs));
}

/* A relative path without ".." parts, cleaned ("." for the root itself);
 * NULL when s is absolute or climbs out. */
static char *relative_clean(const char *s)
{
	if (s[0] == '/' || s[0] == '\0')
		return NULL;
	char *rooted = xasprintf("/%s", s);
	const char *p = rooted;
	bool climbs = false;
	while (*p && !climbs) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		climbs = n == 2 && p[0] == '.' && p[1] == '.';
		p += n;
	}
	char *clean = climbs ? NULL : path_clean(rooted);
	free(rooted);
	if (!clean)
		return NULL;
	char *rel = xstrdup(clean[1] ? clean + 1 : ".");
	free(clean);
	return rel;
}

/* ---- variables ---------------------------------------------------------- */

static bool var_name_valid(const char *s, size_t n)
{
	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* true when s[0..n) is exactly one "${NAME}". */
static bool is_whole_var(const char *s, size_t n)
{
	return n > 3 && s[0] == '$' && s[1] == '{' && s[n - 1] == '}' &&
	       var_name_valid(s + 2, n - 3);
}

static bool var_name_secret(const char *name)
{
	static const char *const words[] = {"PASSWORD", "SECRET", "TOKEN", "KEY"};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcasestr(name, words[i]))
			return true;
	return false;
}

/* ---- connection strings ------------------------------------------------- */

struct span {
	size_t start, len;
};

static bool is_uri(const char *s)
{
	return str_starts(s, "postgresql://") || str_starts(s, "postgres://");
}

/* End of the text from s on that is not inside ${...} and not one of stops. */
static size_t scan_until(const char *s, size_t i, const char *stops)
{
	while (s[i] && !strchr(stops, s[i])) {
		if (s[i] == '$' && s[i + 1] == '{') {
			const char *close = strchr(s + i, '}');
			if (close) {
				i = (size_t)(close - s) + 1;
				continue;
			}
		}
		i++;
	}
	return i;
}

/* Where a URI's authority (user:pass@host:port) starts and ends. */
static void uri_authority(const char *s, size_t *start, size_t *end)
{
	*start = (size_t)(strstr(s, "://") - s) + 3;
	*end = scan_until(s, *start, "/?#");
}

/* The password in user:pass@, when there is a ':' in the user info. */
static bool uri_userinfo_password(const char *s, struct span *sp)
{
	size_t a, b;
	uri_authority(s, &a, &b);
	size_t at = b;
	for (size_t i = a; i < b; i++)
		if (s[i] == '@')
			at = i;
	if (at == b)
		return false;
	size_t colon = scan_until(s, a, ":");
	if (colon >= at)
		return false;
	sp->start = colon + 1;
	sp->len = at - colon - 1;
	return true;
}

/* The values of key=... in a URI's query string, at most max. */
static size_t uri_query_params(const char *s, const char *key, struct span *out, size_t max)
{
	size_t a, b, n = 0;
	uri_authority(s, &a, &b);
	const char *q = strchr(s + b, '?');
	if (!q)
		return 0;
	size_t i = (size_t)(q - s) + 1;
	size_t klen = strlen(key);
	while (s[i] && s[i] != '#' && n < max) {
		size_t end = i + strcspn(s + i, "&#");
		if ((size_t)(end - i) > klen && strncmp(s + i, key, klen) == 0 && s[i + klen] == '=') {
			out[n].start = i + klen + 1;
			out[n].len = end - out[n].start;
			n++;
		}
		i = s[end] == '&' ? end + 1 : end;
	}
	return n;
}

struct kv_pair {
	struct span key, value;   /* value includes its quotes, if any */
};

static size_t skip_space(const char *s, size_t i)
{
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* The next key=value pair of a libpq key=value string; false at the end. */
static bool kv_next(const char *s, size_t *pos, struct kv_pair *kv)
{
	size_t i = skip_space(s, *pos);
	if (!s[i])
		return false;
	kv->key.start = i;
	while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
		i++;
	kv->key.len = i - kv->key.start;
	i = skip_space(s, i);
	if (s[i] == '=')
		i = skip_space(s, i + 1);
	kv->value.start = i;
	if (s[i] == '\'') {
		for (i++; s[i] && s[i] != '\''; i++)
			if (s[i] == '\\' && s[i + 1])
				i++;
		if (s[i])
			i++;
	} else {
		for (; s[i] && !isspace((unsigned char)s[i]); i++)
			if (s[i] == '\\' && s[i + 1])
				i++;
	}
	kv->value.len = i - kv->value.start;
	*pos = i;
	return true;
}

static bool span_is(const char *s, struct span sp, const char *word)
{
	return sp.len == strlen(word) && strncmp(s + sp.start, word, sp.len) == 0;
}

/* A key=value value without its quotes and backslash escapes. */
static char *kv_unquote(const char *s, struct span sp)
{
	const char *v = s + sp.start;
	size_t n = sp.len;
	if (n >= 1 && v[0] == '\'') {
		v++;
		n -= (n >= 2 && v[n - 2] == '\'') ? 2 : 1;
	}
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n)
			i++;
		sbuf_addc(&b, v[i]);
	}
	return sbuf_take(&b);
}

/* Every password value in a conninfo: URI user info and ?password=, or
 * key=value password=. */
static size_t password_spans(const char *s, struct span *out, size_t max)
{
	size_t n = 0;
	if (is_uri(s)) {
		if (uri_userinfo_password(s, &out[0]))
			n++;
		return n + uri_query_params(s, "password", out + n, max - n);
	}
	size_t pos = 0;
	struct kv_pair kv;
	while (n < max && kv_next(s, &pos, &kv))
		if (span_is(s, kv.key, "password"))
			out[n++] = kv.value;
	return n;
}

static char *percent_decode(const char *s, size_t n)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], '\0'};
			sbuf_addc(&b, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			sbuf_addc(&b, s[i]);
		}
	}
	return sbuf_take(&b);
}

static char *uri_db_name(const char *s)
{
	size_t a, b;
	uri_authority(s, &a, &b);
	if (s[b] == '/') {
		size_t end = b + 1 + strcspn(s + b + 1, "?#");
		if (end > b + 1)
			return percent_decode(s + b + 1, end - b - 1);
	}
	struct span sp;
	if (uri_query_params(s, "dbname", &sp, 1) == 1 && sp.len > 0)
		return percent_decode(s + sp.start, sp.len);
	return NULL;
}

static char *kv_db_name(const char *s)
{
	size_t pos = 0;
	struct kv_pair kv;
	char *name = NULL;
	while (kv_next(s, &pos, &kv)) {
		if (span_is(s, kv.key, "dbname")) {
			free(name);
			name = kv_unquote(s, kv.value);
		}
	}
	if (name && !*name) {
		free(name);
		name = NULL;
	}
	return name;
}

/* ---- loading context ---------------------------------------------------- */

struct ctx {
	const char *path;          /* profiles file as given, for messages */
	const char *dir;           /* its absolute directory */
	struct err *e;
	struct profile *p;         /* being filled; collects secrets */
	struct strv env_keys;      /* from app.env_file, in file order */
	struct strv env_values;
	bool env_only;             /* expanding app.root / app.env_file */
};

/* "<file>: <keypath>: <problem>" as an ERR_PROFILE; returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const char *kp, const char *fmt, ...)
{
	char problem[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof problem, fmt, ap);
	va_end(ap);
	return err_set(c->e, ERR_PROFILE, "%s: %s: %s", c->path, kp, problem);
}

/* A key path too long for the buffer ends in "..." (messages only). */
static void keypath_mark_cut(char *out, int written)
{
	if (written >= KP_MAX)
		memcpy(out + KP_MAX - 4, "...", 4);
}

static void keypath(char *out, const char *parent, const char *key)
{
	keypath_mark_cut(out, snprintf(out, KP_MAX, "%s.%s", parent, key));
}

static void keypath_index(char *out, const char *parent, size_t i)
{
	keypath_mark_cut(out, snprintf(out, KP_MAX, "%s[%zu]", parent, i));
}

static const char *env_file_value(const struct ctx *c, const char *name)
{
	for (size_t i = c->env_keys.n; i-- > 0;)
		if (strcmp(c->env_keys.v[i], name) == 0)
			return c->env_values.v[i];
	return NULL;
}

/* The environment first, then the env file (unless expanding its own path). */
static const char *lookup_var(const struct ctx *c, const char *name)
{
	const char *v = getenv(name);
	if (v || c->env_only)
		return v;
	return env_file_value(c, name);
}

static void remember_secret(struct profile *p, const char *value)
{
	if (*value && !strv_contains(&p->secrets, value))
		strv_push(&p->secrets, value);
}

static int fail_unset(struct ctx *c, const char *kp, const char *name)
{
	fail(c, kp, "${%s} is not set", name);
	if (c->env_only)
		return err_hint(c->e, "set it in the environment (app.root and app.env_file"
				" are expanded from the environment only)");
	if (c->p->app.env_file)
		return err_hint(c->e, "set it in the environment or in %s", c->p->app.env_file);
	return err_hint(c->e, "set it in the environment, or name an env file in app.env_file");
}

/* One "${NAME}" at s (s[0..1] == "${"): appends its value to b and sets
 * *used to the length of the reference. */
static int expand_one(struct ctx *c, const char *kp, const char *s, struct sbuf *b, size_t *used)
{
	const char *close = strchr(s, '}');
	if (!close) {
		fail(c, kp, "unterminated ${ in %s", quote(s).s);
		return err_hint(c->e, "write ${NAME}, or $$ for a literal $");
	}
	size_t n = (size_t)(close - s) - 2;
	char *name = xstrndup(s + 2, n);
	int rc = 0;
	if (!var_name_valid(name, n)) {
		rc = fail(c, kp, "bad variable name ${%s}", name);
		err_hint(c->e, "names are letters, digits and _, not starting with a digit;"
			 " write $$ for a literal $");
	} else {
		const char *value = lookup_var(c, name);
		if (!value) {
			rc = fail_unset(c, kp, name);
		} else {
			if (var_name_secret(name))
				remember_secret(c->p, value);
			sbuf_adds(b, value);
		}
	}
	free(name);
	*used = (size_t)(close - s) + 1;
	return rc;
}

/* ${NAME} replaced by its value, $$ by $; any other $ is kept. */
static int expand(struct ctx *c, const char *kp, const char *raw, char **out)
{
	struct sbuf b = {0};
	size_t i = 0;
	while (raw[i]) {
		if (raw[i] == '$' && raw[i + 1] == '$') {
			sbuf_addc(&b, '$');
			i += 2;
		} else if (raw[i] == '$' && raw[i + 1] == '{') {
			size_t used = 0;
			if (expand_one(c, kp, raw + i, &b, &used) < 0) {
				sbuf_done(&b);
				return -1;
			}
			i += used;
		} else {
			sbuf_addc(&b, raw[i++]);
		}
	}
	*out = sbuf_take(&b);
	return 0;
}

/* ---- env file ----------------------------------------------------------- */

static size_t env_key_len(const char *s)
{
	size_t n = 0;
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

/* Only blanks or a # comment left after a closing quote. */
static bool rest_is_blank(const char *s)
{
	s += strspn(s, " \t");
	return *s == '\0' || *s == '#';
}

static const char *env_value_double(const char *s, char **out)
{
	struct sbuf b = {0};
	size_t i = 1;
	for (; s[i] && s[i] != '"'; i++) {
		if (s[i] == '\\' && s[i + 1]) {
			char ch = s[++i];
			sbuf_addc(&b, ch == 'n' ? '\n' : ch == 't' ? '\t' : ch);
			continue;
		}
		sbuf_addc(&b, s[i]);
	}
	*out = sbuf_take(&b);
	if (!s[i])
		return "unterminated double quote";
	return rest_is_blank(s + i + 1) ? NULL : "text after the closing quote";
}

static const char *env_value_single(const char *s, char **out)
{
	const char *close = strchr(s + 1, '\'');
	*out = xstrndup(s + 1, close ? (size_t)(close - s - 1) : strlen(s + 1));
	if (!close)
		return "unterminated single quote";
	return rest_is_blank(close + 1) ? NULL : "text after the closing quote";
}

/* Unquoted: up to a " #" comment, trailing blanks trimmed. */
static const char *env_value_plain(const char *s, char **out)
{
	size_t n = 0;
	while (s[n] && !(s[n] == '#' && n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')))
		n++;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*out = xstrndup(s, n);
	return NULL;
}

/* One line of an env file; *key stays NULL for blank and comment lines.
 * Returns NULL or what is wrong with the line. */
static const char *env_parse_line(char *line, char **key, char **value)
{
	line[strcspn(line, "\r\n")] = '\0';
	const char *s = line + strspn(line, " \t");
	*key = *value = NULL;
	if (*s == '\0' || *s == '#')
		return NULL;
	if (str_starts(s, "export ") || str_starts(s, "export\t"))
		s += 7 + strspn(s + 7, " \t");
	size_t klen = env_key_len(s);
	const char *eq = s + klen + strspn(s + klen, " \t");
	if (klen == 0 || *eq != '=')
		return "expected KEY=VALUE";
	const char *v = eq + 1 + strspn(eq + 1, " \t");
	const char *problem = *v == '"'  ? env_value_double(v, value)
			      : *v == '\'' ? env_value_single(v, value)
					   : env_value_plain(v, value);
	if (problem) {
		free(*value);
		*value = NULL;
		return problem;
	}
	*key = xstrndup(s, klen);
	return NULL;
}

static int env_file_read(struct ctx *c, const char *kp, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fail(c, kp, "cannot read %s: %s", file, strerror(errno));
		return err_hint(c->e, "create it (KEY=VALUE lines) or remove app.env_file");
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		char *key, *value;
		lineno++;
		const char *problem = env_parse_line(line, &key, &value);
		if (problem) {
			rc = fail(c, kp, "%s:%d: %s", file, lineno, problem);
		} else if (key) {
			strv_push(&c->env_keys, key);
			strv_push(&c->env_values, value);
		}
		free(key);
		free(value);
	}
	if (rc == 0 && ferror(f))
		rc = fail(c, kp, "cannot read %s: %s", file, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

/* ---- typed getters ------------------------------------------------------ */

enum { OPTIONAL = 0, REQUIRED = 1, NONEMPTY = 2 };

/* The member key of obj (NULL when absent); kp receives its key path. */
static json_t *member(json_t *obj, const char *parent, const char *key, char *kp)
{
	keypath(kp, parent, key);
	return json_object_get(obj, key);
}

static int check_keys(struct ctx *c, json_t *obj, const char *parent,
		      const char *const *valid)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (list_has(valid, key))
			continue;
		char kp[KP_MAX];
		keypath(kp, parent, key);
		fail(c, kp, "unknown key");
		const char *guess = did_you_mean(valid, list_len(valid), key);
		if (guess)
			return err_hint(c->e, "did you mean \"%s\"?", guess);
		char *all = join_list(valid);
		err_hint(c->e, "valid keys: %s", all);
		free(all);
		return -1;
	}
	return 0;
}

static int fail_missing(struct ctx *c, const char *kp)
{
	return fail(c, kp, "missing");
}

/* A string value, expanded; *out is replaced (old value freed) when present. */
static int string_value(struct ctx *c, const char *kp, const json_t *v, int flags, char **out)
{
	if (!json_is_string(v))
		return fail(c, kp, "expected a string, got %s", describe(v).s);
	const char *raw = json_string_value(v);
	if ((flags & NONEMPTY) && !*raw)
		return fail(c, kp, "expected a non-empty string, got \"\"");
	char *s;
	if (expand(c, kp, raw, &s) < 0)
		return -1;
	if ((flags & NONEMPTY) && !*s) {
		free(s);
		return fail(c, kp, "%s expands to an empty string", quote(raw).s);
	}
	free(*out);
	*out = s;
	return 0;
}

static int get_string(struct ctx *c, json_t *obj, const char *parent, const char *key,
		      int flags, char **out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	if (!v)
		return (flags & REQUIRED) ? fail_missing(c, kp) : 0;
	return string_value(c, kp, v, flags, out);
}

/* A path: expanded, ~ expanded, absolute against base, cleaned. */
static int get_path(struct ctx *c, json_t *obj, const char *parent, const char *key,
		    const char *base, char **out)
{
	char *s = NULL;
	if (get_string(c, obj, parent, key, NONEMPTY, &s) < 0)
		return -1;
	if (s) {
		free(*out);
		*out = path_resolve(base, s);
		free(s);
	}
	return 0;
}

static int get_bool(struct ctx *c, json_t *obj, const char *parent, const char *key, bool *out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(c, kp, "expected true or false, got %s", describe(v).s);
	*out = json_is_true(v);
	return 0;
}

/* An integer in [min, max]; max == INT_MAX reads "an integer >= min",
 * INT_MIN..INT_MAX just "an integer".
 * what, when not NULL, is appended to the range ("1-19 for zstd"). */
static int get_int(struct ctx *c, json_t *obj, const char *parent, const char *key,
		   long min, long max, const char *what, int *out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	if (!v)
		return 0;
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (!json_is_integer(v) || n < min || n > max) {
		char range[64] = "";
		if (min == INT_MIN && max == INT_MAX)
			range[0] = '\0';
		else if (max == INT_MAX)
			snprintf(range, sizeof range, " >= %ld", min);
		else
			snprintf(range, sizeof range, " %ld-%ld", min, max);
		return fail(c, kp, "expected an integer%s%s%s, got %s", range,
			    what ? " " : "", what ? what : "", describe(v).s);
	}
	*out = (int)n;
	return 0;
}

static int fail_enum(struct ctx *c, const char *kp, const char *const *choices,
		     const char *got)
{
	char *all = join_list(choices);
	fail(c, kp, "expected one of %s, got %s", all, got);
	free(all);
	return -1;
}

static int enum_value(struct ctx *c, const char *kp, const json_t *v,
		      const char *const *choices, char **out)
{
	if (!json_is_string(v))
		return fail_enum(c, kp, choices, describe(v).s);
	char *s;
	if (expand(c, kp, json_string_value(v), &s) < 0)
		return -1;
	if (!list_has(choices, s)) {
		fail_enum(c, kp, choices, quote(s).s);
		free(s);
		return -1;
	}
	free(*out);
	*out = s;
	return 0;
}

static int get_enum(struct ctx *c, json_t *obj, const char *parent, const char *key,
		    const char *const *choices, char **out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	return v ? enum_value(c, kp, v, choices, out) : 0;
}

/* An array of strings, each expanded, appended to out. */
static int get_strv(struct ctx *c, json_t *obj, const char *parent, const char *key,
		    struct strv *out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (!json_is_array(v))
		return fail(c, kp, "expected an array of strings, got %s", describe(v).s);
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		char ikp[KP_MAX];
		char *s = NULL;
		keypath_index(ikp, kp, i);
		if (string_value(c, ikp, item, NONEMPTY, &s) < 0)
			return -1;
		strv_push(out, s);
		free(s);
	}
	return 0;
}

static int get_object(struct ctx *c, json_t *obj, const char *parent, const char *key,
		      json_t **out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return fail(c, kp, "expected an object, got %s", describe(v).s);
	*out = v;
	return 0;
}

/* The section object at parent.key, its keys checked; *out NULL when absent. */
static int get_section(struct ctx *c, json_t *obj, const char *parent, const char *key,
		       const char *const *valid, json_t **out, char *kp)
{
	keypath(kp, parent, key);
	if (get_object(c, obj, parent, key, out) < 0)
		return -1;
	return *out ? check_keys(c, *out, kp, valid) : 0;
}

/* ---- literal passwords -------------------------------------------------- */

/* A password in a raw (unexpanded) conninfo must be a whole ${VAR}. */
static int check_no_literal_password(struct ctx *c, const char *kp, const char *raw)
{
	struct span spans[SPANS_MAX];
	size_t n = password_spans(raw, spans, SPANS_MAX);
	for (size_t i = 0; i < n; i++) {
		char *value = is_uri(raw) ? xstrndup(raw + spans[i].start, spans[i].len)
					  : kv_unquote(raw, spans[i]);
		bool literal = *value && !is_whole_var(value, strlen(value));
		free(value);
		if (literal) {
			fail(c, kp, "contains a literal password");
			return err_hint(c->e, "%s", PASSWORD_HINT);
		}
	}
	return 0;
}

/* A connection string: type-checked, checked for a literal password, expanded. */
static int get_conninfo(struct ctx *c, json_t *obj, const char *parent, const char *key,
			char **out)
{
	char kp[KP_MAX];
	json_t *v = member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (json_is_string(v) && check_no_literal_password(c, kp, json_string_value(v)) < 0)
		return -1;
	return string_value(c, kp, v, NONEMPTY, out);
}

/* ---- sections ----------------------------------------------------------- */

static const char *const profile_keys[] = {
	"description", "database", "app", "backup", "ssh", "services", "health",
	"registry", "hooks", "migrations", "actions", "seeds", "log_dir", NULL};
static const char *const database_keys[] = {"url", NULL};
static const char *const app_keys[] = {"root", "paths", "exclude", "env_file", NULL};
static const char *const backup_keys[] = {
	"dir", "compression", "level", "globals", "keep", "schedule", NULL};
static const char *const keep_keys[] = {
	"last", "daily", "weekly", "monthly", "manual_days", NULL};
static const char *const ssh_keys[] = {
	"host", "port", "user", "identity_file", "known_hosts", "use_ssh_config",
	"ferry_path", "remote_profiles", NULL};
static const char *const services_keys[] = {
	"orchestrator", "restart", "stop", "start", "status", "rollback", NULL};
static const char *const health_keys[] = {
	"name", "url", "expect", "timeout_s", "retries", "interval_s",
	"follow_redirects", NULL};
static const char *const registry_keys[] = {
	"file", "primary_url", "fallback_url", "grace_period", NULL};
static const char *const hooks_keys[] = {
	"pre_backup", "post_backup", "pre_restore", "post_restore", "pre_deploy",
	"post_deploy", NULL};
static const char *const migrations_keys[] = {"command", "status_command", "dir", NULL};
static const char *const action_keys[] = {"sql", "params", "confirm", "description", NULL};

static const char *const compressions[] = {"zstd", "gzip", "none", NULL};
static const char *const orchestrators[] = {"docker", "pm2", "systemd", "custom", NULL};
static const char *const schedules[] = {"daily", "weekly", "monthly", NULL};

static void set_defaults(struct profile *p)
{
	p->backup.dir = path_resolve(p->dir, "backups");
	p->backup.compression = xstrdup("zstd");
	p->backup.level = 1;
	p->backup.keep = (struct profile_keep){
		.last = 10, .daily = 7, .weekly = 4, .monthly = 12, .manual_days = 30};
	p->ssh.port = 22;
	p->ssh.known_hosts = path_resolve(p->dir, "~/.ssh/known_hosts");
	p->ssh.use_ssh_config = true;
	p->ssh.ferry_path = xstrdup("ferry");
	p->log_dir = path_resolve(p->dir, "logs");
}

static int check_app_paths(struct ctx *c, const char *parent, struct strv *paths)
{
	char kp[KP_MAX];
	keypath(kp, parent, "paths");
	for (size_t i = 0; i < paths->n; i++) {
		char *rel = relative_clean(paths->v[i]);
		if (!rel) {
			char ikp[KP_MAX];
			keypath_index(ikp, kp, i);
			return fail(c, ikp, "expected a path relative to app.root without \"..\", got %s",
				    quote(paths->v[i]).s);
		}
		free(paths->v[i]);
		paths->v[i] = rel;
	}
	return 0;
}

static int load_app(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *app;
	if (get_section(c, prof, name, "app", app_keys, &app, kp) < 0)
		return -1;
	if (!app)
		return 0;
	struct profile *p = c->p;
	p->has_app = true;
	p->app.root = xstrdup(p->dir);
	c->env_only = true;
	int rc = get_path(c, app, kp, "root", c->dir, &p->app.root);
	if (rc == 0)
		rc = get_path(c, app, kp, "env_file", p->app.root, &p->app.env_file);
	c->env_only = false;
	if (rc == 0 && p->app.env_file) {
		char ekp[KP_MAX];
		keypath(ekp, kp, "env_file");
		rc = env_file_read(c, ekp, p->app.env_file);
	}
	if (rc == 0)
		rc = get_strv(c, app, kp, "paths", &p->app.paths);
	if (rc == 0)
		rc = check_app_paths(c, kp, &p->app.paths);
	if (rc == 0)
		rc = get_strv(c, app, kp, "exclude", &p->app.exclude);
	return rc;
}

static int load_database(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX], ukp[KP_MAX];
	json_t *db;
	if (get_section(c, prof, name, "database", database_keys, &db, kp) < 0)
		return -1;
	json_t *url = db ? member(db, kp, "url", ukp) : NULL;
	keypath(ukp, kp, "url");
	const char *override = getenv("DATABASE_URL");
	if (override && *override) {
		/* The file's value must still be a string without a password. */
		if (url && !json_is_string(url))
			return fail(c, ukp, "expected a string, got %s", describe(url).s);
		if (url && check_no_literal_password(c, ukp, json_string_value(url)) < 0)
			return -1;
		c->p->database.url = xstrdup(override);
		return 0;
	}
	if (!url) {
		fail(c, ukp, "missing (or set DATABASE_URL)");
		return err_hint(c->e, "add \"database\": {\"url\": "
				"\"postgresql://USER@HOST:5432/DBNAME\"} to the profile");
	}
	return get_conninfo(c, db, kp, "url", &c->p->database.url);
}

static int load_keep(struct ctx *c, json_t *backup, const char *parent)
{
	char kp[KP_MAX];
	json_t *keep;
	if (get_section(c, backup, parent, "keep", keep_keys, &keep, kp) < 0)
		return -1;
	if (!keep)
		return 0;
	struct profile_keep *k = &c->p->backup.keep;
	if (get_int(c, keep, kp, "last", 0, INT_MAX, NULL, &k->last) < 0 ||
	    get_int(c, keep, kp, "daily", 0, INT_MAX, NULL, &k->daily) < 0 ||
	    get_int(c, keep, kp, "weekly", 0, INT_MAX, NULL, &k->weekly) < 0 ||
	    get_int(c, keep, kp, "monthly", 0, INT_MAX, NULL, &k->monthly) < 0)
		return -1;
	return get_int(c, keep, kp, "manual_days", 0, INT_MAX, NULL, &k->manual_days);
}

static int check_schedule(struct ctx *c, const char *parent, const struct strv *sv)
{
	char kp[KP_MAX];
	keypath(kp, parent, "schedule");
	for (size_t i = 0; i < sv->n; i++) {
		if (list_has(schedules, sv->v[i]))
			continue;
		char ikp[KP_MAX];
		keypath_index(ikp, kp, i);
		return fail_enum(c, ikp, schedules, quote(sv->v[i]).s);
	}
	return 0;
}

/* level: 1-19 for zstd, 1-9 for gzip, any integer (unused) for none. */
static int get_level(struct ctx *c, json_t *backup, const char *parent)
{
	const char *comp = c->p->backup.compression;
	if (strcmp(comp, "zstd") == 0)
		return get_int(c, backup, parent, "level", 1, 19, "for zstd", &c->p->backup.level);
	if (strcmp(comp, "gzip") == 0)
		return get_int(c, backup, parent, "level", 1, 9, "for gzip", &c->p->backup.level);
	return get_int(c, backup, parent, "level", INT_MIN, INT_MAX, NULL, &c->p->backup.level);
}

static int load_backup(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *b;
	if (get_section(c, prof, name, "backup", backup_keys, &b, kp) < 0)
		return -1;
	if (!b)
		return 0;
	struct profile *p = c->p;
	if (get_path(c, b, kp, "dir", c->dir, &p->backup.dir) < 0 ||
	    get_enum(c, b, kp, "compression", compressions, &p->backup.compression) < 0 ||
	    get_level(c, b, kp) < 0 ||
	    get_bool(c, b, kp, "globals", &p->backup.globals) < 0 ||
	    load_keep(c, b, kp) < 0 ||
	    get_strv(c, b, kp, "schedule", &p->backup.schedule) < 0)
		return -1;
	return check_schedule(c, kp, &p->backup.schedule);
}

static int load_ssh(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *s;
	if (get_section(c, prof, name, "ssh", ssh_keys, &s, kp) < 0)
		return -1;
	if (!s)
		return 0;
	struct profile *p = c->p;
	p->has_ssh = true;
	if (!json_object_get(s, "host")) {
		char hkp[KP_MAX];
		keypath(hkp, kp, "host");
		fail_missing(c, hkp);
		return err_hint(c->e, "ssh needs the server: \"ssh\": {\"host\": \"db2.example.com\"}");
	}
	if (get_string(c, s, kp, "host", NONEMPTY, &p->ssh.host) < 0 ||
	    get_int(c, s, kp, "port", 1, 65535, NULL, &p->ssh.port) < 0 ||
	    get_string(c, s, kp, "user", NONEMPTY, &p->ssh.user) < 0 ||
	    get_path(c, s, kp, "identity_file", c->dir, &p->ssh.identity_file) < 0 ||
	    get_path(c, s, kp, "known_hosts", c->dir, &p->ssh.known_hosts) < 0 ||
	    get_bool(c, s, kp, "use_ssh_config", &p->ssh.use_ssh_config) < 0 ||
	    get_string(c, s, kp, "ferry_path", NONEMPTY, &p->ssh.ferry_path) < 0)
		return -1;
	return get_string(c, s, kp, "remote_profiles", NONEMPTY, &p->ssh.remote_profiles);
}

static int load_services(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *s;
	if (get_section(c, prof, name, "services", services_keys, &s, kp) < 0)
		return -1;
	if (!s)
		return 0;
	struct profile *p = c->p;
	if (get_enum(c, s, kp, "orchestrator", orchestrators, &p->services.orchestrator) < 0 ||
	    get_strv(c, s, kp, "restart", &p->services.restart) < 0 ||
	    get_strv(c, s, kp, "stop", &p->services.stop) < 0 ||
	    get_strv(c, s, kp, "start", &p->services.start) < 0 ||
	    get_strv(c, s, kp, "status", &p->services.status) < 0)
		return -1;
	return get_strv(c, s, kp, "rollback", &p->services.rollback);
}

static int check_health_url(struct ctx *c, const char *parent, const char *url)
{
	if (str_starts(url, "http://") || str_starts(url, "https://"))
		return 0;
	char kp[KP_MAX];
	keypath(kp, parent, "url");
	return fail(c, kp, "expected an http:// or https:// URL, got %s", quote(url).s);
}

static int load_health_check(struct ctx *c, json_t *obj, const char *kp,
			     struct profile_health *h)
{
	*h = (struct profile_health){
		.expect = 200, .timeout_s = 5, .retries = 30, .interval_s = 1};
	if (!json_is_object(obj))
		return fail(c, kp, "expected an object, got %s", describe(obj).s);
	if (check_keys(c, obj, kp, health_keys) < 0 ||
	    get_string(c, obj, kp, "url", REQUIRED | NONEMPTY, &h->url) < 0 ||
	    check_health_url(c, kp, h->url) < 0 ||
	    get_string(c, obj, kp, "name", NONEMPTY, &h->name) < 0 ||
	    get_int(c, obj, kp, "expect", 100, 599, NULL, &h->expect) < 0 ||
	    get_int(c, obj, kp, "timeout_s", 1, 3600, NULL, &h->timeout_s) < 0 ||
	    get_int(c, obj, kp, "retries", 1, 10000, NULL, &h->retries) < 0 ||
	    get_int(c, obj, kp, "interval_s", 0, 3600, NULL, &h->interval_s) < 0)
		return -1;
	if (!h->name)
		h->name = xstrdup(h->url);
	return get_bool(c, obj, kp, "follow_redirects", &h->follow_redirects);
}

static int load_health(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *arr = member(prof, name, "health", kp);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return fail(c, kp, "expected an array of objects, got %s", describe(arr).s);
	struct profile *p = c->p;
	p->health = xcalloc(json_array_size(arr), sizeof *p->health);
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		char ikp[KP_MAX];
		keypath_index(ikp, kp, i);
		p->nhealth = i + 1;
		if (load_health_check(c, item, ikp, &p->health[i]) < 0)
			return -1;
	}
	return 0;
}

/* P[nY][nM][nW][nD][T[nH][nM][nS]], units in that order, at least one. */
static bool iso_duration_valid(const char *s)
{
	const char *units = "YMWD";
	bool any = false, in_time = false;
	if (*s++ != 'P')
		return false;
	while (*s) {
		if (*s == 'T' && !in_time) {
			in_time = true;
			units = "HMS";
			if (!*++s)
				return false;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		const char *u = *s ? strchr(units, *s) : NULL;
		if (!u)
			return false;
		units = u + 1;
		any = true;
		s++;
	}
	return any;
}

static int check_grace_period(struct ctx *c, const char *parent, const char *value)
{
	if (!value || iso_duration_valid(value))
		return 0;
	char kp[KP_MAX];
	keypath(kp, parent, "grace_period");
	return fail(c, kp, "expected an ISO-8601 duration like \"P7D\" or \"PT12H\", got %s",
		    quote(value).s);
}

static int load_registry(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *r;
	if (get_section(c, prof, name, "registry", registry_keys, &r, kp) < 0)
		return -1;
	if (!r)
		return 0;
	struct profile *p = c->p;
	p->has_registry = true;
	const char *base = p->has_app ? p->app.root : c->dir;
	if (get_path(c, r, kp, "file", base, &p->registry.file) < 0 ||
	    get_conninfo(c, r, kp, "primary_url", &p->registry.primary_url) < 0 ||
	    get_conninfo(c, r, kp, "fallback_url", &p->registry.fallback_url) < 0 ||
	    get_string(c, r, kp, "grace_period", NONEMPTY, &p->registry.grace_period) < 0)
		return -1;
	return check_grace_period(c, kp, p->registry.grace_period);
}

static int load_hooks(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *h;
	if (get_section(c, prof, name, "hooks", hooks_keys, &h, kp) < 0)
		return -1;
	if (!h)
		return 0;
	struct profile *p = c->p;
	if (get_strv(c, h, kp, "pre_backup", &p->hooks.pre_backup) < 0 ||
	    get_strv(c, h, kp, "post_backup", &p->hooks.post_backup) < 0 ||
	    get_strv(c, h, kp, "pre_restore", &p->hooks.pre_restore) < 0 ||
	    get_strv(c, h, kp, "post_restore", &p->hooks.post_restore) < 0 ||
	    get_strv(c, h, kp, "pre_deploy", &p->hooks.pre_deploy) < 0)
		return -1;
	return get_strv(c, h, kp, "post_deploy", &p->hooks.post_deploy);
}

static int load_migrations(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *m;
	if (get_section(c, prof, name, "migrations", migrations_keys, &m, kp) < 0)
		return -1;
	if (!m)
		return 0;
	if (json_object_get(m, "command") && json_object_get(m, "dir")) {
		fail(c, kp, "command and dir are mutually exclusive");
		return err_hint(c->e, "use command for the app's own runner (alembic, rails, ...)"
				" or dir for ferry's runner over plain SQL files");
	}
	if (json_object_get(m, "status_command") && !json_object_get(m, "command")) {
		char skp[KP_MAX];
		keypath(skp, kp, "status_command");
		fail(c, skp, "needs migrations.command");
		return err_hint(c->e, "add \"command\", or remove \"status_command\"");
	}
	struct profile *p = c->p;
	if (get_string(c, m, kp, "command", NONEMPTY, &p->migrations.command) < 0 ||
	    get_string(c, m, kp, "status_command", NONEMPTY, &p->migrations.status_command) < 0)
		return -1;
	return get_path(c, m, kp, "dir", c->dir, &p->migrations.dir);
}

static int load_action(struct ctx *c, const char *kp, json_t *obj, struct profile_action *a)
{
	if (!json_is_object(obj))
		return fail(c, kp, "expected an object, got %s", describe(obj).s);
	if (check_keys(c, obj, kp, action_keys) < 0 ||
	    get_string(c, obj, kp, "sql", REQUIRED | NONEMPTY, &a->sql) < 0 ||
	    get_strv(c, obj, kp, "params", &a->params) < 0 ||
	    get_bool(c, obj, kp, "confirm", &a->confirm) < 0)
		return -1;
	return get_string(c, obj, kp, "description", OPTIONAL, &a->description);
}

static int load_actions(struct ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *acts;
	if (get_object(c, prof, name, "actions", &acts) < 0)
		return -1;
	if (!acts)
		return 0;
	keypath(kp, name, "actions");
	struct profile *p = c->p;
	p->actions = xcalloc(json_object_size(acts), sizeof *p->actions);
	const char *aname;
	json_t *obj;
	json_object_foreach(acts, aname, obj) {
		char akp[KP_MAX];
		keypath(akp, kp, aname);
		struct profile_action *a = &p->actions[p->nactions++];
		a->name = xstrdup(aname);
		if (!*aname)
			return fail(c, akp, "an action needs a name");
		if (load_action(c, akp, obj, a) < 0)
			return -1;
	}
	return 0;
}

static int load_seeds(struct ctx *c, json_t *prof, const char *name)
{
	struct strv raw = {0};
	int rc = get_strv(c, prof, name, "seeds", &raw);
	for (size_t i = 0; rc == 0 && i < raw.n; i++) {
		char *abs = path_resolve(c->dir, raw.v[i]);
		strv_push(&c->p->seeds, abs);
		free(abs);
	}
	strv_done(&raw);
	return rc;
}

static int load_misc(struct ctx *c, json_t *prof, const char *name)
{
	if (get_path(c, prof, name, "log_dir", c->dir, &c->p->log_dir) < 0)
		return -1;
	return get_string(c, prof, name, "description", OPTIONAL, &c->p->description);
}

typedef int (*section_loader)(struct ctx *, json_t *, const char *);

/* app comes first: its env file feeds the expansion of everything else. */
static const section_loader section_loaders[] = {
	load_app, load_database, load_backup, load_ssh, load_services, load_health,
	load_registry, load_hooks, load_migrations, load_actions, load_seeds, load_misc};

static int load_profile(struct ctx *c, const char *name, json_t *obj)
{
	if (!*name)
		return err_set(c->e, ERR_PROFILE, "%s: a profile name must not be empty", c->path);
	if (!json_is_object(obj))
		return fail(c, name, "expected an object, got %s", describe(obj).s);
	if (check_keys(c, obj, name, profile_keys) < 0)
		return -1;
	set_defaults(c->p);
	for (size_t i = 0; i < sizeof section_loaders / sizeof *section_loaders; i++)
		if (section_loaders[i](c, obj, name) < 0)
			return -1;
	return 0;
}

/* ---- freeing ------------------------------------------------------------ */

static void health_done(struct profile_health *h)
{
	free(h->name);
	free(h->url);
}

static void action_done(struct profile_action *a)
{
	free(a->name);
	free(a->sql);
	strv_done(&a->params);
	free(a->description);
}

static void profile_done(struct profile *p)
{
	free(p->name);
	free(p->file);
	free(p->dir);
	free(p->database.url);
	free(p->app.root);
	strv_done(&p->app.paths);
	strv_done(&p->app.exclude);
	free(p->app.env_file);
	free(p->backup.dir);
	free(p->backup.compression);
	strv_done(&p->backup.schedule);
	free(p->ssh.host);
	free(p->ssh.user);
	free(p->ssh.identity_file);
	free(p->ssh.known_hosts);
	free(p->ssh.ferry_path);
	free(p->ssh.remote_profiles);
	free(p->services.orchestrator);
	strv_done(&p->services.restart);
	strv_done(&p->services.stop);
	strv_done(&p->services.start);
	strv_done(&p->services.status);
	strv_done(&p->services.rollback);
	for (size_t i = 0; i < p->nhealth; i++)
		health_done(&p->health[i]);
	free(p->health);
	free(p->registry.file);
	free(p->registry.primary_url);
	free(p->registry.fallback_url);
	free(p->registry.grace_period);
	strv_done(&p->hooks.pre_backup);
	strv_done(&p->hooks.post_backup);
	strv_done(&p->hooks.pre_restore);
	strv_done(&p->hooks.post_restore);
	strv_done(&p->hooks.pre_deploy);
	strv_done(&p->hooks.post_deploy);
	free(p->migrations.command);
	free(p->migrations.status_command);
	free(p->migrations.dir);
	for (size_t i = 0; i < p->nactions; i++)
		action_done(&p->actions[i]);
	free(p->actions);
	strv_done(&p->seeds);
	free(p->log_dir);
	free(p->description);
	strv_done(&p->secrets);
}

void profile_file_free(profile_file *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->n; i++)
		profile_done(&pf->profiles[i]);
	free(pf->profiles);
	free(pf->path);
	free(pf);
}

/* ---- files -------------------------------------------------------------- */

static bool text_is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

static json_t *parse_json(const char *text, size_t len, const char *path, struct err *e)
{
	if (text_is_blank(text, len)) {
		err_set(e, ERR_PROFILE, "%s: the file is empty", path);
		err_hint(e, "%s", FILE_SHAPE_HINT);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			err_set(e, ERR_PROFILE, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		else
			err_set(e, ERR_PROFILE, "%s: %s", path, jerr.text);
		err_hint(e, "check the JSON syntax near that position");
		return NULL;
	}
	if (!json_is_object(root) || json_object_size(root) == 0) {
		if (json_is_object(root))
			err_set(e, ERR_PROFILE, "%s: no profiles in the file", path);
		else
			err_set(e, ERR_PROFILE, "%s: expected an object of named profiles, got %s",
				path, describe(root).s);
		err_hint(e, "%s", FILE_SHAPE_HINT);
		json_decref(root);
		return NULL;
	}
	return root;
}

static int load_profiles(profile_file *pf, json_t *root, const char *abs, struct err *e)
{
	char *dir = path_dirname(abs);
	pf->profiles = xcalloc(json_object_size(root), sizeof *pf->profiles);
	const char *name;
	json_t *obj;
	int rc = 0;
	json_object_foreach(root, name, obj) {
		struct profile *p = &pf->profiles[pf->n++];
		p->name = xstrdup(name);
		p->file = xstrdup(abs);
		p->dir = xstrdup(dir);
		struct ctx c = {.path = pf->path, .dir = dir, .e = e, .p = p};
		rc = load_profile(&c, name, obj);
		strv_done(&c.env_keys);
		strv_done(&c.env_values);
		if (rc < 0)
			break;
	}
	free(dir);
	return rc;
}

static profile_file *load_text(const char *text, size_t len, const char *path, struct err *e)
{
	if (!path)
		path = "-";
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;   /* a UTF-8 byte order mark, as some editors write */
		len -= 3;
	}
	json_t *root = parse_json(text, len, path, e);
	if (!root)
		return NULL;
	char *abs = path_absolute(path);
	if (!abs) {
		err_set(e, ERR_PROFILE, "%s: cannot read the current directory: %s", path,
			strerror(errno));
		json_decref(root);
		return NULL;
	}
	profile_file *pf = xcalloc(1, sizeof *pf);
	pf->path = xstrdup(path);
	int rc = load_profiles(pf, root, abs, e);
	free(abs);
	json_decref(root);
	if (rc < 0) {
		profile_file_free(pf);
		return NULL;
	}
	return pf;
}

profile_file *profile_file_load_string(const char *json, const char *path, struct err *e)
{
	return load_text(json, strlen(json), path, e);
}

profile_file *profile_file_load(const char *path, struct err *e)
{
	if (!path) {
		err_set(e, ERR_PROFILE, "no profiles file given");
		return NULL;
	}
	size_t len = 0;
	char *text = fsx_read_file(path, PROFILE_FILE_MAX, &len, e);
	if (!text) {
		e->kind = ERR_PROFILE;
		return NULL;
	}
	profile_file *pf = load_text(text, len, path, e);
	free(text);
	return pf;
}

size_t profile_file_count(const profile_file *pf)
{
	return pf ? pf->n : 0;
}

const struct profile *profile_file_at(const profile_file *pf, size_t i)
{
	return pf && i < pf->n ? &pf->profiles[i] : NULL;
}

const char *profile_file_path(const profile_file *pf)
{
	return pf ? pf->path : NULL;
}

/* ---- picking a profile -------------------------------------------------- */

static char *profile_names(const profile_file *pf)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < pf->n; i++) {
		if (i)
			sbuf_adds(&b, ", ");
		sbuf_adds(&b, pf->profiles[i].name);
	}
	return sbuf_take(&b);
}

static const struct profile *find_profile(const profile_file *pf, const char *name)
{
	for (size_t i = 0; i < pf->n; i++)
		if (strcmp(pf->profiles[i].name, name) == 0)
			return &pf->profiles[i];
	return NULL;
}

static void fail_no_profile(const profile_file *pf, const char *name, struct err *e)
{
	const char **names = xcalloc(pf->n, sizeof *names);
	for (size_t i = 0; i < pf->n; i++)
		names[i] = pf->profiles[i].name;
	const char *guess = did_you_mean(names, pf->n, name);
	char *all = profile_names(pf);
	err_set(e, ERR_PROFILE, "no profile \"%s\" in %s", name, pf->path);
	if (guess)
		err_hint(e, "did you mean \"%s\"? profiles: %s", guess, all);
	else
		err_hint(e, "profiles: %s", all);
	free(all);
	free(names);
}

const struct profile *profile_file_get(const profile_file *pf, const char *name,
				       struct err *e)
{
	if (!pf) {
		err_set(e, ERR_PROFILE, "no profiles loaded");
		return NULL;
	}
	if (!name || !*name)
		name = getenv("FERRY_PROFILE");
	if (name && *name) {
		const struct profile *p = find_profile(pf, name);
		if (!p)
			fail_no_profile(pf, name, e);
		return p;
	}
	if (pf->n == 1)
		return &pf->profiles[0];
	char *all = profile_names(pf);
	err_set(e, ERR_PROFILE, "%s has %zu profiles; pick one", pf->path, pf->n);
	err_hint(e, "use --profile NAME (%s) or set FERRY_PROFILE", all);
	free(all);
	return NULL;
}

/* ---- locating the file -------------------------------------------------- */

/* 0 when path can be opened for reading as a file, else an errno value. */
static int readable(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errno;
	struct stat st;
	int rc = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR : 0;
	fclose(f);
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *user_profiles_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/ferry/profiles.json", xdg);
	return xasprintf("%s/.config/ferry/profiles.json", home_dir());
}

static char *locate_named(const char *path, const char *from, struct err *e)
{
	int errnum = readable(path);
	if (errnum == 0)
		return xstrdup(path);
	err_set(e, ERR_PROFILE, "cannot read %s: %s", path, strerror(errnum));
	if (from)
		err_hint(e, "%s points there; fix or unset it", from);
	return NULL;
}

char *profile_locate(const char *explicit_path, struct err *e)
{
	if (explicit_path && *explicit_path)
		return locate_named(explicit_path, NULL, e);
	const char *env = getenv("FERRY_PROFILES");
	if (env && *env)
		return locate_named(env, "FERRY_PROFILES", e);
	if (exists(LOCAL_PROFILES))
		return xstrdup(LOCAL_PROFILES);
	char *user = user_profiles_path();
	if (exists(user))
		return user;
	if (exists(FERRY_SYSTEM_PROFILES)) {
		free(user);
		return xstrdup(FERRY_SYSTEM_PROFILES);
	}
	err_set(e, ERR_PROFILE, "no profiles file found");
	err_hint(e, "looked for --profiles FILE, $FERRY_PROFILES, %s, %s, %s;"
		 " see profiles/README.md to write one", LOCAL_PROFILES, user,
		 FERRY_SYSTEM_PROFILES);
	free(user);
	return NULL;
}

/* ---- redaction ---------------------------------------------------------- */

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

char *profile_redact_url(const char *url)
{
	if (!url)
		return NULL;
	struct span spans[SPANS_MAX];
	size_t n = password_spans(url, spans, SPANS_MAX);
	qsort(spans, n, sizeof *spans, span_cmp);
	struct sbuf b = {0};
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (spans[i].len == 0 || spans[i].start < at)
			continue;
		sbuf_add(&b, url + at, spans[i].start - at);
		sbuf_adds(&b, "***");
		at = spans[i].start + spans[i].len;
	}
	sbuf_adds(&b, url + at);
	return sbuf_take(&b);
}

/* s with every remembered secret replaced by "***", longest first. */
static char *redact_secrets(const struct profile *p, const char *s)
{
	char *out = xstrdup(s);
	bool *done = xcalloc(p->secrets.n + 1, sizeof *done);
	for (size_t round = 0; round < p->secrets.n; round++) {
		size_t best = p->secrets.n;
		for (size_t i = 0; i < p->secrets.n; i++)
			if (!done[i] && (best == p->secrets.n ||
					 strlen(p->secrets.v[i]) > strlen(p->secrets.v[best])))
				best = i;
		done[best] = true;
		const char *secret = p->secrets.v[best];
		struct sbuf b = {0};
		const char *from = out, *hit;
		while ((hit = strstr(from, secret))) {
			sbuf_add(&b, from, (size_t)(hit - from));
			sbuf_adds(&b, "***");
			from = hit + strlen(secret);
		}
		sbuf_adds(&b, from);
		free(out);
		out = sbuf_take(&b);
	}
	free(done);
	return out;
}

/* A JSON string, with bytes that are not UTF-8 shown as '?'. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *q = copy; *q; q++)
		if ((unsigned char)*q >= 0x80)
			*q = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static void put_str(json_t *o, const struct profile *p, const char *key, const char *s)
{
	if (!s)
		return;
	char *r = redact_secrets(p, s);
	json_object_set_new(o, key, json_text(r));
	free(r);
}

static void put_url(json_t *o, const struct profile *p, const char *key, const char *url)
{
	char *r = profile_redact_url(url);
	put_str(o, p, key, r);
	free(r);
}

static void put_strv(json_t *o, const struct profile *p, const char *key, const struct strv *sv)
{
	if (sv->n == 0)
		return;
	json_t *a = json_array();
	for (size_t i = 0; i < sv->n; i++) {
		char *r = redact_secrets(p, sv->v[i]);
		json_array_append_new(a, json_text(r));
		free(r);
	}
	json_object_set_new(o, key, a);
}

/* Adds section under key unless it is empty (then frees it). */
static void put_section(json_t *o, const char *key, json_t *section)
{
	bool empty = json_is_object(section) ? json_object_size(section) == 0
					     : json_array_size(section) == 0;
	if (empty)
		json_decref(section);
	else
		json_object_set_new(o, key, section);
}

static json_t *app_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "root", p->app.root);
	put_strv(o, p, "paths", &p->app.paths);
	put_strv(o, p, "exclude", &p->app.exclude);
	put_str(o, p, "env_file", p->app.env_file);
	return o;
}

static json_t *backup_json(const struct profile *p)
{
	const struct profile_keep *k = &p->backup.keep;
	json_t *o = json_object();
	put_str(o, p, "dir", p->backup.dir);
	put_str(o, p, "compression", p->backup.compression);
	json_object_set_new(o, "level", json_integer(p->backup.level));
	json_object_set_new(o, "globals", json_boolean(p->backup.globals));
	json_object_set_new(o, "keep", json_pack("{s:i, s:i, s:i, s:i, s:i}",
		"last", k->last, "daily", k->daily, "weekly", k->weekly,
		"monthly", k->monthly, "manual_days", k->manual_days));
	put_strv(o, p, "schedule", &p->backup.schedule);
	return o;
}

static json_t *ssh_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "host", p->ssh.host);
	json_object_set_new(o, "port", json_integer(p->ssh.port));
	put_str(o, p, "user", p->ssh.user);
	put_str(o, p, "identity_file", p->ssh.identity_file);
	put_str(o, p, "known_hosts", p->ssh.known_hosts);
	json_object_set_new(o, "use_ssh_config", json_boolean(p->ssh.use_ssh_config));
	put_str(o, p, "ferry_path", p->ssh.ferry_path);
	put_str(o, p, "remote_profiles", p->ssh.remote_profiles);
	return o;
}

static json_t *services_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "orchestrator", p->services.orchestrator);
	put_strv(o, p, "restart", &p->services.restart);
	put_strv(o, p, "stop", &p->services.stop);
	put_strv(o, p, "start", &p->services.start);
	put_strv(o, p, "status", &p->services.status);
	put_strv(o, p, "rollback", &p->services.rollback);
	return o;
}

static json_t *health_json(const struct profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->nhealth; i++) {
		const struct profile_health *h = &p->health[i];
		json_t *o = json_object();
		put_str(o, p, "name", h->name);
		put_str(o, p, "url", h->url);
		json_object_set_new(o, "expect", json_integer(h->expect));
		json_object_set_new(o, "timeout_s", json_integer(h->timeout_s));
		json_object_set_new(o, "retries", json_integer(h->retries));
		json_object_set_new(o, "interval_s", json_integer(h->interval_s));
		json_object_set_new(o, "follow_redirects", json_boolean(h->follow_redirects));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *registry_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "file", p->registry.file);
	put_url(o, p, "primary_url", p->registry.primary_url);
	put_url(o, p, "fallback_url", p->registry.fallback_url);
	put_str(o, p, "grace_period", p->registry.grace_period);
	return o;
}

static json_t *hooks_json(const struct profile *p)
{
	json_t *o = json_object();
	put_strv(o, p, "pre_backup", &p->hooks.pre_backup);
	put_strv(o, p, "post_backup", &p->hooks.post_backup);
	put_strv(o, p, "pre_restore", &p->hooks.pre_restore);
	put_strv(o, p, "post_restore", &p->hooks.post_restore);
	put_strv(o, p, "pre_deploy", &p->hooks.pre_deploy);
	put_strv(o, p, "post_deploy", &p->hooks.post_deploy);
	return o;
}

static json_t *migrations_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "command", p->migrations.command);
	put_str(o, p, "status_command", p->migrations.status_command);
	put_str(o, p, "dir", p->migrations.dir);
	return o;
}

static json_t *actions_json(const struct profile *p)
{
	json_t *o = json_object();
	for (size_t i = 0; i < p->nactions; i++) {
		const struct profile_action *a = &p->actions[i];
		json_t *ao = json_object();
		put_str(ao, p, "sql", a->sql);
		put_strv(ao, p, "params", &a->params);
		json_object_set_new(ao, "confirm", json_boolean(a->confirm));
		put_str(ao, p, "description", a->description);
		json_object_set_new(o, a->name, ao);
	}
	return o;
}

static json_t *profile_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "name", p->name);
	put_str(o, p, "file", p->file);
	put_str(o, p, "description", p->description);
	json_t *db = json_object();
	put_url(db, p, "url", p->database.url);
	put_section(o, "database", db);
	if (p->has_app)
		put_section(o, "app", app_json(p));
	put_section(o, "backup", backup_json(p));
	if (p->has_ssh)
		put_section(o, "ssh", ssh_json(p));
	put_section(o, "services", services_json(p));
	put_section(o, "health", health_json(p));
	if (p->has_registry)
		json_object_set_new(o, "registry", registry_json(p));
	put_section(o, "hooks", hooks_json(p));
	put_section(o, "migrations", migrations_json(p));
	put_section(o, "actions", actions_json(p));
	put_strv(o, p, "seeds", &p->seeds);
	put_str(o, p, "log_dir", p->log_dir);
	return o;
}

char *profile_to_json_redacted(const struct profile *p)
{
	if (!p)
		return xstrdup("null");
	json_t *o = profile_json(p);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return xstrdup("{}");
	char *out = xstrdup(text);
	free(text);
	return out;
}

/* ---- database name ------------------------------------------------------ */

char *profile_db_name(const struct profile *p)
{
	if (!p || !p->database.url)
		return NULL;
	const char *url = p->database.url;
	return is_uri(url) ? uri_db_name(url) : kv_db_name(url);
}
