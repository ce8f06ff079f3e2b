/*
 * User and group resolution inside the container (user.h). The files come
 * from the image, so they are untrusted: parsing is bounded, fields are
 * validated, and they are opened with openat2(RESOLVE_IN_ROOT) so a symlinked
 * /etc/passwd cannot point outside the container's root.
 */
#include "runtime/user.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define FIELDS_MAX 7

/* One line split on ':' into at most FIELDS_MAX fields (pointers into line). */
struct line_fields {
	const char *f[FIELDS_MAX];
	size_t len[FIELDS_MAX];
	int n;
};

static void split_line(const char *line, size_t len, struct line_fields *out)
{
	const char *p = line, *end = line + len;

	out->n = 0;
	while (out->n < FIELDS_MAX) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		const char *fe = c ? c : end;

		out->f[out->n] = p;
		out->len[out->n] = (size_t)(fe - p);
		out->n++;
		if (!c)
			break;
		p = c + 1;
	}
}

static bool field_eq(const struct line_fields *lf, int i, const char *s)
{
	return i < lf->n && lf->len[i] == strlen(s) && !memcmp(lf->f[i], s, lf->len[i]);
}

/* Decimal id in [0, 2^32-2]; -1 when not a number. */
static long long parse_id(const char *s, size_t len)
{
	long long v = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < 0xffffffffLL ? v : -1;
}

static long long field_id(const struct line_fields *lf, int i)
{
	return i < lf->n ? parse_id(lf->f[i], lf->len[i]) : -1;
}

/* Calls fn for each non-comment line of body; stops when fn returns non-zero. */
static int for_each_line(const char *body, int (*fn)(const struct line_fields *, void *),
			 void *ctx)
{
	const char *p = body;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct line_fields lf;
		int r;

		if (len > 0 && p[0] != '#') {
			split_line(p, len, &lf);
			r = fn(&lf, ctx);
			if (r)
				return r;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

struct passwd_match {
	const char *name; /* match by name, or */
	long long uid;    /* by uid (-1: not numeric) */
	char found_name[256];
	long long pw_uid, pw_gid;
	char home[1024];
};

static int match_passwd(const struct line_fields *lf, void *ctx)
{
	struct passwd_match *m = ctx;
	long long uid = field_id(lf, 2), gid = field_id(lf, 3);

	if (lf->n < 7 || uid < 0 || gid < 0)
		return 0;
	if (m->uid >= 0 ? uid != m->uid : !field_eq(lf, 0, m->name))
		return 0;
	m->pw_uid = uid;
	m->pw_gid = gid;
	snprintf(m->found_name, sizeof(m->found_name), "%.*s", (int)lf->len[0], lf->f[0]);
	snprintf(m->home, sizeof(m->home), "%.*s", (int)lf->len[5], lf->f[5]);
	return 1;
}

static bool member_of(const struct line_fields *lf, const char *user)
{
	const char *p = lf->f[3], *end = lf->f[3] + lf->len[3];
	size_t ulen = strlen(user);

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *me = c ? c : end;

		if ((size_t)(me - p) == ulen && !memcmp(p, user, ulen))
			return true;
		p = me + 1;
	}
	return false;
}

struct group_match {
	const char *name;     /* explicit group by name, or NULL */
	const char *user;     /* collect groups listing this user, or NULL */
	long long gid;        /* explicit group found */
	struct user_resolved *out;
};

static int match_group(const struct line_fields *lf, void *ctx)
{
	struct group_match *m = ctx;
	long long gid = field_id(lf, 2);

	if (lf->n < 4 || gid < 0)
		return 0;
	if (m->name) {
		if (!field_eq(lf, 0, m->name))
			return 0;
		m->gid = gid;
		return 1;
	}
	if (m->user && member_of(lf, m->user) && m->out->n_groups < USER_MAX_GROUPS)
		m->out->groups[m->out->n_groups++] = (gid_t)gid;
	return 0;
}

int user_spec_split(const char *spec, char *user, size_t ulen, char *group, size_t glen,
		    struct sk_err *err)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	/* An image's User is hostile input: no control characters, which no
	 * passwd name holds, and which would break the one-line error. */
	for (const char *p = spec; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, 0, "invalid user: it contains control characters");
	if (n == 0 || n >= ulen || (colon && strlen(colon + 1) >= glen) || (colon && !colon[1]))
		return err_set(err, 0, "invalid user '%s'", spec);
	snprintf(user, ulen, "%.*s", (int)n, spec);
	snprintf(group, glen, "%s", colon ? colon + 1 : "");
	return 0;
}

