/* offsite — the profile keys of copies that leave the server: offsite[]
 * (S3 and SFTP targets, each with its retention), encryption (age
 * recipients), signing (the manifest's key pair) and offsite_max_age. Read
 * after backup (a target's keep defaults to backup.keep). */
#include "profile_int.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const target_types[] = {"s3", "sftp", NULL};
static const char *const s3_keys[] = {
	"name", "type", "endpoint", "region", "bucket", "prefix", "path_style",
	"part_size_mib", "parallel", "keep", NULL};
static const char *const sftp_keys[] = {
	"name", "type", "host", "port", "user", "identity_file", "known_hosts", "dir",
	"keep", NULL};
static const char *const any_target_keys[] = {
	"name", "type", "endpoint", "region", "bucket", "prefix", "path_style",
	"part_size_mib", "parallel", "host", "port", "user", "identity_file",
	"known_hosts", "dir", "keep", NULL};
static const char *const keep_keys[] = {
	"last", "daily", "weekly", "monthly", "manual_days", NULL};
static const char *const encryption_keys[] = {"recipients", "local", NULL};
static const char *const signing_keys[] = {"key", "public_key", NULL};

/* P[nY][nM][nW][nD][T[nH][nM][nS]] in seconds (a year 365 days, a month
 * 30); false when s is not such a duration. */
bool profile_iso_duration_seconds(const char *s, long long *out)
{
	static const struct { char unit; long long seconds; } date_units[] = {
		{'Y', 365LL * 86400}, {'M', 30LL * 86400}, {'W', 7LL * 86400}, {'D', 86400}};
	static const struct { char unit; long long seconds; } time_units[] = {
		{'H', 3600}, {'M', 60}, {'S', 1}};
	long long total = 0;
	bool any = false, in_time = false;
	size_t next = 0;   /* units must come in order */
	if (*s++ != 'P')
		return false;
	while (*s) {
		if (*s == 'T' && !in_time) {
			in_time = true;
			next = 0;
			if (!*++s)
				return false;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return false;
		long long n = 0;
		while (isdigit((unsigned char)*s) && n < LLONG_MAX / 1000000000LL)
			n = n * 10 + (*s++ - '0');
		if (isdigit((unsigned char)*s))
			return false;
		size_t nunits = in_time ? 3 : 4;
		size_t i = next;
		while (i < nunits && (in_time ? time_units[i].unit : date_units[i].unit) != *s)
			i++;
		if (i == nunits)
			return false;
		total += n * (in_time ? time_units[i].seconds : date_units[i].seconds);
		next = i + 1;
		any = true;
		s++;
	}
	if (out)
		*out = total;
	return any;
}

/* The offsite target of that name, or NULL. */
const struct profile_offsite *profile_offsite_find(const struct profile *p, const char *name)
{
	for (size_t i = 0; name && i < p->noffsite; i++)
		if (strcmp(p->offsite[i].name, name) == 0)
			return &p->offsite[i];
	return NULL;
}

/* A target's keep: backup.keep's values, then its own. */
static int load_target_keep(struct profile_ctx *c, json_t *obj, const char *parent,
			    struct profile_keep *k)
{
	char kp[KP_MAX];
	json_t *keep;
	*k = c->p->backup.keep;
	if (profile_read_section(c, obj, parent, "keep", keep_keys, &keep, kp) < 0)
		return -1;
	if (!keep)
		return 0;
	if (profile_read_int(c, keep, kp, "last", 0, INT_MAX, NULL, &k->last) < 0 ||
	    profile_read_int(c, keep, kp, "daily", 0, INT_MAX, NULL, &k->daily) < 0 ||
	    profile_read_int(c, keep, kp, "weekly", 0, INT_MAX, NULL, &k->weekly) < 0 ||
	    profile_read_int(c, keep, kp, "monthly", 0, INT_MAX, NULL, &k->monthly) < 0)
		return -1;
	return profile_read_int(c, keep, kp, "manual_days", 0, INT_MAX, NULL, &k->manual_days);
}

/* A key of the other kind of target: named as such. */
static int refuse_foreign_keys(struct profile_ctx *c, json_t *obj, const char *kp,
			       const char *type, const char *const *own)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (profile_list_has(own, key))
			continue;
		char k2[KP_MAX];
		profile_keypath(k2, kp, key);
		profile_fail(c, k2, "not a key of %s targets", type);
		char *valid = profile_join_list(own);
		err_hint(c->e, "keys of a %s target: %s", type, valid);
		free(valid);
		return -1;
	}
	return 0;
}

