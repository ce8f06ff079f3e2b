/*
 * The volume store: create, look up, list, remove and prune volumes, and
 * the references containers hold on them (volume.h has the layout). Every
 * change is made under volumes/.lock and becomes visible with one rename, so
 * a killed skiff leaves nothing `volume ls` would show half made.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/state.h"
#include "runtime/volume.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define LOCK_FILE ".lock"
#define TMP_PREFIX ".tmp-"
#define RM_PREFIX ".rm-"
#define OPTS_FILE "opts.json"
#define REFS_DIR "refs"
#define OPTS_MAX (1u << 20)

void volume_info_release(struct volume_info *v)
{
	json_decref(v->labels);
	json_decref(v->options);
	v->labels = v->options = NULL;
}

json_t *volume_info_json(const struct volume_info *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "CreatedAt", json_string(v->created));
	json_object_set_new(o, "Driver", json_string(v->driver));
	json_object_set(o, "Labels", v->labels ? v->labels : json_null());
	json_object_set_new(o, "Mountpoint", json_string(v->mountpoint));
	json_object_set_new(o, "Name", json_string(v->name));
	json_object_set(o, "Options", v->options ? v->options : json_null());
	json_object_set_new(o, "Scope", json_string("local"));
	return o;
}

int volume_check_name(const char *name, struct sk_err *err)
{
	size_t len = strlen(name);

	if (len == 1)
		return err_set(err, 0, "volume name is too short, names should be at least two "
				       "alphanumeric characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (isalnum(c) && c < 128)
			continue;
		if (i > 0 && (c == '_' || c == '.' || c == '-'))
			continue;
		len = 0;
		break;
	}
	if (len == 0)
		return err_set(err, 0, "\"%s\" includes invalid characters for a local volume name, "
				       "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
				       "intended to pass a host directory, use absolute path",
			       name);
	if (len > VOLUME_NAME_MAX)
		return err_set(err, ENAMETOOLONG, "volume name \"%.32s...\" is too long", name);
	return 0;
}

/* A run of digits at *p: skips it, gives where its significant part starts
 * and its length. */
static const char *digit_run(const char *p, const char **sig, size_t *len)
{
	while (*p == '0')
		p++;
	*sig = p;
	while (isdigit((unsigned char)*p))
		p++;
	*len = (size_t)(p - *sig);
	return p;
}

bool volume_name_less(const char *a, const char *b)
{
	while (*a && *b) {
		bool da = isdigit((unsigned char)*a), db = isdigit((unsigned char)*b);
		const char *sa, *sb, *start_a = a, *start_b = b;
		size_t la, lb;
		int c;

		if (da != db)
			return da; /* digits sort before other characters */
		if (!da) {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b;
			a++, b++;
			continue;
		}
		a = digit_run(a, &sa, &la);
		b = digit_run(b, &sb, &lb);
		if (la != lb)
			return la < lb;
		c = strncmp(sa, sb, la);
		if (c)
			return c < 0;
		/* equal numbers: fewer leading zeros first */
		if (sa - start_a != sb - start_b)
			return sa - start_a < sb - start_b;
	}
	return strlen(a) < strlen(b);
}

int volume_dir_open(struct store *s, struct sk_err *err)
{
	int fd;

	if (mkdirat(s->root_fd, VOLUME_DIR, 0700) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create '%s/%s'", s->root, VOLUME_DIR);
	fd = openat(s->root_fd, VOLUME_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "cannot open '%s/%s'", s->root, VOLUME_DIR);
	return fd;
}

int volume_lock(int voldir, struct sk_err *err)
{
	int fd = openat(voldir, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_set(err, errno, "cannot open the volumes' lock");
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return err_set(err, errno, "cannot lock the volumes");
		}
	}
	return fd;
}

/* Leftovers of a killed create (.tmp-*: only ever used under the lock we
 * hold) or rm (.rm-*: stale when nobody holds its flock). */
static void sweep_leftovers(int voldir)
{
	int dfd = dup(voldir);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	struct sk_err ignored = { 0 };

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		cleanup_close int fd = -1;

		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
			fs_remove_tree(voldir, de->d_name, &ignored);
			continue;
		}
		if (strncmp(de->d_name, RM_PREFIX, strlen(RM_PREFIX)))
			continue;
		fd = openat(voldir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			fs_remove_tree(voldir, de->d_name, &ignored);
	}
	closedir(d);
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];

	if (bytes > sizeof(raw))
		bytes = sizeof(raw);
	if (getrandom(raw, bytes, 0) != (ssize_t)bytes)
		for (size_t i = 0; i < bytes; i++)
			raw[i] = (unsigned char)(random() >> 7);
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* "2026-12-07T10:54:05Z" (or +hh:mm), as Go's RFC3339 in local time. */
static void format_created(time_t t, char out[40])
{
	struct tm tm;
	char zone[8];
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 labs(off) / 3600, labs(off) % 3600 / 60);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	strncat(out, zone, 39 - strlen(out));
}

