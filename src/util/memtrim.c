/*
 * mem_trim (util/memtrim.h): what a forked, mostly idle process can hand back.
 *
 * Resident pages of shared text count in a process's RSS although they cost
 * nothing extra; the monitor of a detached container faults in most of libc's
 * text while it starts the container and then only waits. MADV_DONTNEED on a
 * private file mapping drops this process's page table entries: clean pages
 * stay in the page cache and fault back from it (what the kernel itself does
 * under memory pressure), but a private copy (a page written since the
 * mapping, e.g. relocated RELRO) would be lost and read again from the file.
 * So only read-only mappings whose smaps entry says "Anonymous: 0" are
 * touched, read from /proc/self/smaps with a fixed buffer (no allocation).
 * They are dropped last, after the heap and the stack, so that what runs next
 * faults back only the text it needs (each fault maps a 64 KiB window).
 */
#include "util/memtrim.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SMAPS_BUF 4096
#define RANGES_MAX 128

struct vma {
	uintptr_t start, end;
	bool candidate; /* read-only, private, backed by a file */
	bool stack;
	long anon_kb;
};

struct range {
	uintptr_t start, len;
};

struct trim {
	struct vma cur;
	uintptr_t stack_start;
	struct range drop[RANGES_MAX];
	size_t n_drop;
};

/* "start-end perms offset dev inode [path]" */
static bool parse_header(const char *line, struct vma *v)
{
	unsigned long start, end, inode;
	char perms[5];
	int path_at = 0;

	if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %lu %n", &start, &end, perms, &inode, &path_at) <
	    4)
		return false;
	*v = (struct vma){.start = start, .end = end};
	v->candidate = perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' && inode != 0 &&
		       path_at > 0 && line[path_at] == '/';
	v->stack = path_at > 0 && strncmp(line + path_at, "[stack]", 7) == 0;
	v->anon_kb = -1;
	return true;
}

/* "VmFlags:" ends each entry: decide then. */
static void end_of_entry(struct trim *t)
{
	struct vma *v = &t->cur;

	if (v->stack)
		t->stack_start = v->start;
	if (v->candidate && v->anon_kb == 0 && t->n_drop < RANGES_MAX)
		t->drop[t->n_drop++] = (struct range){v->start, v->end - v->start};
	v->candidate = false;
}

static void handle_line(struct trim *t, const char *line)
{
	long kb;

	if (strncmp(line, "VmFlags:", 8) == 0)
		end_of_entry(t);
	else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1)
		t->cur.anon_kb = kb;
	else if (line[0] >= '0' && line[0] <= 'f' && strchr(line, '-'))
		parse_header(line, &t->cur);
}

static int walk_smaps(struct trim *t)
{
	char buf[SMAPS_BUF];
	size_t have = 0;
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			handle_line(t, line);
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: a path; skip it */
	}
	close(fd);
	return 0;
}

/* Below the stack pointer nothing is live (the red zone is 128 bytes; a page
 * of margin is kept). noinline: this frame must be the deepest one. */
static __attribute__((noinline)) void trim_stack(uintptr_t stack_start)
{
	volatile char here = 0;
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t below = ((uintptr_t)&here & ~((uintptr_t)page - 1)) - (uintptr_t)page;

	if (stack_start && below > stack_start)
		madvise((void *)stack_start, below - stack_start, MADV_DONTNEED);
}

long mem_trim(void)
{
	struct trim t = {0};
	int ret = walk_smaps(&t);
	long dropped = 0;

	malloc_trim(0);
	trim_stack(t.stack_start);
	for (size_t i = 0; i < t.n_drop; i++)
		if (madvise((void *)t.drop[i].start, t.drop[i].len, MADV_DONTNEED) == 0)
			dropped += (long)t.drop[i].len;
	return ret < 0 ? -1 : dropped;
}
