/*
 * Container logs in docker's json-file format: one JSON object per line,
 *   {"log":"text\n","stream":"stdout","time":"2026-11-25T13:20:01.123456789Z"}
 * written by a detached container's monitor into containers/<id>/ctr.log and
 * rotated as docker's max-size / max-file do (ctr.log.1 is the next newest).
 * The writer is part of the monitor, which must stay under 1 MB RSS: it holds
 * one fixed-size allocation and never allocates per record.
 * The reader (skiff logs) lists the files oldest first and parses records.
 */
#ifndef SKIFF_RUNTIME_LOGFILE_H
#define SKIFF_RUNTIME_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* docker splits lines longer than this into records without "\n". */
#define LOGFILE_LINE_MAX (16 * 1024)
/* Files kept at most, whatever max_file says (bounds the reader's probing). */
#define LOGFILE_MAX_FILES 1000

/* --- writer ----------------------------------------------------------- */

struct logfile;

/* Open (append, create 0640) ctr.log in dirfd, the container's directory
 * (containers/<id>). max_size 0 = never rotate; max_file >= 1 = how many files
 * are kept (ctr.log, ctr.log.1, ... ctr.log.<max_file-1>); 0 is taken as 1.
 * dirfd is duplicated: the caller keeps its own. */
int logfile_open(int dirfd, int64_t max_size, unsigned max_file, struct logfile **out,
		 struct sk_err *err);
/* Bytes the container wrote on stream ("stdout" or "stderr"): split into
 * lines; each complete line becomes one record with "\n" at the end of "log".
 * A line longer than LOGFILE_LINE_MAX is written in pieces of that size
 * without "\n". Partial lines are buffered per stream until their end comes.
 * Invalid UTF-8 is written as U+FFFD, as docker does. */
int logfile_write(struct logfile *lf, const char *stream, const char *data, size_t len,
		  struct sk_err *err);
/* Write buffered partial lines (as records without "\n"). */
int logfile_flush(struct logfile *lf, struct sk_err *err);
/* Flush buffered partial lines and close. NULL is fine. */
void logfile_close(struct logfile *lf);

/* The JSON-escaped form of s as docker's json-file writes it (no quotes
 * around it) into out (NUL-terminated when outsz > 0); returns the length the
 * whole escaped text needs, so out may be NULL with outsz 0 to measure. */
size_t logfile_escape(const char *s, size_t len, char *out, size_t outsz);

/* --- reader ----------------------------------------------------------- */

enum log_stream { LOG_STDOUT = 1, LOG_STDERR = 2 };

/* One record parsed from one line. text points into the caller's buffer. */
struct log_record {
	enum log_stream stream;
	int64_t time_ns; /* ns since the epoch (UTC) */
	char *text;	 /* the "log" member, unescaped; may hold NUL bytes */
	size_t len;
};

/* Parse one line (without its "\n") into rec; text is unescaped into
 * textbuf (textsz bytes, NUL-terminated). An error names what is wrong. */
int logfile_parse_line(const char *line, size_t len, struct log_record *rec, char *textbuf,
		       size_t textsz, struct sk_err *err);

/* "2026-11-25T13:20:01.123456789Z" or with an offset ("+01:00"), fraction of
 * 0-9 digits -> ns since the epoch. */
int logfile_parse_time(const char *s, size_t len, int64_t *ns, struct sk_err *err);
/* ns since the epoch -> "2026-11-25T13:20:01.123456789Z" (9 digits, as
 * `docker logs -t` prints); buf needs 31 bytes. */
void logfile_format_time(int64_t ns, char buf[static 32]);

/* The rotated files that exist: ctr.log.1 .. ctr.log.N without gaps; returns
 * N (0 when only ctr.log or nothing exists). */
unsigned logfile_count_rotated(int dirfd);

/* Reads the lines of a container's logs in order: the rotated files oldest
 * first, then ctr.log, and on (follow) across rotations: when the file being
 * read has been renamed, the rest of it is read, then the next newer file, so
 * no line is lost or read twice unless the writer dropped a file the reader had
 * not reached. Lines are bounded (LOGFILE_READ_LINE_MAX); longer ones, and a
 * partial line at the end of a rotated file, are skipped. */
#define LOGFILE_READ_LINE_MAX (256 * 1024)
struct log_cursor;

/* max_file: the container's log_max_file (how far to look for rotated files). */
int log_cursor_open(int dirfd, unsigned max_file, struct log_cursor **out, struct sk_err *err);
/* The next whole line without its "\n" in *line (valid until the next call):
 * 1 = a line, 0 = nothing more for now (call again later to follow), -1 error. */
int log_cursor_next(struct log_cursor *c, const char **line, size_t *len, struct sk_err *err);
void log_cursor_close(struct log_cursor *c);

#endif
