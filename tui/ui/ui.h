/* ui — the terminal layer under the wizard: key codes, key tables, the one
 * input function, a line editor, key scripts, drawing helpers and screen
 * dumps.
 *
 * All keyboard input goes through ui_input(): from the terminal, or from a
 * key script (FERRY_KEYS=FILE or `ferry easy --keys FILE`) whose tokens are
 *
 *   Enter Esc Tab BTab Up Down Left Right Home End PgUp PgDn Backspace
 *   Delete Space F1..F12 C-a..C-z   a single character ("?", "q", "1")
 *   text:STRING        type STRING (quote it to keep spaces: text:"a b")
 *   wait:MS            let MS milliseconds pass (background work goes on)
 *   waitfor:TEXT       wait until TEXT is on screen (60 s, then fail)
 *   dump:PATH          write the screen, row by row, as UTF-8 text to PATH
 *   resize:COLSxROWS   resize the screen (no terminal) and redraw
 *   # ...              a comment to the end of the line
 *
 * separated by blanks or newlines. Without a terminal (stdout not a tty) the
 * screen is drawn off-screen (newterm on /dev/null, size from $COLUMNS and
 * $LINES, else 80x24) and the end of the script quits; with a terminal the
 * keyboard takes over at the end of the script.
 *
 * This header does not include curses: the key, script and line-editor
 * parts (ui/key.c) are plain C and unit-tested without a terminal. Only
 * ui/term.c and ui/draw.c include curses; the screens draw through them. */
#ifndef FERRY_UI_H
#define FERRY_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* --- keys ----------------------------------------------------------------- */

/* A key is a Unicode character (its code point) or one of these. */
enum {
	UIK_NONE = -1,            /* nothing within the timeout: a tick */
	UIK_BASE = 0x110000,
	UIK_ENTER,
	UIK_ESC,
	UIK_TAB,
	UIK_BTAB,
	UIK_UP,
	UIK_DOWN,
	UIK_LEFT,
	UIK_RIGHT,
	UIK_HOME,
	UIK_END,
	UIK_PGUP,
	UIK_PGDN,
	UIK_BACKSPACE,
	UIK_DELETE,
	UIK_RESIZE,               /* the screen changed size */
	UIK_EOF,                  /* the key script ended, no keyboard behind it */
	UIK_ABORT,                /* the key script failed (waitfor timed out) */
	UIK_F0 = UIK_BASE + 0x100,
	UIK_CTRL0 = UIK_BASE + 0x200,
};
#define UIK_F(n) (UIK_F0 + (n))
#define UIK_CTRL(c) (UIK_CTRL0 + (c))

/* "Enter", "F1", "C-c", "?" ...; buf holds a character's UTF-8. */
const char *ui_key_name(int key, char *buf, size_t len);
/* The key named by a script token (as ui_key_name writes it, plus aliases
 * "BS", "Del", "S-Tab", "Return", "Escape"); UIK_NONE when unknown. */
int ui_key_parse(const char *name);

/* --- key tables (DESIGN.md convention 9) ----------------------------------- */

/* One key of a screen: the named action it triggers and its help text. The
 * key-help line and the F1 page are drawn from the same table. */
struct ui_binding {
	int key;
	int action;               /* the screen's own action number, > 0 */
	const char *label;        /* shown as the key's name; NULL = an alias */
	const char *help;         /* what it does */
	bool bar;                 /* also on the key-help line at the bottom */
};

/* The action bound to key in table t, 0 when none. */
int ui_binding_action(const struct ui_binding *t, size_t n, int key);

/* --- line editor ------------------------------------------------------------ */

#define UI_LINE_MAX 512

/* An editable UTF-8 line; cursor is a byte offset on a character boundary. */
struct ui_line {
	char text[UI_LINE_MAX];
	size_t len;
	size_t cursor;
};

void ui_line_set(struct ui_line *l, const char *text);
/* Apply an editing key (characters, Backspace, Delete, Left, Right, Home,
 * End, C-u, C-k); true when the key was an editing key. */
bool ui_line_key(struct ui_line *l, int key);

/* Decode one UTF-8 character into *out; its length in bytes (an invalid
 * byte is one character of its own value). */
size_t ui_utf8_decode(const char *s, int *out);
/* Display columns of a UTF-8 string (each invalid byte counts one). */
int ui_text_width(const char *s);

/* --- key scripts -------------------------------------------------------------- */

enum ui_tok_kind { UT_KEY, UT_TEXT, UT_WAIT, UT_WAITFOR, UT_DUMP, UT_RESIZE };

