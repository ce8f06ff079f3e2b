/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/unpack.h"

int unpack_layer(int src_fd, enum compression comp, int dest_dirfd, struct unpack_result *res, struct sk_err *err)
{
	return err_set(err, ENOSYS, "unpack_layer: not implemented");
}
