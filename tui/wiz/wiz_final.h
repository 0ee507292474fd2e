/* wiz_final — the final screen: result, files written, log, next command.
 * Setting it up asks the flow for the result and closes the log. */
#ifndef FERRY_WIZ_FINAL_H
#define FERRY_WIZ_FINAL_H

#include "wiz/wiz_app.h"

extern const struct wiz_app_screen wiz_final_screen;

#endif
