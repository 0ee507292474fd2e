/* ui_key — key names, key tables, the line editor and key scripts: plain C,
 * no curses (unit-tested in tests/unit/test_wiz_model.c). */
#include "ui/ui.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "util.h"

struct key_name {
	const char *name;
	int key;
};

/* Names as written (the first of a key is its display name) and aliases. */
static const struct key_name key_names[] = {
	{"Enter", UIK_ENTER},     {"Return", UIK_ENTER},   {"Esc", UIK_ESC},
	{"Escape", UIK_ESC},      {"Tab", UIK_TAB},        {"BTab", UIK_BTAB},
	{"S-Tab", UIK_BTAB},      {"Up", UIK_UP},          {"Down", UIK_DOWN},
	{"Left", UIK_LEFT},       {"Right", UIK_RIGHT},    {"Home", UIK_HOME},
	{"End", UIK_END},         {"PgUp", UIK_PGUP},      {"PgDn", UIK_PGDN},
	{"Backspace", UIK_BACKSPACE}, {"BS", UIK_BACKSPACE}, {"Delete", UIK_DELETE},
	{"Del", UIK_DELETE},      {"Space", ' '},
};

/* UTF-8 encoding of a code point into buf (at least 5 bytes); its length. */
static size_t utf8_encode(int c, char *buf)
{
	unsigned u = (unsigned)c;
	if (u < 0x80) {
		buf[0] = (char)u;
		buf[1] = '\0';
		return 1;
	}
	if (u < 0x800) {
		buf[0] = (char)(0xC0 | (u >> 6));
		buf[1] = (char)(0x80 | (u & 0x3F));
		buf[2] = '\0';
		return 2;
	}
	if (u < 0x10000) {
		buf[0] = (char)(0xE0 | (u >> 12));
		buf[1] = (char)(0x80 | ((u >> 6) & 0x3F));
		buf[2] = (char)(0x80 | (u & 0x3F));
		buf[3] = '\0';
		return 3;
	}
	buf[0] = (char)(0xF0 | (u >> 18));
	buf[1] = (char)(0x80 | ((u >> 12) & 0x3F));
	buf[2] = (char)(0x80 | ((u >> 6) & 0x3F));
	buf[3] = (char)(0x80 | (u & 0x3F));
	buf[4] = '\0';
	return 4;
}

/* Decode one UTF-8 character at s; its length (1 for an invalid byte). */
size_t ui_utf8_decode(const char *s, int *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0x80 ? 1 : (u[0] >> 5) == 6 ? 2 : (u[0] >> 4) == 14 ? 3 : (u[0] >> 3) == 30 ? 4 : 0;
	if (n == 0) {
		*out = u[0];
		return 1;
	}
	int c = n == 1 ? u[0] : n == 2 ? (u[0] & 0x1F) : n == 3 ? (u[0] & 0x0F) : (u[0] & 0x07);
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*out = u[0];
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	*out = c;
	return n;
}

/* The display name of a key (see the key_names table). */
const char *ui_key_name(int key, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
		if (key_names[i].key == key && key != ' ')
			return key_names[i].name;
	if (key == ' ')
		return "Space";
	if (key > UIK_F0 && key <= UIK_F(12))
		snprintf(buf, len, "F%d", key - UIK_F0);
	else if (key >= UIK_CTRL('a') && key <= UIK_CTRL('z'))
		snprintf(buf, len, "C-%c", (char)(key - UIK_CTRL0));
	else if (key > 0 && key < UIK_BASE && len >= 5)
		utf8_encode(key, buf);
	else
		snprintf(buf, len, "?");
	return buf;
}

