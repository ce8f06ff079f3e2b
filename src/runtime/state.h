/*
 * The record of a container on disk, shared by every skiff process that acts
 * on it: `run` (foreground, or its detached monitor), ps, stop, kill, wait,
 * rm, exec, inspect, logs, prune. There is no daemon: the files are the truth.
 *
 *   containers/<id>/config.json  what the container is; written once at create
 *   containers/<id>/state.json   what it is doing; rewritten atomically (temp +
 *                                rename) by whoever holds the container's lock
 *   containers/<id>/lock         flock(2) taken around read-modify-write
 *   containers/<id>/ctr.log[.N]  json-file logs of detached containers
 *   containers/names/<name>      symlink -> <id> (atomic name claim)
 *   containers/live/<id>         empty file while the container may have an
 *                                owner process: the live index (below)
 *
 * Liveness is never taken on faith: a "running" state names the pid and start
 * time of its monitor (the skiff process that is the container's parent), and
 * ctr_state_load() turns a state whose monitor is gone (killed, or the machine
 * rebooted) into "exited" with a reason, so `ps` never shows a dead container
 * as running.
 */
#ifndef SKIFF_RUNTIME_STATE_H
#define SKIFF_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/store.h"
#include "runtime/spec.h"
#include "net/ports.h"
#include "util/err.h"

#define CTR_ID_LEN 64
#define CTR_SHORT_ID_LEN 12
#define CTR_NAME_MAX 128
#define CTR_DIR "containers"
#define CTR_NAMES_DIR "containers/names"
#define CTR_LIVE_DIR "containers/live"
/* tmp/rm-<id>: a container being removed (container_gc finishes a removal
 * whose process was killed) */
#define CTR_REMOVING_PREFIX "rm-"
#define CTR_GONE_MAX (sizeof("tmp/" CTR_REMOVING_PREFIX) + CTR_ID_LEN)
#define CTR_LOG_FILE "ctr.log"
/* Exit code recorded when the monitor died without recording one (docker
 * shows 255 for containers whose daemon vanished). */
#define CTR_EXIT_MONITOR_DIED 255

enum ctr_status {
	CTR_CREATED = 0, /* directory made, process not started yet */
	CTR_RUNNING,
	CTR_RESTARTING, /* exited; the monitor waits before the next start */
	CTR_EXITED,
};

enum ctr_restart {
	RESTART_NO = 0,
	RESTART_ON_FAILURE, /* restart_max: 0 = unlimited */
	RESTART_ALWAYS,
	RESTART_UNLESS_STOPPED,
};

/* What docker's inspect shows of a container's Config and HostConfig that
 * the runtime itself does not need: the options as asked at create time,
 * merged with the image's as docker merges them. config.json keeps them
 * under "docker", each key only when it is not empty; a record written
 * before they were kept has none (ctr_config.has_docker false). */
struct ctr_docker {
	/* Config */
	struct strv entrypoint, cmd;	/* as docker reports them, not merged */
	bool has_entrypoint, has_cmd;	/* false: null */
	struct strv env;		/* the user's (--env-file, -e), then the image's others */
	struct strv labels;		/* "K=V": -l, then the image's others */
	char *workdir;			/* -w or the image's, cleaned; NULL: "" */
	char *stop_signal;		/* --stop-signal or the image's, as given; NULL: none */
	char *domainname;		/* NULL: "" */
	struct strv exposed_ports;	/* "80/tcp": the image's and -p's */
	/* HostConfig */
	struct cgroup_limits limits;	/* as asked (never the store's default pids limit) */
	struct rlimits ulimits;		/* --ulimit */
	struct strv binds, tmpfs, publish; /* -v, --tmpfs, -p as given */
	struct strv cap_add, cap_drop, security_opt;
	struct strv dns, dns_search, dns_options, extra_hosts;
	bool read_only, init, publish_all;
	char *log_driver; /* --log-driver; NULL: json-file */
};

