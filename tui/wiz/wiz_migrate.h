/* wiz_migrate — the migrate wizard (this machine, the new server, how to reach it; migrate_plan, migrate_run). */
#ifndef FERRY_WIZ_MIGRATE_H
#define FERRY_WIZ_MIGRATE_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_migrate_flow;

#endif
