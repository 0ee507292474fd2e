/* profile_int.h — shared by the files of core/profile/ and nothing else.
 *
 * Loading a profile is one struct profile_ctx per profile: the getters
 * (get.c) read one JSON member each, check its type, expand ${VAR} (env.c)
 * and fill the profile; every error names "FILE: KEY.PATH: problem". The
 * sections (sections.c) are tables of keys and getters; load.c reads the
 * file and walks its profiles. */
#ifndef FERRY_PROFILE_INT_H
#define FERRY_PROFILE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "profile/profile.h"

/* Nothing declared here is seen outside ferry's own objects: a shared
 * library with names of its own in profile_ (MIT Kerberos's profile
 * library, which libpq loads) keeps calling its own functions. */
#pragma GCC visibility push(hidden)

/* Longest key path in a message ("production.health[3].url"). */
#define KP_MAX 512

struct profile_file {
	char *path;                 /* as given by the caller, for messages */
	struct profile *profiles;
	size_t n;
};

/* The state of loading one profile. */
struct profile_ctx {
	const char *path;          /* profiles file as given, for messages */
	const char *dir;           /* its absolute directory */
	struct err *e;
	struct profile *p;         /* being filled; collects secrets */
	struct strv env_keys;      /* from app.env_file, in file order */
	struct strv env_values;
	bool env_only;             /* expanding app.root / app.env_file */
};

/* ---- values in messages (get.c) ---------------------------------------- */

struct profile_desc {
	char s[256];
};

/* A JSON value as messages show it: strings quoted, numbers plain, the rest
 * named ("an object", "an array", true, false, null). */
struct profile_desc profile_describe(const json_t *v);
/* A C string in double quotes, escaped as JSON would. */
struct profile_desc profile_quote(const char *s);
/* "a, b, c" from a NULL-terminated list; caller frees. */
char *profile_join_list(const char *const *list);
/* Whether the NULL-terminated list holds s. */
bool profile_list_has(const char *const *list, const char *s);
/* The candidate closest to word (edit distance <= 2, else a prefix either
 * way); NULL when none is close. */
const char *profile_did_you_mean(const char *const *cands, size_t n, const char *word);

/* ---- errors and key paths (get.c) --------------------------------------- */

