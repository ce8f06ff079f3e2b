/* Container records: config/state round trips, liveness, lookup by name,
 * id and prefix, restart policies. Uses a real store in a temp directory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/store.h"
#include "runtime/state.h"
#include "unit.h"
#include "util/fs.h"

static char root[] = "/tmp/skiff-test-state-XXXXXX";
static struct store st;

static int make_container(const char *id, const char *name)
{
	char rel[128];
	struct sk_err err = { 0 };
	struct ctr_config c = { .restart = RESTART_ON_FAILURE, .restart_max = 3 };
	int fd;

	snprintf(rel, sizeof(rel), CTR_DIR "/%s", id);
	mkdirat(st.root_fd, CTR_DIR, 0700);
	mkdirat(st.root_fd, rel, 0700);
	fd = openat(st.root_fd, rel, O_RDONLY | O_DIRECTORY);
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.image = "test/busybox";
	strv_push(&c.args, "/bin/sh", &err);
	strv_push(&c.args, "-c", &err);
	strv_push(&c.args, "echo \"hi\"", &err);
	if (ctr_config_write(fd, &c, &err) < 0)
		fprintf(stderr, "%s\n", err.msg);
	strv_release(&c.args);
	if (name[0]) {
		mkdirat(st.root_fd, CTR_NAMES_DIR, 0700);
		snprintf(rel, sizeof(rel), CTR_NAMES_DIR "/%s", name);
		symlinkat(id, st.root_fd, rel);
	}
	return fd;
}

static const char id1[] = "abc1230000000000000000000000000000000000000000000000000000000001";
static const char id2[] = "abc4560000000000000000000000000000000000000000000000000000000002";

TEST(config_round_trip)
{
	struct sk_err err = { 0 };
	struct ctr_config c;
	int fd = make_container(id1, "web");

	CHECK(ctr_config_read(fd, &c, &err) == 0);
	CHECK_STR(c.id, id1);
	CHECK_STR(c.name, "web");
	CHECK_STR(c.image, "test/busybox");
	CHECK(c.image_id == NULL);
	CHECK(c.args.n == 3);
	CHECK_STR(c.args.v[2], "echo \"hi\"");
	CHECK(c.restart == RESTART_ON_FAILURE && c.restart_max == 3);
	CHECK(c.stop_signal == SIGTERM);
	/* written without the docker view, as records before it were */
	CHECK(!c.has_docker && !c.docker.has_cmd && c.docker.labels.n == 0);
	ctr_config_release(&c);
	close(fd);
}

/* The docker view (inspect's Config and HostConfig) as written, read back;
 * empty parts are not written and read back empty. */
