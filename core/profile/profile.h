/* profile — load, validate, locate and write JSON migration profiles
 * (core/profile/: load sections get env paths conninfo locate redact save;
 * their shared internals are in profile_int.h).
 *
 * A profiles file is a JSON object of named profiles, one per environment:
 *   {"production": {...}, "staging": {...}}
 * The reference of every key is profiles/README.md. Connection strings are
 * read by libpq (core/db.h); profile_save_copy is the only writer of the file.
 *
 * Ownership: profile_file_load() returns a heap object owned by the caller,
 * freed with profile_file_free() (NULL is fine). Profiles returned by
 * profile_file_get() belong to their file and are read-only; profile_clone()
 * gives one of the caller's own. Every string in a struct profile is owned
 * by it; absent optional strings are NULL.
 *
 * Names: MIT Kerberos (loaded by libpq) exports profile_init,
 * profile_get_string, profile_release and more; a ferry function of the same
 * name would be called by it instead of its own. */
#ifndef FERRY_PROFILE_H
#define FERRY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "util.h"

struct profile_keep {
	int last;           /* newest N bundles always kept */
	int daily;          /* newest bundle of each of the last N days */
	int weekly;         /* ... of each of the last N ISO weeks */
	int monthly;        /* ... of each of the last N months */
	int manual_days;    /* manual bundles kept this many days */
};

struct profile_health {
	char *name;
	char *url;
	int expect;             /* expected HTTP status, default 200 */
	int timeout_s;          /* per request, default 5 */
	int retries;            /* attempts, default 30 */
	int interval_s;         /* between attempts, default 1 */
	bool follow_redirects;  /* default false: a 3xx is not success */
};

/* One place outside the server where bundles are copied (offsite[]). */
struct profile_offsite {
	char *name;             /* unique in the profile: --to / --from NAME */
	char *type;             /* "s3" or "sftp" */
	/* s3 */
	char *endpoint;         /* "https://s3.example.com"; default AWS's for region */
	char *region;           /* default "us-east-1" */
	char *bucket;
	char *prefix;           /* object names start with it ("shop/"); default "" */
	bool path_style;        /* https://endpoint/bucket/key (else bucket.endpoint) */
	int part_size_mib;      /* multipart part size, 5-64, default 16 */
	int parallel;           /* parts in flight, 1-16, default 4 */
	/* sftp */
	char *host;
	int port;               /* default 22 */
	char *user;
	char *identity_file;    /* ~ expanded; NULL = ssh-agent */
	char *known_hosts;      /* default: ssh.known_hosts */
	char *dir;              /* on the host; absolute or relative to the login's home */
	struct profile_keep keep;   /* default: backup.keep */
};

struct profile_action {
	char *name;
	char *sql;
	struct strv params;     /* parameter names, bound as $1, $2, ... */
	bool confirm;
	char *description;      /* optional, shown in menus */
};

/* One application check of a drill (drill.checks[]): the query's single
 * value, or its row count when it returns another shape, must equal
 * expect. */
struct profile_drill_check {
	char *name;
	char *sql;
	char *expect;           /* as text: "1", "t" for true, "admin" */
	struct strv params;     /* bound as $1, $2, ... ("{bundle_created}": the bundle's time) */
};

/* When a scheduled drill runs (drill.schedule): "weekly" (Sunday 05:00,
 * the default), "daily" (05:00), "monthly" (the 1st, 05:00), "off", or
 * "<Mon..Sun|daily|monthly> HH:MM". */
struct profile_when {
	bool off;
	int weekday;            /* 0 = Sunday .. 6; -1 = every day */
	bool monthly;           /* on the 1st (weekday is -1 then) */
	int hour, minute;
};
/* Read a drill.schedule string; -1 when it is not one of the forms above. */
int profile_when_parse(const char *s, struct profile_when *out);

struct profile {
	char *name;             /* the key in the profiles file */
	char *file;             /* absolute path of the profiles file */
	char *dir;              /* its directory: base of relative paths */

	struct {
		char *url;      /* libpq URI or key=value; DATABASE_URL overrides */
	} database;

	struct {
		char *root;     /* absolute; relative in the file = to dir */
		struct strv paths;   /* relative to root */
		struct strv exclude; /* glob patterns relative to root */
		char *env_file; /* absolute; relative in the file = to root */
		bool keep_ownership; /* restore keeps the files' uid/gid (default: the restoring user's) */
	} app;
	bool has_app;

	struct {
		char *dir;      /* absolute; relative in the file = to dir */
		char *compression;   /* "zstd" (default), "gzip", "none" */
		int level;      /* compression level, default 1 */
		bool globals;   /* include roles (pg_dumpall --roles-only) */
		struct profile_keep keep;
		struct strv schedule;   /* "daily", "weekly", "monthly" */
		bool offsite;   /* copy every new bundle to every offsite target */
	} backup;

