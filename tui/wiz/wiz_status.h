/* wiz_status — the status wizard (profile; status_run (no summary: read-only)). */
#ifndef FERRY_WIZ_STATUS_H
#define FERRY_WIZ_STATUS_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_status_flow;

#endif
