/* wiz_page — one page of a wizard: a question (a choice of items, or a
 * form of fields), the summary, the run or the final page.
 *
 * Ownership: a page owns its text, header, items and made_for (freed by
 * wiz_page_done); id, title, help and the fields' labels are borrowed
 * (string literals of the flow). */
#ifndef FERRY_WIZ_PAGE_H
#define FERRY_WIZ_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "ui/ui.h"

#define WIZ_PAGE_MAX_FIELDS 4

enum wiz_page_kind { WP_INFO, WP_CHOICE, WP_FORM, WP_SUMMARY, WP_RUN, WP_FINAL, WP_KIND_COUNT };

struct wiz_page_item {
	char *label;              /* the row shown */
	char *value;              /* what picking it means (a name, a path) */
};

enum wiz_page_field_kind { WF_TEXT, WF_OPTION };

struct wiz;
struct wiz_page_field;
/* A field's check: -1 with the reason in why when the value will not do. */
typedef int (*wiz_page_check_fn)(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n);

struct wiz_page_field {
	const char *id;
	const char *label;
	const char *help;
	enum wiz_page_field_kind kind;
	struct ui_line line;      /* WF_TEXT */
	const char *const *options;   /* WF_OPTION: NULL-terminated */
	int option;
	wiz_page_check_fn check;
};

struct wiz_page {
	const char *id;
	enum wiz_page_kind kind;
	const char *title;        /* the question, e.g. "Which profile?" */
	const char *help;         /* the F1 text */
	char *text;               /* explanation above the content */
	char *header;             /* WP_CHOICE: a header row over the items */
	bool skip;                /* not shown (decided when entered) */
	bool blocked;             /* Next is not possible (text says why) */
	struct wiz_page_item *items;
	size_t nitems, sel, top;
	struct wiz_page_field fields[WIZ_PAGE_MAX_FIELDS];
	size_t nfields, focus;
	char error[512];          /* inline validation message */
	char *made_for;           /* what the content was filled for */
};

/* A text field on a form page (check may be NULL). */
struct wiz_page_field *wiz_page_add_text(struct wiz_page *pg, const char *id, const char *label,
				    const char *help, wiz_page_check_fn check);
/* A field choosing one of options (NULL-terminated) with Left/Right. */
struct wiz_page_field *wiz_page_add_option(struct wiz_page *pg, const char *id, const char *label,
				      const char *help, const char *const *options);
/* The explanation above the content (replaces the old one). */
void wiz_page_text(struct wiz_page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wiz_page_clear_items(struct wiz_page *pg);
/* An item of a choice page: the row shown (fmt) and what picking it means. */
void wiz_page_item(struct wiz_page *pg, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether the page must be filled again for key (and remember key). */
bool wiz_page_refill(struct wiz_page *pg, const char *key);
/* Free the page's content. */
void wiz_page_done(struct wiz_page *pg);

#endif
