/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/store.h"

int store_open(struct store *s, const char *root, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_open: not implemented");
}

void store_close(struct store *s)
{

}

int store_lock(struct store *s, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_lock: not implemented");
}

void store_unlock(int lockfd)
{

}

int store_blob_put(struct store *s, const char *digest, const void *data, size_t len, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_blob_put: not implemented");
}

int store_blob_get(struct store *s, const char *digest, size_t max, struct buf *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_blob_get: not implemented");
}

bool store_blob_exists(struct store *s, const char *digest)
{
	return false;
}

bool store_layer_exists(struct store *s, const char *diff_id)
{
	return false;
}

void store_layer_path(struct store *s, const char *diff_id, char *out, size_t len)
{

}

int64_t store_layer_size(struct store *s, const char *diff_id)
{
	return -1;
}

int store_layer_tmp_new(struct store *s, struct layer_tmp *t, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_layer_tmp_new: not implemented");
}

int store_layer_tmp_commit(struct store *s, struct layer_tmp *t, const char *diff_id, uint64_t size, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_layer_tmp_commit: not implemented");
}

void store_layer_tmp_discard(struct store *s, struct layer_tmp *t)
{

}

int store_fetch_lock(struct store *s, const char *digest, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_fetch_lock: not implemented");
}

void store_fetch_unlock(int fd)
{

}

int store_partial_open(struct store *s, const char *digest, int64_t *have, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_partial_open: not implemented");
}

void store_partial_remove(struct store *s, const char *digest)
{

}

int store_refs_list(struct store *s, struct store_image **out, size_t *n, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_refs_list: not implemented");
}

int store_ref_set(struct store *s, const struct store_image *img, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_ref_set: not implemented");
}

int store_ref_remove(struct store *s, const char *ref, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_ref_remove: not implemented");
}

int store_image_lookup(struct store *s, const char *name, struct store_image *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_image_lookup: not implemented");
}

int store_gc(struct store *s, uint64_t *freed, struct sk_err *err)
{
	return err_set(err, ENOSYS, "store_gc: not implemented");
}