/* "K=V" / "K" items into an object; an empty name is refused. */
static int kv_object(char *const *items, size_t n, const char *what, json_t **out,
		     struct sk_err *err)
{
	*out = NULL;
	if (n == 0)
		return 0;
	*out = json_object();
	if (!*out)
		return err_set(err, ENOMEM, "cannot record the volume's %s", what);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(items[i], '=');
		cleanup_free char *key = strndup(items[i], eq ? (size_t)(eq - items[i])
							      : strlen(items[i]));

		if (!key || json_object_set_new(*out, key, json_string(eq ? eq + 1 : "")) < 0)
			return err_set(err, ENOMEM, "cannot record the volume's %s", what);
	}
	return 0;
}

/* docker's local driver: type, device and o go together; size needs quotas. */
static int check_driver_opts(json_t *opts, struct sk_err *err)
{
	static const char *const needs[][3] = {
		{ "device", "type", NULL },
		{ "type", "device", NULL },
		{ "o", "device", "type" },
	};
	const char *key;
	json_t *v;

	json_object_foreach (opts, key, v) {
		if (!strcmp(key, "size"))
			return err_set(err, 0, "quota size requested but no quota support");
		if (strcmp(key, "type") && strcmp(key, "device") && strcmp(key, "o"))
			return err_set(err, 0, "invalid option: \"%s\"", key);
	}
	for (size_t i = 0; i < ARRAY_SIZE(needs); i++) {
		if (!json_object_get(opts, needs[i][0]))
			continue;
		for (size_t j = 1; j < 3 && needs[i][j]; j++)
			if (!json_object_get(opts, needs[i][j]))
				return err_set(err, 0, "missing required option: \"%s\"",
					       needs[i][j]);
	}
	return 0;
}

