/*
 * The manifest watcher. libuv's fs events are not recursive on Linux, so every directory under
 * each root gets a watch of its own, and the parent of each root one more: git-sync publishes a
 * checkout by renaming a symlink there, and an editor saves by renaming a temporary file into
 * place, and both show up as events in the directory that holds the name. Events restart a
 * debounce timer; when it fires the watch set is brought up to date (new directories, a root
 * whose real path moved) and a pass is requested.
 */
#include "reconcile_int.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DIRS 4096

struct rc_watch_dir {
	uv_fs_event_t h;           /* the watch */
	char *path;                /* the directory */
	char *only;                /* the parent of a root: only this name matters; NULL: all */
	struct rc_watch *w;        /* owner */
	struct rc_watch_dir *next; /* list */
	bool seen;                 /* still present at the last rescan */
};

static void on_dir_closed(uv_handle_t *h)
{
	struct rc_watch_dir *wd = h->data;
	free(wd->path);
	free(wd->only);
	free(wd);
}

/*
 * Whether a name in a watched directory can change the manifests: YAML files, a REVISION file,
 * and directories (names without a dot). Editors' swap and backup files, the state file and
 * its journal, and hidden entries cannot.
 */
static bool relevant(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || name[0] == '.' || name[n - 1] == '~')
		return false;
	if ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0))
		return true;
	return strcmp(name, "REVISION") == 0 || strchr(name, '.') == NULL;
}

static void on_debounce(uv_timer_t *t);

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	(void)events;
	struct rc_watch_dir *wd = h->data;
	struct rc_watch *w = wd->w;
	if (status < 0)
		return;
	if (filename && wd->only ? strcmp(filename, wd->only) != 0
				 : filename && !relevant(filename))
		return;
	w->events++;
	uv_timer_stop(&w->debounce);
	uv_timer_start(&w->debounce, on_debounce, (uint64_t)w->d->o.debounce_ms, 0);
}

static struct rc_watch_dir *find_dir(struct rc_watch *w, const char *path)
{
	for (struct rc_watch_dir *wd = w->dirs; wd; wd = wd->next)
		if (strcmp(wd->path, path) == 0)
			return wd;
	return NULL;
}

static size_t count_dirs(const struct rc_watch *w)
{
	size_t n = 0;
	for (struct rc_watch_dir *wd = w->dirs; wd; wd = wd->next)
		n++;
	return n;
}

static int add_dir(struct rc_watch *w, const char *path, const char *only)
{
	struct rc_watch_dir *have = find_dir(w, path);
	if (have) {
		have->seen = true;
		if (!only || (have->only && strcmp(have->only, only) != 0)) {
			free(have->only); /* a tree directory, or the parent of two roots */
			have->only = NULL;
		}
		return 0;
	}
	if (count_dirs(w) >= MAX_DIRS)
		return PLUMB_ELIMIT;
	struct rc_watch_dir *wd = calloc(1, sizeof(*wd));
	if (!wd || !(wd->path = strdup(path))) {
		free(wd);
		return PLUMB_ENOMEM;
	}
	wd->w = w;
	wd->seen = true;
	if (only && !(wd->only = strdup(only))) {
		free(wd->path);
		free(wd);
		return PLUMB_ENOMEM;
	}
	uv_fs_event_init(w->d->loop, &wd->h);
	wd->h.data = wd;
	if (uv_fs_event_start(&wd->h, on_event, path, 0) != 0) {
		uv_close((uv_handle_t *)&wd->h, on_dir_closed);
		return PLUMB_EIO;
	}
	wd->next = w->dirs;
	w->dirs = wd;
	return 0;
}

/* path and every directory below it that the manifest reader would visit (no hidden ones). */
static void add_tree(struct rc_watch *w, const char *path, int depth)
{
	if (depth > 32 || add_dir(w, path, NULL) != 0)
		return;
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX];
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
			continue;
		struct stat st;
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			add_tree(w, sub, depth + 1);
	}
	closedir(dir);
}