TEST(docker_view_round_trip)
{
	static const char id[] = "abc7890000000000000000000000000000000000000000000000000000000003";
	struct sk_err err = { 0 };
	struct ctr_config c = { .has_docker = true }, r;
	struct ctr_docker *d = &c.docker;
	int fd = make_container(id, "");

	snprintf(c.id, sizeof(c.id), "%s", id);
	d->has_entrypoint = true;
	strv_push(&d->entrypoint, "", &err); /* --entrypoint "" */
	strv_push(&d->env, "B=3", &err);
	strv_push(&d->labels, "app=web", &err);
	strv_push(&d->binds, "/srv:/data:ro", &err);
	strv_push(&d->cap_add, "NET_ADMIN", &err);
	d->workdir = "/srv";
	d->stop_signal = "SIGUSR1";
	d->limits.memory = 64 << 20;
	d->limits.nano_cpus = 1500000000;
	d->limits.pids_limit = 100;
	snprintf(d->limits.cpuset_cpus, sizeof(d->limits.cpuset_cpus), "0-1");
	d->ulimits.v[0] = (struct rlimit_entry){ RLIMIT_NOFILE, { 100, 200 } };
	d->ulimits.v[1] = (struct rlimit_entry){ RLIMIT_CORE, { RLIM_INFINITY, RLIM_INFINITY } };
	d->ulimits.n = 2;
	d->read_only = d->init = true;
	CHECK(ctr_config_write(fd, &c, &err) == 0);
	d->workdir = d->stop_signal = NULL; /* not owned here */
	ctr_docker_release(d);

	CHECK(ctr_config_read(fd, &r, &err) == 0);
	CHECK(r.has_docker);
	d = &r.docker;
	CHECK(d->has_entrypoint && d->entrypoint.n == 1 && !d->entrypoint.v[0][0]);
	CHECK(!d->has_cmd && d->cmd.n == 0);
	CHECK(d->env.n == 1 && d->labels.n == 1 && d->binds.n == 1 && d->cap_add.n == 1);
	CHECK_STR(d->labels.v[0], "app=web");
	CHECK_STR(d->binds.v[0], "/srv:/data:ro");
	CHECK_STR(d->workdir, "/srv");
	CHECK_STR(d->stop_signal, "SIGUSR1");
	CHECK(d->domainname == NULL && d->log_driver == NULL && d->tmpfs.n == 0);
	CHECK(d->limits.memory == 64 << 20 && d->limits.nano_cpus == 1500000000);
	CHECK(d->limits.pids_limit == 100 && d->limits.memory_swap == 0);
	CHECK_STR(d->limits.cpuset_cpus, "0-1");
	CHECK(d->ulimits.n == 2 && d->ulimits.v[0].resource == RLIMIT_NOFILE);
	CHECK(d->ulimits.v[0].lim.rlim_cur == 100 && d->ulimits.v[0].lim.rlim_max == 200);
	CHECK(d->ulimits.v[1].lim.rlim_cur == RLIM_INFINITY);
	CHECK(d->read_only && d->init && !d->publish_all);
	ctr_config_release(&r);
	close(fd);
}

TEST(state_missing_is_created_and_round_trips)
{
	struct sk_err err = { 0 };
	struct ctr_state s, r;
	int fd = make_container(id2, "");

	CHECK(ctr_state_read(fd, &s, &err) == 0);
	CHECK(s.status == CTR_CREATED);
	s.status = CTR_EXITED;
	s.exit_code = 137;
	s.oom_killed = true;
	s.finished_at = ctr_now_ns();
	snprintf(s.error, sizeof(s.error), "x \"quoted\"");
	CHECK(ctr_state_write(fd, &s, &err) == 0);
	CHECK(ctr_state_read(fd, &r, &err) == 0);
	CHECK(r.status == CTR_EXITED && r.exit_code == 137 && r.oom_killed);
	CHECK(r.finished_at == s.finished_at);
	CHECK_STR(r.error, "x \"quoted\"");
	close(fd);
}

TEST(dead_monitor_becomes_exited)
{
	struct sk_err err = { 0 };
	struct ctr_state s = { .status = CTR_RUNNING };
	int fd = ctr_open_dir(&st, id1, &err);
	int gate[2];
	pid_t child;
	char c;

	/* The child lives until its start time has been read: a zombie already
	 * counts as dead. */
	if (pipe(gate) < 0)
		abort();
	child = fork();
	if (child == 0) {
		close(gate[1]);
		(void)!read(gate[0], &c, 1);
		_exit(0);
	}
	close(gate[0]);
	s.monitor_start = ctr_process_start_time(child);
	s.monitor_pid = child;
	CHECK(s.monitor_start != 0);
	CHECK(ctr_process_alive(child, s.monitor_start));
	close(gate[1]);
	waitpid(child, NULL, 0);
	CHECK(!ctr_process_alive(child, s.monitor_start));
	CHECK(ctr_state_write(fd, &s, &err) == 0);
	CHECK(ctr_state_load(fd, &s, &err) == 0);
	CHECK(s.status == CTR_EXITED && s.exit_code == CTR_EXIT_MONITOR_DIED);
	CHECK(strstr(s.error, "died") != NULL);
	/* a live monitor (ourselves) stays running */
	s.status = CTR_RUNNING;
	s.monitor_pid = getpid();
	s.monitor_start = ctr_process_start_time(getpid());
	CHECK(ctr_state_write(fd, &s, &err) == 0);
	CHECK(ctr_state_load(fd, &s, &err) == 0);
	CHECK(s.status == CTR_RUNNING);
	close(fd);
}

