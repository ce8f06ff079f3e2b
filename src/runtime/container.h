/*
 * Containers: their directory in the store (<root>/containers/<id>/: state,
 * upper/, work/, rootfs/, hostname, hosts, resolv.conf), running one from a
 * spec (clone3 into namespaces, wait, forward signals, relay a terminal), and
 * cleaning up after containers whose skiff was killed.
 *
 * State file: "running <pid> <starttime>" of the skiff process that owns the
 * container, then "exited <status>". A "running" container whose owner is
 * gone (pid absent or reused: start time differs) is dead and removed by
 * container_gc(). Nothing is ever mounted on the host: the overlay lives in
 * the container's own mount namespace and vanishes with it.
 */
#ifndef SKIFF_RUNTIME_CONTAINER_H
#define SKIFF_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/ioctl.h>

#include "image/store.h"
#include "runtime/spec.h"
#include "util/err.h"

#define CONTAINER_ID_LEN 64
#define CONTAINER_SHORT_ID_LEN 12

struct container {
	char id[CONTAINER_ID_LEN + 1];
	char dir[4200]; /* <root>/containers/<id> */
	char name[128]; /* "" when unnamed */
	char image[REF_STR_MAX]; /* the image as the user named it (for events) */
	int dirfd;
	int store_fd; /* the store's root (not owned): leases of the bridge network */
	int live_fd;  /* its live file while this process owns it (state.h), or -1 */
	bool oom_killed; /* set by container_run: the kernel's OOM killer struck */
};

struct logfile;
struct attach_srv;

struct run_opts {
	bool init;        /* --init: built-in pid 1 */
	bool interactive; /* -i */
	bool sig_proxy;   /* forward INT TERM HUP QUIT USR1 USR2 to the container */
	/* The container's stdout and stderr (or its terminal) are recorded in
	 * this log (json-file), or NULL. */
	struct logfile *log;
	/* Under a monitor: the container's stdio go to and come from the
	 * attached clients (runtime/attach.h), not skiff's own stdio; a
	 * terminal starts with size ws (0x0: none). */
	struct attach_srv *attach;
	struct winsize ws;
	/* Called right after the clone, while the child mounts its root (a
	 * millisecond or two of the run's time): records that need not exist
	 * before it. A failure stops the start. */
	int (*prepare)(void *arg, struct sk_err *err);
	void *prepare_arg;
	/* Called once the container's process runs (its state recorded). */
	void (*started)(void *arg);
	void *started_arg;
};

/* Create the container's directory with a fresh random id, and in it what
 * the child needs to mount its root (upper/, work/). Nothing else yet:
 * container_register records it, possibly while the child sets up. */
int container_create(struct store *s, struct container *c, struct sk_err *err);

struct ctr_summary;
/* Record a created container: the image it uses (GC keeps the image), its
 * name (a name in use by a live or exited container is a conflict; NULL or
 * "": generated), and its state file ("created", owned by this process,
 * with sum for listings; sum->name is ignored). */
int container_register(struct store *s, struct container *c, const char *name,
		       const struct ctr_summary *sum, struct sk_err *err);

/* skiff create: the container recorded by container_register is complete
 * (config.json written) and waits for a start: no process owns it any more,
 * and container_gc keeps it. */
int container_release_created(struct store *s, struct container *c, struct sk_err *err);

/* Give container ref (name, id or prefix) the name new_name, as docker
 * rename: the new name is claimed first (a conflict changes nothing), then
 * config.json says it, then the old name goes. Emits the "rename" event. */
int container_rename(struct store *s, const char *ref, const char *new_name,
		     struct sk_err *err);

/* Open an existing container's directory (id from ctr_resolve). */
int container_open(struct store *s, const char *id, struct container *c, struct sk_err *err);

/* Before starting an existing container: under its lock, a running one gives
 * 1 (nothing to do); otherwise it is claimed (restarting, owned by this
 * process, restart count and stopped_by_user reset) and 0 is returned. */
int container_claim_start(struct store *s, struct container *c, struct sk_err *err);
/* This process (a monitor just forked) is the container's owner from now on:
 * its maker may exit. Fails when the container was removed meanwhile. */
