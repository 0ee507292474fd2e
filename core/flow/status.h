/* status — `ferry status`, the self-check of one profile: database
 * (reachable, latency, version), schema revision and pending migrations,
 * size and tables, connections, the last backup, the last restore drill,
 * free space in the backup dir, health URLs, SSH reachability, the services' status
 * commands, and per offsite target whether it answers and how old its newest copy is.
 *
 * status_run fills a report owned by the caller (status_report_done frees
 * it); it prints nothing. Each check is ok, warn or fail; a failed check
 * carries the error kind that fits it best (ERR_DB for the database, ...). */
#ifndef FERRY_STATUS_H
#define FERRY_STATUS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"

enum status_state { STATUS_OK, STATUS_WARN, STATUS_FAIL };

struct status_check {
	char *name;               /* "database", "schema", "size", "connections", "backup",
				     "drill", "space", "health", "ssh", "service", "offsite" */
	char *subject;            /* the health check's name, the service command, the
				     offsite target, or NULL */
	enum status_state state;
	enum err_kind kind;       /* when failed: the fitting error kind */
	char *detail;             /* one line for people */
};

/* The numbers behind the checks, for --json. A has_* flag says whether the
 * group was measured. */
struct status_facts {
	bool has_db;
	double latency_ms;
	char *db_name, *db_host, *server_version;
	char *schema_revision, *revision_source;   /* NULL when none found; the source
						    * is set when its table is empty */
	struct strv revisions;                     /* django: "app.migration", per app */
	bool has_pending;
	size_t pending_migrations;
	int64_t size_bytes;
	int64_t tables;
	int64_t connections, max_connections;

	bool has_backup_dir;
	char *backup_dir;
	size_t bundles;
	bool has_last_backup;
	struct {
		char *file, *path, *type, *revision, *verified;   /* verified NULL = never */
		time_t created;
		int64_t age_s;
		uint64_t size;
	} last;
	bool has_space;
	uint64_t free_bytes, total_bytes;

	bool has_drill;           /* a drill is in the log */
	struct {
		bool ok;
		time_t at;
		int64_t age_s;
		double restore_s;
		char *bundle, *error;
	} drill;
	int drill_max_age_days;

	bool has_ssh;
	char *ssh_host;
	int ssh_port;
	double ssh_ms;            /* TCP connect time */
	char *ssh_banner;         /* "SSH-2.0-OpenSSH_9.2p1 ...", NULL when none came */
};

/* Per-check numbers kept with the check that measured them. */
struct status_health_fact {
	char *url;
	int http_status;          /* 0 = no answer */
	double elapsed_ms;
};

/* What one "offsite" check found on its target. */
struct status_offsite_fact {
	char *target, *type;
	bool reachable;
	char *error;              /* why not, when not reachable */
	size_t copies;            /* this profile's bundles there */
	char *newest;             /* the newest one's object name; NULL = none */
	int64_t age_s;            /* its age */
	uint64_t size;
	long long max_age_s;      /* offsite_max_age */
};

struct status_report {
	struct status_check *v;
	size_t n;
	struct status_health_fact *health;   /* one per "health" check, in order */
	size_t nhealth;
	struct status_offsite_fact *offsite;  /* one per "offsite" check, in order */
	size_t noffsite;
	struct status_facts facts;
	char *profile;
	double duration_s;
};
void status_report_done(struct status_report *r);

struct status_opts {
	int backup_max_age_s;     /* warn when the newest bundle is older; 0 = 2 days */
	int ssh_timeout_s;        /* TCP connect to ssh.host:port; 0 = 5 */
	int service_timeout_s;    /* each services.status command; 0 = 30 */
	/* Called after each check (may be NULL), so a front end can show it at once. */
	void (*on_check)(void *ud, const struct status_check *c);
	void *ud;
	const struct event_sink *events;   /* a step per check (may be NULL) */
	volatile sig_atomic_t *cancel;
};

/* Run every check. Returns 0 when the report was made (whatever the checks
 * say), -1 with e filled when it could not be (interrupted). */
int status_run(const struct profile *p, const struct status_opts *o, struct status_report *r,
	       struct err *e);

/* The checks that would run, without running them. */
int status_plan(const struct profile *p, const struct status_opts *o, struct plan *plan,
		struct err *e);

/* The worst state of the report. */
enum status_state status_overall(const struct status_report *r);
/* The error kind of the first failed check; ERR_OK when none failed. */
enum err_kind status_fail_kind(const struct status_report *r);
/* "ok", "warn", "fail". */
const char *status_state_name(enum status_state s);

/* {"status":"ok|warn|fail","profile":...,"checks":[{"name":...,"state":...,
 * "detail":..., plus the check's numbers}]} as compact JSON; caller frees. */
char *status_to_json(const struct status_report *r);

/* "3 min", "5 h", "2 d" for an age in seconds, into buf. */
const char *status_human_age(int64_t seconds, char *buf, size_t len);

#endif
