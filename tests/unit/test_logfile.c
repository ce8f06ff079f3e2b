/* Unit tests of the json-file log writer and reader (src/runtime/logfile.c). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/logfile.h"
#include "unit.h"
#include "util/buf.h"
#include "util/fs.h"

static int make_dir(char path[64])
{
	snprintf(path, 64, "/tmp/skiff-test-logfile-XXXXXX");
	if (!mkdtemp(path))
		return -1;
	return open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
}

static void remove_dir(int dirfd, const char *path)
{
	struct sk_err err;

	fs_remove_tree(AT_FDCWD, path, &err);
	close(dirfd);
}

/* The whole file as one string (freed by caller). */
static char *slurp(int dirfd, const char *name)
{
	struct buf b = BUF_INIT(16 << 20);
	struct sk_err err;
	size_t n;

	if (fs_read_file(dirfd, name, 16 << 20, &b, &err) < 0)
		return NULL;
	return buf_detach(&b, &n);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* The "log" member of line `index` (0-based) of file name, unescaped. */
static char *record_text(int dirfd, const char *name, size_t index, enum log_stream *stream)
{
	static char text[LOGFILE_LINE_MAX * 2];
	char *all = slurp(dirfd, name), *line = all;
	struct log_record rec;
	struct sk_err err;
	char *ret = NULL;

	for (size_t i = 0; line && i < index; i++) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	if (line && strchr(line, '\n') &&
	    logfile_parse_line(line, (size_t)(strchr(line, '\n') - line), &rec, text, sizeof(text),
			       &err) == 0) {
		ret = text;
		if (stream)
			*stream = rec.stream;
	}
	free(all);
	return ret;
}

TEST(records)
{
	char path[64], *all;
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;
	enum log_stream st = 0;

	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "hello\nwor", 9, &err) == 0);
	CHECK(logfile_write(lf, "stderr", "oops\n", 5, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "ld\n", 3, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "tail", 4, &err) == 0);
	logfile_close(lf);
	all = slurp(dirfd, "ctr.log");
	CHECK(all && count_lines(all) == 4);
	CHECK(all && strncmp(all, "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"", 43) == 0);
	/* "time":"2026-11-25T13:20:01.123456789Z"}\n */
	CHECK(all && strstr(all, "Z\"}\n") && strlen(strchr(all, '\n') + 1) > 0);
	free(all);
	CHECK_STR(record_text(dirfd, "ctr.log", 0, &st), "hello\n");
	CHECK(st == LOG_STDOUT);
	CHECK_STR(record_text(dirfd, "ctr.log", 1, &st), "oops\n");
	CHECK(st == LOG_STDERR);
	CHECK_STR(record_text(dirfd, "ctr.log", 2, NULL), "world\n");
	CHECK_STR(record_text(dirfd, "ctr.log", 3, NULL), "tail"); /* flushed at close, no "\n" */
	remove_dir(dirfd, path);
}

TEST(escaping)
{
	char out[256];

	logfile_escape("a\"b\\c", 5, out, sizeof(out));
	CHECK_STR(out, "a\\\"b\\\\c");
	logfile_escape("\x01\t\r\n\x1f", 5, out, sizeof(out));
	CHECK_STR(out, "\\u0001\\t\\r\\n\\u001f");
	logfile_escape("<a>&", 4, out, sizeof(out));
	CHECK_STR(out, "\\u003ca\\u003e\\u0026");
	/* valid UTF-8 kept, invalid bytes become U+FFFD one by one */
	logfile_escape("h\xc3\xa9!", 4, out, sizeof(out));
	CHECK_STR(out, "h\xc3\xa9!");
	logfile_escape("\xff\xc3(", 3, out, sizeof(out));
	CHECK_STR(out, "\\ufffd\\ufffd(");
	logfile_escape("\xed\xa0\x80", 3, out, sizeof(out)); /* a surrogate */
	CHECK_STR(out, "\\ufffd\\ufffd\\ufffd");
	logfile_escape("\xc0\xaf", 2, out, sizeof(out)); /* overlong "/" */
	CHECK_STR(out, "\\ufffd\\ufffd");
	logfile_escape("\xe2\x80\xa8", 3, out, sizeof(out));
	CHECK_STR(out, "\\u2028");
	logfile_escape("\xf0\x9f\x98\x80", 4, out, sizeof(out));
	CHECK_STR(out, "\xf0\x9f\x98\x80");
	CHECK(logfile_escape("a\0b", 3, NULL, 0) == 8);
	/* truncated output is still terminated and the size needed is returned */
	CHECK(logfile_escape("abcdef", 6, out, 4) == 6);
	CHECK_STR(out, "abc");
}

TEST(control_chars_round_trip)
{
	char path[64], *t;
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;

	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "q\"\\<\x01\xff\n", 8, &err) == 0);
	logfile_close(lf);
	t = record_text(dirfd, "ctr.log", 0, NULL);
	CHECK_STR(t, "q\"\\<\x01\xef\xbf\xbd\n");
	remove_dir(dirfd, path);
}

