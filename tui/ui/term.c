/* ui_term — curses on the terminal (or off-screen for key scripts), the one
 * input function, and screen dumps. */
#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "ui/ui.h"
#include "util.h"

#define ESC_DELAY_MS 25

static const char *const spin_utf8[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
static const char *const spin_ascii[] = {"|", "/", "-", "\\"};

static const struct ui_glyphs glyphs_utf8 = {
	.done = "[✔]", .fail = "[✖]", .skip = "[⚠]", .pending = "[ ]",
	.spin = spin_utf8, .nspin = sizeof spin_utf8 / sizeof spin_utf8[0],
	.hline = "─", .vline = "│", .tl = "┌", .tr = "┐", .bl = "└", .br = "┘",
	.bar_full = "█", .bar_empty = "░", .pointer = "▸", .ok_big = "✔", .fail_big = "✖",
};

static const struct ui_glyphs glyphs_ascii = {
	.done = "[+]", .fail = "[X]", .skip = "[!]", .pending = "[ ]",
	.spin = spin_ascii, .nspin = sizeof spin_ascii / sizeof spin_ascii[0],
	.hline = "-", .vline = "|", .tl = "+", .tr = "+", .bl = "+", .br = "+",
	.bar_full = "#", .bar_empty = ".", .pointer = ">", .ok_big = "OK", .fail_big = "FAILED",
};

/* The curses screen, and the off-screen terminal's files (headless mode);
 * all released by ui_stop. */
static SCREEN *screen;
static FILE *headless_out, *headless_in;

/* Monotonic seconds. */
double ui_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep ms milliseconds. */
static void sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Colour pairs for the styles; monochrome attributes without colour. */
static void setup_styles(struct ui *ui)
{
	const char *nc = getenv("NO_COLOR");
	ui->color = has_colors() && !(nc && *nc);
	if (!ui->color)
		return;
	start_color();
	use_default_colors();
	init_pair(1, COLOR_CYAN, -1);     /* title, header */
	init_pair(2, COLOR_BLACK, COLOR_CYAN);  /* selection, focus */
	init_pair(3, COLOR_GREEN, -1);    /* ok */
	init_pair(4, COLOR_RED, -1);      /* fail, error */
	init_pair(5, COLOR_YELLOW, -1);   /* warn */
	init_pair(6, COLOR_WHITE, COLOR_BLUE);  /* bars */
}

/* Start an off-screen terminal for a key script (no tty on stdout). */
static int start_headless(char *why, size_t n)
{
	static const char *const terms[] = {"xterm-256color", "xterm", "vt100"};
	headless_out = fopen("/dev/null", "w");
	/* Two streams on /dev/null on purpose: curses writes to one, reads EOF from the other. */
	// cppcheck-suppress incompatibleFileOpen
	headless_in = fopen("/dev/null", "r");
	if (!headless_out || !headless_in) {
		snprintf(why, n, "cannot open /dev/null");
		return -1;
	}
	const char *t = getenv("TERM");
	if (t && *t && strcmp(t, "dumb") != 0)
		screen = newterm(t, headless_out, headless_in);
	for (size_t i = 0; !screen && i < sizeof terms / sizeof terms[0]; i++)
		screen = newterm(terms[i], headless_out, headless_in);
	if (!screen) {
		snprintf(why, n, "no terminal description found for an off-screen terminal");
		return -1;
	}
	return 0;
}

/* Start curses on the terminal (stdin/stdout). */
static int start_terminal(char *why, size_t n)
{
	const char *t = getenv("TERM");
	if (!t || !*t || strcmp(t, "dumb") == 0) {
		snprintf(why, n, "the terminal (TERM=%s) cannot show the wizard", t ? t : "");
		return -1;
	}
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		snprintf(why, n, "curses could not start on TERM=%s", t);
		return -1;
	}
	return 0;
}

/* Start curses: on the terminal, or off-screen for a key script. */
int ui_start(struct ui *ui, struct ui_script *script, char *why, size_t n)
{
	memset(ui, 0, sizeof *ui);
	ui->started = ui_now();
	ui->script = script;
	const char *cs = nl_langinfo(CODESET);
	ui->utf8 = cs && strcmp(cs, "UTF-8") == 0;
	ui->g = ui->utf8 ? &glyphs_utf8 : &glyphs_ascii;
	bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (!tty && !script) {
		snprintf(why, n, "the wizard needs a terminal (or a key script: FERRY_KEYS=FILE)");
		return -1;
	}
	set_escdelay(ESC_DELAY_MS);
	ui->headless = !tty;
	ui->keyboard = tty;
	if ((tty ? start_terminal(why, n) : start_headless(why, n)) < 0)
		return -1;
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	setup_styles(ui);
	getmaxyx(stdscr, ui->rows, ui->cols);
	return 0;
}

