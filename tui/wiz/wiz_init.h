/* wiz_init — "Set up ferry" (`ferry easy init`, and the menu's first item
 * when no profiles file is found): the database, the app and where bundles
 * go, the plan from init_plan(), then init_run() as `ferry init` calls it. */
#ifndef FERRY_WIZ_INIT_H
#define FERRY_WIZ_INIT_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_init_flow;

#endif