	struct profile_offsite *offsite;   /* offsite[] in file order */
	size_t noffsite;
	long long offsite_max_age_s;  /* status warns past it; default 2 days */

	struct {
		struct strv recipients;  /* age recipients: "age1...", "ssh-ed25519 ..." */
		bool local;     /* local bundles are encrypted too */
	} encryption;
	bool has_encryption;         /* recipients given: offsite copies are encrypted */

	struct {
		char *key;          /* private key that signs manifests (absolute) */
		char *public_key;   /* verifies them (absolute) */
	} signing;

	struct {
		char *host;
		int port;       /* default 22 */
		char *user;
		char *identity_file;  /* ~ expanded; NULL = ssh-agent */
		char *known_hosts;    /* ~ expanded; default ~/.ssh/known_hosts */
		bool use_ssh_config;  /* honour ~/.ssh/config, default true */
		char *ferry_path;     /* ferry on the remote, default "ferry" */
		char *remote_profiles;/* profiles file on the remote, optional */
	} ssh;
	bool has_ssh;

	struct {
		char *orchestrator;   /* docker, pm2, systemd, custom */
		struct strv restart, stop, start, status, rollback;
	} services;

	struct profile_health *health;
	size_t nhealth;

	struct {
		char *file;           /* absolute; relative = to app.root, else dir */
		char *primary_url;
		char *fallback_url;
		char *grace_period;   /* ISO-8601 duration, e.g. P7D */
	} registry;
	bool has_registry;

	struct {
		struct strv pre_backup, post_backup, pre_restore, post_restore,
			pre_deploy, post_deploy;
	} hooks;

	struct {
		char *command;        /* delegated runner, run in app.root */
		char *status_command;
		char *dir;            /* ferry's own runner; absolute */
	} migrations;

	struct profile_action *actions;
	size_t nactions;

	struct {
		struct profile_drill_check *checks;
		size_t nchecks;
		int max_age_days;     /* status warns when the newest drill is older; default 8 */
		char *schedule;       /* see struct profile_when; default "weekly" */
	} drill;

	/* Alerts after scheduled runs and `ferry status --notify`. */
	struct {
		struct strv on;       /* "failure", "warning", "success"; default the first two */
		char *command;        /* /bin/sh -c, the alert's JSON on stdin */
		char *webhook_url;    /* a JSON POST */
		struct strv webhook_headers;   /* "Name: value" */
		int timeout_s;        /* each command run and each POST; default 30 */
	} notify;
	bool has_notify;

	struct strv seeds;            /* SQL files, absolute */
	char *log_dir;                /* absolute; default "logs" (relative = to dir) */
	char *description;            /* free text, optional */

	/* Values that ${VAR} expansion took from variables whose name holds
	 * PASSWORD, SECRET, TOKEN or KEY: profile_to_json_redacted() replaces
	 * them by "***" wherever they appear. */
	struct strv secrets;
};

/* A profiles file larger than this is refused (it is hand-written JSON). */
#define PROFILE_FILE_MAX (4u << 20)

typedef struct profile_file profile_file;

/* Where the profiles file is found, in order: explicit (--profiles),
 * $FERRY_PROFILES, ./config/migration_profiles.json,
 * $XDG_CONFIG_HOME/ferry/profiles.json (or ~/.config/...),
 * /etc/ferry/profiles.json. Returns a new string or NULL with e filled
 * (ERR_PROFILE, listing the places looked at). */
char *profile_locate(const char *explicit_path, struct err *e);

/* Parse and validate a profiles file. Every profile in it is validated.
 * JSON syntax errors read "FILE:LINE:COLUMN: ..."; validation errors read
 * "FILE: KEY.PATH: ...". ${VAR} is expanded from the environment, then the
 * profile's env file. Returns NULL with e filled (ERR_PROFILE) on error. */
profile_file *profile_file_load(const char *path, struct err *e);
void profile_file_free(profile_file *pf);

/* Load from a JSON string (tests, profiles passed on stdin). path is used
 * for messages and as the base of relative paths (its directory). */
profile_file *profile_file_load_string(const char *json, const char *path,
				       struct err *e);

size_t profile_file_count(const profile_file *pf);
const struct profile *profile_file_at(const profile_file *pf, size_t i);
const char *profile_file_path(const profile_file *pf);

/* Pick by name; NULL name = $FERRY_PROFILE, else the only profile.
 * NULL with e filled when not found (with a did-you-mean) or ambiguous. */
const struct profile *profile_file_get(const profile_file *pf,
				       const char *name, struct err *e);

/* The paths a run of p needs on this machine: app.root (a directory), each
 * of app.paths, backup.dir (a directory). A missing one is a line in errors
 * ("production.app.root: /srv/shop does not exist"); for a profile with an
 * ssh section, whose paths may be on that host, the line goes to notes
 * instead. Returns the number of lines added to errors. */
size_t profile_check_paths(const struct profile *p, struct strv *errors, struct strv *notes);

