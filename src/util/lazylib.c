/*
 * Lazy loading of libcurl and libarchive.
 *
 * `skiff run` with the image present needs neither, yet linking them costs
 * every command the mapping and relocation of ~40 shared objects (libcurl
 * pulls in gnutls, krb5, ldap...; libarchive pulls in libxml2 and ICU): about
 * 5–8 ms on these machines, more than the rest of the run path. So the binary
 * does not link them: each function skiff uses is defined here as a forwarder that
 * dlopen()s the library on first use and forwards the call. Call sites use the
 * normal headers and names. See docs/PERFORMANCE.md.
 *
 * libcrypto is not used at all: skiff hashes and base64-encodes with its own
 * code (util/sha256.c, util/base64.c) and wipes secrets with explicit_bzero.
 * Linked, it cost every process, each detached container's monitor included,
 * ~400 kB of relocated (private) memory.
 *
 * Variadic setopt/getinfo functions are forwarded with the argument type
 * libcurl's own option numbering encodes (long, pointer, curl_off_t).
 */
#define CURL_DISABLE_TYPECHECK 1
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/err.h"

struct lazy_lib {
	const char *soname;
	void *handle; /* written once, under dlopen's own lock; read atomically */
	void (*after_open)(void *handle);
};

/* libcurl wants curl_global_init() before any other call: done when it is
 * loaded, i.e. only by commands that talk to a registry. */
static void curl_after_open(void *h)
{
	CURLcode (*init)(long) = (CURLcode(*)(long))dlsym(h, "curl_global_init");

	if (!init || init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "skiff: cannot initialise libcurl\n");
		exit(EXIT_SKIFF);
	}
}

/* Process-wide caches of dlopen handles: set once, never freed (like the
 * dynamic linker's own tables). The one other exception to "no global state". */
static struct lazy_lib lib_curl = { "libcurl.so.4", NULL, curl_after_open };
static struct lazy_lib lib_archive = { "libarchive.so.13", NULL, NULL };

static void *lazy_sym(struct lazy_lib *lib, const char *name)
{
	void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
	void *sym;

	if (!h) {
		/* dlopen of an already-open library returns the same handle, so a
		 * race between two threads here is harmless. */
		h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "skiff: cannot load %s: %s\n", lib->soname, dlerror());
			exit(EXIT_SKIFF);
		}
		if (lib->after_open)
			lib->after_open(h);
		__atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
	}
	sym = dlsym(h, name);
	if (!sym) {
		fprintf(stderr, "skiff: %s has no symbol '%s'\n", lib->soname, name);
		exit(EXIT_SKIFF);
	}
	return sym;
}

/* Defines `ret name params` forwarding `args` to the library's own function;
 * the resolved pointer is cached per function. */
#define LAZY(lib, ret, name, params, args)                                                         \
	ret name params                                                                            \
	{                                                                                          \
		static ret(*fn) params;                                                            \
		ret(*lazy_f) params = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);                         \
		if (!lazy_f) {                                                                     \
			lazy_f = (ret(*) params)lazy_sym(&lib, #name);                             \
			__atomic_store_n(&fn, lazy_f, __ATOMIC_RELEASE);                           \
		}                                                                                  \
		return lazy_f args;                                                                \
	}

/* ---- libcurl ---- */
LAZY(lib_curl, CURL *, curl_easy_init, (void), ())
LAZY(lib_curl, void, curl_easy_cleanup, (CURL * h), (h))
LAZY(lib_curl, void, curl_easy_reset, (CURL * h), (h))
LAZY(lib_curl, CURLcode, curl_easy_perform, (CURL * h), (h))
LAZY(lib_curl, const char *, curl_easy_strerror, (CURLcode c), (c))
LAZY(lib_curl, char *, curl_easy_escape, (CURL * h, const char *s, int n), (h, s, n))
LAZY(lib_curl, void, curl_free, (void *p), (p))
LAZY(lib_curl, time_t, curl_getdate, (const char *s, const time_t *unused), (s, unused))
LAZY(lib_curl, CURLSH *, curl_share_init, (void), ())
LAZY(lib_curl, CURLSHcode, curl_share_cleanup, (CURLSH * sh), (sh))
LAZY(lib_curl, struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s),
     (l, s))
LAZY(lib_curl, void, curl_slist_free_all, (struct curl_slist * l), (l))
LAZY(lib_curl, CURLU *, curl_url, (void), ())
LAZY(lib_curl, void, curl_url_cleanup, (CURLU * u), (u))
LAZY(lib_curl, CURLUcode, curl_url_get, (CURLU * u, CURLUPart p, char **out, unsigned int fl),
     (u, p, out, fl))
