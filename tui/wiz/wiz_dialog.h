/* wiz_dialog — the model of a dialog over a wizard screen: a question
 * with two buttons, a word to type, an unknown host key, a line of text,
 * help, a message. Keys map to actions through one table per kind, which
 * the key-help line is drawn from. No curses (drawing: wiz_draw.c).
 *
 * Ownership: the dialog owns its body lines; wiz_dialog_done frees them.
 * buttons, check_ud are borrowed. */
#ifndef FERRY_WIZ_DIALOG_H
#define FERRY_WIZ_DIALOG_H

#include <stddef.h>

#include "ui/ui.h"
#include "util.h"

enum wiz_dialog_kind {
	WD_CONFIRM,               /* a question with two buttons */
	WD_TYPE,                  /* type a word (the database name) to go on */
	WD_HOSTKEY,               /* unknown SSH host key: Accept / Reject */
	WD_INPUT,                 /* a line of text, checked */
	WD_HELP,                  /* help for the page and its keys */
	WD_MESSAGE,               /* text and OK */
};

enum wiz_dialog_result { WD_OPEN = 0, WD_YES, WD_NO };

struct wiz_dialog {
	enum wiz_dialog_kind kind;
	int purpose;              /* the opener's tag: what to do with the answer */
	char title[128];
	struct strv body;         /* lines */
	const char *buttons[2];   /* [0] = yes, [1] = no */
	size_t nbuttons;
	size_t focus;
	char prompt[256];         /* WD_TYPE, WD_INPUT: the line over the input */
	struct ui_line input;     /* WD_TYPE, WD_INPUT */
	char expect[256];         /* WD_TYPE: the word to type */
	char error[256];          /* why the input does not do */
	int (*check)(const char *text, const void *ud, char *why, size_t n);
	const void *check_ud;
	size_t scroll;
	int result;
};

/* Open (reset) a dialog of a kind with a title. */
void wiz_dialog_open(struct wiz_dialog *d, enum wiz_dialog_kind kind, int purpose, const char *title);
void wiz_dialog_line(struct wiz_dialog *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The unknown-host-key question. */
void wiz_dialog_hostkey(struct wiz_dialog *d, int purpose, const char *host, const char *fingerprint);
/* A key for the dialog; returns its result (WD_OPEN while it stays). */
int wiz_dialog_key(struct wiz_dialog *d, int key);
void wiz_dialog_done(struct wiz_dialog *d);
/* The dialog's key table. */
const struct ui_binding *wiz_dialog_keys(const struct wiz_dialog *d, size_t *n);

#endif
