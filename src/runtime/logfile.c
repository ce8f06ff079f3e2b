/*
 * json-file container logs (see logfile.h): the monitor's writer, with docker's
 * line splitting, escaping and max-size/max-file rotation, and the reader that
 * `skiff logs` uses to walk the rotated files oldest first and follow ctr.log
 * across rotations.
 *
 * The writer allocates once (struct logfile) and then only uses fixed buffers:
 * a record is measured first (to decide on rotation), then escaped through a
 * small output buffer, written when it is full and at the end of each
 * logfile_write (one write for the many short lines of one read, not one
 * each). A reader may see a record half written; it only takes whole lines.
 * The file is created with the first record: a container that prints
 * nothing (`run --rm IMAGE true`) costs no inode.
 */
#include "runtime/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define LOG_NAME_MAX 32

struct log_part {
	char data[LOGFILE_LINE_MAX];
	size_t len;
};

struct logfile {
	int dirfd, fd;
	int64_t size, max_size;
	unsigned max_file;
	struct log_part part[2]; /* stdout, stderr */
	char ts[32];		 /* the time of the records being written */
	char out[4096];
	size_t outlen;
};

static void log_name(unsigned index, char name[LOG_NAME_MAX])
{
	if (index == 0)
		snprintf(name, LOG_NAME_MAX, "%s", CTR_LOG_FILE);
	else
		snprintf(name, LOG_NAME_MAX, "%s.%u", CTR_LOG_FILE, index);
}

/* --- escaping (docker's jsonlog: Go's encoding/json with HTML escaping) -- */

/* Length of the valid UTF-8 sequence at s (2-4), or 0 when invalid, with the
 * same acceptance as Go's utf8.DecodeRune (no overlongs, no surrogates). */
static size_t utf8_seq_len(const unsigned char *s, size_t len, unsigned *rune)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (b >= 0xC2 && b <= 0xDF)
		n = 2;
	else if (b >= 0xE0 && b <= 0xEF)
		n = 3;
	else if (b >= 0xF0 && b <= 0xF4)
		n = 4;
	else
		return 0;
	if (b == 0xE0)
		lo = 0xA0;
	else if (b == 0xED)
		hi = 0x9F;
	else if (b == 0xF0)
		lo = 0x90;
	else if (b == 0xF4)
		hi = 0x8F;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	*rune = b & (0xFF >> (n + 1));
	for (size_t i = 1; i < n; i++)
		*rune = (*rune << 6) | (s[i] & 0x3F);
	return n;
}

/* Escape the character at s[*i] into tmp (at most 6 bytes) and advance *i. */
static size_t escape_one(const char *s, size_t len, size_t *i, char tmp[8])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b = (unsigned char)s[*i];
	unsigned rune = 0;
	size_t n;

	if (b < 0x80) {
		(*i)++;
		if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
			tmp[0] = (char)b;
			return 1;
		}
		tmp[0] = '\\';
		switch (b) {
		case '\\':
		case '"':
			tmp[1] = (char)b;
			return 2;
		case '\n':
			tmp[1] = 'n';
			return 2;
		case '\r':
			tmp[1] = 'r';
			return 2;
		case '\t':
			tmp[1] = 't';
			return 2;
		}
		memcpy(tmp + 1, "u00", 3);
		tmp[4] = hex[b >> 4];
		tmp[5] = hex[b & 0xF];
		return 6;
	}
	n = utf8_seq_len((const unsigned char *)s + *i, len - *i, &rune);
	if (n == 0) {
		(*i)++;
		memcpy(tmp, "\\ufffd", 6);
		return 6;
	}
	if (rune == 0x2028 || rune == 0x2029) {
		*i += n;
		memcpy(tmp, rune == 0x2028 ? "\\u2028" : "\\u2029", 6);
		return 6;
	}
	memcpy(tmp, s + *i, n);
	*i += n;
	return n;
}

size_t logfile_escape(const char *s, size_t len, char *out, size_t outsz)
{
	size_t need = 0, i = 0;
	char tmp[8];

	while (i < len) {
		size_t n = escape_one(s, len, &i, tmp);

		if (out && need + n < outsz)
			memcpy(out + need, tmp, n);
		need += n;
	}
	if (out && outsz)
		out[need < outsz ? need : outsz - 1] = '\0';
	return need;
}

/* --- time ------------------------------------------------------------- */