/* "<file>: <keypath>: <problem>" as an ERR_PROFILE; returns -1. */
int profile_fail(struct profile_ctx *c, const char *kp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "missing" at kp; returns -1. */
int profile_fail_missing(struct profile_ctx *c, const char *kp);
/* "expected one of a, b, c, got GOT" at kp; returns -1. */
int profile_fail_enum(struct profile_ctx *c, const char *kp, const char *const *choices,
		      const char *got);
/* out (KP_MAX bytes) = "parent.key" / "parent[i]"; cut with "..." when long. */
void profile_keypath(char *out, const char *parent, const char *key);
void profile_keypath_index(char *out, const char *parent, size_t i);

/* ---- typed getters (get.c) ---------------------------------------------- */

/* Flags of the string getters. */
enum { OPTIONAL = 0, REQUIRED = 1, NONEMPTY = 2 };

/* The member key of obj (NULL when absent); kp receives its key path. */
json_t *profile_member(json_t *obj, const char *parent, const char *key, char *kp);
/* Every key of obj is in valid, else "unknown key" with a did-you-mean. */
int profile_check_keys(struct profile_ctx *c, json_t *obj, const char *parent,
		       const char *const *valid);
/* A string value at kp, expanded; *out is replaced (old value freed). */
int profile_string_value(struct profile_ctx *c, const char *kp, const json_t *v, int flags,
			 char **out);
/* Getters of obj's member key under parent: absent leaves *out as it is
 * (unless REQUIRED); a present value of the wrong type or range fails. */
int profile_read_string(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
			int flags, char **out);
/* A path: expanded, ~ expanded, absolute against base, cleaned. */
int profile_read_path(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		      const char *base, char **out);
int profile_read_bool(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		      bool *out);
/* An integer in [min, max]; what (may be NULL) is added to the range in
 * the message ("1-19 for zstd"). */
int profile_read_int(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		     long min, long max, const char *what, int *out);
/* A string, expanded, that must be one of choices. */
int profile_read_enum(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		      const char *const *choices, char **out);
/* An array of non-empty strings, each expanded, appended to out. */
int profile_read_strv(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		      struct strv *out);
/* An object, or NULL in *out when absent. */
int profile_read_object(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
			json_t **out);
/* The section object at parent.key with its keys checked; kp receives its
 * key path; *out NULL when absent. */
int profile_read_section(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
			 const char *const *valid, json_t **out, char *kp);

/* ---- connection strings (conninfo.c) ------------------------------------ */

/* A connection string: type-checked, refused when it holds a literal
 * password (anything but a whole ${VAR}), expanded. */
int profile_read_conninfo(struct profile_ctx *c, json_t *obj, const char *parent,
			  const char *key, char **out);
/* Only the literal-password check of a raw (unexpanded) string. */
int profile_check_no_literal_password(struct profile_ctx *c, const char *kp, const char *raw);

/* ---- ${VAR} and env files (env.c) --------------------------------------- */

/* ${NAME} replaced by its value (the environment, then the env file), $$ by
 * $; values of *PASSWORD*, *SECRET*, *TOKEN*, *KEY* variables are remembered
 * in the profile's secrets. *out is new; -1 when a variable is not set. */
int profile_expand(struct profile_ctx *c, const char *kp, const char *raw, char **out);
/* Whether s[0..n) is exactly one "${NAME}". */
bool profile_is_whole_var(const char *s, size_t n);
/* Read KEY=VALUE lines of file into c's env keys and values. */
int profile_env_file_read(struct profile_ctx *c, const char *kp, const char *file);

/* ---- paths (paths.c) ---------------------------------------------------- */

/* $HOME, else the password database's, else "/". */
const char *profile_home_dir(void);
/* s with ~ expanded, made absolute against base and cleaned; new string. */
char *profile_path_resolve(const char *base, const char *s);
/* path made absolute against the current directory and cleaned; NULL when
 * the current directory cannot be read. */
char *profile_path_absolute(const char *path);
/* The directory of an absolute path; new string. */
char *profile_path_dirname(const char *abs);
/* A relative path without ".." parts, cleaned ("." for the root itself);
 * NULL when s is absolute or climbs out. */
char *profile_relative_clean(const char *s);

/* ---- sections (sections.c) and files (load.c) --------------------------- */

/* Fill c->p from the profile object obj named name: defaults, then every
 * section in order (app first: its env file feeds the rest). */
int profile_load_sections(struct profile_ctx *c, const char *name, json_t *obj);
/* The root of a profiles file: a non-empty JSON object of profiles, else
 * NULL with e filled ("FILE:LINE:COLUMN: ..." for syntax errors). */
json_t *profile_parse_json(const char *text, size_t len, const char *path, struct err *e);

/* ---- drill and notify (alerts.c) ---------------------------------------- */

/* The drill and notify sections (defaults set when absent). */
int profile_load_drill(struct profile_ctx *c, json_t *prof, const char *name);
int profile_load_notify(struct profile_ctx *c, json_t *prof, const char *name);
/* Free / deep-copy what the two sections own. */
void profile_alerts_done(struct profile *p);
void profile_alerts_clone(struct profile *c, const struct profile *p);

/* ---- offsite, encryption, signing (offsite.c) --------------------------- */

/* offsite[], encryption, signing, offsite_max_age (after backup). */
int profile_load_offsite(struct profile_ctx *c, json_t *prof, const char *name);
/* An ISO-8601 duration ("P2D", "PT36H") in seconds into *out (may be
 * NULL); false when s is not one. */
bool profile_iso_duration_seconds(const char *s, long long *out);
/* Free the offsite keys' values; copy them into a clone. */
void profile_offsite_done(struct profile *p);
void profile_offsite_clone(struct profile *c, const struct profile *p);

/* ---- the struct itself (profile.c) -------------------------------------- */

/* Free everything p owns (not p itself). */
void profile_done(struct profile *p);

#pragma GCC visibility pop

#endif