static bool volume_exists(int voldir, const char *name)
{
	char data[VOLUME_NAME_MAX + 16];
	struct stat st;

	snprintf(data, sizeof(data), "%s/" VOLUME_DATA, name);
	return fstatat(voldir, data, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int write_opts(int dirfd, json_t *labels, json_t *opts, struct sk_err *err)
{
	char created[40];
	json_t *o;
	cleanup_free char *text = NULL;

	format_created(time(NULL), created);
	o = json_pack("{s:s, s:s, s:O?, s:O?}", "Driver", "local", "CreatedAt", created, "Labels",
		      labels, "Options", opts);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text)
		return err_set(err, ENOMEM, "cannot record the volume");
	return fs_write_atomic(dirfd, OPTS_FILE, text, strlen(text), 0600, err);
}

/* The new volume's directory under a temporary name, whole before the
 * rename that publishes it. */
static int make_volume(int voldir, const char *name, json_t *labels, json_t *opts,
		       struct sk_err *err)
{
	char tmp[32] = TMP_PREFIX;
	cleanup_close int dfd = -1;

	random_hex(tmp + strlen(TMP_PREFIX), 8);
	if (mkdirat(voldir, tmp, 0701) < 0)
		return err_set(err, errno, "cannot create the volume '%s'", name);
	dfd = openat(voldir, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || mkdirat(dfd, VOLUME_DATA, 0755) < 0 || mkdirat(dfd, REFS_DIR, 0700) < 0) {
		err_set(err, errno, "cannot create the volume '%s'", name);
		goto fail;
	}
	if (write_opts(dfd, labels, opts, err) < 0)
		goto fail;
	if (renameat2(voldir, tmp, voldir, name, RENAME_NOREPLACE) < 0) {
		err_set(err, errno, "cannot create the volume '%s'", name);
		goto fail;
	}
	fsync(voldir);
	return 0;
fail:
	fs_remove_tree(voldir, tmp, &(struct sk_err){ 0 });
	return -1;
}

int volume_create_locked(struct store *s, int voldir, const struct volume_create_opts *o,
			 char name_out[VOLUME_NAME_MAX + 1], bool *created, struct sk_err *err)
{
	json_t *labels = NULL, *opts = NULL;
	char name[VOLUME_NAME_MAX + 1];
	int ret = -1;

	*created = false;
	if (o->name && *o->name) {
		snprintf(name, sizeof(name), "%s", o->name);
	} else {
		random_hex(name, 32);
	}
	if (volume_exists(voldir, name)) {
		memcpy(name_out, name, sizeof(name));
		return 0;
	}
	if (kv_object(o->labels, o->n_labels, "labels", &labels, err) < 0 ||
	    kv_object(o->opts, o->n_opts, "options", &opts, err) < 0)
		goto out;
	if (opts && check_driver_opts(opts, err) < 0) {
		err_wrap(err, "create %s", name);
		goto out;
	}
	if (!(o->name && *o->name)) {
		if (!labels)
			labels = json_object();
		json_object_set_new(labels, VOLUME_ANONYMOUS_LABEL, json_string(""));
	}
	if (make_volume(voldir, name, labels, opts, err) < 0)
		goto out;
	log_debug("volume %s created in %s", name, s->root);
	memcpy(name_out, name, sizeof(name));
	*created = true;
	ret = 0;
out:
	json_decref(labels);
	json_decref(opts);
	return ret;
}

/* What create checks before it takes the lock (the options are checked
 * only when the volume is new: docker ignores them for an existing one). */
static int check_create(const struct volume_create_opts *o, struct sk_err *err)
{
	const char *shown = o->name ? o->name : "";

	if (o->driver && *o->driver && strcmp(o->driver, "local"))
		return err_set(err, 0, "create %s: error looking up volume plugin %s: plugin \"%s\" "
				       "not found",
			       shown, o->driver, o->driver);
	if (o->name && *o->name && volume_check_name(o->name, err) < 0)
		return err_wrap(err, "create %s", o->name);
	return 0;
}

int volume_create(struct store *s, const struct volume_create_opts *o,
		  char name_out[VOLUME_NAME_MAX + 1], struct sk_err *err)
{
	cleanup_close int voldir = -1;
	cleanup_close int lock = -1;
	bool created;

	if (check_create(o, err) < 0)
		return -1;
	voldir = volume_dir_open(s, err);
	if (voldir < 0 || (lock = volume_lock(voldir, err)) < 0)
		return -1;
	sweep_leftovers(voldir);
	return volume_create_locked(s, voldir, o, name_out, &created, err);
}

json_t *volume_read_opts(int voldir, const char *name)
{
	char path[VOLUME_NAME_MAX + 16];
	cleanup_buf struct buf b = BUF_INIT(OPTS_MAX);
	struct sk_err ignored = { 0 };
	json_t *o;

	snprintf(path, sizeof(path), "%s/" OPTS_FILE, name);
	if (fs_read_file(voldir, path, OPTS_MAX, &b, &ignored) < 0)
		return NULL;
	o = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static json_t *object_or_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_object(v) && json_object_size(v) ? json_incref(v) : NULL;
}

static int fill_info(struct store *s, int voldir, const char *name, struct volume_info *out)
{
	json_t *o;
	const char *created;
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (!volume_exists(voldir, name))
		return -1;
	o = volume_read_opts(voldir, name);
	created = json_string_value(json_object_get(o, "CreatedAt"));
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->driver, sizeof(out->driver), "local");
	if (created)
		snprintf(out->created, sizeof(out->created), "%s", created);
	else if (fstatat(voldir, name, &st, 0) == 0)
		format_created(st.st_ctime, out->created);
	out->labels = object_or_null(o, "Labels");
	out->options = object_or_null(o, "Options");
	snprintf(out->mountpoint, sizeof(out->mountpoint), "%s/" VOLUME_DIR "/%s/" VOLUME_DATA,
		 s->root, name);
	json_decref(o);
	return 0;
}

static int no_such_volume(const char *name, struct sk_err *err)
{
	err_set(err, 0, "get %s: no such volume", name);
	err->errnum = ENOENT;
	return -1;
}

int volume_get(struct store *s, const char *name, struct volume_info *out, struct sk_err *err)
{
	cleanup_close int voldir = -1;
	struct sk_err ignored = { 0 };

	/* an invalid name (a path, ".lock") names no volume */
	if (volume_check_name(name, &ignored) < 0)
		return no_such_volume(name, err);
	voldir = volume_dir_open(s, err);
	if (voldir < 0)
		return -1;
	if (fill_info(s, voldir, name, out) < 0)
		return no_such_volume(name, err);
	return 0;
}

static int info_cmp(const void *a, const void *b)
{
	const struct volume_info *x = a, *y = b;

	if (volume_name_less(x->name, y->name))
		return -1;
	return volume_name_less(y->name, x->name) ? 1 : 0;
}

void volume_list_free(struct volume_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		volume_info_release(&v[i]);
	free(v);
}

