/* offsite — targets opened, bundles prepared (encrypted), listed and
 * pulled back verified (see offsite.h). */
#include "offsite/offsite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/age.h"
#include "flow/verify.h"
#include "fsx.h"
#include "util.h"

char *offsite_state_dir(const struct profile *p)
{
	return xasprintf("%s/.offsite", p->backup.dir);
}

/* The targets' names, for messages; caller frees. */
static char *target_names(const struct profile *p)
{
	struct strv names = {0};
	for (size_t i = 0; i < p->noffsite; i++)
		strv_push(&names, p->offsite[i].name);
	char *s = names.n ? strv_join(&names, ", ") : xstrdup("none");
	strv_done(&names);
	return s;
}

const struct profile_offsite *offsite_pick(const struct profile *p, const char *name, struct err *e)
{
	if (p->noffsite == 0) {
		err_set(e, ERR_USAGE, "profile \"%s\" has no offsite targets", p->name);
		err_hint(e, "add \"offsite\": [{\"name\": ..., \"type\": \"s3\" | \"sftp\", ...}] "
			 "(profiles/README.md)");
		return NULL;
	}
	if (!name && p->noffsite == 1)
		return &p->offsite[0];
	const struct profile_offsite *t = profile_offsite_find(p, name);
	if (t)
		return t;
	char *names = target_names(p);
	if (name)
		err_set(e, ERR_USAGE, "profile \"%s\" has no offsite target \"%s\"", p->name, name);
	else
		err_set(e, ERR_USAGE, "profile \"%s\" has %zu offsite targets: say which", p->name,
			p->noffsite);
	err_hint(e, "targets: %s", names);
	free(names);
	return NULL;
}

/* An SFTP target's connection, with the host-key rules of `ssh`. */
static int open_sftp(const struct profile *p, const struct profile_offsite *t,
		     const struct offsite_open_opts *o, struct offsite_target *out, struct err *e)
{
	struct profile sp = {0};   /* borrowed strings: only read by sshc_connect */
	sp.name = p->name;
	sp.has_ssh = true;
	sp.ssh.host = t->host;
	sp.ssh.port = t->port;
	sp.ssh.user = t->user;
	sp.ssh.identity_file = t->identity_file;
	sp.ssh.known_hosts = t->known_hosts;
	sp.ssh.use_ssh_config = p->ssh.use_ssh_config;
	struct sshc_connect_opts co = {
		.accept_new_host_key = o->accept_new_host_key,
		.confirm_new_key = o->confirm_host_key,
		.confirm_ud = o->hostkey_ud,
		.events = o->events,
	};
	out->conn = sshc_connect(&sp, &co, e);
	if (!out->conn)
		return err_prefix(e, "offsite target %s", t->name);
	out->store = storage_open_sftp(out->conn, t->dir, e);
	return out->store ? 0 : -1;
}

int offsite_open(const struct profile *p, const struct profile_offsite *t,
		 const struct offsite_open_opts *o, struct offsite_target *out, struct err *e)
{
	static const struct offsite_open_opts none = {0};
	memset(out, 0, sizeof *out);
	out->t = t;
	o = o ? o : &none;
	if (strcmp(t->type, "sftp") == 0)
		return open_sftp(p, t, o, out, e);
	char *state = xasprintf("%s/.offsite/%s", p->backup.dir, t->name);
	out->store = storage_open_s3(t, state, e);
	free(state);
	return out->store ? 0 : err_prefix(e, "offsite target %s", t->name);
}

void offsite_close(struct offsite_target *ot)
{
	if (!ot)
		return;
	storage_close(ot->store);
	sshc_free(ot->conn);
	memset(ot, 0, sizeof *ot);
}