TEST(resolve)
{
	struct sk_err err = { 0 };
	char id[CTR_ID_LEN + 1];

	CHECK(ctr_resolve(&st, "web", id, &err) == 0);
	CHECK_STR(id, id1);
	CHECK(ctr_resolve(&st, id2, id, &err) == 0);
	CHECK_STR(id, id2);
	CHECK(ctr_resolve(&st, "abc4", id, &err) == 0);
	CHECK_STR(id, id2);
	CHECK(ctr_resolve(&st, "abc", id, &err) < 0);
	CHECK(strstr(err.msg, "multiple") != NULL);
	CHECK(ctr_resolve(&st, "nope", id, &err) < 0 && err.errnum == ENOENT);
	CHECK_STR(err.msg, "No such container: nope");
	CHECK(ctr_resolve(&st, "../../etc", id, &err) < 0);
}

TEST(remove_files_drops_name)
{
	struct sk_err err = { 0 };
	char id[CTR_ID_LEN + 1];

	CHECK(ctr_remove_files(&st, id1, &err) == 0);
	CHECK(ctr_resolve(&st, "web", id, &err) < 0);
	CHECK(faccessat(st.root_fd, CTR_NAMES_DIR "/web", F_OK, AT_SYMLINK_NOFOLLOW) < 0);
	CHECK(ctr_remove_files(&st, id1, &err) == 0); /* gone already: fine */
}

TEST(restart_policies)
{
	struct sk_err err = { 0 };
	enum ctr_restart p;
	unsigned max;

	CHECK(ctr_restart_parse("no", &p, &max, &err) == 0 && p == RESTART_NO);
	CHECK(ctr_restart_parse("always", &p, &max, &err) == 0 && p == RESTART_ALWAYS);
	CHECK(ctr_restart_parse("unless-stopped", &p, &max, &err) == 0 &&
	      p == RESTART_UNLESS_STOPPED);
	CHECK(ctr_restart_parse("on-failure", &p, &max, &err) == 0 && p == RESTART_ON_FAILURE &&
	      max == 0);
	CHECK(ctr_restart_parse("on-failure:5", &p, &max, &err) == 0 && max == 5);
	CHECK(ctr_restart_parse("always:5", &p, &max, &err) < 0);
	CHECK(ctr_restart_parse("on-failure:x", &p, &max, &err) < 0);
	CHECK(ctr_restart_parse("on-failure:-1", &p, &max, &err) < 0);
	CHECK(ctr_restart_parse("sometimes", &p, &max, &err) < 0);
	CHECK(strstr(err.msg, "sometimes") != NULL);
}

static const char id3[] = "def0000000000000000000000000000000000000000000000000000000000003";
static const char id4[] = "def0000000000000000000000000000000000000000000000000000000000004";

static bool live_exists(const char *id)
{
	char rel[128];

	snprintf(rel, sizeof(rel), CTR_LIVE_DIR "/%s", id);
	return faccessat(st.root_fd, rel, F_OK, 0) == 0;
}

static void set_status(const char *id, enum ctr_status status)
{
	struct sk_err err = { 0 };
	struct ctr_state s = { .status = status };
	int fd = ctr_open_dir(&st, id, &err);

	ctr_state_owned_by_me(&s);
	CHECK(fd >= 0 && ctr_state_write(fd, &s, &err) == 0);
	close(fd);
}

struct swept {
	char ids[8][CTR_ID_LEN + 1];
	int n;
	int verdict;
};

static int note_swept(struct store *s, const char *id, void *ctx)
{
	struct swept *w = ctx;

	if (w->n < 8)
		snprintf(w->ids[w->n++], sizeof(w->ids[0]), "%s", id);
	return w->verdict;
}

static bool swept(const struct swept *w, const char *id)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->ids[i], id))
			return true;
	return false;
}

