/* Unit tests for the pull progress display: sizes, rates, lines, and what a
 * non-terminal gets (only completion lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/human.h"
#include "util/progress.h"
#include "unit.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *size(double v)
{
	static char out[32];

	human_size(v, out, sizeof(out));
	return out;
}

TEST(sizes)
{
	CHECK_STR(size(0), "0B");
	CHECK_STR(size(512), "512B");
	CHECK_STR(size(999), "999B");
	CHECK_STR(size(1000), "1kB");
	CHECK_STR(size(1500), "1.5kB");
	CHECK_STR(size(12345678), "12.3MB");
	CHECK_STR(size(45600000), "45.6MB");
	CHECK_STR(size(138000000), "138MB");
	CHECK_STR(size(1230000000), "1.23GB");
	/* Would be "1e+03kB" with a naive %.3g. */
	CHECK_STR(size(999600), "1MB");
	CHECK_STR(size(999.7), "1kB");
	CHECK_STR(size(-5), "0B");
}

TEST(downloading_line)
{
	char line[160];

	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_DOWNLOADING, 12300000, 45600000,
			     34500000, 1.0);
	CHECK_STR(line, "0123456789ab: Downloading  12.3MB/45.6MB  34.5MB/s");
	/* No rate before there is anything to average over. */
	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_DOWNLOADING, 0, 45600000, 0, 0);
	CHECK_STR(line, "0123456789ab: Downloading  0B/45.6MB");
	/* Unknown total. */
	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_DOWNLOADING, 2000, -1, 2000, 2.0);
	CHECK_STR(line, "0123456789ab: Downloading  2kB/?  1kB/s");
}

TEST(state_lines)
{
	char line[160];

	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_EXTRACTING, 1, 1, 1, 1);
	CHECK_STR(line, "0123456789ab: Extracting");
	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_DONE, 1, 1, 1, 1);
	CHECK_STR(line, "0123456789ab: Pull complete");
	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_EXISTS, 0, 1, 0, 0);
	CHECK_STR(line, "0123456789ab: Already exists");
	progress_format_line(line, sizeof(line), DIGEST, PROGRESS_WAITING, 0, 1, 0, 0);
	CHECK_STR(line, "0123456789ab: Waiting");
}

TEST(plain_lines)
{
	char line[160];

	progress_format_plain(line, sizeof(line), DIGEST, PROGRESS_DONE, 45600000, 1.23);
	CHECK_STR(line, "0123456789ab: pull complete (45.6MB in 1.2s)");
	progress_format_plain(line, sizeof(line), DIGEST, PROGRESS_EXISTS, 45600000, 0);
	CHECK_STR(line, "0123456789ab: already exists");
}

/* Drive a display into a memory stream and return what it wrote. */
static char *render(enum progress_mode mode)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct sk_err err = { 0 };
	struct progress *p = progress_new(mode, f, 4, &err);
	int a, b;

	a = progress_add(p, DIGEST, 3000, PROGRESS_WAITING);
	b = progress_add(p, "sha256:ffffffffffff0000", 10, PROGRESS_EXISTS);
	progress_set(p, a, PROGRESS_DOWNLOADING);
	progress_bytes(p, a, 1000);
	progress_bytes(p, a, 3000);
	progress_set(p, a, PROGRESS_EXTRACTING);
	progress_set(p, a, PROGRESS_DONE);
	(void)b;
	progress_free(p);
	fclose(f);
	return text;
}

TEST(plain_prints_only_completions)
{
	char *text = render(PROGRESS_PLAIN);

	CHECK(text != NULL);
	CHECK(!strncmp(text, "ffffffffffff: already exists\n"
			     "0123456789ab: pull complete (3kB in ",
		       strlen("ffffffffffff: already exists\n"
			      "0123456789ab: pull complete (3kB in ")));
	CHECK(strchr(text, '\033') == NULL);
	CHECK(strstr(text, "Downloading") == NULL);
	free(text);
}

TEST(quiet_prints_nothing)
{
	char *text = render(PROGRESS_QUIET);

	CHECK_STR(text, "");
	free(text);
}

TEST(tty_redraws_in_place)
{
	char *text = render(PROGRESS_TTY);

	CHECK(text != NULL);
	/* Lines are redrawn with cursor-up over the two layer lines. */
	CHECK(strstr(text, "\033[2A") != NULL);
	CHECK(strstr(text, "0123456789ab: Pull complete\n") != NULL);
	CHECK(strstr(text, "ffffffffffff: Already exists\n") != NULL);
	free(text);
}

TEST(null_and_bad_ids_are_harmless)
{
	progress_bytes(NULL, 0, 1);
	progress_set(NULL, 0, PROGRESS_DONE);
	CHECK(progress_add(NULL, DIGEST, 1, PROGRESS_WAITING) == -1);
	progress_free(NULL);

	struct sk_err err = { 0 };
	struct progress *p = progress_new(PROGRESS_QUIET, stderr, 1, &err);

	CHECK(progress_add(p, DIGEST, 1, PROGRESS_WAITING) == 0);
	CHECK(progress_add(p, DIGEST, 1, PROGRESS_WAITING) == -1); /* full */
	progress_set(p, 7, PROGRESS_DONE);
	progress_bytes(p, -1, 5);
	progress_free(p);
}

int main(void)
{
	RUN(sizes);
	RUN(downloading_line);
	RUN(state_lines);
	RUN(plain_lines);
	RUN(plain_prints_only_completions);
	RUN(quiet_prints_nothing);
	RUN(tty_redraws_in_place);
	RUN(null_and_bad_ids_are_harmless);
	return UNIT_DONE();
}