/* The key a script token names, UIK_NONE when none. */
int ui_key_parse(const char *name)
{
	for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
		if (strcasecmp(key_names[i].name, name) == 0)
			return key_names[i].key;
	size_t len = strlen(name);
	if ((name[0] == 'F' || name[0] == 'f') && len >= 2 && len <= 3 && isdigit((unsigned char)name[1])) {
		int n = atoi(name + 1);
		if (n >= 1 && n <= 12)
			return UIK_F(n);
	}
	if (len == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-' &&
	    isalpha((unsigned char)name[2]))
		return UIK_CTRL(tolower((unsigned char)name[2]));
	int c;
	if (len > 0 && ui_utf8_decode(name, &c) == len && c >= 0x20)
		return c;
	return UIK_NONE;
}

/* Look a key up in a screen's key table. */
int ui_binding_action(const struct ui_binding *t, size_t n, int key)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].key == key)
			return t[i].action;
	return 0;
}

/* --- line editor ---------------------------------------------------------- */

/* Replace the line's text; the cursor goes to the end. */
void ui_line_set(struct ui_line *l, const char *text)
{
	snprintf(l->text, sizeof l->text, "%s", text ? text : "");
	l->len = strlen(l->text);
	l->cursor = l->len;
}

/* Byte offset of the character before the cursor. */
static size_t prev_char(const struct ui_line *l, size_t at)
{
	if (at == 0)
		return 0;
	at--;
	while (at > 0 && at < sizeof l->text && ((unsigned char)l->text[at] & 0xC0) == 0x80)
		at--;
	return at;
}

/* Byte offset of the character after at. */
static size_t next_char(const struct ui_line *l, size_t at)
{
	if (at >= l->len)
		return l->len;
	int c;
	return at + ui_utf8_decode(l->text + at, &c);
}

/* Remove the bytes [from, to). */
static void cut(struct ui_line *l, size_t from, size_t to)
{
	memmove(l->text + from, l->text + to, l->len - to + 1);
	l->len -= to - from;
	l->cursor = from;
}

/* Insert character c at the cursor when it fits. */
static void insert_char(struct ui_line *l, int c)
{
	char buf[8];
	size_t n = utf8_encode(c, buf);
	if (l->len + n >= sizeof l->text)
		return;
	memmove(l->text + l->cursor + n, l->text + l->cursor, l->len - l->cursor + 1);
	memcpy(l->text + l->cursor, buf, n);
	l->len += n;
	l->cursor += n;
}

/* One editing key applied to the line. */
bool ui_line_key(struct ui_line *l, int key)
{
	switch (key) {
	case UIK_BACKSPACE:
		if (l->cursor > 0)
			cut(l, prev_char(l, l->cursor), l->cursor);
		return true;
	case UIK_DELETE:
		if (l->cursor < l->len)
			cut(l, l->cursor, next_char(l, l->cursor));
		return true;
	case UIK_LEFT: l->cursor = prev_char(l, l->cursor); return true;
	case UIK_RIGHT: l->cursor = next_char(l, l->cursor); return true;
	case UIK_HOME: l->cursor = 0; return true;
	case UIK_END: l->cursor = l->len; return true;
	case UIK_CTRL('u'): cut(l, 0, l->cursor); return true;
	case UIK_CTRL('k'): l->text[l->cursor] = '\0'; l->len = l->cursor; return true;
	default:
		break;
	}
	if (key >= 0x20 && key < UIK_BASE && key != 0x7F) {
		insert_char(l, key);
		return true;
	}
	return false;
}

/* Columns of a UTF-8 string, decoded by hand so that it does not depend on
 * the locale's charset (a character wcwidth does not know counts one). */
int ui_text_width(const char *s)
{
	int w = 0;
	while (*s) {
		int c;
		s += ui_utf8_decode(s, &c);
		int cw = c < 0x80 ? 1 : wcwidth((wchar_t)c);
		w += cw >= 0 ? cw : 1;
	}
	return w;
}

/* --- key scripts -------------------------------------------------------------- */

#define WAITFOR_DEFAULT_MS 60000