/* Leave curses; free the off-screen terminal. */
void ui_stop(struct ui *ui)
{
	(void)ui;
	if (screen) {
		endwin();
		delscreen(screen);
		screen = NULL;
	}
	if (headless_out)
		fclose(headless_out);
	if (headless_in)
		fclose(headless_in);
	headless_out = headless_in = NULL;
}

/* Hand the terminal back for a while. */
void ui_suspend(struct ui *ui)
{
	if (!ui->headless)
		endwin();
}

/* Take the terminal again after ui_suspend. */
void ui_resume(struct ui *ui)
{
	if (!ui->headless) {
		refresh();
		clearok(stdscr, TRUE);
	}
	getmaxyx(stdscr, ui->rows, ui->cols);
}

/* Pick up the new size after a resize. */
void ui_resized(struct ui *ui)
{
	getmaxyx(stdscr, ui->rows, ui->cols);
	clearok(stdscr, TRUE);
}

/* --- keyboard --------------------------------------------------------------- */

/* A curses function key as a UIK_ key. */
static int map_function_key(wint_t wc)
{
	switch (wc) {
	case KEY_UP: return UIK_UP;
	case KEY_DOWN: return UIK_DOWN;
	case KEY_LEFT: return UIK_LEFT;
	case KEY_RIGHT: return UIK_RIGHT;
	case KEY_HOME: return UIK_HOME;
	case KEY_END: return UIK_END;
	case KEY_PPAGE: return UIK_PGUP;
	case KEY_NPAGE: return UIK_PGDN;
	case KEY_ENTER: return UIK_ENTER;
	case KEY_BACKSPACE: return UIK_BACKSPACE;
	case KEY_DC: return UIK_DELETE;
	case KEY_BTAB: return UIK_BTAB;
	case KEY_RESIZE: return UIK_RESIZE;
	default: break;
	}
	if (wc >= (wint_t)KEY_F(1) && wc <= (wint_t)KEY_F(12))
		return UIK_F((int)(wc - KEY_F0));
	return UIK_NONE;
}

/* A typed character as a UIK_ key. */
static int map_char(wint_t wc)
{
	switch (wc) {
	case 27: return UIK_ESC;
	case '\r': case '\n': return UIK_ENTER;
	case '\t': return UIK_TAB;
	case 8: case 127: return UIK_BACKSPACE;
	default: break;
	}
	if (wc >= 1 && wc <= 26)
		return UIK_CTRL('a' + (int)wc - 1);
	return (int)wc;
}

/* One key from the keyboard within timeout_ms, else UIK_NONE. */
static int read_keyboard(int timeout_ms)
{
	wint_t wc;
	timeout(timeout_ms);
	int rc = get_wch(&wc);
	if (rc == ERR)
		return UIK_NONE;
	return rc == KEY_CODE_YES ? map_function_key(wc) : map_char(wc);
}

/* --- key scripts ----------------------------------------------------------------- */

/* The script failed: say why, and return UIK_ABORT. */
static int script_fail(struct ui *ui, const struct ui_tok *t, const char *what)
{
	snprintf(ui->fail, sizeof ui->fail, "%s:%d: %s", ui->script->name, t->line, what);
	return UIK_ABORT;
}

/* Between script keys: keep noticing resizes of a real terminal. */
static void drain_keyboard(struct ui *ui, int *resized)
{
	if (!ui->keyboard)
		return;
	int k;
	while ((k = read_keyboard(0)) != UIK_NONE)
		if (k == UIK_RESIZE)
			*resized = 1;
}

/* Next character of a text: token, UIK_NONE when it is all typed. */
static int script_type(struct ui_script *s)
{
	if (!s->typing)
		s->typing = s->v[s->pos].arg;
	if (!*s->typing) {
		s->typing = NULL;
		s->pos++;
		return UIK_NONE;
	}
	int c;
	s->typing += ui_utf8_decode(s->typing, &c);
	return c;
}

