/* The event log (runtime/events.c): docker's message as one line, and a
 * reader that hands over whole lines only, across a rotation; docker's
 * --since/--until values (util/duration.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/events.h"
#include "unit.h"
#include "util/duration.h"

#define S 1000000000LL

TEST(line_is_dockers_message_with_sorted_escaped_attributes)
{
	struct event_attr attrs[] = {{"name", "web"}, {"image", "a\"b\\c\n"}, {"exitCode", "0"}};
	struct event ev = {"container", "die", "abc", attrs, 3, 1700000000123456789LL};
	char out[EVENTS_LINE_MAX];

	CHECK(events_format_line(&ev, out, sizeof(out)) > 0);
	CHECK_STR(out, "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"abc\","
		       "\"Attributes\":{\"exitCode\":\"0\",\"image\":\"a\\\"b\\\\c\\u000a\","
		       "\"name\":\"web\"}},\"scope\":\"local\",\"time\":1700000000,"
		       "\"timeNano\":1700000000123456789}");
}

TEST(line_too_long_is_refused)
{
	static char big[EVENTS_LINE_MAX];
	struct event_attr attr = {"name", big};
	struct event ev = {"container", "create", "x", &attr, 1, 1};
	char out[EVENTS_LINE_MAX];

	memset(big, 'a', sizeof(big) - 1);
	CHECK(events_format_line(&ev, out, sizeof(out)) == -1);
}

struct seen {
	char lines[16][128];
	int n;
};

static int collect(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s", line);
	return 0;
}

static void append(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CREAT, 0600);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

TEST(reader_gives_whole_lines_and_follows_a_rotation)
{
	char dir[] = "/tmp/skiff-events-XXXXXX";
	struct events_reader r;
	struct sk_err err = {0};
	struct seen seen = {0};
	int dirfd;

	CHECK(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	append(dirfd, EVENTS_OLD_FILE, "old\nhalf");
	append(dirfd, EVENTS_FILE, "one\ntw");
	CHECK(events_reader_open(dirfd, true, &r, &err) == 0);
	CHECK(events_reader_read(&r, collect, &seen, &err) == 0);
	CHECK(seen.n == 2);
	CHECK_STR(seen.lines[0], "old");
	CHECK_STR(seen.lines[1], "one");
	append(dirfd, EVENTS_FILE, "o\nthree\n");
	CHECK(events_reader_read(&r, collect, &seen, &err) == 0);
	CHECK(seen.n == 4);
	CHECK_STR(seen.lines[2], "two");
	CHECK_STR(seen.lines[3], "three");
	/* rotated: the rest of the old file, then the new one from its start */
	append(dirfd, EVENTS_FILE, "four\n");
	CHECK(renameat(dirfd, EVENTS_FILE, dirfd, EVENTS_OLD_FILE) == 0);
	append(dirfd, EVENTS_FILE, "five\n");
	CHECK(events_reader_read(&r, collect, &seen, &err) == 0);
	CHECK(seen.n == 6);
	CHECK_STR(seen.lines[4], "four");
	CHECK_STR(seen.lines[5], "five");
	events_reader_close(&r);
	/* without history: only what comes after the open */
	seen.n = 0;
	CHECK(events_reader_open(dirfd, false, &r, &err) == 0);
	append(dirfd, EVENTS_FILE, "six\n");
	CHECK(events_reader_read(&r, collect, &seen, &err) == 0);
	CHECK(seen.n == 1);
	CHECK_STR(seen.lines[0], "six");
	events_reader_close(&r);
	unlinkat(dirfd, EVENTS_FILE, 0);
	unlinkat(dirfd, EVENTS_OLD_FILE, 0);
	close(dirfd);
	rmdir(dir);
}

TEST(write_appends_lines)
{
	char dir[] = "/tmp/skiff-events-XXXXXX", buf[4096];
	struct event ev = {"image", "pull", "busybox:latest", NULL, 0, 5 * S};
	int dirfd, fd;
	ssize_t n;

	CHECK(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	events_write(dirfd, &ev);
	events_image(dirfd, "delete", "sha256:1", "sha256:1");
	fd = openat(dirfd, EVENTS_FILE, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(
	    !strncmp(buf,
		     "{\"Type\":\"image\",\"Action\":\"pull\",\"Actor\":{\"ID\":\"busybox:latest\","
		     "\"Attributes\":{}},\"scope\":\"local\",\"time\":5,\"timeNano\":5000000000}\n",
		     128));
	CHECK(strstr(buf,
		     "\n{\"Type\":\"image\",\"Action\":\"delete\",\"Actor\":{\"ID\":\"sha256:1\","
		     "\"Attributes\":{\"name\":\"sha256:1\"}}") != NULL);
	close(fd);
	unlinkat(dirfd, EVENTS_FILE, 0);
	close(dirfd);
	rmdir(dir);
}

TEST(timestamps_as_docker_reads_them)
{
	int64_t now = 1700000000LL * S, t;

	CHECK(duration_parse_timestamp("10m", now, &t) == 0 && t == now - 600 * S);
	CHECK(duration_parse_timestamp("1h30m", now, &t) == 0 && t == now - 5400 * S);
	CHECK(duration_parse_timestamp("1.5s", now, &t) == 0 && t == now - 3 * S / 2);
	CHECK(duration_parse_timestamp("0s", now, &t) == 0 && t == now);
	CHECK(duration_parse_timestamp("0", now, &t) == 0 && t == 0); /* the epoch, not now */
	CHECK(duration_parse_timestamp("1700000000", now, &t) == 0 && t == now);
	CHECK(duration_parse_timestamp("1700000000.25", now, &t) == 0 && t == now + S / 4);
	CHECK(duration_parse_timestamp("2023-11-14T22:13:20Z", now, &t) == 0 && t == now);
	CHECK(duration_parse_timestamp("2023-11-14T23:13:20+01:00", now, &t) == 0 && t == now);
	CHECK(duration_parse_timestamp("2023-11-14T22:13:20.5Z", now, &t) == 0 && t == now + S / 2);
	CHECK(duration_parse_timestamp("2023-11-14Z", now, &t) == 0 && t == 1699920000LL * S);
	CHECK(duration_parse_timestamp("xyz", now, &t) == -1);
	CHECK(duration_parse_timestamp("10x", now, &t) == -1);
	CHECK(duration_parse_timestamp("2023-13-45T", now, &t) == -1);
	setenv("TZ", "UTC", 1);
	CHECK(duration_parse_timestamp("2023-11-14", now, &t) == 0 && t == 1699920000LL * S);
	CHECK(duration_parse_timestamp("2023-11-14T22:13", now, &t) == 0 && t == now - 20 * S);
}

int main(void)
{
	RUN(line_is_dockers_message_with_sorted_escaped_attributes);
	RUN(line_too_long_is_refused);
	RUN(reader_gives_whole_lines_and_follows_a_rotation);
	RUN(write_appends_lines);
	RUN(timestamps_as_docker_reads_them);
	return UNIT_DONE();
}