/* What the container is: fixed when it is created. */
struct ctr_config {
	char id[CTR_ID_LEN + 1];
	char name[CTR_NAME_MAX]; /* "" when unnamed */
	char *image;		 /* as the user gave it ("alpine") */
	char *image_id;		 /* "sha256:<config digest>" */
	int64_t created;	 /* ns since the epoch */
	char *hostname;

	/* The process, for ps (COMMAND), inspect and exec (env, cwd, user). */
	struct strv args;
	struct strv env;
	char *cwd;
	char *user; /* "user[:group]" as given (image or -u), NULL = root */
	bool tty, interactive;

	/* For start/restart: skiff run's options and operands as given (without
	 * -d), re-parsed to build the spec again for the same container, in
	 * create_dir, the directory the run was in (relative paths in run_argv,
	 * -v ./dir or --env-file, are its: docker's client makes them absolute
	 * at create; `system restore` runs from / at boot). */
	struct strv run_argv;
	char *create_dir; /* NULL in a container made by an older skiff */

	bool detached, auto_remove;
	enum ctr_restart restart;
	unsigned restart_max;
	int64_t log_max_size; /* bytes per log file, 0 = no rotation */
	unsigned log_max_file;	/* files kept (>= 1) */

	/* Security settings exec applies to the processes it adds. */
	bool privileged, no_new_privileges;
	uint64_t cap_bounding, cap_effective; /* effective = permitted */
	char *seccomp;			      /* NULL = default, "unconfined", or a file */
	int stop_signal;		      /* SIGTERM unless the image says otherwise */

	bool has_docker; /* docker below was recorded */
	struct ctr_docker docker;
};

/* What the container is doing. */
struct ctr_state {
	enum ctr_status status;
	pid_t pid; /* the container's first process on the host; 0 when not running */
	unsigned long long pid_start;
	pid_t monitor_pid; /* its parent: the foreground skiff or the monitor */
	unsigned long long monitor_start;
	int exit_code; /* meaningful once exited */
	bool oom_killed;
	bool stopped_by_user; /* stop/kill/rm -f: the restart policy does not apply */
	unsigned restart_count;
	int64_t started_at, finished_at; /* ns since the epoch, 0 = never */
	char error[256];		 /* why it ended when not on its own, or "" */
	/* Not stored: set by ctr_state_load when this very call found the
	 * monitor dead and recorded it. */
	bool monitor_died_now;
};

/* config.json */
int ctr_config_write(int dirfd, const struct ctr_config *c, struct sk_err *err);
int ctr_config_read(int dirfd, struct ctr_config *c, struct sk_err *err);
/* The same from the containers directory (containers_fd): no open of the
 * container's own directory (ps reads every container's records). */
int ctr_config_read_at(int containers_fd, const char *id, struct ctr_config *c,
		       struct sk_err *err);

/* A running container's place on the bridge network ("net.json", written
 * once its veth and ports are up, removed at exit): for port, ps, inspect. */
#define CTR_NET_MAX_PORTS 256
#define CTR_NET_MAX_EXTRA 8
/* A network connected while it runs (network connect): ethN. */
struct ctr_endpoint {
	char network[129];
	char network_id[65];
	char ifname[16];
	uint32_t ip, gateway;
	int prefix;
};
struct ctr_net {
	/* the network it was started on, when ip is not 0 (eth0) */
	char network[129];   /* its name ("bridge" for the default) */
	char network_id[65];
	uint32_t ip, gateway; /* host order */
	int prefix;
	size_t n_ports;
	struct port_map ports[CTR_NET_MAX_PORTS];
	size_t n_extra;
	struct ctr_endpoint extra[CTR_NET_MAX_EXTRA];
};
int ctr_net_write(int dirfd, const struct ctr_net *n, struct sk_err *err);
/* 1 with *n filled, 0 when the container has no network record. */
int ctr_net_read(int dirfd, struct ctr_net *n, struct sk_err *err);
void ctr_net_remove(int dirfd);
void ctr_config_release(struct ctr_config *c);
/* Free what ctr_docker owns (ctr_config_release does it for a read config). */
void ctr_docker_release(struct ctr_docker *d);

