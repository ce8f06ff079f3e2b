/* The parent's side of -t: raw mode, window size, byte relay (console.c). */
#ifndef SKIFF_RUNTIME_CONSOLE_H
#define SKIFF_RUNTIME_CONSOLE_H

#include <sys/socket.h>
#include <sys/ioctl.h>
#include <termios.h>

/* The fd carried by an SCM_RIGHTS message, or -1. */
int console_recv_fd(const struct msghdr *mh);
/* Put the terminal fd in raw mode; saved gets the old settings. -1 if not a tty. */
int console_raw_mode(int fd, struct termios *saved);
void console_restore(int fd, const struct termios *saved);
/* The size of skiff's terminal (its stdout's, else its stdin's): 0, or -1
 * and a zeroed ws when skiff has none. */
int console_window(struct winsize *ws);
/* Give master the size of skiff's terminal (on start and on SIGWINCH). */
void console_resize(int master);

#endif
