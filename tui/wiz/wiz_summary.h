/* wiz_summary — the summary screen: the plan from core and the buttons
 * Start, Back, Save as profile, Cancel. Setting it up starts the plan in
 * the worker. */
#ifndef FERRY_WIZ_SUMMARY_H
#define FERRY_WIZ_SUMMARY_H

#include "wiz/wiz_app.h"

extern const struct wiz_app_screen wiz_summary_screen;

#endif