void logfile_format_time(int64_t ns, char buf[static 32])
{
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* --- writer ----------------------------------------------------------- */

static int open_current(struct logfile *lf, struct sk_err *err);

static int out_flush(struct logfile *lf, struct sk_err *err)
{
	int r;

	if (!lf->outlen)
		return 0;
	if (lf->fd < 0 && open_current(lf, err) < 0) {
		lf->outlen = 0;
		return -1;
	}
	r = fs_write_all(lf->fd, lf->out, lf->outlen);
	lf->size += (int64_t)lf->outlen;
	lf->outlen = 0;
	if (r < 0)
		return err_set(err, -r, "cannot write '%s'", CTR_LOG_FILE);
	return 0;
}

static int out_put(struct logfile *lf, const char *s, size_t n, struct sk_err *err)
{
	while (n) {
		size_t room = sizeof(lf->out) - lf->outlen, k = n < room ? n : room;

		memcpy(lf->out + lf->outlen, s, k);
		lf->outlen += k;
		s += k;
		n -= k;
		if (lf->outlen == sizeof(lf->out) && out_flush(lf, err) < 0)
			return -1;
	}
	return 0;
}

/* Written as it is in docker's JSON (escape_one's first case). */
static bool plain_byte(unsigned char b)
{
	return b >= 0x20 && b < 0x80 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&';
}

/* Runs of plain bytes are copied whole: most log text is plain ASCII. */
static int out_put_escaped(struct logfile *lf, const char *s, size_t len, struct sk_err *err)
{
	size_t i = 0;
	char tmp[8];

	while (i < len) {
		size_t run = i, n;

		while (run < len && plain_byte((unsigned char)s[run]))
			run++;
		if (run > i && out_put(lf, s + i, run - i, err) < 0)
			return -1;
		i = run;
		if (i == len)
			break;
		n = escape_one(s, len, &i, tmp);
		if (out_put(lf, tmp, n, err) < 0)
			return -1;
	}
	return 0;
}

static int open_current(struct logfile *lf, struct sk_err *err)
{
	struct stat st;

	lf->fd = openat(lf->dirfd, CTR_LOG_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (lf->fd < 0)
		return err_set(err, errno, "cannot open '%s'", CTR_LOG_FILE);
	if (fstat(lf->fd, &st) < 0)
		return err_set(err, errno, "cannot stat '%s'", CTR_LOG_FILE);
	lf->size = st.st_size;
	return 0;
}

/* ctr.log.N-1 -> ctr.log.N, ..., ctr.log -> ctr.log.1 (the rename onto the
 * last kept name drops the oldest), then a new ctr.log. */
static int rotate(struct logfile *lf, struct sk_err *err)
{
	char from[LOG_NAME_MAX], to[LOG_NAME_MAX];

	close(lf->fd);
	lf->fd = -1;
	if (lf->max_file <= 1) {
		if (unlinkat(lf->dirfd, CTR_LOG_FILE, 0) < 0 && errno != ENOENT)
			return err_set(err, errno, "cannot remove '%s'", CTR_LOG_FILE);
	}
	for (unsigned i = lf->max_file - 1; i >= 1; i--) {
		log_name(i - 1, from);
		log_name(i, to);
		if (renameat(lf->dirfd, from, lf->dirfd, to) < 0 && errno != ENOENT)
			return err_set(err, errno, "cannot rename '%s' to '%s'", from, to);
	}
	return open_current(lf, err);
}

static int maybe_rotate(struct logfile *lf, size_t reclen, struct sk_err *err)
{
	int64_t size = lf->size + (int64_t)lf->outlen;

	if (lf->max_size <= 0 || size == 0 || size + (int64_t)reclen <= lf->max_size)
		return 0;
	if (out_flush(lf, err) < 0)
		return -1;
	return rotate(lf, err);
}

/* One record: {"log":"<text>[\n]","stream":"<stream>","time":"<now>"} */
static int write_record(struct logfile *lf, const char *stream, const char *text, size_t len,
			bool newline, struct sk_err *err)
{
	static const char head[] = "{\"log\":\"", mid[] = "\",\"stream\":\"",
			  tail[] = "\",\"time\":\"", end[] = "\"}\n";
	const char *ts = lf->ts;

	if (lf->fd < 0 && open_current(lf, err) < 0)
		return -1;
	/* measured only when it may rotate: that costs a pass over the text */
	if (lf->max_size > 0 &&
	    maybe_rotate(lf,
			 strlen(head) + logfile_escape(text, len, NULL, 0) + (newline ? 2 : 0) +
				 strlen(mid) + strlen(stream) + strlen(tail) + strlen(ts) +
				 strlen(end),
			 err) < 0)
		return -1;
	if (out_put(lf, head, strlen(head), err) < 0 || out_put_escaped(lf, text, len, err) < 0 ||
	    (newline && out_put(lf, "\\n", 2, err) < 0) || out_put(lf, mid, strlen(mid), err) < 0 ||
	    out_put(lf, stream, strlen(stream), err) < 0 ||
	    out_put(lf, tail, strlen(tail), err) < 0 || out_put(lf, ts, strlen(ts), err) < 0 ||
	    out_put(lf, end, strlen(end), err) < 0)
		return -1;
	return 0;
}

int logfile_open(int dirfd, int64_t max_size, unsigned max_file, struct logfile **out,
		 struct sk_err *err)
{
	cleanup_free struct logfile *lf = calloc(1, sizeof(*lf));

	if (!lf)
		return err_set(err, ENOMEM, "cannot open '%s'", CTR_LOG_FILE);
	lf->max_size = max_size;
	lf->max_file = max_file ? max_file : 1;
	if (lf->max_file > LOGFILE_MAX_FILES)
		lf->max_file = LOGFILE_MAX_FILES;
	lf->fd = -1;
	lf->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (lf->dirfd < 0)
		return err_set(err, errno, "cannot open '%s'", CTR_LOG_FILE);
	/* ctr.log's size (for rotation) is known once it is opened: before
	 * the first record. */
	*out = steal_pointer(&lf);
	return 0;
}

static struct log_part *stream_part(struct logfile *lf, const char *stream)
{
	return &lf->part[strcmp(stream, "stderr") == 0 ? 1 : 0];
}

static int write_lines(struct logfile *lf, const char *stream, const char *data, size_t len,
		       struct sk_err *err);

/* The lines of one read share its time (as they arrived together). */
static void stamp_now(struct logfile *lf)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	logfile_format_time((int64_t)now.tv_sec * 1000000000 + now.tv_nsec, lf->ts);
}

int logfile_write(struct logfile *lf, const char *stream, const char *data, size_t len,
		  struct sk_err *err)
{
	stamp_now(lf);
	if (write_lines(lf, stream, data, len, err) < 0)
		return -1;
	return out_flush(lf, err);
}

/* Lines from data; the tail without "\n" waits in part. */
static int write_lines(struct logfile *lf, const char *stream, const char *data, size_t len,
		       struct sk_err *err)
{
	struct log_part *part = stream_part(lf, stream);

	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t linelen = nl ? (size_t)(nl - data) : len, room, n;

		if (part->len == 0 && nl && linelen <= LOGFILE_LINE_MAX) {
			/* The common case: a whole line, straight from data. */
			if (write_record(lf, stream, data, linelen, true, err) < 0)
				return -1;
			data += linelen + 1;
			len -= linelen + 1;
			continue;
		}
		room = LOGFILE_LINE_MAX - part->len;
		n = linelen < room ? linelen : room;
		memcpy(part->data + part->len, data, n);
		part->len += n;
		data += n;
		len -= n;
		if (n == linelen && nl) {
			data++;
			len--;
			n = part->len;
			part->len = 0;
			if (write_record(lf, stream, part->data, n, true, err) < 0)
				return -1;
		} else if (part->len == LOGFILE_LINE_MAX) {
			part->len = 0;
			if (write_record(lf, stream, part->data, LOGFILE_LINE_MAX, false, err) < 0)
				return -1;
		}
	}
	return 0;
}