/* The name: letters, digits, '-', '_', '.'; unique among the targets. */
static int check_target_name(struct profile_ctx *c, const char *kp, size_t index)
{
	const struct profile *p = c->p;
	const char *name = p->offsite[index].name;
	char nkp[KP_MAX];
	profile_keypath(nkp, kp, "name");
	for (const char *s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return profile_fail(c, nkp, "expected letters, digits, '-', '_' or '.', got %s",
					    profile_quote(name).s);
	for (size_t i = 0; i < index; i++)
		if (strcmp(p->offsite[i].name, name) == 0)
			return profile_fail(c, nkp, "%s names two targets", profile_quote(name).s);
	return 0;
}

/* An S3 target: bucket required, endpoint http(s), the part size. */
static int load_s3_target(struct profile_ctx *c, json_t *obj, const char *kp,
			  struct profile_offsite *t)
{
	t->region = xstrdup("us-east-1");
	t->prefix = xstrdup("");
	t->part_size_mib = 16;
	t->parallel = 4;
	if (profile_read_string(c, obj, kp, "bucket", REQUIRED | NONEMPTY, &t->bucket) < 0 ||
	    profile_read_string(c, obj, kp, "region", NONEMPTY, &t->region) < 0 ||
	    profile_read_string(c, obj, kp, "endpoint", NONEMPTY, &t->endpoint) < 0 ||
	    profile_read_string(c, obj, kp, "prefix", OPTIONAL, &t->prefix) < 0 ||
	    profile_read_bool(c, obj, kp, "path_style", &t->path_style) < 0 ||
	    profile_read_int(c, obj, kp, "part_size_mib", 5, 64, "MiB (S3's smallest part is 5)",
			     &t->part_size_mib) < 0 ||
	    profile_read_int(c, obj, kp, "parallel", 1, 16, NULL, &t->parallel) < 0)
		return -1;
	char k2[KP_MAX];
	if (t->endpoint && !str_starts(t->endpoint, "http://") && !str_starts(t->endpoint, "https://")) {
		profile_keypath(k2, kp, "endpoint");
		return profile_fail(c, k2, "expected an http:// or https:// URL, got %s",
				    profile_quote(t->endpoint).s);
	}
	if (t->prefix[0] == '/') {
		profile_keypath(k2, kp, "prefix");
		return profile_fail(c, k2, "expected a prefix without a leading '/', got %s",
				    profile_quote(t->prefix).s);
	}
	if (!t->endpoint)
		t->endpoint = xasprintf("https://s3.%s.amazonaws.com", t->region);
	return 0;
}

/* An SFTP target: host and dir required; the ssh section's host-key file by default. */
static int load_sftp_target(struct profile_ctx *c, json_t *obj, const char *kp,
			    struct profile_offsite *t)
{
	t->port = 22;
	t->known_hosts = xstrdup(c->p->ssh.known_hosts);
	if (profile_read_string(c, obj, kp, "host", REQUIRED | NONEMPTY, &t->host) < 0 ||
	    profile_read_string(c, obj, kp, "dir", REQUIRED | NONEMPTY, &t->dir) < 0 ||
	    profile_read_int(c, obj, kp, "port", 1, 65535, NULL, &t->port) < 0 ||
	    profile_read_string(c, obj, kp, "user", NONEMPTY, &t->user) < 0 ||
	    profile_read_path(c, obj, kp, "identity_file", c->dir, &t->identity_file) < 0)
		return -1;
	return profile_read_path(c, obj, kp, "known_hosts", c->dir, &t->known_hosts);
}

/* One offsite[] entry. */
static int load_target(struct profile_ctx *c, json_t *obj, const char *kp, size_t index)
{
	struct profile_offsite *t = &c->p->offsite[index];
	if (!json_is_object(obj))
		return profile_fail(c, kp, "expected an object, got %s", profile_describe(obj).s);
	if (profile_check_keys(c, obj, kp, any_target_keys) < 0 ||
	    profile_read_string(c, obj, kp, "name", REQUIRED | NONEMPTY, &t->name) < 0 ||
	    check_target_name(c, kp, index) < 0)
		return -1;
	char tkp[KP_MAX];
	profile_keypath(tkp, kp, "type");
	if (!json_object_get(obj, "type")) {
		profile_fail_missing(c, tkp);
		return err_hint(c->e, "\"type\": \"s3\" or \"sftp\"");
	}
	if (profile_read_enum(c, obj, kp, "type", target_types, &t->type) < 0)
		return -1;
	bool s3 = strcmp(t->type, "s3") == 0;
	if (refuse_foreign_keys(c, obj, kp, t->type, s3 ? s3_keys : sftp_keys) < 0 ||
	    (s3 ? load_s3_target(c, obj, kp, t) : load_sftp_target(c, obj, kp, t)) < 0)
		return -1;
	return load_target_keep(c, obj, kp, &t->keep);
}

/* offsite: an array of targets; backup.offsite needs one. */
static int load_offsite_targets(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *arr = profile_member(prof, name, "offsite", kp);
	struct profile *p = c->p;
	if (arr && !json_is_array(arr))
		return profile_fail(c, kp, "expected an array of objects, got %s", profile_describe(arr).s);
	size_t n = arr ? json_array_size(arr) : 0;
	p->offsite = n ? xcalloc(n, sizeof *p->offsite) : NULL;
	for (size_t i = 0; i < n; i++) {
		char ikp[KP_MAX];
		profile_keypath_index(ikp, kp, i);
		p->noffsite = i + 1;
		if (load_target(c, json_array_get(arr, i), ikp, i) < 0)
			return -1;
	}
	if (p->backup.offsite && p->noffsite == 0) {
		char bkp[KP_MAX], okp[KP_MAX];
		profile_keypath(bkp, name, "backup");
		profile_keypath(okp, bkp, "offsite");
		profile_fail(c, okp, "true, but the profile has no offsite targets");
		return err_hint(c->e, "add \"offsite\": [{\"name\": ..., \"type\": \"s3\" | \"sftp\", ...}]");
	}
	return 0;
}

/* A recipient age accepts: an X25519 "age1..." key or an ssh public key. */
static bool recipient_ok(const char *r)
{
	if (str_starts(r, "age1"))
		return strlen(r) > 20 && !strchr(r, ' ');
	return (str_starts(r, "ssh-ed25519 ") || str_starts(r, "ssh-rsa ")) && strlen(r) > 40;
}

/* encryption: recipients (required, each an age or ssh public key), local. */
static int load_encryption(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX], rkp[KP_MAX];
	json_t *en;
	if (profile_read_section(c, prof, name, "encryption", encryption_keys, &en, kp) < 0)
		return -1;
	if (!en)
		return 0;
	struct profile *p = c->p;
	profile_keypath(rkp, kp, "recipients");
	if (!json_object_get(en, "recipients")) {
		profile_fail_missing(c, rkp);
		return err_hint(c->e, "\"recipients\": [\"age1...\"] (age-keygen -y KEYFILE prints one)");
	}
	if (profile_read_strv(c, en, kp, "recipients", &p->encryption.recipients) < 0 ||
	    profile_read_bool(c, en, kp, "local", &p->encryption.local) < 0)
		return -1;
	if (p->encryption.recipients.n == 0)
		return profile_fail(c, rkp, "expected at least one recipient");
	for (size_t i = 0; i < p->encryption.recipients.n; i++) {
		if (recipient_ok(p->encryption.recipients.v[i]))
			continue;
		char ikp[KP_MAX];
		profile_keypath_index(ikp, rkp, i);
		profile_fail(c, ikp, "expected an age public key (\"age1...\") or an ssh public key "
			     "(\"ssh-ed25519 AAAA...\", \"ssh-rsa AAAA...\"), got %s",
			     profile_quote(p->encryption.recipients.v[i]).s);
		return err_hint(c->e, "public keys only: the identity that decrypts stays off the server");
	}
	p->has_encryption = true;
	return 0;
}

