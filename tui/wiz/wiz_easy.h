/* wiz_easy — `ferry easy [NAME]` and helper mode: the wizards' main loop.
 *
 * Keys come from the terminal or a key script (--keys FILE, FERRY_KEYS);
 * without a terminal the screen is drawn off-screen for the script. */
#ifndef FERRY_WIZ_EASY_H
#define FERRY_WIZ_EASY_H

#include <stdbool.h>

#include "cli/cli.h"
#include "cli/cmd.h"
#include "err.h"
#include "wiz/wiz.h"

/* The `easy` entry of the command table. */
extern const struct cmd_entry wiz_easy_entry;

/* Whether `ferry` alone opens the menu: a terminal, or FERRY_KEYS set. */
bool wiz_easy_wanted(const struct cli *c);
/* The helper menu; the process exit code (or -1 with e filled). */
int wiz_easy_helper(struct cli *c, struct err *e);
/* The menu (flow NULL) or one wizard until the operator leaves; the exit
 * code, or -1 with e filled when it cannot start. */
int wiz_easy_run(struct cli *c, const struct wiz_flow *flow, const char *keys_path, struct err *e);

#endif
