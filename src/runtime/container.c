/*
 * Containers on disk and the parent's side of running one (container.h).
 * The hot path is here: a handful of small file writes, one clone3, then
 * waiting on a pidfd. Signals to forward are blocked before the clone and
 * read from a signalfd afterwards, so no handler and no global state is needed.
 */
#include "runtime/container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/bridge.h"
#include "net/slirp.h"
#include "runtime/cgroup.h"
#include "runtime/etc.h"
#include "runtime/events.h"
#include "runtime/console.h"
#include "runtime/internal.h"
#include "runtime/logfile.h"
#include "runtime/names.h"
#include "runtime/relay.h"
#include "runtime/state.h"
#include "runtime/stub.h"
#include "runtime/userns.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define CONTAINERS_DIR CTR_DIR
#define NAMES_DIR CTR_NAMES_DIR
#define STALE_SETUP_SECONDS 60

/* One bridge serves every store of the host. A container's lease is held by
 * "ID@STORE" and its nftables rules are tagged "ID.HASH" (HASH: FNV-1a of
 * the store's path; tags allow no '/'), so that each store's GC removes only
 * what its own dead containers left. */
#define NET_TAG_MAX (CONTAINER_ID_LEN + 10)

static void net_names(const char *store_root, const char *id, char tag[NET_TAG_MAX],
		      char *holder, size_t holder_len)
{
	uint32_t h = 2166136261u;

	for (const char *p = store_root; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(tag, NET_TAG_MAX, "%.64s.%08x", id, h);
	if (holder)
		snprintf(holder, holder_len, "%s@%s", id, store_root);
}

void container_net_release(const char *store_root, const char *id, bool published)
{
	char tag[NET_TAG_MAX], holder[4400];

	net_names(store_root, id, tag, holder, sizeof(holder));
	bridge_release(tag, holder, published);
}

static bool holds_rules(const char *tag, void *ctx);

/* Plain write, no fsync: container files are private to one run and
 * worthless after a crash (container_gc removes them). */
static int write_small(int dirfd, const char *name, const char *data, size_t len,
		       struct sk_err *err)
{
	cleanup_close int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_set(err, errno, "cannot create '%s'", name);
	if (write(fd, data, len) != (ssize_t)len)
		return err_set(err, errno, "cannot write '%s'", name);
	return 0;
}

/* A container nobody will finish: its owner (maker, foreground skiff or
 * monitor) died. --rm ones and ones that never got past set-up are removed;
 * the others stay, recorded as exited with the reason (ctr_state_load), as
 * docker keeps stopped containers. */
struct sweep {
	bool removed;
	bool note_dead; /* say so of a dead monitor whose policy would restart it */
};

static int remove_dead(struct store *s, const char *id, struct sweep *sw)
{
	struct sk_err err = { 0 };

	log_debug("removing dead container %s", id);
	if (ctr_remove_files(s, id, &err) < 0) {
		log_warn("cannot remove dead container %s: %s", id, err.msg);
		return 0;
	}
	sw->removed = true;
	return 1;
}

/* A "created" container whose maker died. Decided under the container's
 * lock: whoever takes a container over (the monitor, start) takes it to say
 * so. 1 when removed. */
static int remove_if_abandoned(struct store *s, const char *id, int dirfd, struct sweep *sw)
{
	struct sk_err err = { 0 };
	cleanup_close int lock = ctr_lock(dirfd, &err);
	struct ctr_state st;

	if (lock < 0 || ctr_state_read(dirfd, &st, &err) < 0 || st.status != CTR_CREATED ||
	    (st.monitor_pid != 0 && ctr_process_alive(st.monitor_pid, st.monitor_start)))
		return 0;
	return remove_dead(s, id, sw);
}

/* --rm? With died, the container's monitor has just been found dead: a
 * policy that would have restarted it gets a word (docs/LIFECYCLE.md: the
 * next command does not restart it). */
static bool auto_remove_of(int dirfd, bool died)
{
	struct sk_err err = { 0 };
	struct ctr_config cfg;
	bool rm = false;

	if (ctr_config_read(dirfd, &cfg, &err) < 0)
		return false;
	rm = cfg.auto_remove;
	if (died)
		container_note_dead_monitor(&cfg);
	ctr_config_release(&cfg);
	return rm;
}

void container_note_dead_monitor(const struct ctr_config *cfg)
{
	if (!cfg->auto_remove && cfg->restart != RESTART_NO)
		log_warn("container %s: its monitor died; restart policy \"%s\": "
			 "`skiff system restore` starts it again",
			 cfg->name[0] ? cfg->name : cfg->id, ctr_restart_name(cfg->restart));
}

/* ctr_live_sweep's verdict on a container whose live file nobody holds. */
static int sweep_one(struct store *s, const char *id, void *ctx)
{
	struct sweep *sw = ctx;
	struct sk_err err = { 0 };
	cleanup_close int dirfd = ctr_open_dir(s, id, &err);
	struct ctr_state st;
	struct stat sb;

	if (dirfd < 0)
		return err.errnum == ENOENT ? 1 : 0;
	if (ctr_state_read(dirfd, &st, &err) < 0)
		return 0;
	switch (st.status) {
	case CTR_CREATED:
		/* Complete, owned by no one: `skiff create` made it; it waits
		 * for a start and is no longer live. */
		if (st.monitor_pid == 0 && faccessat(dirfd, "config.json", F_OK, 0) == 0)
			return 1;
		/* No state yet: being made by a maker that holds no live file
		 * (an older skiff), or its maker died at once. */
		if (st.monitor_pid == 0)
			return fstat(dirfd, &sb) == 0 &&
					       sb.st_mtime < time(NULL) - STALE_SETUP_SECONDS
				       ? remove_dead(s, id, sw)
				       : 0;
		return remove_if_abandoned(s, id, dirfd, sw);
	case CTR_RUNNING:
	case CTR_RESTARTING:
		if (ctr_state_load(dirfd, &st, &err) < 0 || st.status != CTR_EXITED)
			return 0; /* a live monitor that holds no live file (an older skiff) */
		if (auto_remove_of(dirfd, st.monitor_died_now && sw->note_dead))
			remove_dead(s, id, sw);
		return 1;
	case CTR_EXITED:
	default:
		/* The exit is recorded and nobody owns it: a monitor killed right
		 * after, before its --rm removal, or before dropping the file. */
		if (auto_remove_of(dirfd, false))
			remove_dead(s, id, sw);
		return 1;
	}
}

void container_gc(struct store *s)
{
	container_sweep(s, true);
}

void container_sweep(struct store *s, bool note_dead)
{
	struct sk_err err = { 0 };
	struct sweep sw = { .note_dead = note_dead };

	if (ctr_live_sweep(s, sweep_one, &sw, &err) < 0)
		log_debug("container gc: %s", err.msg);
	/* A dead owner's ports go when its death is recorded (state.c); rules
	 * left by containers removed meanwhile go here, not at every run: any
	 * netfilter socket closed within 20 ms of a change waits 10-15 ms. */
	if (sw.removed)
		bridge_gc(holds_rules, s);
	/* removals whose process was killed (--rm's background one, rm, prune) */
	store_remove_stale_dirs(s, "tmp", CTR_REMOVING_PREFIX);
}

static bool name_is_valid(const char *name)
{
	if (!isalnum((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return strlen(name) < sizeof(((struct container *)0)->name);
}

/* The name is a symlink names/<name> -> <id>: symlinkat is atomic, so two
 * runs cannot take the same name. */
static int claim_name(struct store *s, struct container *c, const char *name,
		      struct sk_err *err)
{
	char link[sizeof(c->name) + 32], other[CONTAINER_ID_LEN + 8];
	ssize_t n;

	if (!name_is_valid(name))
		return err_set(err, 0, "invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
				       "are allowed",
			       name);
	if (mkdirat(s->root_fd, NAMES_DIR, 0700) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create '%s'", NAMES_DIR);
	snprintf(link, sizeof(link), NAMES_DIR "/%s", name);
	/* A second try when the name was left naming a removed container. */
	for (int tries = 0; tries < 2; tries++) {
		if (symlinkat(c->id, s->root_fd, link) == 0) {
			snprintf(c->name, sizeof(c->name), "%s", name);
			return 0;
		}
		if (errno != EEXIST)
			return err_set(err, errno, "cannot claim the name '%s'", name);
		if (!ctr_name_reclaim_dead(s, name))
			break;
	}
	n = readlinkat(s->root_fd, link, other, sizeof(other) - 1);
	other[n > 0 ? n : 0] = '\0';
	return err_set(err, 0, "Conflict. The container name \"/%s\" is already in use by "
			       "container \"%s\". You have to remove (or rename) that container "
			       "to be able to reuse that name.",
		       name, other);
}

/* 32 of the id's random bits: the word-th group of 8 hex digits. */
static uint32_t id_bits(const char *id, unsigned word)
{
	char hex[9];

	memcpy(hex, id + (word % 8) * 8, 8);
	hex[8] = '\0';
	return (uint32_t)strtoul(hex, NULL, 16);
}

/* Without --name: "adjective_surname" from the id's random bits, retried
 * with other bits and then with a number while the name is taken. */
static int claim_generated_name(struct store *s, struct container *c, struct sk_err *err)
{
	char name[64];

	for (unsigned attempt = 0; attempt < 16; attempt++) {
		uint32_t bits = id_bits(c->id, attempt);

		names_generate(bits, attempt < 8 ? 0 : attempt, name, sizeof(name));
		if (claim_name(s, c, name, err) == 0)
			return 0;
		if (err->errnum != 0 || !strstr(err->msg, "already in use"))
			return -1;
	}
	err_clear(err);
	return 0; /* unnamed rather than failing the run */
}

static int new_id(char id[CONTAINER_ID_LEN + 1], struct sk_err *err)
{
	unsigned char raw[CONTAINER_ID_LEN / 2];
	static const char hex[] = "0123456789abcdef";

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return err_set(err, errno, "cannot make a container id");
	for (size_t i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[CONTAINER_ID_LEN] = '\0';
	return 0;
}

static int make_container_dir(struct store *s, struct container *c, struct sk_err *err)
{
	char rel[CONTAINER_ID_LEN + 16];

	if (mkdirat(s->root_fd, CONTAINERS_DIR, 0700) < 0 && errno != EEXIST)
		return err_set(err, errno, "cannot create '%s/" CONTAINERS_DIR "'", s->root);
	snprintf(rel, sizeof(rel), CONTAINERS_DIR "/%s", c->id);
	if (mkdirat(s->root_fd, rel, 0700) < 0)
		return err_set(err, errno, "cannot create container directory '%s'", rel);
	c->dirfd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return err_set(err, errno, "cannot open '%s'", rel);
	snprintf(c->dir, sizeof(c->dir), "%s/%s", s->root, rel);
	for (const char *const *d = (const char *const[]){ "upper", "work", NULL }; *d; d++)
		if (mkdirat(c->dirfd, *d, 0755) < 0)
			return err_set(err, errno, "cannot create '%s/%s'", c->dir, *d);
	return 0;
}

int container_create(struct store *s, struct container *c, struct sk_err *err)
{
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	c->live_fd = -1;
	c->store_fd = s->root_fd;
	container_gc(s);
	if (new_id(c->id, err) < 0)
		return -1;
	/* In the live index before it exists: a maker killed at any point
	 * leaves nothing the sweep does not see. */
	c->live_fd = ctr_live_hold(s, c->id, err);
	if (c->live_fd < 0 || make_container_dir(s, c, err) < 0)
		return -1;
	return 0;
}

void container_hand_over(struct container *c)
{
	close_and_reset(&c->live_fd);
}

int container_register(struct store *s, struct container *c, const char *name,
		       const struct ctr_summary *sum, struct sk_err *err)
{
	struct ctr_state st = { .status = CTR_CREATED };
	struct ctr_summary named = *sum;

	if (sum->image_id &&
	    write_small(c->dirfd, "image", sum->image_id, strlen(sum->image_id), err) < 0)
		return -1;
	if ((name && *name ? claim_name(s, c, name, err) : claim_generated_name(s, c, err)) < 0)
		return -1;
	/* "created", owned by this process until it runs or removes the
	 * container (its live file says so too); with what ps lists. */
	named.name = c->name;
	ctr_state_owned_by_me(&st);
	if (ctr_state_write_new(c->dirfd, &st, &named, err) < 0)
		return -1;
	events_container(s->root_fd, "create", c->id, c->name, c->image, NULL, 0);
	return 0;
}

static int set_no_owner(struct ctr_state *st, void *arg)
{
	st->monitor_pid = 0;
	st->monitor_start = 0;
	return 0;
}

int container_release_created(struct store *s, struct container *c, struct sk_err *err)
{
	if (ctr_state_update(c->dirfd, set_no_owner, NULL, err) < 0)
		return -1;
	/* no owner: out of the live index (ctr_live_release sees it finished) */
	ctr_live_release(s, c->id, &c->live_fd);
	return 0;
}

/* config.json and state.json's listing name, under the container's lock. */
static int write_new_name(struct container *c, const char *new_name, struct sk_err *err)
{
	cleanup_close int lock = ctr_lock(c->dirfd, err);
	struct ctr_config cfg;
	int ret;

	if (lock < 0 || ctr_config_read(c->dirfd, &cfg, err) < 0)
		return -1;
	snprintf(cfg.name, sizeof(cfg.name), "%s", new_name);
	ret = ctr_config_write(c->dirfd, &cfg, err);
	ctr_config_release(&cfg);
	if (ret == 0)
		ret = ctr_state_set_name(c->dirfd, new_name, err);
	return ret;
}

int container_rename(struct store *s, const char *ref, const char *new_name, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1], old_name[sizeof(((struct container *)0)->name)];
	char old_attr[sizeof(old_name) + 1];
	struct container c = { .dirfd = -1 };
	int ret;

	if (ctr_resolve(s, ref, id, err) < 0 || container_open(s, id, &c, err) < 0)
		return -1;
	snprintf(old_name, sizeof(old_name), "%s", c.name);
	if (!strcmp(old_name, new_name)) {
		close(c.dirfd);
		return err_set(err, 0, "Renaming a container with the same name as its current "
				       "name");
	}
	/* claim_name sets c.name: the new one is claimed before anything changes */
	ret = claim_name(s, &c, new_name, err);
	if (ret == 0 && write_new_name(&c, new_name, err) < 0) {
		ctr_name_release(s, new_name, c.id);
		ret = -1;
	}
	if (ret == 0)
		ctr_name_release(s, old_name, c.id);
	if (ret == 0) {
		snprintf(old_attr, sizeof(old_attr), "/%s", old_name);
		events_container(s->root_fd, "rename", c.id, c.name, c.image,
				 &(struct event_attr){ "oldName", old_attr }, 1);
	}
	close(c.dirfd);
	return ret;
}

int container_open(struct store *s, const char *id, struct container *c, struct sk_err *err)
{
	struct ctr_config cfg;

	memset(c, 0, sizeof(*c));
	c->live_fd = -1;
	c->store_fd = s->root_fd;
	c->dirfd = ctr_open_dir(s, id, err);
	if (c->dirfd < 0)
		return -1;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->dir, sizeof(c->dir), "%s/" CONTAINERS_DIR "/%s", s->root, id);
	if (ctr_config_read(c->dirfd, &cfg, err) < 0) {
		close(c->dirfd);
		c->dirfd = -1;
		return err_wrap(err, "container %s", id);
	}
	snprintf(c->name, sizeof(c->name), "%s", cfg.name);
	snprintf(c->image, sizeof(c->image), "%s", cfg.image ? cfg.image : "");
	ctr_config_release(&cfg);
	return 0;
}

static int set_owner(struct ctr_state *st, void *arg)
{
	ctr_state_owned_by_me(st);
	return 0;
}

int container_take_over(struct container *c, struct sk_err *err)
{
	return ctr_state_update(c->dirfd, set_owner, NULL, err);
}

/* 1 when a live monitor runs it; otherwise claimed for a new start. */
static int claim(struct ctr_state *st, void *arg)
{
	if ((st->status == CTR_RUNNING || st->status == CTR_RESTARTING) &&
	    ctr_process_alive(st->monitor_pid, st->monitor_start))
		return 1;
	st->status = CTR_RESTARTING;
	ctr_state_owned_by_me(st);
	st->stopped_by_user = false;
	st->restart_count = 0;
	st->error[0] = '\0';
	return 0;
}

int container_claim_start(struct store *s, struct container *c, struct sk_err *err)
{
	struct ctr_state st;
	int r;

	/* A dead monitor's state is settled first (ctr_state_load takes the
	 * lock itself when it must). */
	if (ctr_state_load(c->dirfd, &st, err) < 0)
		return -1;
	/* Back in the live index before the state says restarting. */
	if (c->live_fd < 0 && (c->live_fd = ctr_live_hold(s, c->id, err)) < 0)
		return -1;
	r = ctr_state_update(c->dirfd, claim, NULL, err);
	if (r != 0)
		ctr_live_release(s, c->id, &c->live_fd); /* running already, or failed */
	return r;
}

struct failure {
	int exit_code;
	const char *msg;
};

static int set_failed(struct ctr_state *st, void *arg)
{
	const struct failure *f = arg;

	ctr_state_exited(st, f->exit_code);
	snprintf(st->error, sizeof(st->error), "%s", f->msg);
	return 0;
}

void container_record_failure(struct store *s, struct container *c, int exit_code,
			      const char *msg)
{
	struct sk_err err = { 0 };
	struct failure f = { .exit_code = exit_code, .msg = msg };

	ctr_state_update(c->dirfd, set_failed, &f, &err);
	ctr_live_release(s, c->id, &c->live_fd);
}

static int path_in_dir(const struct container *c, const char *name, char **out,
		       struct sk_err *err)
{
	if (asprintf(out, "%s/%s", c->dir, name) < 0)
		return err_set(err, ENOMEM, "cannot build a path");
	return 0;
}

int container_set_root(const struct container *c, struct rt_spec *spec, struct sk_err *err)
{
	/* The overlay is mounted on the container's own directory, in the
	 * child's mount namespace only: one directory fewer to create per run
	 * (65-120 us each on these hosts' ext4, BENCH.md). A copy needs one. */
	if (spec->root.copy) {
		if (mkdirat(c->dirfd, "rootfs", 0755) < 0 && errno != EEXIST)
			return err_set(err, errno, "cannot create '%s/rootfs'", c->dir);
		if (path_in_dir(c, "rootfs", &spec->root.path, err) < 0)
			return -1;
	} else if (!(spec->root.path = strdup(c->dir))) {
		return err_set(err, ENOMEM, "cannot build a path");
	}
	if (path_in_dir(c, "upper", &spec->root.upper, err) < 0 ||
	    path_in_dir(c, "work", &spec->root.work, err) < 0)
		return -1;
	return 0;
}

/* The store's root from the container's directory (<root>/containers/<id>). */
static void store_root_of(const struct container *c, char *out, size_t len)
{
	size_t n = strlen(c->dir), tail = strlen("/" CONTAINERS_DIR "/") + strlen(c->id);

	snprintf(out, len, "%.*s", (int)(n > tail ? n - tail : n), c->dir);
}

/* A lease's holder is there while its container may run: being made, or
 * created or running with a live owner (the foreground skiff or the monitor). */
static bool may_run(int dirfd)
{
	struct sk_err err = { 0 };
	struct ctr_state st;
	struct stat sb;

	/* No state: being made, unless its maker died long ago (as gc_one) */
	if (ctr_state_read(dirfd, &st, &err) < 0)
		return fstat(dirfd, &sb) < 0 || sb.st_mtime >= time(NULL) - STALE_SETUP_SECONDS;
	if (st.status == CTR_EXITED)
		return false;
	return st.monitor_pid == 0 || ctr_process_alive(st.monitor_pid, st.monitor_start);
}

static bool holds_lease(const char *holder, void *ctx)
{
	const char *at = strchr(holder, '@');
	char dir[4400];
	cleanup_close int dirfd = -1;

	if (!at || at - holder != CONTAINER_ID_LEN)
		return false;
	snprintf(dir, sizeof(dir), "%s/" CONTAINERS_DIR "/%.*s", at + 1, CONTAINER_ID_LEN, holder);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dirfd >= 0 && may_run(dirfd);
}

/* bridge_gc: rules tagged with this store's hash whose container is gone. */
static bool holds_rules(const char *tag, void *ctx)
{
	const struct store *s = ctx;
	char mine[NET_TAG_MAX], rel[CONTAINER_ID_LEN + 16];
	cleanup_close int dirfd = -1;

	net_names(s->root, "", mine, NULL, 0); /* ".HASH" */
	if (strlen(tag) != CONTAINER_ID_LEN + strlen(mine) || strcmp(tag + CONTAINER_ID_LEN, mine))
		return true; /* another store's */
	snprintf(rel, sizeof(rel), CONTAINERS_DIR "/%.64s", tag);
	dirfd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dirfd >= 0 && may_run(dirfd);
}

bool container_bridge_by_default(void)
{
	return geteuid() == 0 && !userns_is_rootless();
}

int container_net_prepare(const struct container *c, struct rt_spec *spec,
			  const struct bridge_opts *o, struct sk_err *err)
{
	char root[sizeof(c->dir)], tag[NET_TAG_MAX], holder[sizeof(c->dir) + CONTAINER_ID_LEN + 2];

	store_root_of(c, root, sizeof(root));
	net_names(root, c->id, tag, holder, sizeof(holder));
	spec->net.req.names = spec->net.names;
	return bridge_prepare(&spec->net.def, holder, &spec->net.req, o, holds_lease, NULL,
			      &spec->net.lease, err);
}

/* The host's copy of an /etc file, NUL-terminated; "" when it has none. */
static int read_host_file(const char *path, struct buf *b, struct sk_err *err)
{
	if (fs_read_file(AT_FDCWD, path, 1 << 20, b, err) < 0)
		buf_reset(b);
	err_clear(err);
	if (buf_append(b, "", 0) < 0)
		return err_set(err, ENOMEM, "cannot read '%s'", path);
	return 0;
}

/* docker's choice: behind systemd-resolved the host's resolv.conf names only
 * its 127.0.0.53 stub, which a container cannot reach; resolved's list of
 * the real upstream servers is used instead. */
static int read_resolv_conf(bool own_network, struct buf *b, struct sk_err *err)
{
	if (read_host_file("/etc/resolv.conf", b, err) < 0)
		return -1;
	if (!own_network || !strstr(b->data, "nameserver 127.0.0.53") ||
	    access("/run/systemd/resolve/resolv.conf", R_OK) < 0)
		return 0;
	buf_release(b);
	return read_host_file("/run/systemd/resolve/resolv.conf", b, err);
}

int container_add_etc_files(const struct container *c, struct rt_spec *spec,
			    const struct etc_opts *given, struct sk_err *err)
{
	cleanup_buf struct buf host_hosts = BUF_INIT(1 << 20);
	cleanup_buf struct buf host_resolv = BUF_INIT(1 << 20);
	cleanup_buf struct buf hosts = BUF_INIT(1 << 20);
	cleanup_buf struct buf resolv = BUF_INIT(1 << 20);
	struct etc_opts o = *given;
	char hostname[300];
	int n = snprintf(hostname, sizeof(hostname), "%s\n", spec->hostname ? spec->hostname : "");

	err_clear(err);
	o.hostname = spec->hostname;
	o.bridge = spec->net.bridge || spec->net.slirp;
	o.ip = spec->net.slirp ? SLIRP_IP : spec->net.lease.ip;
	o.gateway = spec->net.slirp ? SLIRP_GATEWAY
				    : spec->net.bridge ? spec->net.lease.def.net.gateway : 0;
	o.resolver = spec->net.slirp				     ? SLIRP_DNS
		     : spec->net.bridge && !spec->net.def.is_default ? o.gateway
								     : 0;
	/* docker: --read-only makes them read-only too */
	const char *ro = spec->root.readonly ? "ro" : NULL;

	if (spec_add_file(spec, "/etc/hostname", hostname, (size_t)n, ro, err) < 0 ||
	    read_host_file("/etc/hosts", &host_hosts, err) < 0 ||
	    read_resolv_conf(!o.host_network, &host_resolv, err) < 0 ||
	    etc_build_hosts(&o, host_hosts.data, &hosts, err) < 0 ||
	    etc_build_resolv_conf(&o, host_resolv.data, &resolv, err) < 0)
		return -1;
	if (spec_add_file(spec, "/etc/hosts", hosts.data ? hosts.data : "", hosts.len, ro, err) < 0 ||
	    spec_add_file(spec, "/etc/resolv.conf", resolv.data ? resolv.data : "", resolv.len, ro,
			  err) < 0)
		return -1;
	return 0;
}

static void forwarded_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGWINCH);
}

int sync_read_child(int sock, int *master, const char *who, struct sk_err *err)
{
	int resets = 0;

	for (;;) {
		struct sync_msg msg;
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctrl;
		struct iovec iov = { .iov_base = &msg, .iov_len = sizeof(msg) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctrl.buf,
				     .msg_controllen = sizeof(ctrl.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		/* A child that exits with the go-ahead byte unread resets the
		 * connection, and the kernel reports that before the message the
		 * child queued: read on once. */
		if (n < 0 && errno == ECONNRESET && resets++ == 0)
			continue;
		if (n == 0)
			return 0;
		if (n != (ssize_t)sizeof(msg))
			return err_set(err, n < 0 ? errno : EPROTO, "lost contact with %s", who);
		if (msg.kind == SYNC_PTY_MASTER) {
			*master = console_recv_fd(&mh);
			continue;
		}
		msg.msg[sizeof(msg.msg) - 1] = '\0';
		err_set(err, 0, "%s", msg.msg);
		err->exit_code = msg.exit_code;
		return -1;
	}
}

/* Every container gets a cgroup (skiff/<id>), with or without limits, so
 * that all its processes can be found and killed. Where none can be made
 * (no cgroup file system, or no delegation when rootless) a container without
 * limits still runs; one with limits is refused rather than run unlimited. */
static int cgroup_setup(const struct container *c, const struct rt_spec *spec, struct cgroup *cg,
			bool *have, struct sk_err *err)
{
	enum cgroup_mode mode;
	char name[CONTAINER_ID_LEN + 8];
	bool limits = cgroup_limits_any(&spec->resources);

	*have = false;
	if (cgroup_detect(CGROUP_ROOT, &mode, err) == 0) {
		snprintf(name, sizeof(name), "skiff/%s", c->id);
		if (cgroup_create(mode, CGROUP_ROOT, name, &spec->resources, cg, err) == 0) {
			log_debug("run: cgroup %s ready (%s, %d hierarchies)", name,
				  cgroup_mode_name(mode), cg->n);
			*have = true;
			return 0;
		}
	}
	/* Rootless without a delegated cgroup: say so, and run (docker and
	 * podman do the same); as root an unmet limit is an error. */
	if (limits && userns_is_rootless()) {
		log_warn("rootless: resource limits not applied (no delegated cgroup: %s)", err->msg);
		err_clear(err);
		return 0;
	}
	if (limits)
		return err_wrap(err, "cannot apply the resource limits");
	log_debug("running without a cgroup: %s", err->msg);
	err_clear(err);
	return 0;
}

struct started {
	pid_t pid;
};

static int set_running(struct ctr_state *st, void *arg)
{
	const struct started *s = arg;

	st->status = CTR_RUNNING;
	st->pid = s->pid;
	st->pid_start = ctr_process_start_time(s->pid);
	ctr_state_owned_by_me(st);
	st->started_at = ctr_now_ns();
	st->exit_code = 0;
	st->oom_killed = false;
	st->paused = false;
	st->error[0] = '\0';
	return 0;
}

/* One byte once the child is in its cgroups (it creates its cgroup namespace
 * only now, so the namespace is rooted at the container's own cgroup, and
 * mounts its view of them), another once its network is there (it runs). */
static int go_ahead(int sock, struct sk_err *err)
{
	if (send(sock, "g", 1, MSG_NOSIGNAL) != 1)
		return err_set(err, errno, "lost contact with the container");
	return 0;
}

/* The child is cloned and has its ends: the relay gets skiff's. */
static void kill_child(int pidfd)
{
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	ns_reap(pidfd);
}

/* For port, ps and inspect while it runs (host ports 0 are chosen now). */
static int record_network(const struct container *c, const struct rt_spec *spec,
			  struct sk_err *err)
{
	struct ctr_net *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return err_set(err, ENOMEM, "cannot record the container's network");
	if (spec->net.slirp) {
		n->ip = SLIRP_IP;
		n->gateway = SLIRP_GATEWAY;
		n->prefix = SLIRP_PREFIX;
		snprintf(n->network, sizeof(n->network), "slirp4netns");
	} else {
		n->ip = spec->net.lease.ip;
		n->gateway = spec->net.lease.def.net.gateway;
		n->prefix = spec->net.lease.def.net.prefix;
		snprintf(n->network, sizeof(n->network), "%s", spec->net.def.name);
		snprintf(n->network_id, sizeof(n->network_id), "%s", spec->net.def.id);
	}
	n->n_ports = spec->net.n_ports < CTR_NET_MAX_PORTS ? spec->net.n_ports : CTR_NET_MAX_PORTS;
	if (n->n_ports)
		memcpy(n->ports, spec->net.ports, n->n_ports * sizeof(*n->ports));
	ret = ctr_net_write(c->dirfd, n, err);
	free(n);
	return ret;
}

/* Rootless: a network namespace with slirp4netns on it, made before the
 * clone (the child joins it): a rootless skiff cannot open a namespace of
 * its non-dumpable child (ptrace rules), and slirp4netns is ready before
 * the container's first packet. The ports are forwarded by then too. */
static int attach_slirp(const struct rt_spec *spec, struct slirp *sl, struct sk_err *err)
{
	return slirp_start(spec->net.ports, spec->net.n_ports, sl, err);
}

static int attach_network(const struct container *c, const struct rt_spec *spec, pid_t pid,
			  struct sk_err *err)
{
	char root[sizeof(c->dir)], tag[NET_TAG_MAX];
	/* The one thing a run changes in its spec: the lease's netfilter socket
	 * is handed on and closed (bridge.h). */
	struct bridge_lease *lease = (struct bridge_lease *)&spec->net.lease;

	store_root_of(c, root, sizeof(root));
	net_names(root, c->id, tag, NULL, 0);
	if (bridge_attach(lease, tag, pid, "eth0", spec->net.ports, spec->net.n_ports, err) < 0)
		return -1;
	return record_network(c, spec, err);
}

static int start_and_wait(struct container *c, const struct rt_spec *spec,
			  const struct run_opts *opts, struct cgroup *cg, bool *have_cg,
			  const sigset_t *sigs, const sigset_t *orig, int *status, struct sk_err *err)
{
	struct entry st = ENTRY_INIT;
	struct slirp sl = SLIRP_INIT;
	cleanup_close int sigfd = -1;
	unsigned long namespaces = spec->namespaces;
	struct started started;
	pid_t pid;
	int ret = -1;

	st.io.log = opts->log;
	st.io.attach = opts->attach;
	st.io.input = opts->interactive;
	/* With -t the terminal is all three; the child sends its master. */
	if (entry_prepare(&st, !spec->process.terminal, err) < 0)
		goto out;
	namespaces &= ~(unsigned long)CLONE_NEWCGROUP; /* the child unshares it */
	if (spec->net.slirp) {
		if (attach_slirp(spec, &sl, err) < 0)
			goto out;
		namespaces &= ~(unsigned long)CLONE_NEWNET;
	}
	pid = ns_clone(namespaces, &st.pidfd, err);
	if (pid == 0) {
		struct child_ctx cc = { .spec = spec,
					.sync_fd = st.child_sock,
					.stub_fd = st.stub_fd,
					.init = opts->init,
					.netns_fd = spec->net.slirp	 ? sl.netns_fd
						    : spec->net.join_netns ? spec->net.netns_fd
									 : -1,
					.cgroup_ns = spec->namespaces & CLONE_NEWCGROUP,
					.orig_mask = *orig };
		/* a monitor's stdio are /dev/null: the size comes with opts */
		if (opts->attach)
			cc.ws = opts->ws;
		else
			console_window(&cc.ws);
		memcpy(cc.stdio, st.child_stdio, sizeof(cc.stdio));
		child_main(&cc);
	}
	/* Only the child holds its ends: the pipes end when it does. */
	entry_drop_child_side(&st);
	if (pid < 0)
		goto out;
	log_debug("run: cloned pid %d", (int)pid);
	/* While the child mounts its root: the caller's records, the cgroup,
	 * then the go-ahead. */
	/* The cgroup before the network: on cgroup v1 moving a process waits
	 * for an RCU grace period, which is 10-15 ms right after a ruleset
	 * change (the veth's port guard) and ~0 before it. */
	if ((opts->prepare && opts->prepare(opts->prepare_arg, err) < 0) ||
	    cgroup_setup(c, spec, cg, have_cg, err) < 0 ||
	    (*have_cg && cgroup_enter(cg, pid, err) < 0) ||
	    /* in its cgroups: it mounts its view of them while the veth is made */
	    go_ahead(st.sock, err) < 0 ||
	    (spec->net.bridge && attach_network(c, spec, pid, err) < 0) ||
	    (spec->net.slirp && record_network(c, spec, err) < 0) ||
	    go_ahead(st.sock, err) < 0) {
		struct sk_err child_err = { 0 };

		/* A child that failed its own set-up meanwhile (so that it could
		 * not be moved) has sent why: that message is the one that
		 * matters. Killed and reaped first: a child still waiting for the
		 * go-ahead would never end the read. */
		kill_child(st.pidfd);
		if (sync_read_child(st.sock, &st.master, "the container", &child_err) < 0 &&
		    child_err.msg[0] && child_err.errnum == 0)
			*err = child_err;
		goto out;
	}
	if (sync_read_child(st.sock, &st.master, "the container", err) < 0) {
		kill_child(st.pidfd);
		goto out;
	}
	log_debug("run: container process started");
	started.pid = pid;
	if (ctr_state_update(c->dirfd, set_running, &started, err) < 0)
		log_warn("container %.12s: cannot record its state: %s", c->id, err->msg);
	err_clear(err);
	events_container(c->store_fd, "start", c->id, c->name, c->image, NULL, 0);
	if (opts->started)
		opts->started(opts->started_arg);
	sigfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		err_set(err, errno, "cannot watch signals");
		kill_child(st.pidfd);
		goto out;
	}
	st.io.master = st.master;
	ret = relay_run(&st.io, st.pidfd, sigfd, opts->sig_proxy, status, err);
	if (ret == 0)
		log_debug("run: container exited with %d", *status);
out:
	slirp_stop(&sl); /* its forwards go with it */
	entry_release(&st);
	return ret;
}

/* Whatever is left in the cgroup dies with the container, then the cgroup
 * goes. */
static void cgroup_teardown(struct container *c, struct cgroup *cg)
{
	struct sk_err err = { 0 };

	c->oom_killed = cgroup_oom_killed(cg);
	if (cgroup_kill_all(cg, &err) < 0)
		log_warn("container %.12s: %s", c->id, err.msg);
	if (cgroup_destroy(cg, &err) < 0)
		log_warn("container %.12s: %s", c->id, err.msg);
	log_debug("run: cgroup removed%s", c->oom_killed ? " (OOM kill seen)" : "");
}

int container_run(struct container *c, const struct rt_spec *spec, const struct run_opts *opts,
		  int *status, struct sk_err *err)
{
	sigset_t sigs, orig;
	struct cgroup cg;
	bool have_cg;
	int ret;

	c->oom_killed = false;
	have_cg = false;
	forwarded_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, &orig);
	ret = start_and_wait(c, spec, opts, &cg, &have_cg, &sigs, &orig, status, err);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	/* The veth went with the network namespace; the rules and the lease
	 * are the container's until now. */
	/* a container of any network may have been connected to others */
	bool connected = !spec->net.slirp && faccessat(c->dirfd, "net.json", F_OK, 0) == 0;

	if (spec->net.slirp)
		ctr_net_remove(c->dirfd);
	if (spec->net.bridge || connected) {
		char root[sizeof(c->dir)];

		ctr_net_remove(c->dirfd);
		store_root_of(c, root, sizeof(root));
		container_net_release(root, c->id, spec->net.n_ports > 0);
	}
	if (have_cg)
		cgroup_teardown(c, &cg);
	return ret;
}

int container_reset_work(const struct container *c, struct sk_err *err)
{
	/* overlayfs recreates work/work; "volatile" left work/work/incompat. */
	return fs_remove_tree(c->dirfd, "work/work", err);
}

struct finished {
	int status;
	bool oom_killed;
};

static int set_exited(struct ctr_state *st, void *arg)
{
	const struct finished *f = arg;

	ctr_state_exited(st, f->status);
	st->oom_killed = f->oom_killed;
	return 0;
}

/* --rm: the container disappears at once (one rename out of containers/),
 * and its dozen inodes are removed by a child process while skiff returns.
 * The child holds an flock on the directory, so that the store's clean-up
 * (container_gc: stale "tmp/rm-*") finishes the job if it is killed. */
static void remove_in_background(struct store *s, struct container *c)
{
	char gone[CTR_GONE_MAX];
	cleanup_close int lock = -1;
	struct sk_err err = { 0 };
	pid_t pid;

	if (ctr_remove_begin(s, c->id, gone, &lock, &err) < 0) {
		log_warn("cannot remove container %s: %s", c->id, err.msg);
		return;
	}
	ctr_live_release(s, c->id, &c->live_fd); /* not into the child */
	if (lock < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Outlives skiff: not killed by the hangup of skiff's terminal. */
		setsid();
		/* Not a reader or writer of the caller's pipes any more. */
		for (int i = 0; null >= 0 && i < 3; i++)
			dup2(null, i);
		fs_remove_tree(s->root_fd, gone, &err);
		_exit(0);
	}
	if (pid < 0 && fs_remove_tree(s->root_fd, gone, &err) < 0)
		log_warn("cannot remove container %s: %s", c->id, err.msg);
}

void container_event_die(const struct container *c, int status)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", status);
	events_container(c->store_fd, "die", c->id, c->name, c->image,
			 &(struct event_attr){ "exitCode", code }, 1);
}

void container_finish(struct store *s, struct container *c, bool remove, int status)
{
	struct sk_err err = { 0 };
	struct finished f = { .status = status, .oom_killed = c->oom_killed };

	if (c->dirfd < 0) {
		ctr_live_release(s, c->id, &c->live_fd);
		return;
	}
	if (!remove && ctr_state_update(c->dirfd, set_exited, &f, &err) < 0)
		log_warn("container %.12s: cannot record its exit: %s", c->id, err.msg);
	if (status >= 0)
		container_event_die(c, status);
	close(c->dirfd);
	c->dirfd = -1;
	/* What it held of the network went at the end of container_run. */
	if (remove)
		remove_in_background(s, c);
	ctr_live_release(s, c->id, &c->live_fd);
	log_debug("run: container %s", remove ? "removed" : "recorded as exited");
}

int container_running_pid(struct store *s, const char *ref, pid_t *pid, struct sk_err *err)
{
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1;
	struct ctr_state st;

	if (ctr_resolve(s, ref, id, err) < 0)
		return -1;
	dirfd = ctr_open_dir(s, id, err);
	if (dirfd < 0 || ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	if (st.status != CTR_RUNNING || !ctr_process_alive(st.pid, st.pid_start))
		return err_set(err, 0, "cannot join network of a non running container: %s", ref);
	*pid = st.pid;
	return 0;
}

bool container_lease_alive(const char *holder, void *ctx)
{
	return holds_lease(holder, ctx);
}

/* --- network connect / disconnect ------------------------------------------ */

struct net_change {
	char id[CTR_ID_LEN + 1];
	char tag[NET_TAG_MAX];
	char holder[4400];
	int dirfd;
	pid_t pid;
	struct ctr_config cfg;
	struct ctr_net *net;
};

static void net_change_release(struct net_change *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	ctr_config_release(&c->cfg);
	free(c->net);
}

/* The running container ref, its records, locked against another change. */
static int net_change_open(struct store *s, const char *ref, struct net_change *c,
			   struct sk_err *err)
{
	struct ctr_state st;

	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	c->net = calloc(1, sizeof(*c->net));
	if (!c->net)
		return err_set(err, ENOMEM, "cannot read the container's network");
	if (ctr_resolve(s, ref, c->id, err) < 0)
		return -1;
	c->dirfd = ctr_open_dir(s, c->id, err);
	if (c->dirfd < 0 || ctr_lock(c->dirfd, err) < 0 || ctr_state_load(c->dirfd, &st, err) < 0 ||
	    ctr_config_read(c->dirfd, &c->cfg, err) < 0 || ctr_net_read(c->dirfd, c->net, err) < 0)
		return -1;
	if (st.status != CTR_RUNNING || !ctr_process_alive(st.pid, st.pid_start))
		return err_set(err, 0, "container %s is not running: skiff connects and "
				       "disconnects running containers only", ref);
	c->pid = st.pid;
	net_names(s->root, c->id, c->tag, c->holder, sizeof(c->holder));
	return 0;
}

static bool on_network(const struct ctr_net *n, const char *network_id)
{
	if (n->ip && !strcmp(n->network_id, network_id))
		return true;
	for (size_t i = 0; i < n->n_extra; i++)
		if (!strcmp(n->extra[i].network_id, network_id))
			return true;
	return false;
}

static bool ifname_used(const struct ctr_net *n, const char *ifname)
{
	if (n->ip && !strcmp(ifname, "eth0"))
		return true;
	for (size_t i = 0; i < n->n_extra; i++)
		if (!strcmp(n->extra[i].ifname, ifname))
			return true;
	return false;
}

int container_net_connect(struct store *s, const char *ref, const char *network,
			  const struct strv *aliases, const char *ip, const struct bridge_opts *o,
			  struct sk_err *err)
{
	struct net_change c;
	struct bridge_lease l = { 0 };
	struct ipam_request req = { 0 };
	struct buf names = BUF_INIT(2048);
	struct net_def def;
	struct ctr_endpoint *e;
	char ifname[16] = "";
	int ret = -1;

	if (net_change_open(s, ref, &c, err) < 0 || network_find(s->root_fd, network, &def, err) < 0)
		goto out;
	if (on_network(c.net, def.id)) {
		err_set(err, 0, "endpoint with name %s already exists in network %s",
			c.cfg.name[0] ? c.cfg.name : ref, def.name);
		goto out;
	}
	if (def.is_default && (ip || (aliases && aliases->n))) {
		err_set(err, 0, "%s is supported on user defined networks only",
			ip ? "user specified IP address" : "network-scoped alias");
		goto out;
	}
	if (c.net->n_extra == CTR_NET_MAX_EXTRA) {
		err_set(err, 0, "container %s is on too many networks", ref);
		goto out;
	}
	for (int i = 0; i < 16 && !*ifname; i++) {
		char n[16];

		snprintf(n, sizeof(n), "eth%d", i);
		if (!ifname_used(c.net, n))
			snprintf(ifname, sizeof(ifname), "%s", n);
	}
	if (ip && ipam_parse_ip(ip, &req.ip) < 0) {
		err_set(err, 0, "invalid IP address %s", ip);
		goto out;
	}
	req.first = def.range_first;
	req.last = def.range_last;
	if (!def.is_default) {
		int r = buf_appendf(&names, "%s", c.cfg.name[0] ? c.cfg.name : c.id);

		for (size_t i = 0; r == 0 && aliases && i < aliases->n; i++)
			r = buf_appendf(&names, ",%s", aliases->v[i]);
		if (r == 0)
			r = buf_appendf(&names, ",%.12s", c.id);
		if (r < 0 || buf_append(&names, "", 0) < 0) {
			err_set(err, E2BIG, "too many network aliases");
			goto out;
		}
		req.names = names.data;
	}
	if (bridge_prepare(&def, c.holder, &req, o, holds_lease, NULL, &l, err) < 0)
		goto out;
	if (bridge_attach(&l, c.tag, c.pid, ifname, NULL, 0, err) < 0) {
		bridge_release_lease(&def, c.holder);
		goto out;
	}
	if (!strcmp(ifname, "eth0")) {
		/* a container that had no network: this one is its first */
		c.net->ip = l.ip;
		c.net->gateway = l.def.net.gateway;
		c.net->prefix = l.def.net.prefix;
		snprintf(c.net->network, sizeof(c.net->network), "%s", def.name);
		snprintf(c.net->network_id, sizeof(c.net->network_id), "%s", def.id);
	} else {
		e = &c.net->extra[c.net->n_extra++];
		snprintf(e->network, sizeof(e->network), "%s", def.name);
		snprintf(e->network_id, sizeof(e->network_id), "%s", def.id);
		snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
		e->ip = l.ip;
		e->gateway = l.def.net.gateway;
		e->prefix = l.def.net.prefix;
	}
	ret = ctr_net_write(c.dirfd, c.net, err);
out:
	bridge_lease_release(&l);
	buf_release(&names);
	net_change_release(&c);
	return ret;
}

int container_net_disconnect(struct store *s, const char *ref, const char *network,
			     struct sk_err *err)
{
	struct net_change c;
	struct net_def def;
	const char *ifname = NULL;
	int ret = -1;

	if (net_change_open(s, ref, &c, err) < 0 || network_find(s->root_fd, network, &def, err) < 0)
		goto out;
	if (c.net->ip && !strcmp(c.net->network_id, def.id))
		ifname = "eth0";
	for (size_t i = 0; !ifname && i < c.net->n_extra; i++)
		if (!strcmp(c.net->extra[i].network_id, def.id))
			ifname = c.net->extra[i].ifname;
	if (!ifname) {
		err_set(err, 0, "container %s is not connected to network %s", ref, def.name);
		goto out;
	}
	if (bridge_detach(&def, c.tag, ifname, err) < 0)
		goto out;
	bridge_release_lease(&def, c.holder);
	if (!strcmp(ifname, "eth0")) {
		c.net->ip = 0;
		c.net->n_ports = 0;
	} else {
		size_t k = 0;

		for (size_t i = 0; i < c.net->n_extra; i++)
			if (strcmp(c.net->extra[i].ifname, ifname) != 0)
				c.net->extra[k++] = c.net->extra[i];
		c.net->n_extra = k;
	}
	ret = ctr_net_write(c.dirfd, c.net, err);
out:
	net_change_release(&c);
	return ret;
}
