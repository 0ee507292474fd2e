/* wiz_save — "Save as profile" on the summary: a copy of the chosen
 * profile (for a migrate, the new server's) with the wizard's answers,
 * added to the profiles file under a new name. The file itself is core's
 * (profile_save_copy: written atomically, only when it still loads); here
 * are which answers go in and what the operator is told. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fsx.h"
#include "wiz/wiz_save.h"

/* The profile Save copies: the flow's choice, else the chosen one. */
const char *wiz_save_base(const struct wiz *w)
{
	return w->flow->save_base ? w->flow->save_base(w) : w->p->name;
}

/* The flow's answers and a description saying where the copy came from. */
static void apply_answers(profile_edit *ed, void *ud)
{
	const struct wiz *w = ud;
	if (w->flow->save)
		w->flow->save(w, ed);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d", &tm);
	char *desc = xasprintf("saved by the %s wizard from %s on %s", w->flow->name,
			       wiz_save_base(w), when);
	profile_edit_set_string(ed, NULL, "description", desc);
	free(desc);
}

/* Add the new profile to the file; msg says what happened. */
int wiz_save_profile(struct wiz *w, const char *name, char *msg, size_t n)
{
	struct err e = {0};
	if (profile_save_copy(w->profiles_path, wiz_save_base(w), name, apply_answers, w, &e) < 0) {
		snprintf(msg, n, "not saved: %s", e.msg);
		return -1;
	}
	char *next = w->flow->save_next ? w->flow->save_next(w, name)
					: xasprintf("ferry %s --profile %s", w->flow->name, name);
	/* One screen line: the dialog already named the file. */
	snprintf(msg, n, "saved profile \"%s\"; next time: %s", name, next);
	free(next);
	return 0;
}