int volume_list(struct store *s, struct volume_info **out, size_t *n, struct sk_err *err)
{
	cleanup_close int voldir = volume_dir_open(s, err);
	struct volume_info *v = NULL;
	size_t count = 0;
	struct sk_err ignored = { 0 };
	struct dirent *de;
	DIR *d;
	int dfd;

	*out = NULL;
	*n = 0;
	if (voldir < 0)
		return -1;
	dfd = dup(voldir);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return err_set(err, errno, "cannot read the volumes");
	}
	while ((de = readdir(d))) {
		struct volume_info *grown;

		if (de->d_name[0] == '.' || volume_check_name(de->d_name, &ignored) < 0)
			continue;
		grown = realloc(v, (count + 1) * sizeof(*v));
		if (!grown) {
			closedir(d);
			volume_list_free(v, count);
			return err_set(err, ENOMEM, "cannot list the volumes");
		}
		v = grown;
		if (fill_info(s, voldir, de->d_name, &v[count]) == 0)
			count++;
	}
	closedir(d);
	if (count)
		qsort(v, count, sizeof(*v), info_cmp);
	*out = v;
	*n = count;
	return 0;
}

static bool container_exists(struct store *s, const char *id)
{
	char rel[CTR_ID_LEN + 16];
	struct stat st;

	snprintf(rel, sizeof(rel), CTR_DIR "/%s", id);
	return fstatat(s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The volume's users; with drop_stale (under the lock) a reference whose
 * container is gone is deleted. */
static int count_users(struct store *s, int voldir, const char *name, struct strv *ids,
		       bool drop_stale, struct sk_err *err)
{
	char rel[VOLUME_NAME_MAX + 16];
	int fd, n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(rel, sizeof(rel), "%s/" REFS_DIR, name);
	fd = openat(voldir, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "cannot read the users of %s", name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_set(err, errno, "cannot read the users of %s", name);
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) != CTR_ID_LEN || !container_exists(s, de->d_name)) {
			if (drop_stale)
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		n++;
		if (ids && strv_push(ids, de->d_name, err) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return n;
}

int volume_users(struct store *s, const char *name, struct strv *ids, struct sk_err *err)
{
	cleanup_close int voldir = volume_dir_open(s, err);

	if (voldir < 0)
		return -1;
	return count_users(s, voldir, name, ids, false, err);
}

int volume_add_user(int voldir, const char *name, const char *id, struct sk_err *err)
{
	char rel[VOLUME_NAME_MAX + CTR_ID_LEN + 16];
	int fd;

	snprintf(rel, sizeof(rel), "%s/" REFS_DIR, name);
	if (mkdirat(voldir, rel, 0700) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot record the users of volume %s", name);
	snprintf(rel, sizeof(rel), "%s/" REFS_DIR "/%s", name, id);
	fd = openat(voldir, rel, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, errno, "cannot record the users of volume %s", name);
	close(fd);
	return 0;
}

static int in_use_error(const char *name, const struct strv *ids, struct sk_err *err)
{
	struct buf b = BUF_INIT(ERR_MSG_MAX);

	for (size_t i = 0; i < ids->n; i++)
		buf_appendf(&b, "%s%s", i ? ", " : "", ids->v[i]);
	err_set(err, 0, "remove %s: volume is in use - [%s]", name, b.data ? b.data : "");
	err->errnum = EBUSY;
	buf_release(&b);
	return -1;
}

/* Under the lock: take the volume out of sight (one rename), then delete
 * it after the lock is gone, holding the moved directory's flock so that
 * the sweep of another writer leaves it alone. *moved gets the fd. */
static int unlink_volume(int voldir, const char *name, char tmp[32], int *moved,
			 struct sk_err *err)
{
	snprintf(tmp, 32, RM_PREFIX);
	random_hex(tmp + strlen(RM_PREFIX), 8);
	if (renameat(voldir, name, voldir, tmp) < 0)
		return err_set(err, errno, "remove %s", name);
	*moved = openat(voldir, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*moved >= 0)
		flock(*moved, LOCK_EX);
	fsync(voldir);
	return 0;
}

static void delete_moved(int voldir, const char *tmp, int moved)
{
	struct sk_err err = { 0 };

	if (fs_remove_tree(voldir, tmp, &err) < 0)
		log_warn("cannot delete a removed volume's files: %s", err.msg);
	if (moved >= 0)
		close(moved);
}

int volume_remove(struct store *s, const char *name, bool force, struct sk_err *err)
{
	cleanup_close int voldir = -1;
	int lock = -1, moved = -1, users;
	struct strv ids = { 0 };
	struct sk_err ignored = { 0 };
	char tmp[32];

	if (volume_check_name(name, &ignored) < 0)
		return force ? 0 : no_such_volume(name, err);
	voldir = volume_dir_open(s, err);
	if (voldir < 0 || (lock = volume_lock(voldir, err)) < 0)
		return -1;
	sweep_leftovers(voldir);
	if (!volume_exists(voldir, name)) {
		close(lock);
		return force ? 0 : no_such_volume(name, err);
	}
	users = count_users(s, voldir, name, &ids, true, err);
	if (users != 0) {
		close(lock);
		if (users > 0)
			in_use_error(name, &ids, err);
		strv_release(&ids);
		return -1;
	}
	if (unlink_volume(voldir, name, tmp, &moved, err) < 0) {
		close(lock);
		return -1;
	}
	close(lock);
	delete_moved(voldir, tmp, moved);
	return 0;
}

void volume_remove_unused(struct store *s, const struct strv *names)
{
	for (size_t i = 0; i < names->n; i++) {
		struct sk_err err = { 0 };

		if (volume_remove(s, names->v[i], true, &err) < 0)
			log_debug("volume %s kept: %s", names->v[i], err.msg);
	}
}

bool volume_label_match(json_t *labels, const char *filter)
{
	const char *eq = strchr(filter, '=');
	cleanup_free char *key = strndup(filter, eq ? (size_t)(eq - filter) : strlen(filter));
	json_t *v = key ? json_object_get(labels, key) : NULL;

	if (!v)
		return false;
	return !eq || !strcmp(json_string_value(v) ? json_string_value(v) : "", eq + 1);
}

static bool prune_matches(const struct volume_info *v, const struct volume_prune_filter *f)
{
	if (v->options)
		return false; /* docker: no space to reclaim behind mount options */
	if (!f->all && !volume_label_match(v->labels, VOLUME_ANONYMOUS_LABEL))
		return false;
	for (size_t i = 0; i < f->n_labels; i++)
		if (!volume_label_match(v->labels, f->labels[i]))
			return false;
	for (size_t i = 0; i < f->n_labels_not; i++)
		if (volume_label_match(v->labels, f->labels_not[i]))
			return false;
	return true;
}

int volume_prune(struct store *s, const struct volume_prune_filter *f,
		 void (*fn)(const char *name, long long size, void *arg), void *arg,
		 struct sk_err *err)
{
	struct volume_info *v = NULL;
	size_t n = 0;
	cleanup_close int voldir = -1;
	int lock = -1;

	if (volume_list(s, &v, &n, err) < 0)
		return -1;
	voldir = volume_dir_open(s, err);
	if (voldir < 0 || (lock = volume_lock(voldir, err)) < 0) {
		volume_list_free(v, n);
		return -1;
	}
	sweep_leftovers(voldir);
	for (size_t i = 0; i < n; i++) {
		char tmp[32], data[VOLUME_NAME_MAX + 16];
		int moved = -1;
		long long size;

		if (!prune_matches(&v[i], f) || !volume_exists(voldir, v[i].name) ||
		    count_users(s, voldir, v[i].name, NULL, true, err) != 0) {
			err_clear(err);
			continue;
		}
		snprintf(data, sizeof(data), "%s/" VOLUME_DATA, v[i].name);
		size = fs_content_size(voldir, data);
		if (unlink_volume(voldir, v[i].name, tmp, &moved, err) < 0) {
			err_clear(err);
			continue;
		}
		/* under the lock here: a prune is rare and its removals few */
		delete_moved(voldir, tmp, moved);
		fn(v[i].name, size > 0 ? size : 0, arg);
	}
	close(lock);
	volume_list_free(v, n);
	return 0;
}

int volume_usage(struct store *s, struct volume_usage *u, struct sk_err *err)
{
	struct volume_info *v = NULL;
	size_t n = 0;
	cleanup_close int voldir = -1;

	memset(u, 0, sizeof(*u));
	if (volume_list(s, &v, &n, err) < 0)
		return -1;
	voldir = volume_dir_open(s, err);
	for (size_t i = 0; voldir >= 0 && i < n; i++) {
		char data[VOLUME_NAME_MAX + 16];
		long long size;
		int users;

		if (v[i].options)
			continue; /* docker counts local volumes without mount options */
		snprintf(data, sizeof(data), "%s/" VOLUME_DATA, v[i].name);
		size = fs_content_size(voldir, data);
		users = count_users(s, voldir, v[i].name, NULL, false, err);
		err_clear(err);
		u->total++;
		u->size += size > 0 ? size : 0;
		if (users > 0)
			u->active++;
		else
			u->reclaimable += size > 0 ? size : 0;
	}
	volume_list_free(v, n);
	return voldir < 0 ? -1 : 0;
}