int logfile_flush(struct logfile *lf, struct sk_err *err)
{
	static const char *const names[] = { "stdout", "stderr" };

	stamp_now(lf);
	for (size_t i = 0; i < ARRAY_SIZE(lf->part); i++) {
		size_t n = lf->part[i].len;

		lf->part[i].len = 0;
		if (n && write_record(lf, names[i], lf->part[i].data, n, false, err) < 0)
			return -1;
	}
	return out_flush(lf, err);
}

void logfile_close(struct logfile *lf)
{
	struct sk_err err;

	if (!lf)
		return;
	logfile_flush(lf, &err);
	if (lf->fd >= 0)
		close(lf->fd);
	close(lf->dirfd);
	free(lf);
}

/* --- reader ----------------------------------------------------------- */

static int parse_digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The offset at the end of an RFC 3339 time: "Z" or "+HH:MM" / "-HH:MM". */
static int parse_zone(const char *s, size_t len, long *offset_s)
{
	int hh, mm;

	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*offset_s = 0;
		return 0;
	}
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' ||
	    parse_digits(s + 1, 2, &hh) < 0 || parse_digits(s + 4, 2, &mm) < 0 || hh > 23 ||
	    mm > 59)
		return -1;
	*offset_s = (s[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
	return 0;
}

int logfile_parse_time(const char *s, size_t len, int64_t *ns, struct sk_err *err)
{
	struct tm tm = { 0 };
	int v[6], frac = 0;
	size_t i = 19, digits = 0;
	long offset;
	time_t secs;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' || parse_digits(s, 4, &v[0]) < 0 ||
	    parse_digits(s + 5, 2, &v[1]) < 0 || parse_digits(s + 8, 2, &v[2]) < 0 ||
	    parse_digits(s + 11, 2, &v[3]) < 0 || parse_digits(s + 14, 2, &v[4]) < 0 ||
	    parse_digits(s + 17, 2, &v[5]) < 0)
		goto bad;
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		goto bad;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (digits < 9)
				frac = frac * 10 + (s[i] - '0');
		if (digits == 0)
			goto bad;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (parse_zone(s + i, len - i, &offset) < 0)
		goto bad;
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	secs = timegm(&tm) - offset;
	/* ns since the epoch in 64 bits: years 1678 to 2262 */
	if (secs <= INT64_MIN / 1000000000 || secs >= INT64_MAX / 1000000000)
		goto bad;
	*ns = (int64_t)secs * 1000000000 + frac;
	return 0;
bad:
	return err_set(err, 0, "invalid time '%.*s'", (int)(len > 64 ? 64 : len), s);
}