/* signing: key and public_key paths, at least one. */
static int load_signing(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *sg;
	if (profile_read_section(c, prof, name, "signing", signing_keys, &sg, kp) < 0)
		return -1;
	if (!sg)
		return 0;
	struct profile *p = c->p;
	if (profile_read_path(c, sg, kp, "key", c->dir, &p->signing.key) < 0 ||
	    profile_read_path(c, sg, kp, "public_key", c->dir, &p->signing.public_key) < 0)
		return -1;
	if (!p->signing.key && !p->signing.public_key) {
		profile_fail(c, kp, "expected \"key\", \"public_key\" or both");
		return err_hint(c->e, "ssh-keygen -t ed25519 -N '' -f /etc/ferry/sign_ed25519 makes a pair");
	}
	return 0;
}

/* offsite_max_age: an ISO-8601 duration, default two days. */
static int load_max_age(struct profile_ctx *c, json_t *prof, const char *name)
{
	char *s = NULL;
	c->p->offsite_max_age_s = 2 * 86400;
	if (profile_read_string(c, prof, name, "offsite_max_age", NONEMPTY, &s) < 0)
		return -1;
	int rc = 0;
	if (s && !profile_iso_duration_seconds(s, &c->p->offsite_max_age_s)) {
		char kp[KP_MAX];
		profile_keypath(kp, name, "offsite_max_age");
		rc = profile_fail(c, kp, "expected an ISO-8601 duration like \"P2D\" or \"PT36H\", got %s",
				  profile_quote(s).s);
	}
	free(s);
	return rc;
}

