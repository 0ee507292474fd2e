/* cmd_recover — `ferry recover`: finish or undo what a killed run left. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "flow/flow.h"
#include "recover.h"

static int recover_exec(struct cmd_run *r, struct err *e)
{
	char *what = NULL;
	bool pending = recover_pending(r->p, &what);
	/* The lock first: a journal can only be dealt with when no run holds it. */
	int rc = flow_lock_profile(r->p, "recover", r->events, e);
	if (rc == 0)
		flow_unlock_profile(r->p);
	if (rc == 0 && r->c->json)
		printf("{\"status\":\"success\",\"recovered\":%s}\n", pending ? "true" : "false");
	else if (rc == 0)
		printf(pending ? "recovered: %s; finished or undone, see above\n" : "nothing to recover%s\n",
		       pending ? what : "");
	free(what);
	return rc;
}

const struct cmd_entry cmd_recover_entry = {
	.name = "recover",
	.summary = "finish or undo what a killed backup, restore, rollback or reset left",
	.description =
		"Takes the profile's lock and reads its journal: a swap that was interrupted\n"
		"gets its connections allowed again, restored app files still waiting are put\n"
		"in place, the shadow and work directories the killed run made are removed.\n"
		"Every backup, restore, rollback and reset does this first by itself; `ferry\n"
		"status` fails while there is something to recover.\n",
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_PROGRESS,
	.exec = recover_exec,
};
