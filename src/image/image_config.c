/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/image_config.h"

int image_config_parse(const char *data, size_t len, struct image_config *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "image_config_parse: not implemented");
}

void image_config_release(struct image_config *c)
{

}