/* offsite, encryption, signing, offsite_max_age. */
int profile_load_offsite(struct profile_ctx *c, json_t *prof, const char *name)
{
	if (load_offsite_targets(c, prof, name) < 0 || load_encryption(c, prof, name) < 0 ||
	    load_signing(c, prof, name) < 0)
		return -1;
	return load_max_age(c, prof, name);
}

/* Free one target's strings. */
static void target_done(struct profile_offsite *t)
{
	free(t->name);
	free(t->type);
	free(t->endpoint);
	free(t->region);
	free(t->bucket);
	free(t->prefix);
	free(t->host);
	free(t->user);
	free(t->identity_file);
	free(t->known_hosts);
	free(t->dir);
}

/* Free what the offsite keys hold in p. */
void profile_offsite_done(struct profile *p)
{
	for (size_t i = 0; i < p->noffsite; i++)
		target_done(&p->offsite[i]);
	free(p->offsite);
	strv_done(&p->encryption.recipients);
	free(p->signing.key);
	free(p->signing.public_key);
}

/* Deep copies of p's offsite keys into c (a clone being made). */
void profile_offsite_clone(struct profile *c, const struct profile *p)
{
	c->noffsite = p->noffsite;
	c->offsite = p->noffsite ? xcalloc(p->noffsite, sizeof *c->offsite) : NULL;
	for (size_t i = 0; i < p->noffsite; i++) {
		const struct profile_offsite *s = &p->offsite[i];
		struct profile_offsite *d = &c->offsite[i];
		*d = *s;
		d->name = xstrdup(s->name);
		d->type = xstrdup(s->type);
		d->endpoint = xstrdup(s->endpoint);
		d->region = xstrdup(s->region);
		d->bucket = xstrdup(s->bucket);
		d->prefix = xstrdup(s->prefix);
		d->host = xstrdup(s->host);
		d->user = xstrdup(s->user);
		d->identity_file = xstrdup(s->identity_file);
		d->known_hosts = xstrdup(s->known_hosts);
		d->dir = xstrdup(s->dir);
	}
	memset(&c->encryption.recipients, 0, sizeof c->encryption.recipients);
	for (size_t i = 0; i < p->encryption.recipients.n; i++)
		strv_push(&c->encryption.recipients, p->encryption.recipients.v[i]);
	c->signing.key = xstrdup(p->signing.key);
	c->signing.public_key = xstrdup(p->signing.public_key);
}
