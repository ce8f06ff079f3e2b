/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/manifest.h"

int manifest_parse(const char *data, size_t len, const char *content_type, struct manifest *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "manifest_parse: not implemented");
}

void manifest_release(struct manifest *m)
{

}

void platform_host(struct platform *p)
{

}

int platform_parse(const char *s, struct platform *p, struct sk_err *err)
{
	return err_set(err, ENOSYS, "platform_parse: not implemented");
}

void platform_format(const struct platform *p, char *out, size_t len)
{

}

int manifest_select_platform(const struct manifest *index, const struct platform *want, size_t *chosen, struct sk_err *err)
{
	return err_set(err, ENOSYS, "manifest_select_platform: not implemented");
}
