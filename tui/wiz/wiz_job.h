/* wiz_job — the wizard's worker thread. The core flow runs in it; its
 * events go through a mutex-protected queue that the UI thread drains
 * every 100 ms; questions the flow asks while it runs (type the database
 * name, accept an unknown SSH host key) block the worker until the UI
 * answers. No curses.
 *
 * Ownership: the job owns its queue and the question's texts; events and
 * strings handed out are the caller's to free. */
#ifndef FERRY_WIZ_JOB_H
#define FERRY_WIZ_JOB_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "event.h"
#include "plan.h"

enum wiz_job_ask { WIZ_JOB_ASK_NONE, WIZ_JOB_ASK_WORD, WIZ_JOB_ASK_HOSTKEY };

struct wiz_job;
/* The work: runs in the worker thread; returns 0 or -1 with e filled. */
typedef int (*wiz_job_fn)(struct wiz_job *j, void *ud, struct err *e);

struct wiz_job {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool live;                /* started and not joined yet */
	wiz_job_fn fn;
	void *ud;
	struct event_sink sink;   /* hand to the flow: queues events */
	volatile sig_atomic_t cancel;   /* the flow's cancel flag */
	/* under mu */
	bool finished;
	int rc;
	struct err err;
	struct event *q;          /* copies, strings owned */
	size_t qn, qcap;
	enum wiz_job_ask ask;     /* a question waiting for the UI */
	char *ask_a, *ask_b;      /* WORD: the plan as text, the word; HOSTKEY: host, fingerprint */
	bool ask_shown, answered;
	int answer;               /* 1 = yes */
	double asked_s;           /* seconds the worker waited for answers */
};

/* Start fn(j, ud) in a new thread. -1 when no thread could be made. */
int wiz_job_start(struct wiz_job *j, wiz_job_fn fn, void *ud);
/* Move the queued events out (caller frees them with wiz_job_events_free). */
size_t wiz_job_take(struct wiz_job *j, struct event **out);
void wiz_job_events_free(struct event *v, size_t n);
/* A question not shown yet: true with copies of its texts (caller frees). */
bool wiz_job_question(struct wiz_job *j, enum wiz_job_ask *kind, char **a, char **b);
/* The UI's answer to the question (yes = 1). */
void wiz_job_answer(struct wiz_job *j, int yes);
/* Worker side: ask and wait; 1 = yes, 0 = no or cancelled. */
int wiz_job_ask(struct wiz_job *j, enum wiz_job_ask kind, const char *a, const char *b);
bool wiz_job_finished(struct wiz_job *j);
/* Set the cancel flag (a pending question is answered no). */
void wiz_job_cancel(struct wiz_job *j);
/* Wait for the thread; rc and err hold its result. NULL-safe, idempotent. */
void wiz_job_join(struct wiz_job *j);

/* The flows' questions go through the job to the UI (ud = the job): a
 * confirmation (restore: type the database name; migrate: type "copy") and
 * an unknown SSH host key. Signatures of flow_confirm_fn and
 * flow_hostkey_fn (core/flow.h). */
int wiz_job_confirm_word(void *ud, const struct plan *plan, const char *word, struct err *e);
int wiz_job_confirm_host_key(void *ud, const char *host, int port, const char *fingerprint,
			     const char *type);

#endif
