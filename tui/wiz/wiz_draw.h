/* wiz_draw — the parts every wizard screen draws: the title line, the line
 * about what will happen, the page's title and text, the inline error, and
 * a dialog over the screen. Drawing only reads the app. */
#ifndef FERRY_WIZ_DRAW_H
#define FERRY_WIZ_DRAW_H

#include <stddef.h>

#include "ui/ui.h"
#include "wiz/wiz_app.h"
#include "wiz/wiz_dialog.h"

/* Title line, the one line about what will happen, the page's title and
 * text, the key-help line from keys; returns the first free row. */
int wiz_draw_chrome(const struct wiz_app *a, const struct ui_binding *keys, size_t nkeys);
/* The inline error above the key-help line (two rows when it is long). */
void wiz_draw_error(const struct wiz_app *a, const char *msg);
/* A dialog in a frame over the middle of the screen, its keys at the bottom. */
void wiz_draw_dialog(const struct wiz_app *a, const struct wiz_dialog *d);

#endif