LAZY(lib_curl, CURLUcode, curl_url_set, (CURLU * u, CURLUPart p, const char *s, unsigned int fl),
     (u, p, s, fl))

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	static CURLcode (*fn)(CURL *, CURLoption, ...);
	CURLcode (*f)(CURL *, CURLoption, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	va_list ap;
	CURLcode rc;

	if (!f) {
		f = (CURLcode(*)(CURL *, CURLoption, ...))lazy_sym(&lib_curl, "curl_easy_setopt");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, opt);
	/* The option number says the argument's type (curl.h's CURLOPTTYPE_*). */
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = f(h, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
		rc = f(h, opt, va_arg(ap, curl_off_t));
	else
		rc = f(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	static CURLcode (*fn)(CURL *, CURLINFO, ...);
	CURLcode (*f)(CURL *, CURLINFO, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	va_list ap;
	CURLcode rc;

	if (!f) {
		f = (CURLcode(*)(CURL *, CURLINFO, ...))lazy_sym(&lib_curl, "curl_easy_getinfo");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, info);
	rc = f(h, info, va_arg(ap, void *)); /* always a pointer to the result */
	va_end(ap);
	return rc;
}

CURLSHcode curl_share_setopt(CURLSH *sh, CURLSHoption opt, ...)
{
	static CURLSHcode (*fn)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*f)(CURLSH *, CURLSHoption, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	va_list ap;
	CURLSHcode rc;

	if (!f) {
		f = (CURLSHcode(*)(CURLSH *, CURLSHoption, ...))lazy_sym(&lib_curl, "curl_share_setopt");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, opt);
	if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE)
		rc = f(sh, opt, va_arg(ap, int));
	else
		rc = f(sh, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* ---- libarchive ---- */
LAZY(lib_archive, struct archive *, archive_read_new, (void), ())
LAZY(lib_archive, int, archive_read_free, (struct archive * a), (a))
LAZY(lib_archive, int, archive_read_support_format_tar, (struct archive * a), (a))
LAZY(lib_archive, int, archive_read_support_format_empty, (struct archive * a), (a))
LAZY(lib_archive, int, archive_read_support_filter_gzip, (struct archive * a), (a))
LAZY(lib_archive, int, archive_read_open,
     (struct archive * a, void *data, archive_open_callback *o, archive_read_callback *r,
      archive_close_callback *c),
     (a, data, o, r, c))
LAZY(lib_archive, int, archive_read_open_fd, (struct archive * a, int fd, size_t block),
     (a, fd, block))
LAZY(lib_archive, int, archive_read_next_header, (struct archive * a, struct archive_entry **e),
     (a, e))
LAZY(lib_archive, int, archive_read_data_block,
     (struct archive * a, const void **buf, size_t *size, la_int64_t *off), (a, buf, size, off))
LAZY(lib_archive, const char *, archive_error_string, (struct archive * a), (a))
LAZY(lib_archive, time_t, archive_entry_atime, (struct archive_entry * e), (e))
LAZY(lib_archive, int, archive_entry_atime_is_set, (struct archive_entry * e), (e))
LAZY(lib_archive, long, archive_entry_atime_nsec, (struct archive_entry * e), (e))
LAZY(lib_archive, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
LAZY(lib_archive, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))
LAZY(lib_archive, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
LAZY(lib_archive, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
LAZY(lib_archive, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
LAZY(lib_archive, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
LAZY(lib_archive, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
LAZY(lib_archive, int, archive_entry_size_is_set, (struct archive_entry * e), (e))
LAZY(lib_archive, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
LAZY(lib_archive, const char *, archive_entry_symlink, (struct archive_entry * e), (e))
LAZY(lib_archive, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
LAZY(lib_archive, const char *, archive_entry_pathname_utf8, (struct archive_entry * e), (e))
LAZY(lib_archive, dev_t, archive_entry_rdevmajor, (struct archive_entry * e), (e))
LAZY(lib_archive, dev_t, archive_entry_rdevminor, (struct archive_entry * e), (e))
LAZY(lib_archive, int, archive_entry_xattr_count, (struct archive_entry * e), (e))
LAZY(lib_archive, int, archive_entry_xattr_reset, (struct archive_entry * e), (e))
LAZY(lib_archive, int, archive_entry_xattr_next,
     (struct archive_entry * e, const char **name, const void **value, size_t *size),
     (e, name, value, size))

void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
	static void (*fn)(struct archive *, int, const char *, ...);
	void (*f)(struct archive *, int, const char *, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	char msg[1024];
	va_list ap;

	if (!f) {
		f = (void (*)(struct archive *, int, const char *, ...))lazy_sym(&lib_archive,
										 "archive_set_error");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f(a, code, "%s", msg);
}

