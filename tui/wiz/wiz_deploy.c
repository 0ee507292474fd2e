/* wiz_deploy — deploy or restart services: explain → profile → restore
 * point first? → summary (deploy_plan) → run (deploy_run) → result. */
#include <stdlib.h>
#include <string.h>

#include "flow/deploy.h"
#include "wiz/wiz_deploy.h"

struct deploy_state {
	struct deploy_result r;
	bool have_r;
};

static const char *const restore_point_options[] = {
	"yes: back up first (a restore point)", "no: restart without a restore point", NULL};

/* Pages: explanation, profile, options. */
static void deploy_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct deploy_state));
	struct wiz_page *pg = wiz_add_page(w, "explain", WP_INFO, "Deploying or restarting services",
		"Deploy runs on the profile's ssh host when the profile has one, else on this "
		"machine. When a step after the restore point fails, the profile's "
		"services.rollback commands run and the result names the exact restore command.");
	wiz_page_text(pg, "ferry will take the deploy lock, back up a restore point, run the "
		"pre_deploy hooks and the schema migrations, restart the services, run the "
		"health checks (with retries) and the post_deploy hooks, and write a log. "
		"The plan is shown before anything happens. Enter goes on.");
	wiz_add_profile_page(w, "profile", "Which profile do you want to deploy?");
	pg = wiz_add_page(w, "options", WP_FORM, "Restore point first?",
		"A restore point is a bundle of type pre-deploy: if the new release breaks the "
		"data, `ferry restore` of it puts everything back.");
	wiz_page_add_option(pg, "backup", "Restore point", "Left/Right to change.", restore_point_options);
}

/* Say where the deploy runs. */
static void deploy_enter(struct wiz *w, struct wiz_page *pg)
{
	if (strcmp(pg->id, "options") != 0)
		return;
	if (w->p->has_ssh)
		wiz_page_text(pg, "Profile %s deploys on %s@%s over SSH.", w->p->name,
			      w->p->ssh.user ? w->p->ssh.user : "?", w->p->ssh.host);
	else
		wiz_page_text(pg, "Profile %s deploys on this machine.", w->p->name);
}

/* One line: what is about to happen. */
static void deploy_about(const struct wiz *w, char *out, size_t n)
{
	if (!w->p)
		snprintf(out, n, "About to deploy: restore point, migrations, restarts, health checks.");
	else
		snprintf(out, n, "About to deploy profile %s %s: restore point, migrations, restart, health checks.",
			 w->p->name, w->p->has_ssh ? "over SSH" : "on this machine");
}

/* The options from the answers. */
static void deploy_options(const struct wiz *w, struct deploy_opts *o)
{
	memset(o, 0, sizeof *o);
	const struct wiz_page_field *f = wiz_field(w, "options", "backup");
	o->skip_backup = f && f->option == 1;
}

/* Worker: the plan (deploy_plan). */
static int deploy_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct deploy_opts o;
	deploy_options(w, &o);
	return deploy_plan(w->p, &o, plan, e);
}

/* Worker: THE core call, deploy_run(). */
static int deploy_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct deploy_state *st = w->st;
	struct deploy_opts o;
	deploy_options(w, &o);
	o.yes = true;      /* confirmed on the summary with Start */
	o.confirm_host_key = wiz_job_confirm_host_key;
	o.hostkey_ud = j;
	o.events = &j->sink;
	o.cancel = &j->cancel;
	int rc = deploy_run(w->p, &o, &st->r, e);
	st->have_r = true;
	return rc;
}

/* The final page: restore point, rollback, log, next command. */
static void deploy_result_hook(struct wiz *w)
{
	struct deploy_state *st = w->st;
	if (!st->have_r)
		return;
	const struct deploy_result *r = &st->r;
	/* First: the summary below may not fit the page. */
	if (r->rolled_back)
		strv_push(&w->result, "The profile's rollback commands ran.");
	if (r->summary) {
		char *copy = xstrdup(r->summary), *save = NULL;
		for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			strv_push(&w->result, line);
		free(copy);
	}
	if (r->restore_point)
		w->written = xasprintf("restore point %s%s", r->restore_point, r->remote ? " (on the server)" : "");
	if (w->rc != 0 && r->restore_command)
		w->next_cmd = xstrdup(r->restore_command);
	else if (w->rc == 0)
		w->next_cmd = xasprintf("ferry status --profile %s", w->p->name);
}

/* Free the result. */
static void deploy_free(struct wiz *w)
{
	struct deploy_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		deploy_result_done(&st->r);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_deploy_flow = {
	.name = "deploy",
	.title = "Deploy or restart services",
	.doing = "Deploying",
	.setup = deploy_setup,
	.enter = deploy_enter,
	.about = deploy_about,
	.plan = deploy_plan_hook,
	.run = deploy_run_hook,
	.result = deploy_result_hook,
	.free_state = deploy_free,
};
