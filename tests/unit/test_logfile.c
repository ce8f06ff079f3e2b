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

/* A container that prints nothing costs no file: it comes with the first
 * record, and a partial line waits for close. */
TEST(file_made_with_the_first_record)
{
	char path[64];
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;

	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(faccessat(dirfd, "ctr.log", F_OK, 0) < 0);
	CHECK(logfile_write(lf, "stdout", "no newline yet", 14, &err) == 0);
	CHECK(faccessat(dirfd, "ctr.log", F_OK, 0) < 0);
	logfile_close(lf);
	CHECK_STR(record_text(dirfd, "ctr.log", 0, NULL), "no newline yet");
	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	logfile_close(lf); /* nothing written: the file is as it was */
	CHECK(count_lines(slurp(dirfd, "ctr.log")) == 1);
	remove_dir(dirfd, path);
}

/* The writer copies runs of plain bytes whole: the file says what
 * logfile_escape says, byte for byte. */
TEST(written_text_is_escaped_as_logfile_escape)
{
	static const char text[] = "plain <b>&\"q\" \\ tab\there \xc3\xa9\xff\x01 end";
	char path[64], want[512], *all;
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;

	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", text, sizeof(text) - 1, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "\n", 1, &err) == 0);
	logfile_close(lf);
	logfile_escape(text, sizeof(text) - 1, want, sizeof(want));
	all = slurp(dirfd, "ctr.log");
	CHECK(all && strncmp(all + strlen("{\"log\":\""), want, strlen(want)) == 0);
	CHECK(all && strncmp(all + strlen("{\"log\":\"") + strlen(want), "\\n\"", 3) == 0);
	free(all);
	remove_dir(dirfd, path);
}

/* A start appends to the log of the runs before: their size counts for
 * max-size although the file is opened only with the first record. */
TEST(rotation_counts_the_file_of_a_previous_run)
{
	char path[64], big[960];
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct sk_err err;
	int fd = openat(dirfd, "ctr.log", O_WRONLY | O_CREAT, 0600);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\n';
	CHECK(fd >= 0 && write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	close(fd);
	CHECK(logfile_open(dirfd, 1000, 2, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "next run\n", 9, &err) == 0);
	logfile_close(lf);
	CHECK(faccessat(dirfd, "ctr.log.1", F_OK, 0) == 0);
	CHECK_STR(record_text(dirfd, "ctr.log", 0, NULL), "next run\n");
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

/* All lines the cursor has now, their texts appended to got (one per line). */
static int drain(struct log_cursor *c, char *got, size_t gotsz)
{
	static char text[LOGFILE_READ_LINE_MAX];
	struct log_record rec;
	struct sk_err err;
	const char *line;
	size_t len;
	int n = 0;

	while (log_cursor_next(c, &line, &len, &err) == 1) {
		if (logfile_parse_line(line, len, &rec, text, sizeof(text), &err) < 0)
			return -1;
		strncat(got, text, gotsz - strlen(got) - 1);
		n++;
	}
	return n;
}

TEST(cursor_reads_rotated_files_oldest_first)
{
	char path[64], msg[32], *got = calloc(1, 1 << 16), *want = calloc(1, 1 << 16);
	int dirfd = make_dir(path), first = -1;
	struct logfile *lf;
	struct log_cursor *c;
	struct sk_err err;

	CHECK(logfile_open(dirfd, 800, 3, &lf, &err) == 0);
	for (int i = 0; i < 100; i++) {
		int n = snprintf(msg, sizeof(msg), "line %d\n", i);

		CHECK(logfile_write(lf, "stdout", msg, (size_t)n, &err) == 0);
	}
	logfile_close(lf);
	CHECK(log_cursor_open(dirfd, 3, &c, &err) == 0);
	CHECK(drain(c, got, 1 << 16) > 10);
	log_cursor_close(c);
	/* the oldest lines were dropped; what is left is consecutive up to 99 */
	CHECK(sscanf(got, "line %d", &first) == 1 && first > 0);
	for (int i = first; i < 100; i++) {
		snprintf(msg, sizeof(msg), "line %d\n", i);
		strncat(want, msg, (1 << 16) - strlen(want) - 1);
	}
	CHECK_STR(got, want);
	free(got);
	free(want);
	remove_dir(dirfd, path);
}

TEST(cursor_follows_across_rotation)
{
	char path[64], msg[32], *got = calloc(1, 1 << 16), *want = calloc(1, 1 << 16);
	int dirfd = make_dir(path), seen = 0;
	struct logfile *lf;
	struct log_cursor *c;
	struct sk_err err;

	CHECK(logfile_open(dirfd, 400, 4, &lf, &err) == 0);
	CHECK(log_cursor_open(dirfd, 4, &c, &err) == 0);
	/* The reader keeps up between bursts of writes that rotate (each burst
	 * fills less than the 3 kept older files, so nothing is dropped unread). */
	for (int i = 0; i < 300; i++) {
		int n = snprintf(msg, sizeof(msg), "line %d\n", i);

		CHECK(logfile_write(lf, i % 3 ? "stdout" : "stderr", msg, (size_t)n, &err) == 0);
		strncat(want, msg, (1 << 16) - strlen(want) - 1);
		if (i % 7 == 6)
			seen += drain(c, got, 1 << 16);
	}
	seen += drain(c, got, 1 << 16);
	CHECK(seen == 300);
	CHECK_STR(got, want);
	/* nothing more until something is written */
	CHECK(drain(c, got, 1 << 16) == 0);
	CHECK(logfile_write(lf, "stdout", "last\n", 5, &err) == 0);
	CHECK(drain(c, got, 1 << 16) == 1);
	log_cursor_close(c);
	logfile_close(lf);
	free(got);
	free(want);
	remove_dir(dirfd, path);
}

TEST(cursor_waits_for_a_whole_line)
{
	char path[64];
	int dirfd = make_dir(path), fd;
	struct log_cursor *c;
	struct sk_err err;
	const char *line;
	size_t len;

	CHECK(log_cursor_open(dirfd, 1, &c, &err) == 0);
	CHECK(log_cursor_next(c, &line, &len, &err) == 0); /* no file yet */
	fd = openat(dirfd, "ctr.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
	CHECK(write(fd, "{\"log\":\"a", 9) == 9);
	CHECK(log_cursor_next(c, &line, &len, &err) == 0);
	CHECK(write(fd, "\\n\"}\n", 5) == 5);
	CHECK(log_cursor_next(c, &line, &len, &err) == 1);
	CHECK(len == 13 && memcmp(line, "{\"log\":\"a\\n\"}", 13) == 0);
	close(fd);
	log_cursor_close(c);
	remove_dir(dirfd, path);
}

/* Between the writer's rename of ctr.log and its creation of the next one the
 * reader must wait, not start over from the oldest file. */
TEST(cursor_in_the_middle_of_a_rotation)
{
	char path[64], *got = calloc(1, 4096);
	int dirfd = make_dir(path);
	struct logfile *lf;
	struct log_cursor *c;
	struct sk_err err;

	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "old\n", 4, &err) == 0);
	logfile_close(lf);
	CHECK(renameat(dirfd, "ctr.log", dirfd, "ctr.log.1") == 0);
	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "mid\n", 4, &err) == 0);
	logfile_close(lf);
	CHECK(log_cursor_open(dirfd, 3, &c, &err) == 0);
	CHECK(drain(c, got, 4096) == 2);
	/* rotate by hand: ctr.log.1 -> .2, ctr.log -> .1, no ctr.log yet */
	CHECK(renameat(dirfd, "ctr.log.1", dirfd, "ctr.log.2") == 0);
	CHECK(renameat(dirfd, "ctr.log", dirfd, "ctr.log.1") == 0);
	CHECK(drain(c, got, 4096) == 0);
	CHECK(logfile_open(dirfd, 0, 1, &lf, &err) == 0);
	CHECK(logfile_write(lf, "stdout", "new\n", 4, &err) == 0);
	logfile_close(lf);
	CHECK(drain(c, got, 4096) == 1);
	CHECK_STR(got, "old\nmid\nnew\n");
	log_cursor_close(c);
	free(got);
	remove_dir(dirfd, path);
}