/* state.json. ctr_state_write needs the lock (ctr_lock). A missing state file
 * reads as CTR_CREATED. */
int ctr_state_read(int dirfd, struct ctr_state *st, struct sk_err *err);
int ctr_state_read_at(int containers_fd, const char *id, struct ctr_state *st,
		      struct sk_err *err);
int ctr_state_write(int dirfd, const struct ctr_state *st, struct sk_err *err);

/* What a listing shows of a container, kept in state.json besides the state
 * (same keys as config.json's), so that ps reads one small file per
 * container instead of two: written with the first state, kept by every
 * later write (ctr_state_write and ctr_state_update change only the state's
 * own keys). A change of these (a rename) must set them here too. */
struct ctr_summary {
	const char *name, *image, *image_id;
	int64_t created;
	const struct strv *args;
};
/* The first state.json of a container, with its summary. */
int ctr_state_write_new(int dirfd, const struct ctr_state *st, const struct ctr_summary *sum,
			struct sk_err *err);
/* state.json alone for ps: *st, and of *c the summary's fields (id, name,
 * image, image_id, created, args; release with ctr_config_release). A state
 * written without a summary (an older skiff's) is completed from
 * config.json. */
int ctr_listing_read_at(int containers_fd, const char *id, struct ctr_config *c,
			struct ctr_state *st, struct sk_err *err);
/* Read, and when the state says running/restarting but its monitor is gone,
 * record it as exited (CTR_EXIT_MONITOR_DIED, error "monitor (pid N) died")
 * under the lock. What ps, inspect, stop, wait... use. */
int ctr_state_load(int dirfd, struct ctr_state *st, struct sk_err *err);
/* Would ctr_state_load have to record a dead monitor? */
bool ctr_state_monitor_gone(const struct ctr_state *st);

/* Exclusive flock on containers/<id>/lock; returns the fd (close to unlock). */
int ctr_lock(int dirfd, struct sk_err *err);

/* Read-modify-write of state.json under the lock: fn changes st and returns
 * 0 to have it written, > 0 to leave the file as it is; that value, or -1 on
 * an error, is returned. */
typedef int (*ctr_state_fn)(struct ctr_state *st, void *arg);
int ctr_state_update(int dirfd, ctr_state_fn fn, void *arg, struct sk_err *err);

/* What every recorded exit sets: exited with exit_code, no process any more,
 * finished now. */
void ctr_state_exited(struct ctr_state *st, int exit_code);
/* This process is the container's owner (its parent, or its maker). */
void ctr_state_owned_by_me(struct ctr_state *st);

/* /proc/PID/stat start time (clock ticks since boot); 0 when pid is gone
 * or a zombie. */
unsigned long long ctr_process_start_time(pid_t pid);
/* pid exists and is still the process that had start time `start`. */
bool ctr_process_alive(pid_t pid, unsigned long long start);
/* pidfd of the container's first process when it is still that process, or
 * -1 (with errno ESRCH when it is gone). */
int ctr_pidfd(const struct ctr_state *st);

/* A name, a full id or a unique id prefix -> the id. "No such container: X"
 * (errnum ENOENT) or an ambiguity error. */
int ctr_resolve(struct store *s, const char *ref, char id[CTR_ID_LEN + 1], struct sk_err *err);
/* Open containers/<id> (O_DIRECTORY). */
int ctr_open_dir(struct store *s, const char *id, struct sk_err *err);
/* Call fn for each container directory (id order unspecified); stops at the
 * first negative return. */
typedef int (*ctr_fn)(struct store *s, const char *id, int dirfd, void *ctx);
int ctr_for_each(struct store *s, ctr_fn fn, void *ctx, struct sk_err *err);
/* The same without opening each directory: fn gets the containers
 * directory's fd (for ctr_*_read_at). */
