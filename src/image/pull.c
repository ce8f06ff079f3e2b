/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/pull.h"

int pull_image(struct store *s, const struct sk_config *cfg, const struct image_ref *ref, const struct pull_opts *opts, struct store_image *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "pull_image: not implemented");
}