TEST(long_lines)
{
	char path[64], *line = malloc(40000), *t;
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;

	memset(line, 'x', 40000);
	line[39999] = '\n';
	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	/* in odd-sized chunks, as a pipe delivers them */
	for (size_t off = 0; off < 40000; off += 7000)
		CHECK(logfile_write(lf, "stdout", line + off, off + 7000 > 40000 ? 40000 - off : 7000,
				    &err) == 0);
	logfile_close(lf);
	t = record_text(dirfd, "ctr.log", 0, NULL);
	CHECK(t && strlen(t) == LOGFILE_LINE_MAX && !strchr(t, '\n'));
	t = record_text(dirfd, "ctr.log", 1, NULL);
	CHECK(t && strlen(t) == LOGFILE_LINE_MAX && !strchr(t, '\n'));
	t = record_text(dirfd, "ctr.log", 2, NULL);
	CHECK(t && strlen(t) == 39999 - 2 * LOGFILE_LINE_MAX + 1 && t[strlen(t) - 1] == '\n');
	CHECK(record_text(dirfd, "ctr.log", 3, NULL) == NULL);
	free(line);
	remove_dir(dirfd, path);
}

static bool exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, 0) == 0;
}

TEST(rotation)
{
	char path[64], msg[64];
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;
	struct stat st;

	CHECK(logfile_open(dirfd, 1000, 3, &lf, &err) == 0);
	for (int i = 0; i < 200; i++) {
		int n = snprintf(msg, sizeof(msg), "line %d\n", i);

		CHECK(logfile_write(lf, i % 2 ? "stderr" : "stdout", msg, (size_t)n, &err) == 0);
	}
	logfile_close(lf);
	CHECK(exists(dirfd, "ctr.log") && exists(dirfd, "ctr.log.1") &&
	      exists(dirfd, "ctr.log.2") && !exists(dirfd, "ctr.log.3"));
	CHECK(logfile_count_rotated(dirfd) == 2);
	CHECK(fstatat(dirfd, "ctr.log.1", &st, 0) == 0 && st.st_size <= 1000 && st.st_size > 800);
	/* the newest line is last in ctr.log, its predecessor line precedes it */
	{
		char *cur = slurp(dirfd, "ctr.log"), *prev = slurp(dirfd, "ctr.log.1");
		size_t ncur = count_lines(cur), nprev = count_lines(prev);

		CHECK_STR(record_text(dirfd, "ctr.log", ncur - 1, NULL), "line 199\n");
		snprintf(msg, sizeof(msg), "line %d\n", 199 - (int)ncur);
		CHECK_STR(record_text(dirfd, "ctr.log.1", nprev - 1, NULL), msg);
		free(cur);
		free(prev);
	}
	remove_dir(dirfd, path);
}

TEST(rotation_single_file)
{
	char path[64];
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;
	struct stat st;

	CHECK(logfile_open(dirfd, 500, 1, &lf, &err) == 0);
	for (int i = 0; i < 100; i++)
		CHECK(logfile_write(lf, "stdout", "0123456789\n", 11, &err) == 0);
	logfile_close(lf);
	CHECK(!exists(dirfd, "ctr.log.1"));
	CHECK(fstatat(dirfd, "ctr.log", &st, 0) == 0 && st.st_size <= 500);
	remove_dir(dirfd, path);
}

int main(void)
{
	RUN(records);
	RUN(escaping);
	RUN(control_chars_round_trip);
	RUN(long_lines);
	RUN(rotation);
	RUN(rotation_single_file);
	return UNIT_DONE();
}
