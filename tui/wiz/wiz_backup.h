/* wiz_backup — the backup wizard (profile, what goes in and where; backup_plan, backup_run). */
#ifndef FERRY_WIZ_BACKUP_H
#define FERRY_WIZ_BACKUP_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_backup_flow;

#endif