/* The profile as JSON text with secrets redacted (passwords in URLs and
 * key=value strings become "***", and so does every value taken from a
 * variable named *PASSWORD*, *SECRET*, *TOKEN* or *KEY*, wherever it
 * appears). Pretty-printed, keys in a fixed order; unset values, empty lists
 * and empty sections are left out. Never NULL; caller frees. */
char *profile_to_json_redacted(const struct profile *p);

/* A connection string with its passwords replaced by "***"
 * (db_conninfo_redact). NULL for NULL; caller frees. */
char *profile_redact_url(const char *url);

/* The offsite target of that name, or NULL. */
const struct profile_offsite *profile_offsite_find(const struct profile *p, const char *name);

/* The database name database.url gives, as libpq reads it (no defaults);
 * NULL when none is given or libpq cannot read the string. Caller frees. */
char *profile_db_name(const struct profile *p);

/* The value of key in an env file (KEY=VALUE lines, as app.env_file is
 * read; the last line wins), or NULL when the file or the key is not
 * there or the line is malformed. Caller frees. */
char *profile_env_file_get(const char *file, const char *key);

/* path made absolute against the current directory and lexically cleaned
 * (as profiles store paths); NULL when the current directory cannot be
 * read. Caller frees. */
char *profile_path_absolute(const char *path);
/* The directory of an absolute path ("/" for a top-level name); caller frees. */
char *profile_path_dirname(const char *abs);

/* ---- a profile of one's own ---------------------------------------------
 * Profiles of a profile_file are read-only. A caller that changes one for
 * a run (a wizard's answers) works on a copy. */

/* A deep copy of p (secrets included); free it with profile_free(). */
struct profile *profile_clone(const struct profile *p);
/* Free a profile from profile_clone (never one of a profile_file's);
 * NULL is fine. */
void profile_free(struct profile *p);

/* How to reach the server over SSH, e.g. a wizard's answers for one run. */
struct profile_ssh_override {
	const char *host;           /* required */
	const char *user;           /* NULL or "": none (ssh config, local user) */
	int port;                   /* 1-65535 */
	const char *identity_file;  /* NULL or "": ssh-agent; ~ expanded, relative
				     * to the profile's directory */
};
/* Set p's ssh host, user, port and key from o (has_ssh becomes true); the
 * other ssh settings (known_hosts, ferry_path, ...) stay. -1 with e filled
 * (ERR_PROFILE), p unchanged, when host is empty or port out of range. */
int profile_set_ssh(struct profile *p, const struct profile_ssh_override *o, struct err *e);

/* ---- writing the profiles file ------------------------------------------
 * core/profile/save.c is the only writer of profiles files. A copy of one
 * profile's JSON object (as written: a ${VAR} stays a reference) is changed
 * through a profile_edit and added to the file under a new name. */

typedef struct profile_edit profile_edit;

/* Set key in the copy's section object (section NULL: a key of the profile
 * itself) to a string; NULL or "" removes the key. A section that is
 * missing (or not an object) becomes a new object when a value is set. */
void profile_edit_set_string(profile_edit *ed, const char *section, const char *key,
			     const char *value);
/* Set key in the copy's section object to an integer. */
void profile_edit_set_int(profile_edit *ed, const char *section, const char *key, long long value);

/* The caller's changes to the copy; ud is the caller's, ed lives for the call. */
typedef void (*profile_edit_fn)(profile_edit *ed, void *ud);

/* Add a copy of profile base_name, named new_name and changed by apply
 * (NULL = a plain copy), to the profiles file at path. The new text must
 * load (every profile validated, as by profile_file_load) before it
 * replaces the file, atomically and with the file's mode (fsx_write_atomic);
 * otherwise the file is left as it was. Returns 0, or -1 with e filled:
 * ERR_PROFILE when the file is not a profiles file, base_name is not in
 * it, new_name already is, or the result does not load (that error);
 * ERR_FAILED / ERR_SPACE when it cannot be read or written. */
int profile_save_copy(const char *path, const char *base_name, const char *new_name,
		      profile_edit_fn apply, void *ud, struct err *e);

/* Put a new profile, name = profile_json (a JSON object, as it is to be
 * written: a ${VAR} stays a reference), into the profiles file at path:
 * added to the file, or a new file (mode 0600, its directory made with
 * 0700) when there is none. A profile of that name already there is
 * replaced only with replace; else ERR_PROFILE ("there is a profile ...
 * already", hint --force). As with profile_save_copy, the new text must
 * load before it replaces the file atomically; otherwise nothing changes. */
int profile_save_new(const char *path, const char *name, const char *profile_json, bool replace,
		     struct err *e);

/* Where `ferry init` writes: explicit_path (--profiles), else with user
 * $XDG_CONFIG_HOME/ferry/profiles.json (~/.config/...), else
 * $FERRY_PROFILES, else ./config/migration_profiles.json — the first place
 * profile_locate looks. Caller frees. */
char *profile_new_file_path(const char *explicit_path, bool user);

#endif