TEST(live_index)
{
	struct sk_err err = { 0 };
	struct swept w = { .verdict = 1 };
	int a, b;

	/* A store made by an older skiff: the first hold builds the index from
	 * the containers that are not exited. */
	close(make_container(id3, ""));
	set_status(id3, CTR_RUNNING);
	close(make_container(id4, ""));
	set_status(id4, CTR_EXITED);
	CHECK(faccessat(st.root_fd, CTR_LIVE_DIR, F_OK, 0) < 0);
	a = ctr_live_hold(&st, id4, &err);
	CHECK(a >= 0 && live_exists(id3) && live_exists(id4));

	/* Held: the sweep passes it by; id3's (nobody holds it) is looked at
	 * (and other tests' containers without a state). */
	CHECK(ctr_live_sweep(&st, note_swept, &w, &err) == 0);
	CHECK(swept(&w, id3) && !swept(&w, id4));
	CHECK(!live_exists(id3)); /* the verdict said "done with" */

	/* Two owners share it (a start claiming while the last one leaves): the
	 * first to go leaves it, whatever the state says. */
	b = ctr_live_hold(&st, id4, &err);
	CHECK(b >= 0);
	ctr_live_release(&st, id4, &a);
	CHECK(a == -1 && live_exists(id4));
	/* The last owner of a running container leaves it for the sweep... */
	set_status(id4, CTR_RUNNING);
	ctr_live_release(&st, id4, &b);
	CHECK(live_exists(id4));
	/* ...of an exited one unlinks it. */
	set_status(id4, CTR_EXITED);
	b = ctr_live_hold(&st, id4, &err);
	ctr_live_release(&st, id4, &b);
	CHECK(!live_exists(id4));

	/* A sweep's verdict 0 keeps the file. */
	a = ctr_live_hold(&st, id4, &err);
	close(a); /* an owner that died */
	w = (struct swept){ .verdict = 0 };
	CHECK(ctr_live_sweep(&st, note_swept, &w, &err) == 0);
	CHECK(w.n == 1 && swept(&w, id4) && live_exists(id4));
	/* Removal: the directory leaves containers/, the live file goes. */
	CHECK(ctr_remove_files(&st, id4, &err) == 0);
	CHECK(!live_exists(id4));
	CHECK(ctr_remove_files(&st, id3, &err) == 0);
}

TEST(state_keeps_the_summary)
{
	struct sk_err err = { 0 };
	struct strv args = { 0 };
	struct ctr_summary sum = { .name = "web2", .image = "img:1", .image_id = "sha256:abc",
				   .created = 1234567890123LL, .args = &args };
	struct ctr_state s = { .status = CTR_CREATED };
	struct ctr_config c;
	int fd = make_container(id3, "");
	int cfd = openat(st.root_fd, CTR_DIR, O_RDONLY | O_DIRECTORY);

	strv_push(&args, "sh", &err);
	strv_push(&args, "-c", &err);
	strv_push(&args, "echo \"h\u00e9\" \\ \t", &err);
	CHECK(ctr_state_write_new(fd, &s, &sum, &err) == 0);
	/* later writes change the state's keys only */
	s.status = CTR_EXITED;
	s.exit_code = 3;
	CHECK(ctr_state_write(fd, &s, &err) == 0);
	CHECK(ctr_listing_read_at(cfd, id3, &c, &s, &err) == 0);
	CHECK(s.status == CTR_EXITED && s.exit_code == 3);
	CHECK_STR(c.id, id3);
	CHECK_STR(c.name, "web2");
	CHECK_STR(c.image, "img:1");
	CHECK_STR(c.image_id, "sha256:abc");
	CHECK(c.created == 1234567890123LL && c.args.n == 3);
	CHECK_STR(c.args.v[2], "echo \"h\u00e9\" \\ \t");
	ctr_config_release(&c);
	/* non-ASCII in a message: read through jansson, same result */
	snprintf(s.error, sizeof(s.error), "caf\xc3\xa9");
	CHECK(ctr_state_write(fd, &s, &err) == 0);
	CHECK(ctr_listing_read_at(cfd, id3, &c, &s, &err) == 0);
	CHECK_STR(s.error, "caf\xc3\xa9");
	CHECK_STR(c.name, "web2");
	ctr_config_release(&c);
	/* a state without a summary (an older skiff's) is completed from config.json */
	CHECK(unlinkat(fd, "state.json", 0) == 0);
	CHECK(ctr_state_write(fd, &s, &err) == 0);
	CHECK(ctr_listing_read_at(cfd, id3, &c, &s, &err) == 0);
	CHECK_STR(c.image, "test/busybox");
	CHECK(c.args.n == 3 && s.exit_code == 3);
	ctr_config_release(&c);
	strv_release(&args);
	close(cfd);
	close(fd);
	CHECK(ctr_remove_files(&st, id3, &err) == 0);
}

