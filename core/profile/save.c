/* save — the only writer of profiles files: a copy of one profile's JSON
 * object, changed through a profile_edit, added under a new name; or a new
 * profile (ferry init) added to the file, or the file made for it. The new
 * text is loaded (every profile validated) before it replaces the file, so
 * a change that would break the file is never written. */
#include "profile_int.h"
#include "fsx.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct profile_edit {
	json_t *profile;    /* the copy being changed */
};

/* The object key belongs to: the profile, or its section (made when absent
 * or not an object, unless only a removal is asked for: then NULL). */
static json_t *edit_object(profile_edit *ed, const char *section, bool create)
{
	if (!section)
		return ed->profile;
	json_t *s = json_object_get(ed->profile, section);
	if (json_is_object(s) || !create)
		return json_is_object(s) ? s : NULL;
	s = json_object();
	json_object_set_new(ed->profile, section, s);
	return s;
}

/* section.key = value; NULL or "" removes the key. */
void profile_edit_set_string(profile_edit *ed, const char *section, const char *key,
			     const char *value)
{
	bool set = value && *value;
	json_t *obj = edit_object(ed, section, set);
	if (!obj)
		return;
	if (set)
		json_object_set_new(obj, key, json_string(value));
	else
		json_object_del(obj, key);
}

/* section.key = an integer. */
void profile_edit_set_int(profile_edit *ed, const char *section, const char *key, long long value)
{
	json_object_set_new(edit_object(ed, section, true), key, json_integer(value));
}

/* The profiles file's root object, read from path; NULL with e filled. */
static json_t *read_root(const char *path, struct err *e)
{
	size_t len = 0;
	char *text = fsx_read_file(path, PROFILE_FILE_MAX, &len, e);
	if (!text)
		return NULL;
	size_t bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	json_t *root = profile_parse_json(text + bom, len - bom, path, e);
	free(text);
	return root;
}

/* root.new_name = a copy of root.base_name changed by apply. */
static int add_copy(json_t *root, const char *path, const char *base_name, const char *new_name,
		    profile_edit_fn apply, void *ud, struct err *e)
{
	json_t *base = json_object_get(root, base_name);
	if (!json_is_object(base))
		return err_set(e, ERR_PROFILE, "no profile \"%s\" in %s to copy", base_name, path);
	if (json_object_get(root, new_name)) {
		err_set(e, ERR_PROFILE, "there is a profile \"%s\" in %s already", new_name, path);
		return err_hint(e, "give the copy another name");
	}
	profile_edit ed = {.profile = json_deep_copy(base)};
	if (apply)
		apply(&ed, ud);
	json_object_set_new(root, new_name, ed.profile);
	return 0;
}

/* The file's text if it loads (the same checks as profile_file_load). */
static char *checked_text(json_t *root, const char *path, struct err *e)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) {
		err_set(e, ERR_FAILED, "cannot encode the profiles of %s as JSON", path);
		return NULL;
	}
	profile_file *pf = profile_file_load_string(text, path, e);
	if (!pf) {
		free(text);
		return NULL;
	}
	profile_file_free(pf);
	return text;
}

/* Add a changed copy of a profile to the file (see profile.h). */
int profile_save_copy(const char *path, const char *base_name, const char *new_name,
		      profile_edit_fn apply, void *ud, struct err *e)
{
	if (!path || !base_name)
		return err_set(e, ERR_PROFILE, "no profiles file or profile to copy");
	if (!new_name || !*new_name)
		return err_set(e, ERR_PROFILE, "a profile name must not be empty");
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(e, ERR_FAILED, "cannot read %s: %s", path, strerror(errno));
	json_t *root = read_root(path, e);
	if (!root)
		return -1;
	char *text = add_copy(root, path, base_name, new_name, apply, ud, e) == 0
			     ? checked_text(root, path, e) : NULL;
	json_decref(root);
	int rc = text ? fsx_write_atomic(path, text, strlen(text), st.st_mode & 07777, e) : -1;
	free(text);
	return rc;
}

/* The root object of the file at path, or a new one when there is none. */
static json_t *root_or_new(const char *path, bool *is_new, struct err *e)
{
	struct stat st;
	*is_new = stat(path, &st) != 0 && errno == ENOENT;
	return *is_new ? json_object() : read_root(path, e);
}

/* Put a profile of one's own into the file (see profile.h). */
int profile_save_new(const char *path, const char *name, const char *profile_json, bool replace,
		     struct err *e)
{
	if (!name || !*name)
		return err_set(e, ERR_PROFILE, "a profile name must not be empty");
	json_error_t je;
	json_t *obj = json_loads(profile_json, 0, &je);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return err_set(e, ERR_FAILED, "the new profile %s is not a JSON object", name);
	}
	bool is_new;
	json_t *root = root_or_new(path, &is_new, e);
	if (!root) {
		json_decref(obj);
		return -1;
	}
	if (json_object_get(root, name) && !replace) {
		json_decref(obj);
		json_decref(root);
		err_set(e, ERR_PROFILE, "there is a profile \"%s\" in %s already", name, path);
		return err_hint(e, "pick another name (--name), or pass --force to replace it");
	}
	json_object_set_new(root, name, obj);
	char *text = checked_text(root, path, e);
	json_decref(root);
	struct stat st;
	unsigned mode = !is_new && stat(path, &st) == 0 ? st.st_mode & 07777 : 0600;
	char *abs = profile_path_absolute(path);
	char *dir = abs ? profile_path_dirname(abs) : xstrdup(".");
	free(abs);
	int rc = text ? fsx_mkdir_p(dir, 0700, e) : -1;
	if (rc == 0) {
		char *full = xasprintf("%s\n", text);
		rc = fsx_write_atomic(path, full, strlen(full), mode, e);
		free(full);
	}
	free(dir);
	free(text);
	return rc;
}
