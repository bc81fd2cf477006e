/*
 * The revision a pass applies: a REVISION file, or the commit git's HEAD names, read from the
 * files git keeps (plumb never runs a command). Handles a plain checkout (.git directory), a
 * worktree (.git file "gitdir: ..." with a "commondir" file, which is how git-sync lays out
 * its checkouts), symbolic refs, loose refs and packed-refs.
 */
#include "reconcile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* First line of path into out, trimmed; false when unreadable or empty. */
static bool first_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(out, (int)outlen, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	size_t n = strcspn(out, "\r\n");
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
	return n > 0;
}

static bool is_hex40(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n >= 40 && (s[n] == '\0' || s[n] == ' ');
}

/* The commit of ref (e.g. "refs/heads/main") in git dir gd or its common dir. */
static bool resolve_ref(const char *gd, const char *common, const char *ref, char *out,
			size_t outlen)
{
	const char *dirs[2] = { gd, common };
	char path[PATH_MAX], line[512];
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirs[i], ref);
		if (first_line(path, line, sizeof(line)) && is_hex40(line)) {
			snprintf(out, outlen, "%.40s", line);
			return true;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/packed-refs", dirs[i]);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		bool found = false;
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0] == '#' || line[0] == '^' || !is_hex40(line))
				continue;
			if (line[40] == ' ' && strcmp(line + 41, ref) == 0) {
				snprintf(out, outlen, "%.40s", line);
				found = true;
				break;
			}
		}
		fclose(f);
		if (found)
			return true;
	}
	return false;
}

/* The commit HEAD names in the checkout whose .git entry is dotgit. */
static bool git_head(const char *dotgit, char *out, size_t outlen)
{
	char gd[PATH_MAX], common[PATH_MAX], line[PATH_MAX];
	struct stat st;
	if (stat(dotgit, &st) != 0)
		return false;
	if (S_ISDIR(st.st_mode)) {
		plumb_strlcpy(gd, dotgit, sizeof(gd));
	} else {
		if (!first_line(dotgit, line, sizeof(line)) || strncmp(line, "gitdir:", 7) != 0)
			return false;
		const char *p = line + 7;
		while (*p == ' ')
			p++;
		if (p[0] == '/') {
			snprintf(gd, sizeof(gd), "%s", p);
		} else {
			/* relative to the directory holding the .git file */
			char base[PATH_MAX];
			plumb_strlcpy(base, dotgit, sizeof(base));
			char *slash = strrchr(base, '/');
			if (slash)
				*slash = '\0';
			snprintf(gd, sizeof(gd), "%.2000s/%.2000s", base, p);
		}
	}
	const char *commonp = NULL;
	char cpath[PATH_MAX + 16];
	snprintf(cpath, sizeof(cpath), "%s/commondir", gd);
	if (first_line(cpath, line, sizeof(line))) {
		if (line[0] == '/')
			snprintf(common, sizeof(common), "%s", line);
		else
			snprintf(common, sizeof(common), "%.2000s/%.2000s", gd, line);
		commonp = common;
	}
	snprintf(cpath, sizeof(cpath), "%s/HEAD", gd);
	if (!first_line(cpath, line, sizeof(line)))
		return false;
	if (is_hex40(line)) {
		snprintf(out, outlen, "%.40s", line);
		return true;
	}
	if (strncmp(line, "ref:", 4) != 0)
		return false;
	const char *ref = line + 4;
	while (*ref == ' ')
		ref++;
	return resolve_ref(gd, commonp, ref, out, outlen);
}

int plumb_reconcile_revision(const char *dir, char *out, size_t outlen)
{
	out[0] = '\0';
	char cur[PATH_MAX];
	if (!realpath(dir, cur))
		return PLUMB_ENOENT;
	struct stat st;
	if (stat(cur, &st) == 0 && !S_ISDIR(st.st_mode)) {
		char *slash = strrchr(cur, '/');
		if (slash && slash != cur)
			*slash = '\0';
	}
	for (;;) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/REVISION", cur);
		if (first_line(path, out, outlen))
			return 0;
		snprintf(path, sizeof(path), "%s/.git", cur);
		if (stat(path, &st) == 0)
			return git_head(path, out, outlen) ? 0 : (out[0] = '\0', 0);
		char *slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;
		*slash = '\0';
	}
	return 0;
}
