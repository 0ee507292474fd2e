/* ui_draw — drawing helpers over stdscr: clipped text in styles, frames,
 * the title and key-help lines, word wrap. UTF-8, or ASCII under other
 * locales. */
#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui/ui.h"

/* The attributes of a style, in colour or monochrome. */
static attr_t style_attr(const struct ui *ui, enum ui_style st)
{
	static const attr_t mono[US_COUNT] = {
		[US_TITLE] = A_REVERSE | A_BOLD, [US_HEADER] = A_BOLD, [US_SELECTED] = A_REVERSE,
		[US_DIM] = A_DIM, [US_OK] = A_BOLD, [US_FAIL] = A_BOLD, [US_WARN] = A_BOLD,
		[US_ERROR] = A_BOLD, [US_KEY] = A_BOLD, [US_BUTTON_FOCUS] = A_REVERSE | A_BOLD,
		[US_FIELD] = A_UNDERLINE, [US_FIELD_FOCUS] = A_REVERSE, [US_BAR] = A_REVERSE,
	};
	if (!ui->color)
		return mono[st];
	switch (st) {
	case US_TITLE: return COLOR_PAIR(6) | A_BOLD;
	case US_HEADER: return COLOR_PAIR(1) | A_BOLD;
	case US_SELECTED: return COLOR_PAIR(2) | A_BOLD;
	case US_OK: return COLOR_PAIR(3) | A_BOLD;
	case US_FAIL: case US_ERROR: return COLOR_PAIR(4) | A_BOLD;
	case US_WARN: return COLOR_PAIR(5) | A_BOLD;
	case US_KEY: return COLOR_PAIR(1) | A_BOLD;
	case US_BUTTON_FOCUS: return COLOR_PAIR(2) | A_BOLD;
	case US_BAR: return COLOR_PAIR(6);
	default: return mono[st];
	}
}

/* Blank the screen (drawing starts from nothing each time). */
void ui_clear(const struct ui *ui)
{
	(void)ui;
	erase();
}

/* Show what was drawn. */
void ui_flush(const struct ui *ui)
{
	(void)ui;
	refresh();
}

/* An ASCII stand-in for a character an ASCII locale cannot show. */
static char ascii_for(int c)
{
	switch (c) {
	case 0x2192: return '>';   /* → */
	case 0x2014: case 0x2013: case 0x2500: return '-';
	case 0x2026: return '.';
	case 0x2714: return '+';
	case 0x2502: return '|';
	default: return '?';
	}
}

/* Text as wide characters fitting w columns, the last one an ellipsis
 * when it does not fit; returns the columns. */
static int fit_wide(const char *text, int w, wchar_t *out, size_t cap, size_t *nout)
{
	int cols = 0;
	size_t o = 0;
	bool cut = false;
	while (*text && o + 1 < cap) {
		int c;
		text += ui_utf8_decode(text, &c);
		if (c < 0x20)
			c = ' ';
		int cw = c < 0x80 ? 1 : wcwidth((wchar_t)c);
		if (cw < 0)
			cw = 1;
		if (cols + cw > w) {
			cut = true;
			break;
		}
		out[o++] = (wchar_t)c;
		cols += cw;
	}
	if (cut && o > 0 && w > 4) {
		cols -= wcwidth(out[o - 1]) > 0 ? wcwidth(out[o - 1]) : 1;
		out[o - 1] = 0x2026;   /* … */
		cols++;
	}
	out[o] = 0;
	*nout = o;
	return cols;
}

/* Text as ASCII fitting w columns ('~' marks a cut); returns the columns. */
static int fit_ascii(const char *text, int w, char *out, size_t cap)
{
	size_t o = 0;
	while (*text && o + 1 < cap && (int)o < w) {
		int c;
		text += ui_utf8_decode(text, &c);
		out[o++] = c < 0x20 ? ' ' : c < 0x80 ? (char)c : ascii_for(c);
	}
	if (*text && o > 0 && w > 4)
		out[o - 1] = '~';
	out[o] = '\0';
	return (int)o;
}

/* Draw text at (y, x) in at most w columns. */
int ui_put(const struct ui *ui, int y, int x, int w, enum ui_style st, const char *text)
{
	if (y < 0 || y >= ui->rows || x < 0 || x >= ui->cols || !text)
		return 0;
	if (w > ui->cols - x)
		w = ui->cols - x;
	if (w <= 0)
		return 0;
	attr_t a = style_attr(ui, st);
	attron(a);
	int cols;
	if (ui->utf8) {
		wchar_t buf[1024];
		size_t n;
		cols = fit_wide(text, w, buf, sizeof buf / sizeof buf[0], &n);
		mvaddnwstr(y, x, buf, (int)n);
	} else {
		char buf[1024];
		cols = fit_ascii(text, w, buf, sizeof buf);
		mvaddnstr(y, x, buf, (int)strlen(buf));
	}
	attroff(a);
	return cols;
}

/* Draw text and blank the rest of w columns in the same style. */
void ui_put_pad(const struct ui *ui, int y, int x, int w, enum ui_style st, const char *text)
{
	if (w > ui->cols - x)
		w = ui->cols - x;
	int used = ui_put(ui, y, x, w, st, text);
	if (used < w && y >= 0 && y < ui->rows) {
		attr_t a = style_attr(ui, st);
		attron(a);
		mvhline(y, x + used, ' ', w - used);
		attroff(a);
	}
}

