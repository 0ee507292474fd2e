/* env — ${VAR} expansion (the environment, then the profile's env file)
 * and the env file's KEY=VALUE lines. */
#include "profile_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- variables ---------------------------------------------------------- */

/* Letters, digits and _, not starting with a digit. */
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
bool profile_is_whole_var(const char *s, size_t n)
{
	return n > 3 && s[0] == '$' && s[1] == '{' && s[n - 1] == '}' &&
	       var_name_valid(s + 2, n - 3);
}

/* Whether a variable's value is a secret by its name. */
static bool var_name_secret(const char *name)
{
	static const char *const words[] = {"PASSWORD", "SECRET", "TOKEN", "KEY"};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcasestr(name, words[i]))
			return true;
	return false;
}

/* The env file's value of name (its last line wins), or NULL. */
static const char *env_file_value(const struct profile_ctx *c, const char *name)
{
	for (size_t i = c->env_keys.n; i-- > 0;)
		if (strcmp(c->env_keys.v[i], name) == 0)
			return c->env_values.v[i];
	return NULL;
}

/* The environment first, then the env file (unless expanding its own path). */
static const char *lookup_var(const struct profile_ctx *c, const char *name)
{
	const char *v = getenv(name);
	if (v || c->env_only)
		return v;
	return env_file_value(c, name);
}

/* Keep value for redaction (once; empty values are not secrets). */
static void remember_secret(struct profile *p, const char *value)
{
	if (*value && !strv_contains(&p->secrets, value))
		strv_push(&p->secrets, value);
}

/* "${NAME} is not set", with where it could be set as the hint. */
static int fail_unset(struct profile_ctx *c, const char *kp, const char *name)
{
	profile_fail(c, kp, "${%s} is not set", name);
	if (c->env_only)
		return err_hint(c->e, "set it in the environment (app.root and app.env_file"
				" are expanded from the environment only)");
	if (c->p->app.env_file)
		return err_hint(c->e, "set it in the environment or in %s", c->p->app.env_file);
	return err_hint(c->e, "set it in the environment, or name an env file in app.env_file");
}

/* One "${NAME}" at s (s[0..1] == "${"): appends its value to b and sets
 * *used to the length of the reference. */
static int expand_one(struct profile_ctx *c, const char *kp, const char *s, struct sbuf *b, size_t *used)
{
	const char *close = strchr(s, '}');
	if (!close) {
		profile_fail(c, kp, "unterminated ${ in %s", profile_quote(s).s);
		return err_hint(c->e, "write ${NAME}, or $$ for a literal $");
	}
	size_t n = (size_t)(close - s) - 2;
	char *name = xstrndup(s + 2, n);
	int rc = 0;
	if (!var_name_valid(name, n)) {
		rc = profile_fail(c, kp, "bad variable name ${%s}", name);
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
int profile_expand(struct profile_ctx *c, const char *kp, const char *raw, char **out)
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

/* Length of the KEY at the start of s (0 when it is not one). */
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

/* A "double-quoted" value (\\n, \\t and backslash escapes); NULL or the problem. */
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

/* A 'single-quoted' value, taken as written; NULL or the problem. */
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

/* An env file is a few KEY=VALUE lines: more is not one (/dev/zero, a log). */
#define ENV_FILE_MAX (1024 * 1024)

/* Read the KEY=VALUE lines of file into c's env keys and values. */
int profile_env_file_read(struct profile_ctx *c, const char *kp, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		profile_fail(c, kp, "cannot read %s: %s", file, strerror(errno));
		return err_hint(c->e, "create it (KEY=VALUE lines) or remove app.env_file");
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > ENV_FILE_MAX) {
		fclose(f);
		profile_fail(c, kp, "%s is not an env file (a regular file of at most 1 MiB)", file);
		return err_hint(c->e, "point app.env_file at a file of KEY=VALUE lines");
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		char *key, *value;
		lineno++;
		const char *problem = env_parse_line(line, &key, &value);
		if (problem) {
			rc = profile_fail(c, kp, "%s:%d: %s", file, lineno, problem);
		} else if (key) {
			strv_push(&c->env_keys, key);
			strv_push(&c->env_values, value);
		}
		free(key);
		free(value);
	}
	if (rc == 0 && ferror(f))
		rc = profile_fail(c, kp, "cannot read %s: %s", file, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}
