/* wiz_drill — the drill wizard (profile; bundle; server and keep; drill_plan; drill_run). */
#ifndef FERRY_WIZ_DRILL_H
#define FERRY_WIZ_DRILL_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_drill_flow;

#endif
