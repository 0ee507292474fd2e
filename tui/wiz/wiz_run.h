/* wiz_run — the run screen: checklist, progress bar, log pane. Setting it
 * up starts the flow's run in the worker. */
#ifndef FERRY_WIZ_RUN_H
#define FERRY_WIZ_RUN_H

#include "wiz/wiz_app.h"

extern const struct wiz_app_screen wiz_run_screen;

#endif