/* Read one token starting at *p (blanks skipped before); quotes keep
 * blanks. The token is copied into out; false at the end of the text. */
static bool next_token(const char **p, int *line, char *out, size_t len, int *tok_line)
{
	const char *s = *p;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			if (*s == '\n')
				(*line)++;
			s++;
		}
		if (*s != '#')
			break;
		while (*s && *s != '\n')
			s++;
	}
	if (!*s)
		return false;
	*tok_line = *line;
	size_t o = 0;
	bool quoted = false;
	while (*s && (quoted || !(*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))) {
		char c = *s++;
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && c == '\\' && (*s == '"' || *s == '\\'))
			c = *s++;
		if (c == '\n')
			(*line)++;
		if (o + 1 < len)
			out[o++] = c;
	}
	out[o] = '\0';
	*p = s;
	return true;
}

/* Parse "COLSxROWS". */
static bool parse_size(const char *s, int *cols, int *rows)
{
	char *end;
	long c = strtol(s, &end, 10);
	if (*end != 'x' && *end != 'X')
		return false;
	long r = strtol(end + 1, &end, 10);
	if (*end || c < 10 || r < 5 || c > 1000 || r > 1000)
		return false;
	*cols = (int)c;
	*rows = (int)r;
	return true;
}

/* Fill t from one token's text; -1 when it means nothing. */
static int token_to_tok(const char *tok, struct ui_tok *t)
{
	static const struct {
		const char *prefix;
		enum ui_tok_kind kind;
	} args[] = {{"text:", UT_TEXT}, {"waitfor:", UT_WAITFOR}, {"dump:", UT_DUMP},
		    {"wait:", UT_WAIT}, {"resize:", UT_RESIZE}};
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		size_t pl = strlen(args[i].prefix);
		if (strncmp(tok, args[i].prefix, pl) != 0 || !tok[pl])
			continue;
		const char *v = tok + pl;
		t->kind = args[i].kind;
		if (t->kind == UT_WAIT) {
			char *end;
			long ms = strtol(v, &end, 10);
			if (*end || ms < 0 || ms > 3600000)
				return -1;
			t->ms = (int)ms;
			return 0;
		}
		if (t->kind == UT_RESIZE)
			return parse_size(v, &t->cols, &t->rows) ? 0 : -1;
		t->arg = xstrdup(v);
		t->ms = WAITFOR_DEFAULT_MS;
		return 0;
	}
	t->kind = UT_KEY;
	t->key = ui_key_parse(tok);
	return t->key == UIK_NONE ? -1 : 0;
}

/* Parse a whole key script into tokens. */
int ui_script_parse(struct ui_script *s, const char *text, const char *name,
		    char *why, size_t n)
{
	memset(s, 0, sizeof *s);
	s->name = xstrdup(name ? name : "keys");
	const char *p = text;
	int line = 1, tok_line = 1;
	char tok[1024];
	while (next_token(&p, &line, tok, sizeof tok, &tok_line)) {
		struct ui_tok t = {.line = tok_line};
		if (token_to_tok(tok, &t) < 0) {
			snprintf(why, n, "%s:%d: unknown key or token \"%s\"", s->name, tok_line, tok);
			ui_script_done(s);
			return -1;
		}
		s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
		s->v[s->n++] = t;
	}
	return 0;
}

/* Read a key script file and parse it. */
int ui_script_load(struct ui_script *s, const char *path, char *why, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, n, "key script %s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, len = 0;
	char *text = xmalloc(cap);
	size_t got;
	while ((got = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len < 2)
			text = xrealloc(text, cap *= 2);
	}
	fclose(f);
	text[len] = '\0';
	int rc = ui_script_parse(s, text, path, why, n);
	free(text);
	return rc;
}

/* Free a parsed script (NULL-safe). */
void ui_script_done(struct ui_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].arg);
	free(s->v);
	free(s->name);
	memset(s, 0, sizeof *s);
}
