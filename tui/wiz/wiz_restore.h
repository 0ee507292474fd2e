/* wiz_restore — the restore wizard (profile, bundle, what to restore; restore_plan, restore_run). */
#ifndef FERRY_WIZ_RESTORE_H
#define FERRY_WIZ_RESTORE_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_restore_flow;

#endif
