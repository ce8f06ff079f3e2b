/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/ref.h"

int ref_parse(const char *s, struct image_ref *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "ref_parse: not implemented");
}

void ref_name(const struct image_ref *r, char *out, size_t len)
{

}

void ref_canonical(const struct image_ref *r, char *out, size_t len)
{

}

void ref_familiar_name(const struct image_ref *r, char *out, size_t len)
{

}

const char *ref_reference(const struct image_ref *r)
{
	return NULL;
}