/* The base name of a path. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

char *offsite_object_name(const struct profile *p, const char *bundle_path)
{
	const char *base = base_name(bundle_path);
	if (p->has_encryption && !str_ends(base, AGE_SUFFIX))
		return xasprintf("%s%s", base, AGE_SUFFIX);
	return xstrdup(base);
}

char *offsite_bundle_name(const char *object)
{
	size_t n = strlen(object);
	if (str_ends(object, AGE_SUFFIX))
		n -= strlen(AGE_SUFFIX);
	return xstrndup(object, n);
}

int offsite_prepare(const struct profile *p, const char *bundle_path, char **upload,
		    volatile sig_atomic_t *cancel, struct err *e)
{
	*upload = NULL;
	struct stat b;
	if (stat(bundle_path, &b) != 0) {
		err_set(e, ERR_USAGE, "cannot open bundle %s: %s", bundle_path, strerror(errno));
		return err_hint(e, "give a bundle path, or a name from `ferry list`");
	}
	char *object = offsite_object_name(p, bundle_path);
	if (strcmp(object, base_name(bundle_path)) == 0) {
		free(object);
		*upload = xstrdup(bundle_path);
		return 0;
	}
	char *dir = offsite_state_dir(p);
	char *copy = xasprintf("%s/%s", dir, object);
	struct stat c;
	int rc = 0;
	if (stat(copy, &c) != 0 || c.st_mtime < b.st_mtime) {
		rc = fsx_mkdir_p(dir, 0700, e);
		if (rc == 0)
			rc = age_encrypt_file(&p->encryption.recipients, bundle_path, copy, cancel, e);
	}
	if (rc == 0)
		*upload = copy;
	else
		free(copy);
	free(dir);
	free(object);
	return rc;
}

void offsite_prepared_done(const struct profile *p, const char *upload)
{
	char *dir = offsite_state_dir(p);
	if (upload && str_starts(upload, dir) && upload[strlen(dir)] == '/')
		unlink(upload);
	free(dir);
}

int offsite_list(struct offsite_target *ot, struct bundle_list *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	struct storage_list sl;
	if (storage_list(ot->store, NULL, &sl, e) < 0)
		return -1;
	for (size_t i = 0; i < sl.n; i++) {
		struct bundle_info b;
		if (list_parse_name(sl.v[i].name, &b) < 0 || str_ends(sl.v[i].name, ".verified"))
			continue;
		b.path = xstrdup(sl.v[i].name);
		b.size = sl.v[i].size;
		list_add(out, &b);
	}
	storage_list_done(&sl);
	list_sort(out);
	return 0;
}

void offsite_pull_result_done(struct offsite_pull_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->scope);
	memset(r, 0, sizeof *r);
}

/* Verify <dir>/<bundle>.part (hashes, signature) and rename it to <dir>/<bundle>. */
static int verify_and_place(const struct profile *p, const char *part, const char *final,
			    const struct offsite_pull_opts *o, struct offsite_pull_result *r,
			    struct err *e)
{
	struct verify_opts vo = {.events = o->events, .cancel = o->cancel,
				 .public_key = p->signing.public_key};
	struct verify_result vr;
	int rc = verify_pass(part, &vo, &vr, e);
	r->signature_ok = vr.signature_ok;
	r->members = vr.members_checked;
	if (rc == 0)
		r->scope = xstrdup(vr.manifest.has_db ? manifest_scope(&vr.manifest) : "files only");
	verify_result_done(&vr);
	if (rc == 0 && rename(part, final) != 0)
		rc = err_set(e, ERR_FAILED, "cannot rename %s to %s: %s", part, final, strerror(errno));
	if (rc == 0) {
		fsx_sync_parent(final);
		r->path = xstrdup(final);
	} else {
		unlink(part);
	}
	return rc;
}

int offsite_open_local(const struct profile *p, const char *file, const char *dir,
		       const struct offsite_pull_opts *o, struct offsite_pull_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	const char *base = base_name(file);
	if (!age_is_encrypted(file))
		return err_set(e, ERR_USAGE, "%s is not an age-encrypted bundle", file);
	if (!o->identity) {
		err_set(e, ERR_USAGE, "%s is encrypted: give the identity that decrypts it", base);
		return err_hint(e, "--identity FILE: the age key or ssh private key of one of "
				"encryption.recipients");
	}
	char *plain = offsite_bundle_name(base);
	char *part = xasprintf("%s/%s.part", dir, plain);
	char *final = xasprintf("%s/%s", dir, plain);
	int rc = age_decrypt_file(o->identity, file, part, o->cancel, e);
	r->decrypted = rc == 0;
	if (rc == 0)
		rc = verify_and_place(p, part, final, o, r, e);
	free(part);
	free(final);
	free(plain);
	return rc;
}

int offsite_pull(const struct profile *p, struct offsite_target *ot, const char *object,
		 const struct offsite_pull_opts *o, struct offsite_pull_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	double t0 = util_now();
	if (str_ends(object, AGE_SUFFIX) && !o->identity) {
		err_set(e, ERR_USAGE, "%s on %s is encrypted: give the identity that decrypts it", object,
			ot->t->name);
		return err_hint(e, "--identity FILE: the age key or ssh private key of one of "
				"encryption.recipients");
	}
	const char *dir = o->dir ? o->dir : p->backup.dir;
	if (fsx_mkdir_p(dir, 0700, e) < 0)
		return -1;
	char *fetched = xasprintf("%s/%s.part", dir, object);
	struct storage_get_opts go = {.events = o->events, .step = o->step ? o->step : "download",
				      .cancel = o->cancel};
	struct storage_get_result gr;
	int rc = storage_get(ot->store, object, fetched, &go, &gr, e);
	if (rc == 1)
		rc = err_set(e, ERR_USAGE, "no %s on offsite target %s", object, ot->t->name);
	if (rc == 0) {
		r->bytes = gr.bytes;
		memcpy(r->sha256, gr.sha256, sizeof r->sha256);
		r->stored_hash_checked = gr.stored_sha256[0] != '\0';
		if (!r->stored_hash_checked)
			event_log(o->events, EV_INFO, "%s carries no stored sha256: checked by its "
				  "members' hashes only", object);
		char *plain = offsite_bundle_name(object);
		char *part = xasprintf("%s/%s.part", dir, plain);
		char *final = xasprintf("%s/%s", dir, plain);
		if (str_ends(object, AGE_SUFFIX) || age_is_encrypted(fetched)) {
			rc = o->identity ? age_decrypt_file(o->identity, fetched, part, o->cancel, e)
					 : err_set(e, ERR_USAGE, "%s is encrypted: give --identity FILE", object);
			r->decrypted = rc == 0;
			unlink(fetched);
		} else if (rename(fetched, part) != 0) {
			rc = err_set(e, ERR_FAILED, "cannot rename %s: %s", fetched, strerror(errno));
		}
		if (rc == 0)
			rc = verify_and_place(p, part, final, o, r, e);
		else
			unlink(part);
		free(plain);
		free(part);
		free(final);
	}
	unlink(fetched);
	free(fetched);
	r->seconds = util_now() - t0;
	return rc;
}
