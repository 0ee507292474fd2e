/* wiz_page — one page of a wizard: its fields, its items, its text. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wiz/wiz_page.h"

/* Free the page's content. */
void wiz_page_done(struct wiz_page *pg)
{
	free(pg->text);
	free(pg->header);
	free(pg->made_for);
	wiz_page_clear_items(pg);
}

/* Add a text field to a form page. */
struct wiz_page_field *wiz_page_add_text(struct wiz_page *pg, const char *id, const char *label,
			       const char *help, wiz_page_check_fn check)
{
	if (pg->nfields == WIZ_PAGE_MAX_FIELDS)
		abort();
	struct wiz_page_field *f = &pg->fields[pg->nfields++];
	memset(f, 0, sizeof *f);
	f->id = id;
	f->label = label;
	f->help = help;
	f->kind = WF_TEXT;
	f->check = check;
	return f;
}

/* Add a field choosing one of options (Left/Right). */
struct wiz_page_field *wiz_page_add_option(struct wiz_page *pg, const char *id, const char *label,
				 const char *help, const char *const *options)
{
	struct wiz_page_field *f = wiz_page_add_text(pg, id, label, help, NULL);
	f->kind = WF_OPTION;
	f->options = options;
	return f;
}

/* Set the page's explanation text. */
void wiz_page_text(struct wiz_page *pg, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(pg->text);
	pg->text = xstrdup(buf);
}

/* Remove a choice page's items. */
void wiz_page_clear_items(struct wiz_page *pg)
{
	for (size_t i = 0; i < pg->nitems; i++) {
		free(pg->items[i].label);
		free(pg->items[i].value);
	}
	free(pg->items);
	pg->items = NULL;
	pg->nitems = pg->sel = pg->top = 0;
}

/* Add an item to a choice page. */
void wiz_page_item(struct wiz_page *pg, const char *value, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	pg->items = xrealloc(pg->items, (pg->nitems + 1) * sizeof *pg->items);
	pg->items[pg->nitems].label = xstrdup(buf);
	pg->items[pg->nitems].value = xstrdup(value);
	pg->nitems++;
}

/* True when the page was filled for something else than key. */
bool wiz_page_refill(struct wiz_page *pg, const char *key)
{
	if (pg->made_for && key && strcmp(pg->made_for, key) == 0)
		return false;
	free(pg->made_for);
	pg->made_for = xstrdup(key ? key : "");
	return true;
}

