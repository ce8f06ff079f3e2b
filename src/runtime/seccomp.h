/*
 * seccomp filters with docker's semantics: the default profile (docker's
 * allow-list, built in), `--security-opt seccomp=FILE` (docker's JSON profile
 * format) and `seccomp=unconfined`.
 *
 * Plan in the parent, apply in the child: the parent builds the filter with
 * libseccomp for the container's capabilities and exports it as a classic BPF
 * program (struct seccomp_prog); the child only calls seccomp_prog_load(),
 * one prctl(2): no allocation after fork.
 *
 *   struct seccomp_prog prog = { 0 };
 *   seccomp_prepare(opt, caps.bounding, cache_dir, &prog, err);  // parent
 *   ... child: no_new_privs, then seccomp_prog_load(&prog, err), then execve
 *   seccomp_prog_release(&prog);                          // parent, after the run
 */
#ifndef SKIFF_RUNTIME_SECCOMP_H
#define SKIFF_RUNTIME_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SECCOMP_PROFILE_MAX_BYTES (4 << 20)
#define SECCOMP_MAX_RULE_ARGS 6
#define SECCOMP_MAX_ARCHES 16

struct seccomp_rule_arg {
	unsigned index;	    /* 0..5 */
	uint64_t value;	    /* for SCMP_CMP_MASKED_EQ: the mask */
	uint64_t value_two; /* for SCMP_CMP_MASKED_EQ: the value after masking */
	int op;		    /* enum scmp_compare */
};

struct seccomp_rule {
	const char *const *names; /* NULL-terminated syscall names */
	uint32_t action;	  /* SCMP_ACT_*, errno already folded in */
	struct seccomp_rule_arg args[SECCOMP_MAX_RULE_ARGS];
	size_t n_args;
	uint64_t caps_include; /* applies only when all these are granted */
	uint64_t caps_exclude; /* skipped when any of these is granted */
	bool never;	       /* includes something this host never has (arch, capability) */
	unsigned min_kernel;   /* major << 16 | minor, 0 = any */
};

struct seccomp_profile {
	uint32_t default_action;
	uint32_t arches[SECCOMP_MAX_ARCHES]; /* SCMP_ARCH_*; none = native + its compat ABIs */
	size_t n_arches;
	struct seccomp_rule *rules;
	size_t n_rules;
	bool owned; /* rules and names were allocated by the parser */
};

/* Docker's default profile (moby/profiles/seccomp/default.json), static. */
void seccomp_profile_default(struct seccomp_profile *p);

/* Parse a docker JSON profile; name (the file name) appears in every error. */
int seccomp_profile_parse(const char *data, size_t len, const char *name, struct seccomp_profile *p,
			  struct sk_err *err);
int seccomp_profile_load_file(const char *path, struct seccomp_profile *p, struct sk_err *err);
void seccomp_profile_release(struct seccomp_profile *p);

/* A BPF program ready for the kernel. len == 0 means "no filter" (unconfined). */
struct seccomp_prog {
	struct sock_filter *filter; /* owned */
	unsigned short len;
};

/* Build the BPF of profile p for a container granted caps (its bounding set). */
int seccomp_compile(const struct seccomp_profile *p, uint64_t caps, struct seccomp_prog *out,
		    struct sk_err *err);

/* opt is the value of --security-opt seccomp=...: NULL for the default
 * profile, "unconfined" for none, otherwise a profile file. cache_dir (NULL:
 * no cache), e.g. "<store>/cache/seccomp", keeps compiled programs keyed by
 * profile, capabilities, kernel and libseccomp: compiling docker's profile
 * costs ~10 ms, loading it from the cache microseconds. */
int seccomp_prepare(const char *opt, uint64_t caps, const char *cache_dir, struct seccomp_prog *out,
		    struct sk_err *err);
void seccomp_prog_release(struct seccomp_prog *prog);

/* Child: install the program (no-op for len == 0). Needs no_new_privs or
 * CAP_SYS_ADMIN. Call it last before execve: execve itself is allowed by every
 * sane profile, the setup calls before it need not be. */
int seccomp_prog_load(const struct seccomp_prog *prog, struct sk_err *err);

#endif