/* The absolute directory holding path, and path's last component. */
static void parent_of(const char *path, char *out, size_t n, char *base, size_t nbase)
{
	char abs[PATH_MAX];
	if (path[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			cwd[0] = '\0';
		snprintf(abs, sizeof(abs), "%.2000s/%.2000s", cwd, path);
	} else {
		plumb_strlcpy(abs, path, sizeof(abs));
	}
	size_t len = strlen(abs);
	while (len > 1 && abs[len - 1] == '/')
		abs[--len] = '\0';
	char *slash = strrchr(abs, '/');
	plumb_strlcpy(base, slash ? slash + 1 : abs, nbase);
	if (slash == abs)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	plumb_strlcpy(out, abs, n);
}

/*
 * Every symlink along path (say /git/repo in /git/repo/manifests, git-sync's link): the
 * directory holding it is watched for that name, so swapping the link starts a pass even
 * when the root lies below it.
 */
static void add_links(struct rc_watch *w, const char *path)
{
	char abs[PATH_MAX], dir[PATH_MAX], base[256];
	parent_of(path, dir, sizeof(dir), base, sizeof(base));
	if (snprintf(abs, sizeof(abs), "%s/%s", strcmp(dir, "/") ? dir : "", base) >=
	    (int)sizeof(abs))
		return;
	for (char *p = abs + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		struct stat st;
		if (lstat(abs, &st) == 0 && S_ISLNK(st.st_mode)) {
			char pdir[PATH_MAX], name[256];
			parent_of(abs, pdir, sizeof(pdir), name, sizeof(name));
			add_dir(w, pdir, name);
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
}

/* Brings the watch set up to date; true when a root's real path moved (a symlink swap). */
static bool rescan(struct rc_watch *w)
{
	bool moved = false;
	for (struct rc_watch_dir *wd = w->dirs; wd; wd = wd->next)
		wd->seen = false;
	for (size_t i = 0; i < w->d->o.npaths; i++) {
		const char *p = w->d->o.paths[i];
		char real[PATH_MAX], parent[PATH_MAX], base[256];
		if (!realpath(p, real))
			real[0] = '\0';
		if (i < w->nroots) {
			if (strcmp(w->roots[i] ? w->roots[i] : "", real) != 0)
				moved = true;
			free(w->roots[i]);
			w->roots[i] = strdup(real);
		}
		parent_of(p, parent, sizeof(parent), base, sizeof(base));
		add_dir(w, parent, base);
		add_links(w, p);
		struct stat st;
		if (real[0] && stat(real, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				add_tree(w, real, 0);
		}
	}
	/* directories that went away (an old git-sync worktree, a removed folder) */
	for (struct rc_watch_dir **pp = &w->dirs; *pp;) {
		struct rc_watch_dir *wd = *pp;
		if (!wd->seen) {
			*pp = wd->next;
			uv_close((uv_handle_t *)&wd->h, on_dir_closed);
		} else {
			pp = &wd->next;
		}
	}
	return moved;
}

static void on_debounce(uv_timer_t *t)
{
	struct rc_watch *w = t->data;
	bool moved = rescan(w);
	char n[16];
	snprintf(n, sizeof(n), "%u", w->events);
	plumb_log(PLUMB_LOG_INFO, "manifests.changed", "events", n, "root_moved",
		  moved ? "true" : "false", NULL);
	w->events = 0;
	plumb__rc_request_pass(w->d, "watch");
}

int plumb__rc_watch_start(struct rc_watch *w, struct plumb_reconciler *d, struct plumb_err *err)
{
	memset(w, 0, sizeof(*w));
	w->d = d;
	w->roots = calloc(d->o.npaths ? d->o.npaths : 1, sizeof(char *));
	if (!w->roots)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	w->nroots = d->o.npaths;
	uv_timer_init(d->loop, &w->debounce);
	w->debounce.data = w;
	w->up = true;
	rescan(w);
	if (!w->dirs)
		plumb_log(PLUMB_LOG_WARN, "watch.none", "detail",
			  "no manifest directory could be watched: changes are seen at resync only",
			  NULL);
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	(void)h;
}

void plumb__rc_watch_stop(struct rc_watch *w)
{
	if (!w->up)
		return;
	w->up = false;
	while (w->dirs) {
		struct rc_watch_dir *wd = w->dirs;
		w->dirs = wd->next;
		uv_close((uv_handle_t *)&wd->h, on_dir_closed);
	}
	uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
	for (size_t i = 0; i < w->nroots; i++)
		free(w->roots[i]);
	free(w->roots);
	w->roots = NULL;
}
