/* load — a profiles file (JSON) into struct profiles: the file's shape,
 * then every profile through its sections. */
#include "profile_int.h"
#include "fsx.h"
#include "util.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const FILE_SHAPE_HINT =
	"a profiles file looks like {\"production\": {\"database\": "
	"{\"url\": \"postgresql://USER@HOST:5432/DBNAME\"}}}";

/* ---- files -------------------------------------------------------------- */

/* Whether s[0..n) is only white space. */
static bool text_is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* The file's root object of profiles, or NULL with e filled. */
json_t *profile_parse_json(const char *text, size_t len, const char *path, struct err *e)
{
	if (text_is_blank(text, len)) {
		err_set(e, ERR_PROFILE, "%s: the file is empty", path);
		err_hint(e, "%s", FILE_SHAPE_HINT);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			err_set(e, ERR_PROFILE, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		else
			err_set(e, ERR_PROFILE, "%s: %s", path, jerr.text);
		err_hint(e, "check the JSON syntax near that position");
		return NULL;
	}
	if (!json_is_object(root) || json_object_size(root) == 0) {
		if (json_is_object(root))
			err_set(e, ERR_PROFILE, "%s: no profiles in the file", path);
		else
			err_set(e, ERR_PROFILE, "%s: expected an object of named profiles, got %s",
				path, profile_describe(root).s);
		err_hint(e, "%s", FILE_SHAPE_HINT);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Every profile of root, in file order; stops at the first bad one. */
static bool profile_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static int load_profiles(profile_file *pf, json_t *root, const char *abs, struct err *e)
{
	char *dir = profile_path_dirname(abs);
	pf->profiles = xcalloc(json_object_size(root), sizeof *pf->profiles);
	const char *name;
	json_t *obj;
	int rc = 0;
	json_object_foreach(root, name, obj) {
		if (*name && !profile_name_ok(name)) {   /* empty: said by the sections */
			/* The name goes into file names (bundles, locks, journals). */
			char *shown = text_clean(xstrdup(name), false);
			err_set(e, ERR_PROFILE, "%s: profile name \"%s\" is not a name", pf->path, shown);
			free(shown);
			rc = err_hint(e, "profile names are letters, digits, '-', '_' and '.', not starting "
				      "with '.', at most 64 characters");
			break;
		}
		struct profile *p = &pf->profiles[pf->n++];
		p->name = xstrdup(name);
		p->file = xstrdup(abs);
		p->dir = xstrdup(dir);
		struct profile_ctx c = {.path = pf->path, .dir = dir, .e = e, .p = p};
		rc = profile_load_sections(&c, name, obj);
		strv_done(&c.env_keys);
		strv_done(&c.env_values);
		if (rc < 0)
			break;
	}
	free(dir);
	return rc;
}

/* A profiles file from its text (a UTF-8 byte order mark is skipped). */
static profile_file *load_text(const char *text, size_t len, const char *path, struct err *e)
{
	if (!path)
		path = "-";
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;   /* a UTF-8 byte order mark, as some editors write */
		len -= 3;
	}
	json_t *root = profile_parse_json(text, len, path, e);
	if (!root)
		return NULL;
	char *abs = profile_path_absolute(path);
	if (!abs) {
		err_set(e, ERR_PROFILE, "%s: cannot read the current directory: %s", path,
			strerror(errno));
		json_decref(root);
		return NULL;
	}
	profile_file *pf = xcalloc(1, sizeof *pf);
	pf->path = xstrdup(path);
	int rc = load_profiles(pf, root, abs, e);
	free(abs);
	json_decref(root);
	if (rc < 0) {
		profile_file_free(pf);
		return NULL;
	}
	return pf;
}

/* A profiles file from a string; path names it in messages. */
profile_file *profile_file_load_string(const char *json, const char *path, struct err *e)
{
	return load_text(json, strlen(json), path, e);
}

/* A profiles file read from path. */
profile_file *profile_file_load(const char *path, struct err *e)
{
	if (!path) {
		err_set(e, ERR_PROFILE, "no profiles file given");
		return NULL;
	}
	size_t len = 0;
	char *text = fsx_read_file(path, PROFILE_FILE_MAX, &len, e);
	if (!text) {
		e->kind = ERR_PROFILE;
		return NULL;
	}
	profile_file *pf = load_text(text, len, path, e);
	free(text);
	return pf;
}
