/* A long-lived process's name in ps (proctitle.c). */
#ifndef SKIFF_UTIL_PROCTITLE_H
#define SKIFF_UTIL_PROCTITLE_H

/* Replace the whole command line this process was started with (readable by
 * every user in /proc/PID/cmdline: `skiff run -d -e SECRET=...`) by title,
 * cut to the original length, and name the thread (comm) after its first
 * word. Best effort: nothing to report if /proc is missing. */
void proctitle_set(const char *title);

#endif