static int resolve_user_part(const char *user, const char *passwd, struct user_resolved *out,
			     char *name, size_t nlen, struct sk_err *err)
{
	struct passwd_match pm = { .name = user, .uid = parse_id(user, strlen(user)) };

	if (passwd && for_each_line(passwd, match_passwd, &pm)) {
		out->uid = (uid_t)pm.pw_uid;
		out->gid = (gid_t)pm.pw_gid;
		snprintf(out->home, sizeof(out->home), "%s", pm.home[0] ? pm.home : "/");
		snprintf(name, nlen, "%s", pm.found_name);
		return 0;
	}
	if (pm.uid < 0)
		return err_set(err, 0, "unable to find user %s: no matching entries in passwd file",
			       user);
	/* A numeric uid the passwd file does not know: runc's defaults. */
	out->uid = (uid_t)pm.uid;
	out->gid = 0;
	snprintf(out->home, sizeof(out->home), "/");
	name[0] = '\0';
	return 0;
}

static int resolve_group_part(const char *group, const char *user_name, const char *groups,
			      struct user_resolved *out, struct sk_err *err)
{
	struct group_match gm = { .gid = -1, .out = out };
	long long gid;

	out->n_groups = 0;
	if (!group[0]) {
		/* No explicit group: supplementary groups are those listing the user. */
		gm.user = user_name[0] ? user_name : NULL;
		if (groups && gm.user)
			for_each_line(groups, match_group, &gm);
		return 0;
	}
	gid = parse_id(group, strlen(group));
	if (gid >= 0) {
		out->gid = (gid_t)gid;
		return 0;
	}
	gm.name = group;
	if (!groups || !for_each_line(groups, match_group, &gm))
		return err_set(err, 0, "unable to find group %s: no matching entries in group file",
			       group);
	out->gid = (gid_t)gm.gid;
	return 0;
}

int user_resolve(const char *spec, const char *passwd, const char *group,
		 struct user_resolved *out, struct sk_err *err)
{
	char uname[256], gname[256], found[256];

	memset(out, 0, sizeof(*out));
	snprintf(out->home, sizeof(out->home), "/");
	if (!spec || !spec[0])
		spec = "0";
	if (user_spec_split(spec, uname, sizeof(uname), gname, sizeof(gname), err) < 0)
		return -1;
	if (resolve_user_part(uname, passwd, out, found, sizeof(found), err) < 0 ||
	    resolve_group_part(gname, found, group, out, err) < 0)
		return -1;
	/* The primary group is a supplementary one too, as docker sets them
	 * (`id` prints groups=GID): without it, a process that drops its gid
	 * through setgid() loses access a docker user expects it to keep. */
	for (size_t i = 0; i < out->n_groups; i++)
		if (out->groups[i] == out->gid)
			return 0;
	if (out->n_groups < USER_MAX_GROUPS)
		out->groups[out->n_groups++] = out->gid;
	return 0;
}

/* Read a file of the container; a missing (or unreadable) file gives NULL.
 * The image decides what it is: a FIFO would block the read forever (docker
 * hangs), a device or a huge file would not end; only a regular file of at
 * most USER_FILE_MAX bytes is read, and opening never waits (O_NONBLOCK). */
static char *read_in_root(int rootfd, const char *path, struct sk_err *err)
{
	cleanup_buf struct buf b = BUF_INIT(USER_FILE_MAX);
	cleanup_close int fd =
		fs_open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	char chunk[8192];
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, 0, "'%s' in the container is not a regular file", path);
		return NULL;
	}
	if (st.st_size > (off_t)USER_FILE_MAX) {
		err_set(err, 0, "'%s' in the container is too large (%lld bytes, at most %u)", path,
			(long long)st.st_size, USER_FILE_MAX);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			err_set(err, E2BIG, "cannot read '%s' of the container", path);
			return NULL;
		}
	}
	if (buf_append(&b, "", 0) < 0)
		return NULL;
	if (memchr(b.data, '\0', b.len)) {
		err_set(err, 0, "invalid '%s' in the container: contains NUL bytes", path);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

int user_resolve_in_root(int rootfd, const char *spec, struct user_resolved *out,
			 struct sk_err *err)
{
	cleanup_free char *passwd = NULL;
	cleanup_free char *group = NULL;

	err_clear(err);
	passwd = read_in_root(rootfd, "/etc/passwd", err);
	if (!passwd && err->msg[0])
		return -1;
	group = read_in_root(rootfd, "/etc/group", err);
	if (!group && err->msg[0])
		return -1;
	return user_resolve(spec, passwd, group, out, err);
}

bool user_setgroups_denied(pid_t pid)
{
	char v[8] = "", path[64];
	int fd;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/setgroups");
	fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!read(fd, v, sizeof(v) - 1);
		close(fd);
	}
	return !strncmp(v, "deny", 4);
}
