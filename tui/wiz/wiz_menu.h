/* wiz_menu — the helper-mode menu screen: one item per wizard (and Quit),
 * with what each does. */
#ifndef FERRY_WIZ_MENU_H
#define FERRY_WIZ_MENU_H

#include "wiz/wiz.h"
#include "wiz/wiz_app.h"

extern const struct wiz_app_screen wiz_menu_screen;

/* The wizard named on the command line (`ferry easy NAME`), or NULL. */
const struct wiz_flow *wiz_menu_flow_find(const char *name);

#endif
