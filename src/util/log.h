/*
 * Tracing for --debug / SKIFF_DEBUG=1: registry requests (method, URL, status,
 * never a secret) and setup steps, on stderr, prefixed "skiff: debug:".
 * warn() prints one "skiff: warning: ..." line and is always on.
 */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

#include <stdbool.h>

/* Set once by main() before any thread starts; read-only afterwards. */
void log_set_debug(bool on);
bool log_debug_enabled(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