static void json_decref_p(json_t **j)
{
	if (*j)
		json_decref(*j);
}

int logfile_parse_line(const char *line, size_t len, struct log_record *rec, char *textbuf,
		       size_t textsz, struct sk_err *err)
{
	__attribute__((cleanup(json_decref_p))) json_t *root = NULL;
	json_t *log, *stream, *time;
	json_error_t jerr;
	size_t n;

	root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (!root || !json_is_object(root))
		return err_set(err, 0, "invalid log record: %s", root ? "not an object" : jerr.text);
	log = json_object_get(root, "log");
	stream = json_object_get(root, "stream");
	time = json_object_get(root, "time");
	if (!json_is_string(log) || !json_is_string(stream) || !json_is_string(time))
		return err_set(err, 0, "invalid log record: missing log, stream or time");
	if (strcmp(json_string_value(stream), "stdout") == 0)
		rec->stream = LOG_STDOUT;
	else if (strcmp(json_string_value(stream), "stderr") == 0)
		rec->stream = LOG_STDERR;
	else
		return err_set(err, 0, "invalid log record: unknown stream");
	if (logfile_parse_time(json_string_value(time), json_string_length(time), &rec->time_ns,
			       err) < 0)
		return err_wrap(err, "invalid log record");
	n = json_string_length(log);
	if (n >= textsz)
		return err_set(err, E2BIG, "invalid log record: text too long");
	memcpy(textbuf, json_string_value(log), n);
	textbuf[n] = '\0';
	rec->text = textbuf;
	rec->len = n;
	return 0;
}

unsigned logfile_count_rotated(int dirfd)
{
	char name[LOG_NAME_MAX];
	struct stat st;
	unsigned n = 0;

	for (; n < LOGFILE_MAX_FILES; n++) {
		log_name(n + 1, name);
		if (fstatat(dirfd, name, &st, 0) < 0)
			break;
	}
	return n;
}

/* --- cursor ----------------------------------------------------------- */

struct log_cursor {
	int dirfd, fd;
	unsigned max_file;
	dev_t dev;
	ino_t ino;
	bool skipping; /* inside an over-long line: drop bytes up to its end */
	size_t start, end;
	char buf[LOGFILE_READ_LINE_MAX];
};

