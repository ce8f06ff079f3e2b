/*
 * Fuzz the json-file reader's parsers (logfile_parse_line, logfile_parse_time):
 * log files are written by the monitor but read back by `skiff logs`, and a
 * damaged or hand-edited file must only ever be refused, never crash it. A
 * parsed record is written again with the writer's escaping and must parse
 * back to the same text. Seeds: tests/fuzz/corpus/fuzz_logfile/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/logfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct log_record *rec)
{
	static char escaped[LOGFILE_LINE_MAX * 8], line[LOGFILE_LINE_MAX * 8 + 128];
	static char text[LOGFILE_LINE_MAX * 8];
	struct log_record again;
	struct sk_err err;
	char ts[32];
	size_t n;
	int len;

	/* Longer texts and times before 1970 do not come from the writer. */
	if (rec->len > LOGFILE_LINE_MAX || rec->time_ns < 0)
		return;
	n = logfile_escape(rec->text, rec->len, escaped, sizeof(escaped));
	if (n >= sizeof(escaped))
		__builtin_trap();
	logfile_format_time(rec->time_ns, ts);
	len = snprintf(line, sizeof(line), "{\"log\":\"%s\",\"stream\":\"%s\",\"time\":\"%s\"}",
		       escaped, rec->stream == LOG_STDERR ? "stderr" : "stdout", ts);
	if (logfile_parse_line(line, (size_t)len, &again, text, sizeof(text), &err) < 0)
		__builtin_trap();
	if (again.stream != rec->stream || again.time_ns != rec->time_ns)
		__builtin_trap();
	/* Escaping only replaces invalid UTF-8 (jansson already refused it), so
	 * the text comes back byte for byte. */
	if (again.len != rec->len || memcmp(again.text, rec->text, rec->len) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[LOGFILE_READ_LINE_MAX];
	struct log_record rec;
	struct sk_err err;
	int64_t ns;

	if (logfile_parse_line((const char *)data, size, &rec, text, sizeof(text), &err) == 0) {
		if (rec.stream != LOG_STDOUT && rec.stream != LOG_STDERR)
			__builtin_trap();
		check_round_trip(&rec);
	} else if (!err.msg[0]) {
		__builtin_trap();
	}
	logfile_parse_time((const char *)data, size, &ns, &err);
	/* The escaper must measure exactly what it writes. */
	if (size <= 4096) {
		static char out[4096 * 6 + 1];

		if (logfile_escape((const char *)data, size, out, sizeof(out)) != strlen(out) &&
		    !memchr(data, 0, size))
			__builtin_trap();
	}
	return 0;
}