TEST(parse_time)
{
	struct sk_err err;
	int64_t ns;
	char buf[32];

	CHECK(logfile_parse_time("2026-11-25T13:20:01.123456789Z", 30, &ns, &err) == 0);
	logfile_format_time(ns, buf);
	CHECK_STR(buf, "2026-11-25T13:20:01.123456789Z");
	CHECK(logfile_parse_time("2026-11-25T14:20:01.5+01:00", 27, &ns, &err) == 0);
	logfile_format_time(ns, buf);
	CHECK_STR(buf, "2026-11-25T13:20:01.500000000Z");
	CHECK(logfile_parse_time("1970-01-01T00:00:00Z", 20, &ns, &err) == 0 && ns == 0);
	CHECK(logfile_parse_time("2026-11-25T13:20:01.Z", 21, &ns, &err) < 0);
	CHECK(logfile_parse_time("2026-13-25T13:20:01Z", 20, &ns, &err) < 0);
	CHECK(logfile_parse_time("2026-11-25 13:20:01Z", 20, &ns, &err) < 0);
	CHECK(logfile_parse_time("9999-11-25T13:20:01Z", 20, &ns, &err) < 0); /* past int64 ns */
}

TEST(parse_line)
{
	static const char ok[] =
		"{\"log\":\"a\\u0000b\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-25T13:20:01Z\"}";
	char text[64];
	struct log_record rec;
	struct sk_err err;

	CHECK(logfile_parse_line(ok, strlen(ok), &rec, text, sizeof(text), &err) == 0);
	CHECK(rec.stream == LOG_STDERR && rec.len == 4 && memcmp(rec.text, "a\0b\n", 4) == 0);
	CHECK(logfile_parse_line(ok, strlen(ok), &rec, text, 4, &err) < 0);
	CHECK(logfile_parse_line("{\"log\":1}", 9, &rec, text, sizeof(text), &err) < 0);
	CHECK(logfile_parse_line("[]", 2, &rec, text, sizeof(text), &err) < 0);
	CHECK(logfile_parse_line("{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"2026-11-25T13:20:01Z\"}",
				 60, &rec, text, sizeof(text), &err) < 0);
}

int main(void)
{
	RUN(records);
	RUN(file_made_with_the_first_record);
	RUN(written_text_is_escaped_as_logfile_escape);
	RUN(rotation_counts_the_file_of_a_previous_run);
	RUN(escaping);
	RUN(control_chars_round_trip);
	RUN(long_lines);
	RUN(rotation);
	RUN(rotation_single_file);
	RUN(cursor_reads_rotated_files_oldest_first);
	RUN(cursor_follows_across_rotation);
	RUN(cursor_waits_for_a_whole_line);
	RUN(cursor_in_the_middle_of_a_rotation);
	RUN(parse_time);
	RUN(parse_line);
	return UNIT_DONE();
}
