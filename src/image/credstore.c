/*
 * Credentials through docker's credential helpers or config.json (see
 * credstore.h). A helper is a program of the user's choice run with the
 * user's rights; what it prints is still bounded and parsed strictly
 * (auth_parse_helper_reply), and its failures read as docker's.
 */
#include "image/credstore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/log.h"

#define HELPER_PREFIX "docker-credential-"
#define HELPER_OUT_MAX (64u << 10)
#define SHOWN_OUT_MAX 200
#define NOT_FOUND_MESSAGE "credentials not found in native keychain"

extern char **environ;

/* What docker says a helper call failed with: "<what> - err: <why>, out: `<out>`". */
struct helper_call {
	const char *name;   /* NAME of docker-credential-NAME */
	const char *action; /* get, store, erase */
	const char *what;   /* "error getting credentials" */
	const char *input;  /* stdin */
};

/* stdin is a socket so that a helper that exits without reading it cannot
 * raise SIGPIPE here (send with MSG_NOSIGNAL); stdout a pipe. The helper
 * gets default signal dispositions and an empty mask whatever thread asks. */
static int spawn_helper(const struct helper_call *c, int in_fd, int out_fd, pid_t *pid)
{
	char prog[sizeof(HELPER_PREFIX) + AUTH_HELPER_NAME_MAX];
	char *argv[] = {prog, (char *)c->action, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int r;

	snprintf(prog, sizeof(prog), HELPER_PREFIX "%s", c->name);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	r = posix_spawnp(pid, prog, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1; /* the helper did not read it all: its status says why */
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads fd to EOF into out; false when the helper says more than we keep. */
static bool read_bounded(int fd, struct buf *out)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		if (buf_append(out, chunk, (size_t)n) < 0)
			return false;
	}
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Go's words for how a process ended (exec.ExitError). */
static void describe_status(int status, char *out, size_t len)
{
	if (status < 0) {
		snprintf(out, len, "lost the helper process");
	} else if (WIFSIGNALED(status)) {
		const char *s = strsignal(WTERMSIG(status));
		snprintf(out, len, "signal: %c%s", s && *s ? (char)tolower((unsigned char)*s) : '?',
			 s && *s ? s + 1 : "");
	} else {
		snprintf(out, len, "exit status %d", WEXITSTATUS(status));
	}
}

/* The helper's stdout as docker shows it: trimmed, printable, short. */
static void shown_output(const struct buf *out, char *dst, size_t len)
{
	size_t start = 0, end = out->len, n = 0;

	while (start < end && strchr(" \t\r\n", out->data[start]))
		start++;
	while (end > start && strchr(" \t\r\n", out->data[end - 1]))
		end--;
	for (size_t i = start; i < end && n + 1 < len && n < SHOWN_OUT_MAX; i++) {
		unsigned char ch = (unsigned char)out->data[i];
		dst[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[n] = '\0';
}

static int helper_failed(const struct helper_call *c, const char *why, const struct buf *out,
			 struct sk_err *err)
{
	char shown[SHOWN_OUT_MAX + 1];

	shown_output(out, shown, sizeof(shown));
	return err_set(err, 0, "%s - err: %s, out: `%s`", c->what, why, shown);
}

/* Runs one helper call. 0 when it exited 0 (out holds its stdout), 1 when it
 * said it has no credentials, -1 with docker's message otherwise. */
static int helper_run(const struct helper_call *c, struct buf *out, struct sk_err *err)
{
	int in[2] = {-1, -1}, pipefd[2] = {-1, -1};
	char why[256];
	bool fits;
	pid_t pid;
	int r, status;

	buf_reset(out);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return err_set(err, errno, "cannot run " HELPER_PREFIX "%s", c->name);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return err_set(err, errno, "cannot run " HELPER_PREFIX "%s", c->name);
	}
	r = spawn_helper(c, in[1], pipefd[1], &pid);
	close(in[1]);
	close(pipefd[1]);
	if (r != 0) {
		close(in[0]);
		close(pipefd[0]);
		if (r == ENOENT || r == EACCES)
			snprintf(why, sizeof(why),
				 "exec: \"" HELPER_PREFIX
				 "%s\": executable file not found in $PATH",
				 c->name);
		else
			snprintf(why, sizeof(why), "exec: \"" HELPER_PREFIX "%s\": %s", c->name,
				 strerror(r));
		return helper_failed(c, why, out, err);
	}
	send_all(in[0], c->input, strlen(c->input));
	shutdown(in[0], SHUT_WR);
	fits = read_bounded(pipefd[0], out);
	if (!fits)
		kill(pid, SIGKILL);
	close(pipefd[0]);
	close(in[0]);
	status = wait_child(pid);
	if (!fits)
		return err_set(err, E2BIG, "%s: " HELPER_PREFIX "%s said more than %u bytes",
			       c->what, c->name, HELPER_OUT_MAX);
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	shown_output(out, why, sizeof(why));
	if (strcmp(c->action, "store") != 0 && !strcmp(why, NOT_FOUND_MESSAGE))
		return 1;
	describe_status(status, why, sizeof(why));
	return helper_failed(c, why, out, err);
}

int credstore_get(const char *config_dir, const char *registry_host, struct auth_creds *out,
		  struct sk_err *err)
{
	char helper[AUTH_HELPER_NAME_MAX], key[512];
	cleanup_buf struct buf reply = BUF_INIT(HELPER_OUT_MAX);
	struct sk_err why = {0};
	int r = auth_config_lookup(config_dir, registry_host, helper, sizeof(helper), out, err);

	if (r != 2)
		return r;
	auth_config_key(registry_host, key, sizeof(key));
	struct helper_call c = {helper, "get", "error getting credentials", key};
	r = helper_run(&c, &reply, &why);
	if (r == 0)
		r = auth_parse_helper_reply(reply.data ? reply.data : "", reply.len, out, &why);
	else if (r == 1)
		r = 0; /* the helper keeps none for this registry */
	if (reply.data)
		explicit_bzero(reply.data, reply.len);
	if (r < 0) {
		/* docker goes on without credentials; say why, once */
		log_warn("no credentials for '%s' from " HELPER_PREFIX "%s: %s", key, helper,
			 why.msg);
		auth_creds_release(out);
		return 0;
	}
	return r;
}

int credstore_store(const char *config_dir, const char *registry_host, const char *user,
		    const char *pass, bool *via_helper, struct sk_err *err)
{
	char helper[AUTH_HELPER_NAME_MAX], key[512];
	cleanup_buf struct buf reply = BUF_INIT(HELPER_OUT_MAX);
	struct auth_creds ignored = {0};
	cleanup_free char *input = NULL;
	int r =
	    auth_config_lookup(config_dir, registry_host, helper, sizeof(helper), &ignored, err);

	auth_creds_release(&ignored);
	*via_helper = r == 2;
	if (r < 0)
		return -1;
	if (r != 2)
		return auth_store_credentials(config_dir, registry_host, user, pass, err);
	auth_config_key(registry_host, key, sizeof(key));
	input = auth_helper_store_input(key, user, pass);
	if (!input)
		return err_set(err, ENOMEM, "cannot store credentials");
	struct helper_call c = {helper, "store", "error storing credentials", input};
	r = helper_run(&c, &reply, err);
	explicit_bzero(input, strlen(input));
	if (r < 0)
		return -1;
	return auth_store_credentials(config_dir, registry_host, NULL, NULL, err);
}

/* docker's logout erases these spellings of a registry's key (older dockers
 * stored some of them); Docker Hub has only its one key. */
static size_t erase_spellings(const char *key, char out[3][520])
{
	if (strstr(key, "://")) {
		snprintf(out[0], 520, "%s", key);
		return 1;
	}
	snprintf(out[0], 520, "%s", key);
	snprintf(out[1], 520, "http://%s", key);
	snprintf(out[2], 520, "https://%s", key);
	return 3;
}

int credstore_erase(const char *config_dir, const char *registry_host, struct sk_err *warning,
		    struct sk_err *err)
{
	char spellings[3][520], key[512], helper[AUTH_HELPER_NAME_MAX];
	cleanup_buf struct buf reply = BUF_INIT(HELPER_OUT_MAX);
	size_t n, failed = 0, asked = 0;

	err_clear(warning);
	auth_config_key(registry_host, key, sizeof(key));
	n = erase_spellings(key, spellings);
	for (size_t i = 0; i < n; i++) {
		struct auth_creds ignored = {0};
		struct sk_err e = {0};
		int r = auth_config_lookup(config_dir, spellings[i], helper, sizeof(helper),
					   &ignored, err);

		auth_creds_release(&ignored);
		if (r < 0)
			return -1;
		if (r != 2)
			continue;
		struct helper_call c = {helper, "erase", "error erasing credentials", spellings[i]};
		asked++;
		if (helper_run(&c, &reply, &e) < 0 && failed++ == 0)
			*warning = e;
	}
	if (asked == 0 || failed < asked)
		err_clear(warning);
	return auth_erase_credentials(config_dir, registry_host, err) < 0 ? -1 : 0;
}