/* printf, then ui_put. */
int ui_putf(const struct ui *ui, int y, int x, int w, enum ui_style st, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return ui_put(ui, y, x, w, st, buf);
}

/* A line of one glyph, n times. */
static void glyph_line(const struct ui *ui, int y, int x, int n, const char *g)
{
	for (int i = 0; i < n; i++)
		ui_put(ui, y, x + i, 1, US_NORMAL, g);
}

/* A frame with an optional title in its top edge; the inside is blanked. */
void ui_frame(const struct ui *ui, int y, int x, int h, int w, const char *title)
{
	if (h < 2 || w < 2)
		return;
	const struct ui_glyphs *g = ui->g;
	for (int r = 1; r < h - 1; r++) {
		ui_put(ui, y + r, x, 1, US_NORMAL, g->vline);
		ui_put_pad(ui, y + r, x + 1, w - 2, US_NORMAL, "");
		ui_put(ui, y + r, x + w - 1, 1, US_NORMAL, g->vline);
	}
	ui_put(ui, y, x, 1, US_NORMAL, g->tl);
	glyph_line(ui, y, x + 1, w - 2, g->hline);
	ui_put(ui, y, x + w - 1, 1, US_NORMAL, g->tr);
	ui_put(ui, y + h - 1, x, 1, US_NORMAL, g->bl);
	glyph_line(ui, y + h - 1, x + 1, w - 2, g->hline);
	ui_put(ui, y + h - 1, x + w - 1, 1, US_NORMAL, g->br);
	if (title && *title) {
		char t[256];
		snprintf(t, sizeof t, " %s ", title);
		ui_put(ui, y, x + 2, w - 4, US_HEADER, t);
	}
}

/* The key-help line at the bottom: "Enter Next  Esc Back  F1 Help". An
 * entry that does not fit whole is left out, with those after it. */
void ui_keybar(const struct ui *ui, const struct ui_binding *t, size_t n)
{
	int y = ui->rows - 1, x = 0;
	ui_put_pad(ui, y, 0, ui->cols, US_BAR, "");
	for (size_t i = 0; i < n && x < ui->cols; i++) {
		if (!t[i].bar || !t[i].label)
			continue;
		if (x + 2 + ui_text_width(t[i].label) + ui_text_width(t[i].help) > ui->cols)
			break;
		x += ui_put(ui, y, x, ui->cols - x, US_BAR, " ");
		x += ui_put(ui, y, x, ui->cols - x, US_BAR, t[i].label);
		x += ui_put(ui, y, x, ui->cols - x, US_BAR, " ");
		x += ui_put(ui, y, x, ui->cols - x, US_BAR, t[i].help);
		x += ui_put(ui, y, x, ui->cols - x, US_BAR, " ");
	}
}

/* The title line: left text, and right text flush right. */
void ui_titlebar(const struct ui *ui, const char *left, const char *right)
{
	ui_put_pad(ui, 0, 0, ui->cols, US_TITLE, "");
	ui_put(ui, 0, 1, ui->cols - 2, US_TITLE, left);
	if (right && *right) {
		int w = ui_text_width(right);
		if (w + ui_text_width(left) + 4 < ui->cols)
			ui_put(ui, 0, ui->cols - w - 1, w, US_TITLE, right);
	}
}

/* Length in bytes of the next wrapped piece of text that fits w columns:
 * broken at a blank (skipped) or after a '/', else where it is full. */
static size_t wrap_piece(const char *s, int w, size_t *skip)
{
	size_t last_space = 0, last_slash = 0, i = 0;
	int cols = 0;
	*skip = 0;
	while (s[i] && s[i] != '\n') {
		int c;
		size_t n = ui_utf8_decode(s + i, &c);
		int cw = c < 0x80 ? 1 : wcwidth((wchar_t)c);
		cols += cw < 0 ? 1 : cw;
		if (cols > w)
			break;
		if (c == ' ')
			last_space = i;
		if (c == '/')
			last_slash = i + 1;
		i += n;
	}
	if (!s[i] || s[i] == '\n') {
		*skip = s[i] == '\n' ? 1 : 0;
		return i;
	}
	if (last_space > 0 && last_space + 1 >= last_slash) {
		*skip = 1;
		return last_space;
	}
	if (last_slash > 0)
		return last_slash;
	return i > 0 ? i : 1;
}

/* Draw (or, with draw false, count) the wrapped rows of text. */
static int wrap_text(const struct ui *ui, int y, int x, int w, int h, enum ui_style st,
		     const char *text, bool draw)
{
	int rows = 0;
	const char *s = text;
	if (w < 1)
		return 0;
	while (*s && (h < 0 || rows < h)) {
		size_t skip;
		size_t n = wrap_piece(s, w, &skip);
		if (draw) {
			char line[1024];
			snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), s);
			ui_put(ui, y + rows, x, w, st, line);
		}
		rows++;
		s += n + skip;
	}
	return rows;
}

/* Word-wrapped text in a box of w columns and at most h rows. */
int ui_wrap(const struct ui *ui, int y, int x, int w, int h, enum ui_style st, const char *text)
{
	return wrap_text(ui, y, x, w, h, st, text, true);
}

/* The rows ui_wrap would use. */
int ui_wrap_rows(const char *text, int w)
{
	return wrap_text(NULL, 0, 0, w, -1, US_NORMAL, text, false);
}