TEST(names_left_pointing_nowhere)
{
	struct sk_err err = { 0 };
	char id[CTR_ID_LEN + 1];

	close(make_container(id3, "db"));
	/* a removal killed after its rename leaves the name */
	char dir[128];

	snprintf(dir, sizeof(dir), CTR_DIR "/%s", id3);
	CHECK(renameat(st.root_fd, dir, st.root_fd, "tmp/rm-x") == 0);
	CHECK(ctr_resolve(&st, "db", id, &err) < 0);
	CHECK(ctr_name_reclaim_dead(&st, "db"));
	CHECK(faccessat(st.root_fd, CTR_NAMES_DIR "/db", F_OK, AT_SYMLINK_NOFOLLOW) < 0);
	/* a name that names a container is not reclaimed, nor released by another */
	close(make_container(id4, "db"));
	CHECK(!ctr_name_reclaim_dead(&st, "db"));
	ctr_name_release(&st, "db", id3);
	CHECK(ctr_resolve(&st, "db", id, &err) == 0 && !strcmp(id, id4));
	CHECK(ctr_remove_files(&st, id4, &err) == 0);
	CHECK(ctr_resolve(&st, "db", id, &err) < 0);
	fs_remove_tree(st.root_fd, "tmp/rm-x", &err);
}

TEST(restore_rules)
{
	struct ctr_config c = { 0 };
	struct ctr_state s = { .status = CTR_EXITED, .exit_code = 255, .started_at = 1 };

	c.restart = RESTART_NO;
	CHECK(!ctr_restore_wanted(&c, &s));
	c.restart = RESTART_ALWAYS;
	CHECK(ctr_restore_wanted(&c, &s));
	s.stopped_by_user = true;
	CHECK(ctr_restore_wanted(&c, &s)); /* docker: always, even after a stop */
	c.restart = RESTART_UNLESS_STOPPED;
	CHECK(!ctr_restore_wanted(&c, &s));
	s.stopped_by_user = false;
	CHECK(ctr_restore_wanted(&c, &s));
	c.restart = RESTART_ON_FAILURE;
	s.stopped_by_user = true; /* docker does not look at it here */
	CHECK(ctr_restore_wanted(&c, &s));
	s.exit_code = 0;
	CHECK(!ctr_restore_wanted(&c, &s));
	s.exit_code = 1;
	c.restart_max = 2;
	s.restart_count = 2;
	CHECK(!ctr_restore_wanted(&c, &s));
	s.restart_count = 1;
	CHECK(ctr_restore_wanted(&c, &s));
	/* never started, or running: left alone */
	s.started_at = 0;
	CHECK(!ctr_restore_wanted(&c, &s));
	s.started_at = 1;
	s.status = CTR_RUNNING;
	CHECK(!ctr_restore_wanted(&c, &s));
}

int main(void)
{
	struct sk_err err = { 0 };

	if (!mkdtemp(root) || store_open(&st, root, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return 1;
	}
	RUN(config_round_trip);
	RUN(docker_view_round_trip);
	RUN(state_missing_is_created_and_round_trips);
	RUN(dead_monitor_becomes_exited);
	RUN(resolve);
	RUN(remove_files_drops_name);
	RUN(restart_policies);
	RUN(live_index);
	RUN(state_keeps_the_summary);
	RUN(names_left_pointing_nowhere);
	RUN(restore_rules);
	fs_remove_tree(AT_FDCWD, root, &err);
	return UNIT_DONE();
}
