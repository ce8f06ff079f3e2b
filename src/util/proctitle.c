/*
 * Rewriting /proc/self/cmdline (proctitle.h). The kernel shows the bytes
 * between the mm's arg_start and arg_end, which are the original argv strings
 * on the stack. Their bounds are in /proc/self/stat (fields 48 and 49, since
 * Linux 3.5); PR_SET_MM would move them but needs CAP_SYS_RESOURCE, which
 * these hosts do not even give root. The strings are overwritten in place
 * with zeros and the title, so whatever argv pointers still exist keep
 * pointing into valid (now empty) memory.
 */
#include "util/proctitle.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define ARG_START_FIELD 48 /* /proc/PID/stat, counting pid as 1 */

static int read_arg_bounds(unsigned long *start, unsigned long *end)
{
	char buf[4096];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (int field = 3; field < ARG_START_FIELD; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	if (sscanf(p, " %lu %lu", start, end) != 2 || *end <= *start)
		return -1;
	return 0;
}

void proctitle_set(const char *title)
{
	unsigned long start, end;
	char comm[16];
	size_t len;

	snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(title, " "), title);
	prctl(PR_SET_NAME, comm);
	if (read_arg_bounds(&start, &end) < 0)
		return;
	len = end - start;
	memset((void *)start, 0, len);
	memcpy((void *)start, title, strnlen(title, len - 1));
}
