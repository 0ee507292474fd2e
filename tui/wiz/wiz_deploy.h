/* wiz_deploy — the deploy wizard (profile, restore point; deploy_plan, deploy_run). */
#ifndef FERRY_WIZ_DEPLOY_H
#define FERRY_WIZ_DEPLOY_H

#include "wiz/wiz.h"

extern const struct wiz_flow wiz_deploy_flow;

#endif
