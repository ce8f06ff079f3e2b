/* Docker's container time strings (util/duration.c) and table cells (util/tabwriter.c). */
#include <stdlib.h>

#include "unit.h"
#include "util/duration.h"
#include "util/tabwriter.h"

#define S 1000000000LL
#define NOW (1700000000LL * S)

static const char *status_of(enum ctr_status s, int code, int64_t started, int64_t finished)
{
	static char out[128];
	struct ctr_state st = { .status = s, .exit_code = code, .started_at = started,
				.finished_at = finished };

	duration_status(&st, NOW, out, sizeof(out));
	return out;
}

TEST(status)
{
	CHECK_STR(status_of(CTR_RUNNING, 0, NOW - 3 * S, 0), "Up 3 seconds");
	CHECK_STR(status_of(CTR_RUNNING, 0, NOW - S / 2, 0), "Up Less than a second");
	CHECK_STR(status_of(CTR_RUNNING, 0, NOW - 1 * S, 0), "Up 1 second");
	CHECK_STR(status_of(CTR_RUNNING, 0, NOW - 90 * S, 0), "Up About a minute");
	CHECK_STR(status_of(CTR_RUNNING, 0, NOW - 3 * 3600 * S, 0), "Up 3 hours");
	CHECK_STR(status_of(CTR_EXITED, 0, NOW - 200 * S, NOW - 120 * S), "Exited (0) 2 minutes ago");
	CHECK_STR(status_of(CTR_EXITED, 137, NOW - 5 * S, NOW - 2 * S), "Exited (137) 2 seconds ago");
	CHECK_STR(status_of(CTR_CREATED, 0, 0, 0), "Created");
	/* Never started (failed before exec): docker says Created. */
	CHECK_STR(status_of(CTR_EXITED, 127, 0, NOW), "Created");
	CHECK_STR(status_of(CTR_RESTARTING, 1, NOW - 5 * S, NOW - 1 * S), "Restarting (1) 1 second ago");
	/* A clock that went backwards is not a negative duration. */
	CHECK_STR(status_of(CTR_RUNNING, 0, NOW + 50 * S, 0), "Up Less than a second");
}

TEST(ago)
{
	char out[64];

	duration_ago(NOW - 5 * S, NOW, out, sizeof(out));
	CHECK_STR(out, "5 seconds ago");
	duration_ago(NOW - 3 * 86400 * S, NOW, out, sizeof(out));
	CHECK_STR(out, "3 days ago");
}

TEST(rfc3339nano)
{
	char out[64];

	duration_rfc3339nano(0, out, sizeof(out));
	CHECK_STR(out, "0001-01-01T00:00:00Z");
	duration_rfc3339nano(NOW, out, sizeof(out));
	CHECK_STR(out, "2023-11-14T22:13:20Z");
	duration_rfc3339nano(NOW + 123456789, out, sizeof(out));
	CHECK_STR(out, "2023-11-14T22:13:20.123456789Z");
	duration_rfc3339nano(NOW + 120000000, out, sizeof(out));
	CHECK_STR(out, "2023-11-14T22:13:20.12Z");
	duration_rfc3339nano(NOW + 1, out, sizeof(out));
	CHECK_STR(out, "2023-11-14T22:13:20.000000001Z");
}

TEST(go_time)
{
	char out[64];

	setenv("TZ", "UTC", 1);
	duration_go_time(NOW + 5, out, sizeof(out));
	CHECK_STR(out, "2023-11-14 22:13:20 +0000 UTC");
}

TEST(ellipsis_and_quote)
{
	char out[128];

	tab_ellipsis("sleep 1000", 20, out, sizeof(out));
	CHECK_STR(out, "sleep 1000");
	tab_ellipsis("sh -c 'while true; do echo hi; done'", 20, out, sizeof(out));
	CHECK_STR(out, "sh -c 'while true; \u2026");
	CHECK(utf8_width(out) == 20);
	tab_ellipsis("\u00e9\u00e9\u00e9", 2, out, sizeof(out));
	CHECK_STR(out, "\u00e9\u2026");
	tab_ellipsis("abc", 3, out, sizeof(out));
	CHECK_STR(out, "abc");
	tab_go_quote("echo \"hi\"\n\\", out, sizeof(out));
	CHECK_STR(out, "\"echo \\\"hi\\\"\\n\\\\\"");
	tab_go_quote("a\x01\u2026", out, sizeof(out));
	CHECK_STR(out, "\"a\\x01\u2026\"");
	/* Too small: still a closed quote. */
	tab_go_quote("abcdefgh", out, 6);
	CHECK_STR(out, "\"abc\"");
}

TEST(table)
{
	struct tabwriter t;
	struct sk_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	tabwriter_init(&t, 3);
	CHECK(tabwriter_add(&t, (const char *[]){ "CONTAINER ID", "IMAGE", "NAMES" }, &err) == 0);
	CHECK(tabwriter_add(&t, (const char *[]){ "0123456789ab", "b\u2026", "x" }, &err) == 0);
	tabwriter_print(&t, f);
	fclose(f);
	CHECK_STR(text, "CONTAINER ID   IMAGE     NAMES\n"
			"0123456789ab   b\u2026        x\n");
	free(text);
	tabwriter_release(&t);
}

int main(void)
{
	RUN(status);
	RUN(ago);
	RUN(rfc3339nano);
	RUN(go_time);
	RUN(ellipsis_and_quote);
	RUN(table);
	return UNIT_DONE();
}
