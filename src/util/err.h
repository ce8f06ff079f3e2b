/*
 * One error contract for all of skiff (see docs/ERRORS.md).
 *
 * A function that can fail takes `struct sk_err *err` last, returns a negative
 * number on failure and fills err with a message (and the errno, if any).
 * Callers add context with err_wrap(); only main() prints.
 */
#ifndef SKIFF_ERR_H
#define SKIFF_ERR_H

#include <stdarg.h>

#define ERR_MSG_MAX 1024

/* Exit codes, as docker. */
enum {
	EXIT_SKIFF = 125,    /* skiff itself failed */
	EXIT_CANNOT_INVOKE = 126,
	EXIT_NOT_FOUND = 127,
};

struct sk_err {
	int errnum;    /* errno of the root cause, 0 if none */
	int exit_code; /* what main() should exit with; 0 means EXIT_SKIFF */
	char msg[ERR_MSG_MAX];
};

/* Fill err with a formatted message; appends ": strerror(errnum)" when errnum != 0.
 * Always returns -1 so callers can write `return err_set(err, errno, "...")`. */
int err_set(struct sk_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with context: "pull 'alpine': <old msg>". Returns -1. */
int err_wrap(struct sk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void err_clear(struct sk_err *err);

#endif