int container_take_over(struct container *c, struct sk_err *err);

/* A start that failed before the monitor took over: record it as exited. */
void container_record_failure(struct store *s, struct container *c, int exit_code,
			      const char *msg);

/* Fill spec->root (path, upper, work) for this container's directory. */
int container_set_root(const struct container *c, struct rt_spec *spec, struct sk_err *err);

/* run's default network: docker's bridge as root, none rootless (the
 * bridge needs root; rootless networking is open, docs/NETWORK.md). */
bool container_bridge_by_default(void);

/* The first process of running container ref (name, id or prefix). */
int container_running_pid(struct store *s, const char *ref, pid_t *pid, struct sk_err *err);

/* Is the holder of a network lease ("ID@STORE") a container that may run? */
bool container_lease_alive(const char *holder, void *ctx);

struct bridge_opts;
/* The bridge network spec->net.def for spec (spec->net.bridge): the bridge,
 * its rules and the container's address as spec->net.req asks (net/bridge.h).
 * o: daemon.json's keys. */
int container_net_prepare(const struct container *c, struct rt_spec *spec,
			  const struct bridge_opts *o, struct sk_err *err);

struct strv;
/* network connect: a running container gets a veth on network (the next
 * free ethN), an address (ip, or a free one), names for its resolver (its
 * name, aliases, short id). Stopped containers are refused. */
int container_net_connect(struct store *s, const char *ref, const char *network,
			  const struct strv *aliases, const char *ip, const struct bridge_opts *o,
			  struct sk_err *err);
/* network disconnect: its veth, guard, lease (and for eth0 its published
 * ports) on that network go. */
int container_net_disconnect(struct store *s, const char *ref, const char *network,
			     struct sk_err *err);

/* Give back what a container held of the bridge network (its published
 * ports, its address); nothing to do when it had none. */
void container_net_release(const char *store_root, const char *id, bool published);

struct etc_opts;
/* The container's /etc/hostname, hosts and resolv.conf (runtime/etc.h, with
 * docker's rules for its network and the --dns/--add-host options), as files
 * of its init layer. */
int container_add_etc_files(const struct container *c, struct rt_spec *spec,
			    const struct etc_opts *o, struct sk_err *err);

/* Run the spec in this container until it exits. *status gets the exit code
 * (128+N after signal N). Setup failures in the container come back as -1 with
 * err->exit_code 125/126/127. */
int container_run(struct container *c, const struct rt_spec *spec, const struct run_opts *opts,
		  int *status, struct sk_err *err);

/* Before running a container again (restart, start): the overlay's volatile
 * work directory refuses a second mount until its marker is gone; the upper
 * directory (the container's changes) is kept. */
int container_reset_work(const struct container *c, struct sk_err *err);

/* The "die" event of a container that ran and exited with status (after
 * its exit is recorded, as docker). */
void container_event_die(const struct container *c, int status);

/* After the run: remove everything (remove) or record "exited <status>";
 * status >= 0 (it ran) is reported as the "die" event. */
void container_finish(struct store *s, struct container *c, bool remove, int status);

/* The store's sweep for dead owners, on every run: containers whose maker
 * died during set-up are removed, whose monitor died are recorded as exited
 * (and removed with --rm), removals killed midway are finished. It reads the
 * live index only (state.h), so stopped containers cost nothing. */
void container_gc(struct store *s);
/* The same; without note_dead, a dead monitor is recorded without a word
 * (`system restore`, which starts those containers next). */
void container_sweep(struct store *s, bool note_dead);

struct ctr_config;
/* Whoever records a dead monitor (ctr_state_load said monitor_died_now)
 * says so when the restart policy would have started the container again:
 * the next command does not (docs/LIFECYCLE.md), `skiff system restore`
 * does. */
void container_note_dead_monitor(const struct ctr_config *cfg);

/* This process stops owning the container (run -d's caller, once the
 * monitor has it): close its hold on the live file, leaving the file. */
void container_hand_over(struct container *c);

#endif
