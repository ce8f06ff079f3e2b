/*
 * preload.so: put into the CVE-2019-5736 image (test_hostile.py) with the
 * host's dynamic loader and the libraries the skiff binary needs, and named
 * in the image's LD_PRELOAD. Whatever dynamic program the kernel starts in
 * the container, this constructor runs first and prints which file that
 * program is: "exe MAJ:MIN:INO" of /proc/self/exe on stdout. The test
 * compares it with the host's skiff binary. It changes nothing.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

__attribute__((constructor)) static void which_exe(void)
{
	struct stat st;
	char line[128];
	int n;

	if (stat("/proc/self/exe", &st) < 0)
		return;
	n = snprintf(line, sizeof(line), "exe %u:%u:%lu\n", major(st.st_dev), minor(st.st_dev),
		     (unsigned long)st.st_ino);
	(void)!write(STDOUT_FILENO, line, (size_t)n);
}