typedef int (*ctr_id_fn)(struct store *s, const char *id, int containers_fd, void *ctx);
int ctr_for_each_id(struct store *s, ctr_id_fn fn, void *ctx, struct sk_err *err);
/* The same for the containers of the live index only: a superset of those
 * created, running or restarting (a store without the index: all). */
int ctr_for_each_live_id(struct store *s, ctr_id_fn fn, void *ctx, struct sk_err *err);

/* Remove the container's directory and its name link. The caller has made sure
 * it is not running (or killed it). */
int ctr_remove_files(struct store *s, const char *id, struct sk_err *err);
/* The first half of a removal: the directory leaves containers/ with one
 * rename (to gone, "tmp/rm-<id>"), its name and live file go. *lock_fd gets
 * an flock on the moved directory, held while its files are removed (a
 * directory there whose lock is free is a killed removal's: container_gc
 * finishes it); -1 when there was nothing to remove (gone already, or
 * another process is removing it). */
int ctr_remove_begin(struct store *s, const char *id, char gone[CTR_GONE_MAX], int *lock_fd,
		     struct sk_err *err);

/* Names: containers/names/<name> -> <id>, claimed by symlinkat. Unlink
 * name's link if it still names id. */
void ctr_name_release(struct store *s, const char *name, const char *id);
/* A link left naming a container that no longer exists (a removal killed
 * between its rename and the name's unlink) is removed; true when it was. */
bool ctr_name_reclaim_dead(struct store *s, const char *name);

/* The live index: containers/live/<id> exists while the container may have
 * an owner process (the maker, the foreground skiff, the monitor): from
 * before its directory is made until its state says exited. Stopped
 * containers have none, so the store's sweep for dead owners
 * (container_gc, on every run) reads only these, and a run costs the same
 * with 1000 stopped containers as with none. The owner holds a shared flock
 * on its file for as long as it owns the container (a forked monitor
 * inherits it; several may share it while one hands over to the next);
 * whoever unlinks a file holds it exclusively and has seen the container
 * exited or gone. Lock order: the live file, then the container's lock.
 *
 * Hold id's live file (made when missing): before the state says created,
 * running or restarting. Returns the fd (close = drop the hold). */
int ctr_live_hold(struct store *s, const char *id, struct sk_err *err);
/* The owner is done (its last word in state.json was "exited", or it
 * removed the container): unlink the file unless another owner holds it
 * too, and close *fd. */
void ctr_live_release(struct store *s, const char *id, int *fd);
/* Unlink id's live file if no one holds it and the container is gone. */
void ctr_live_forget(struct store *s, const char *id);
/* For each live file nobody holds (its owner died, or it was never
 * dropped): fn decides, with the file held exclusively (taking the
 * container's lock is allowed), and returns 1 when the container is exited
 * or removed now (the file is unlinked), 0 to keep it, -1 to stop. A store
 * made by an older skiff gets its index first (one scan of every container). */
typedef int (*ctr_live_fn)(struct store *s, const char *id, void *ctx);
int ctr_live_sweep(struct store *s, ctr_live_fn fn, void *ctx, struct sk_err *err);

/* Wall-clock time in ns since the epoch (created, started_at, finished_at). */
int64_t ctr_now_ns(void);

/* Should `skiff system restore` start this container: what dockerd starts
 * when it starts (docs/LIFECYCLE.md)? Containers that ran before and are
 * exited: always, unless-stopped unless stopped by a user, on-failure[:N]
 * after a non-zero exit (a stop's too, as docker) within N restarts. */
bool ctr_restore_wanted(const struct ctr_config *c, const struct ctr_state *st);

/* "no", "always", "unless-stopped", "on-failure[:N]" */
int ctr_restart_parse(const char *s, enum ctr_restart *policy, unsigned *max, struct sk_err *err);
const char *ctr_status_name(enum ctr_status st); /* docker's: created running restarting exited */
const char *ctr_restart_name(enum ctr_restart policy); /* "no", "on-failure"... */

#endif
