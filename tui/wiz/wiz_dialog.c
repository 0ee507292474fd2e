/* wiz_dialog — the dialogs' model: kinds, buttons, input, key tables.
 * Drawing is in wiz_draw.c. No curses here; unit-tested in
 * tests/unit/test_wiz_model.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_dialog.h"

enum { DA_YES = 1, DA_NO, DA_NEXT, DA_PREV, DA_ACTIVATE, DA_UP, DA_DOWN, DA_BACKSPACE };

static const struct ui_binding keys_confirm[] = {
	{UIK_ENTER, DA_ACTIVATE, "Enter", "choose the highlighted button", true},
	{UIK_LEFT, DA_PREV, "Left", "previous button", false},
	{UIK_RIGHT, DA_NEXT, "Right", "next button", false},
	{UIK_TAB, DA_NEXT, "Tab", "next button", true},
	{'y', DA_YES, "y", "yes", true},
	{'n', DA_NO, "n", "no", true},
	{UIK_ESC, DA_NO, "Esc", "no", true},
};

/* Short texts: the whole bar, Reject included, fits 80 columns (the dialog
 * itself says what Accept and Reject do). */
static const struct ui_binding keys_hostkey[] = {
	{UIK_ENTER, DA_ACTIVATE, "Enter", "choose", true},
	{UIK_LEFT, DA_PREV, "Left", "previous button", false},
	{UIK_RIGHT, DA_NEXT, "Right", "next button", false},
	{UIK_TAB, DA_NEXT, "Tab", "next button", true},
	{'a', DA_YES, "a", "Accept", true},
	{'r', DA_NO, "r", "Reject", true},
	{UIK_ESC, DA_NO, "Esc", "reject", true},
};

static const struct ui_binding keys_input[] = {
	{UIK_ENTER, DA_ACTIVATE, "Enter", "go on with what was typed", true},
	{UIK_ESC, DA_NO, "Esc", "give up; nothing is changed", true},
	{UIK_CTRL('c'), DA_NO, "C-c", "give up", false},
};

static const struct ui_binding keys_help[] = {
	{UIK_ESC, DA_NO, "Esc", "close the help", true},
	{UIK_ENTER, DA_NO, "Enter", "close the help", false},
	{'q', DA_NO, "q", "close the help", false},
	{UIK_F(1), DA_NO, "F1", "close the help", false},
	{UIK_UP, DA_UP, "Up", "scroll", true},
	{UIK_DOWN, DA_DOWN, "Down", "scroll", true},
};

static const struct ui_binding keys_message[] = {
	{UIK_ENTER, DA_NO, "Enter", "close", true},
	{UIK_ESC, DA_NO, "Esc", "close", true},
};

/* The dialog's key table. */
const struct ui_binding *wiz_dialog_keys(const struct wiz_dialog *d, size_t *n)
{
#define TABLE(t) (*n = sizeof t / sizeof t[0], t)
	switch (d->kind) {
	case WD_CONFIRM: return TABLE(keys_confirm);
	case WD_HOSTKEY: return TABLE(keys_hostkey);
	case WD_TYPE: case WD_INPUT: return TABLE(keys_input);
	case WD_HELP: return TABLE(keys_help);
	default: return TABLE(keys_message);
	}
#undef TABLE
}

/* Reset d as a new dialog. */
void wiz_dialog_open(struct wiz_dialog *d, enum wiz_dialog_kind kind, int purpose, const char *title)
{
	wiz_dialog_done(d);
	d->kind = kind;
	d->purpose = purpose;
	snprintf(d->title, sizeof d->title, "%s", title ? title : "");
	if (kind == WD_CONFIRM || kind == WD_HOSTKEY) {
		d->buttons[0] = kind == WD_HOSTKEY ? "Accept" : "Yes";
		d->buttons[1] = kind == WD_HOSTKEY ? "Reject" : "No";
		d->nbuttons = 2;
		d->focus = 1;    /* the safe answer is the default */
	}
}

/* Add a line of text to the dialog. */
void wiz_dialog_line(struct wiz_dialog *d, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	strv_push(&d->body, buf);
}

/* The unknown-host-key dialog: the SHA256 fingerprint, Accept / Reject. */
void wiz_dialog_hostkey(struct wiz_dialog *d, int purpose, const char *host, const char *fingerprint)
{
	wiz_dialog_open(d, WD_HOSTKEY, purpose, "Unknown SSH host key");
	wiz_dialog_line(d, "%s presents a host key ferry has not seen before:", host);
	wiz_dialog_line(d, "%s", "");
	wiz_dialog_line(d, "    %s", fingerprint);
	wiz_dialog_line(d, "%s", "");
	wiz_dialog_line(d, "Compare it with the server's own (on the server:");
	wiz_dialog_line(d, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).");
	wiz_dialog_line(d, "Accept records it in known_hosts; Reject stops here.");
}

/* Whether the typed text does: the expected word, or the check passes. */
static bool input_ok(struct wiz_dialog *d)
{
	d->error[0] = '\0';
	if (d->kind == WD_TYPE) {
		if (strcmp(d->input.text, d->expect) == 0)
			return true;
		snprintf(d->error, sizeof d->error, "type %.200s exactly to go on (Esc stops)", d->expect);
		return false;
	}
	if (d->check && d->check(d->input.text, d->check_ud, d->error, sizeof d->error) < 0)
		return false;
	return true;
}

/* An action of a dialog with buttons. */
static int button_action(struct wiz_dialog *d, int act)
{
	switch (act) {
	case DA_YES: return d->result = WD_YES;
	case DA_NO: return d->result = WD_NO;
	case DA_NEXT: d->focus = (d->focus + 1) % d->nbuttons; return WD_OPEN;
	case DA_PREV: d->focus = (d->focus + d->nbuttons - 1) % d->nbuttons; return WD_OPEN;
	case DA_ACTIVATE: return d->result = d->focus == 0 ? WD_YES : WD_NO;
	default: return WD_OPEN;
	}
}

/* A key for a text dialog: edit, or Enter / Esc. */
static int input_key(struct wiz_dialog *d, int act, int key)
{
	if (act == DA_NO)
		return d->result = WD_NO;
	if (act == DA_ACTIVATE)
		return input_ok(d) ? (d->result = WD_YES) : WD_OPEN;
	if (ui_line_key(&d->input, key))
		d->error[0] = '\0';
	return WD_OPEN;
}

/* One key for the dialog. */
int wiz_dialog_key(struct wiz_dialog *d, int key)
{
	size_t n;
	const struct ui_binding *t = wiz_dialog_keys(d, &n);
	int act = ui_binding_action(t, n, key);
	switch (d->kind) {
	case WD_CONFIRM:
	case WD_HOSTKEY:
		return button_action(d, act);
	case WD_TYPE:
	case WD_INPUT:
		return input_key(d, act, key);
	case WD_HELP:
		if (act == DA_UP && d->scroll > 0)
			d->scroll--;
		else if (act == DA_DOWN)
			d->scroll++;
		return act == DA_NO ? (d->result = WD_NO) : WD_OPEN;
	default:
		return act ? (d->result = WD_NO) : WD_OPEN;
	}
}

/* Free the dialog's text. */
void wiz_dialog_done(struct wiz_dialog *d)
{
	strv_done(&d->body);
	memset(d, 0, sizeof *d);
}