/* A wait: or waitfor: token: UIK_NONE while waiting, 0 when over. */
static int script_wait(struct ui *ui, struct ui_tok *t, int timeout_ms)
{
	struct ui_script *s = ui->script;
	if (!s->waiting) {
		s->waiting = true;
		s->deadline = ui_now() + t->ms / 1000.0;
	}
	if (t->kind == UT_WAITFOR && ui_screen_has(ui, t->arg)) {
		s->waiting = false;
		return 0;
	}
	double left = s->deadline - ui_now();
	if (left <= 0) {
		s->waiting = false;
		if (t->kind == UT_WAIT)
			return 0;
		char what[400];
		snprintf(what, sizeof what, "waitfor \"%.300s\": not on screen after %d s", t->arg, t->ms / 1000);
		return script_fail(ui, t, what);
	}
	int ms = (int)(left * 1000) + 1;
	if (t->kind == UT_WAITFOR && ms > 50)
		ms = 50;
	sleep_ms(ms < timeout_ms ? ms : timeout_ms);
	return UIK_NONE;
}

/* Resize the off-screen terminal (or a real one's idea of its size). */
static int script_resize(struct ui *ui, const struct ui_tok *t)
{
	resize_term(t->rows, t->cols);
	ui_resized(ui);
	return UIK_RESIZE;
}

/* The next key from the script; UIK_NONE while waiting; UIK_EOF at its end. */
static int script_next(struct ui *ui, int timeout_ms)
{
	struct ui_script *s = ui->script;
	while (s->pos < s->n) {
		struct ui_tok *t = &s->v[s->pos];
		switch (t->kind) {
		case UT_KEY:
			s->pos++;
			return t->key;
		case UT_TEXT: {
			int c = script_type(s);
			if (c != UIK_NONE)
				return c;
			continue;
		}
		case UT_WAIT:
		case UT_WAITFOR:
			if (script_wait(ui, t, timeout_ms) != 0)
				return ui->fail[0] ? UIK_ABORT : UIK_NONE;
			s->pos++;
			return UIK_NONE;   /* redraw before the next token */
		case UT_DUMP:
			s->pos++;
			if (ui_dump_file(ui, t->arg) < 0)
				return script_fail(ui, t, "dump: cannot write the file");
			continue;
		case UT_RESIZE:
			s->pos++;
			return script_resize(ui, t);
		}
	}
	return UIK_EOF;
}

/* THE input function: the script's next key, else the keyboard's. */
int ui_input(struct ui *ui, int timeout_ms)
{
	if (ui->script && ui->script->pos < ui->script->n) {
		int resized = 0;
		drain_keyboard(ui, &resized);
		if (resized)
			return UIK_RESIZE;
		return script_next(ui, timeout_ms);
	}
	if (ui->script && !ui->keyboard)
		return UIK_EOF;
	return read_keyboard(timeout_ms);
}

/* --- screen dumps ------------------------------------------------------------------ */

/* Row y of the screen as UTF-8 into out (trailing blanks cut). */
static void screen_row(const struct ui *ui, int y, char *out, size_t len)
{
	size_t o = 0;
	for (int x = 0; x < ui->cols && o + 8 < len; x++) {
		cchar_t cc;
		wchar_t wch[CCHARW_MAX + 1] = {0};
		attr_t attrs;
		short pair;
		if (mvwin_wch(stdscr, y, x, &cc) == ERR || getcchar(&cc, wch, &attrs, &pair, NULL) == ERR)
			wch[0] = L' ';
		if (wch[0] == 0)
			continue;
		char mb[MB_LEN_MAX * (CCHARW_MAX + 1)];
		mbstate_t st;
		memset(&st, 0, sizeof st);
		size_t n = wcrtomb(mb, wch[0], &st);
		if (n == (size_t)-1) {
			mb[0] = '?';
			n = 1;
		}
		if (o + n + 1 >= len)
			break;
		memcpy(out + o, mb, n);
		o += n;
		if (wcwidth(wch[0]) == 2)
			x++;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Write the screen as text. */
int ui_dump(const struct ui *ui, FILE *out)
{
	char row[4096];
	for (int y = 0; y < ui->rows; y++) {
		screen_row(ui, y, row, sizeof row);
		fprintf(out, "%s\n", row);
	}
	return ferror(out) ? -1 : 0;
}

/* Write the screen into a file (created or truncated). */
int ui_dump_file(const struct ui *ui, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = ui_dump(ui, f);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Whether text appears on one row of the screen. */
bool ui_screen_has(const struct ui *ui, const char *text)
{
	char row[4096];
	for (int y = 0; y < ui->rows; y++) {
		screen_row(ui, y, row, sizeof row);
		if (strstr(row, text))
			return true;
	}
	return false;
}