struct ui_tok {
	enum ui_tok_kind kind;
	int key;                  /* UT_KEY */
	char *arg;                /* UT_TEXT, UT_WAITFOR, UT_DUMP */
	int ms;                   /* UT_WAIT; UT_WAITFOR: timeout */
	int cols, rows;           /* UT_RESIZE */
	int line;                 /* in the script, for messages */
};

struct ui_script {
	struct ui_tok *v;
	size_t n, pos;
	char *name;               /* the file, for messages */
	/* running state of the current token */
	const char *typing;       /* UT_TEXT: what is left to type */
	double deadline;          /* UT_WAIT / UT_WAITFOR, monotonic seconds */
	bool waiting;
};

/* Parse script text; -1 with a message ("FILE:LINE: ...") in why. */
int ui_script_parse(struct ui_script *s, const char *text, const char *name,
		    char *why, size_t n);
/* Read and parse a file. */
int ui_script_load(struct ui_script *s, const char *path, char *why, size_t n);
void ui_script_done(struct ui_script *s);

/* --- the terminal -------------------------------------------------------------- */

enum ui_style {
	US_NORMAL, US_TITLE, US_HEADER, US_SELECTED, US_DIM, US_OK, US_FAIL, US_WARN,
	US_ERROR, US_KEY, US_BUTTON, US_BUTTON_FOCUS, US_FIELD, US_FIELD_FOCUS, US_BAR,
	US_COUNT
};

/* Marks and lines, UTF-8 or an ASCII fallback under other locales. */
struct ui_glyphs {
	const char *done, *fail, *skip, *pending;
	const char *const *spin;
	size_t nspin;
	const char *hline, *vline, *tl, *tr, *bl, *br;
	const char *bar_full, *bar_empty, *pointer, *ok_big, *fail_big;
};

/* The UI mode (DESIGN.md rule 8 allows this one piece of global state). */
struct ui {
	bool utf8;                /* the locale's charset is UTF-8 */
	bool color;               /* colours (terminal can, NO_COLOR unset) */
	bool headless;            /* drawn off-screen for a key script */
	bool keyboard;            /* a terminal to read keys from */
	int rows, cols;
	const struct ui_glyphs *g;
	struct ui_script *script; /* NULL = keyboard only */
	char fail[512];           /* why the key script failed */
	double started;           /* monotonic seconds at ui_start */
};

/* Start curses on the terminal, or off-screen when there is none and a key
 * script is given (script may be NULL). -1 with why filled when neither
 * works. */
int ui_start(struct ui *ui, struct ui_script *script, char *why, size_t n);
/* Leave curses and restore the terminal. */
void ui_stop(struct ui *ui);
/* Suspend curses to run something on the plain terminal; ui_resume after. */
void ui_suspend(struct ui *ui);
void ui_resume(struct ui *ui);

/* THE input function: the next key from the script or the keyboard, or
 * UIK_NONE after timeout_ms. Executes wait/waitfor/dump/resize tokens. */
int ui_input(struct ui *ui, int timeout_ms);
/* Pick up a new terminal size after UIK_RESIZE. */
void ui_resized(struct ui *ui);

/* Write the screen as UTF-8 text, one line per row, trailing blanks cut. */
int ui_dump(const struct ui *ui, FILE *out);
int ui_dump_file(const struct ui *ui, const char *path);
/* Whether text is on the screen (within one row). */
bool ui_screen_has(const struct ui *ui, const char *text);

double ui_now(void);          /* monotonic seconds */

/* --- drawing (only the UI thread) ---------------------------------------------- */

void ui_clear(const struct ui *ui);
void ui_flush(const struct ui *ui);
/* Text at row y, column x, at most w columns, in a style; returns the
 * columns written. Under an ASCII locale non-ASCII text is transliterated. */
int ui_put(const struct ui *ui, int y, int x, int w, enum ui_style st, const char *text);
/* Like ui_put, then fill the rest of the w columns with blanks. */
void ui_put_pad(const struct ui *ui, int y, int x, int w, enum ui_style st, const char *text);
/* printf into ui_put. */
int ui_putf(const struct ui *ui, int y, int x, int w, enum ui_style st, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* A frame from (y, x), h rows by w columns, with an optional title. */
void ui_frame(const struct ui *ui, int y, int x, int h, int w, const char *title);
/* The bottom key-help line from a key table (entries with bar set). */
void ui_keybar(const struct ui *ui, const struct ui_binding *t, size_t n);
/* The top title line. */
void ui_titlebar(const struct ui *ui, const char *left, const char *right);
/* Text wrapped into w columns from row y, at most h rows; returns rows used. */
int ui_wrap(const struct ui *ui, int y, int x, int w, int h, enum ui_style st, const char *text);
/* Rows ui_wrap would use for text (no drawing). */
int ui_wrap_rows(const char *text, int w);

#endif