static bool same_file(int dirfd, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	return fstatat(dirfd, name, &st, 0) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Where the file being read is now: 0 = ctr.log, N = ctr.log.N, -1 = gone. */
static int locate_current(struct log_cursor *c)
{
	char name[LOG_NAME_MAX];
	struct stat st;

	for (unsigned i = 0; i < LOGFILE_MAX_FILES; i++) {
		log_name(i, name);
		if (fstatat(c->dirfd, name, &st, 0) < 0) {
			if (i > c->max_file)
				break;
			continue;
		}
		if (st.st_dev == c->dev && st.st_ino == c->ino)
			return (int)i;
	}
	return -1;
}

/* Make fd the file being read from the beginning. */
static void cursor_switch(struct log_cursor *c, int fd)
{
	struct stat st;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	fstat(fd, &st);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->start = c->end = 0;
	c->skipping = false;
}

/* Open the oldest file there is (ctr.log.N with the highest N), or none. */
static int open_oldest(struct log_cursor *c)
{
	char name[LOG_NAME_MAX];
	int fd;

	for (int i = (int)logfile_count_rotated(c->dirfd); i >= 0; i--) {
		log_name((unsigned)i, name);
		fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			cursor_switch(c, fd);
			return 1;
		}
	}
	return 0;
}

/* At the end of the file being read: go on to the next newer one. 1 when
 * there is one, 0 when the current file is still ctr.log (or none exists). */
static int cursor_advance(struct log_cursor *c)
{
	char name[LOG_NAME_MAX], older[LOG_NAME_MAX];
	int pos = -1;

	if (c->fd < 0)
		return open_oldest(c);
	if (same_file(c->dirfd, CTR_LOG_FILE, c->dev, c->ino))
		return 0;
	/* Renamed by a rotation (a writer may be renaming right now: retry). */
	for (int attempt = 0; attempt < 5; attempt++) {
		int fd;

		pos = locate_current(c);
		if (pos < 0)
			continue;
		if (pos == 0)
			return 0;
		log_name((unsigned)pos - 1, name);
		log_name((unsigned)pos, older);
		fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			/* The new ctr.log is not there yet: come back later. */
			if (errno == ENOENT && pos == 1)
				return 0;
			continue;
		}
		/* Still neighbours after the open: fd is the next newer file. */
		if (same_file(c->dirfd, older, c->dev, c->ino)) {
			cursor_switch(c, fd);
			return 1;
		}
		close(fd);
	}
	/* Our file was dropped: every file left is newer. Otherwise the writer
	 * is busy renaming: try again on the next call. */
	return pos < 0 ? open_oldest(c) : 0;
}

int log_cursor_open(int dirfd, unsigned max_file, struct log_cursor **out, struct sk_err *err)
{
	struct log_cursor *c = malloc(sizeof(*c));

	if (!c)
		return err_set(err, ENOMEM, "cannot read logs");
	c->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (c->dirfd < 0) {
		free(c);
		return err_set(err, errno, "cannot read logs");
	}
	c->fd = -1;
	c->max_file = max_file ? max_file : 1;
	c->start = c->end = 0;
	c->skipping = false;
	open_oldest(c);
	*out = c;
	return 0;
}

/* A whole line in buf[start, end)? */
static bool take_line(struct log_cursor *c, const char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);

		if (!nl)
			return false;
		*line = c->buf + c->start;
		*len = (size_t)(nl - *line);
		c->start = (size_t)(nl - c->buf) + 1;
		if (!c->skipping)
			return true;
		c->skipping = false;
	}
}

/* Room to read into: keep the partial line, drop it when it fills buf. */
static void make_room(struct log_cursor *c)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->buf)) {
		c->end = 0;
		c->skipping = true;
	}
}

int log_cursor_next(struct log_cursor *c, const char **line, size_t *len, struct sk_err *err)
{
	for (;;) {
		ssize_t n;

		if (take_line(c, line, len))
			return 1;
		if (c->fd < 0) {
			if (!open_oldest(c))
				return 0;
			continue;
		}
		make_room(c);
		n = read(c->fd, c->buf + c->end, sizeof(c->buf) - c->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, errno, "cannot read logs");
		if (n > 0) {
			c->end += (size_t)n;
			continue;
		}
		if (!cursor_advance(c))
			return 0;
	}
}

void log_cursor_close(struct log_cursor *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	close(c->dirfd);
	free(c);
}
