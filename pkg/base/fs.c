/*
 * Reading manifest files: one capped whole-file read, and a recursive directory walk in a
 * stable (byte-order) sequence. This is the only file-system code below the CLI; the manifest
 * parser itself reads buffers, never paths.
 */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALK_MAX_DEPTH 32   /* guards against symlink loops */
#define WALK_MAX_FILES 100000

int plumb_fs_read(const char *path, size_t cap, struct plumb_buf *b, struct plumb_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return plumb_err_sys(err, errno == ENOENT ? PLUMB_ENOENT : PLUMB_EIO, "%s", path);
	size_t start = b->len;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int rc = plumb_err_sys(err, PLUMB_EIO, "%s", path);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		if (b->len - start + (size_t)n > cap) {
			close(fd);
			plumb_buf_truncate(b, start);
			return plumb_err_set(err, PLUMB_ELIMIT, "%s: file is larger than %zu bytes",
					     path, cap);
		}
		int rc = plumb_buf_add(b, chunk, (size_t)n);
		if (rc) {
			close(fd);
			return plumb_err_set(err, rc, "%s: %s", path, plumb_code_name(rc));
		}
	}
	close(fd);
	return 0;
}

static bool is_manifest_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *dir, int depth, struct plumb_vec *out, struct plumb_err *err)
{
	if (depth > WALK_MAX_DEPTH)
		return plumb_err_set(err, PLUMB_ELIMIT, "%s: directories nested deeper than %d",
				     dir, WALK_MAX_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return plumb_err_sys(err, PLUMB_EIO, "%s", dir);
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* hidden files, and git-sync's ..data style links */
		size_t n = strlen(dir) + strlen(de->d_name) + 2;
		char *p = malloc(n);
		if (!p) {
			rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
			break;
		}
		snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
		struct stat st;
		if (stat(p, &st) != 0) {
			free(p);
			continue; /* dangling symlink: not a manifest */
		}
		if (S_ISDIR(st.st_mode)) {
			rc = walk(p, depth + 1, out, err);
			free(p);
			if (rc)
				break;
		} else if (S_ISREG(st.st_mode) && is_manifest_name(de->d_name)) {
			if (out->len >= WALK_MAX_FILES) {
				free(p);
				rc = plumb_err_set(err, PLUMB_ELIMIT, "more than %d manifest files",
						   WALK_MAX_FILES);
				break;
			}
			rc = plumb_vec_push(out, p);
			if (rc) {
				free(p);
				break;
			}
		} else {
			free(p);
		}
	}
	closedir(d);
	return rc;
}

int plumb_fs_find_manifests(const char *path, struct plumb_vec *out, struct plumb_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return plumb_err_sys(err, errno == ENOENT ? PLUMB_ENOENT : PLUMB_EIO, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		char *p = strdup(path);
		if (!p || plumb_vec_push(out, p)) {
			free(p);
			return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		}
		return 0;
	}
	size_t start = out->len;
	int rc = walk(path, 0, out, err);
	if (rc == 0 && out->len - start > 1)
		qsort(out->items + start, out->len - start, sizeof(void *), cmp_str);
	return rc;
}
