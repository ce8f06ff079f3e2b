/*
 * A minimal unit-test harness: each tests/unit/test_*.c is one binary.
 *   TEST(name) { CHECK(expr); CHECK_STR(a, b); }
 *   int main(void) { RUN(name); ...; return unit_done(); }
 * Prints "<file>: N passed, N failed" and exits non-zero on any failure.
 */
#ifndef SKIFF_UNIT_H
#define SKIFF_UNIT_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int unit_pass, unit_fail, unit_cur_failed;

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                                  \
	do {                                                                                       \
		unit_cur_failed = 0;                                                               \
		test_##name();                                                                     \
		if (unit_cur_failed)                                                               \
			unit_fail++;                                                               \
		else                                                                               \
			unit_pass++;                                                               \
	} while (0)
#define CHECK(expr)                                                                                \
	do {                                                                                       \
		if (!(expr)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);   \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n",  \
				__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");   \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)

/* Fake file trees (cgroup hierarchies and the like): write content at
 * dir/rel, making the directories between; read dir/rel back (a static
 * buffer; "(missing)" when absent). */
static inline void unit_put_file(const char *dir, const char *rel, const char *content)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static inline const char *unit_read_file(const char *dir, const char *rel)
{
	static char text[4096];
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	if (!f)
		return "(missing)";
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static inline int unit_done(const char *file)
{
	printf("%s: %d passed, %d failed\n", file, unit_pass, unit_fail);
	return unit_fail ? 1 : 0;
}
#define UNIT_DONE() unit_done(__FILE__)

#endif
