/*
 * plumb export: live endpoints and everything they use, written back as manifests.
 *
 * Observes one region through the same session as plan (list-first, the state cache), asks
 * pkg/export which resources the endpoints use, observes again with those wanted until each is
 * described (an endpoint names its config, the config its models and topics), then writes the
 * documents pkg/export builds: to stdout, or one file per endpoint stack into -d DIR (refusing
 * to overwrite without --force). Exit 0 written, 1 error (an unknown endpoint, AWS, files),
 * 64 bad command line.
 */
#include "cli.h"

#include "apply/apply.h"
#include "export/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: plumb export (--endpoint NAME [--endpoint NAME]... | --all) [--region R]\n"
	"                    [-d DIR | --dir DIR] [--state FILE] [--refresh auto|full]\n"
	"                    [--cached] [--force]\n\n"
	"Writes manifests for live endpoints and what they use (model, endpoint config, scalable\n"
	"targets and policies, alarms that watch the endpoint, topics), with references instead\n"
	"of names and ARNs and AWS defaults left out, so that 'plumb plan' on them shows no\n"
	"changes. Resources nobody owns yet are taken over with 'plumb apply --adopt'.\n\n"
	"      --endpoint NAME   an endpoint to export (repeatable)\n"
	"      --all             every endpoint of the region\n"
	"      --region R        the region (default AWS_REGION / AWS_DEFAULT_REGION / profile)\n"
	"  -d, --dir DIR         write DIR/defaults.yaml, DIR/<endpoint>.yaml per endpoint and\n"
	"                        DIR/shared.yaml (what several endpoints use); default: stdout\n"
	"      --force           overwrite files that exist in DIR\n"
	"      --state FILE      state cache (default .plumb/state.db)\n"
	"      --refresh MODE    auto: describe only what moved since the cache (default);\n"
	"                        full: describe everything exported again\n"
	"      --cached          export from the state file alone, with no AWS call\n\n"
	"Exit status: 0 written, 1 error (an unknown endpoint, AWS, files), 64 bad command line.\n";

struct flags {
	struct plumb_vec endpoints; /* const char * */
	bool all;                   /* --all */
	const char *region;         /* --region */
	const char *dir;            /* -d DIR */
	bool force;                 /* --force */
	int refresh;                /* enum plumb_refresh */
	bool cached;                /* --cached */
};

static int parse_flags(int nrest, char **rest, struct flags *f)
{
	for (int i = 0; i < nrest; i++) {
		const char *a = rest[i], *v = NULL;
		static const char *const valued[] = { "--endpoint", "--region", "--dir", "-d",
						      "--refresh" };
		const char *name = NULL;
		for (size_t k = 0; k < PLUMB_ARRAY_LEN(valued) && !name; k++) {
			size_t n = strlen(valued[k]);
			if (strcmp(a, valued[k]) == 0) {
				if (i + 1 >= nrest)
					return plumb_cli_usage_error("export", "%s needs a value", a);
				name = valued[k];
				v = rest[++i];
			} else if (valued[k][1] == '-' && strncmp(a, valued[k], n) == 0 && a[n] == '=') {
				name = valued[k];
				v = a + n + 1;
			}
		}
		if (name && strcmp(name, "--endpoint") == 0) {
			if (!*v)
				return plumb_cli_usage_error("export", "--endpoint needs a name");
			plumb_vec_push(&f->endpoints, (void *)v);
		} else if (name && strcmp(name, "--region") == 0) {
			f->region = v;
		} else if (name && (strcmp(name, "--dir") == 0 || strcmp(name, "-d") == 0)) {
			f->dir = v;
		} else if (name) {
			if (strcmp(v, "auto") == 0)
				f->refresh = PLUMB_REFRESH_AUTO;
			else if (strcmp(v, "full") == 0)
				f->refresh = PLUMB_REFRESH_FULL;
			else
				return plumb_cli_usage_error("export",
							     "--refresh takes auto or full, not '%s'", v);
		} else if (strcmp(a, "--all") == 0) {
			f->all = true;
		} else if (strcmp(a, "--force") == 0) {
			f->force = true;
		} else if (strcmp(a, "--cached") == 0) {
			f->cached = true;
		} else {
			return plumb_cli_usage_error("export", "unknown %s '%s'",
						     a[0] == '-' ? "option" : "argument", a);
		}
	}
	if (f->all == (f->endpoints.len > 0))
		return plumb_cli_usage_error("export", "give --endpoint NAME (repeatable) or --all");
	if (f->cached && f->refresh == PLUMB_REFRESH_FULL)
		return plumb_cli_usage_error("export",
					     "--cached and --refresh full contradict each other");
	return 0;
}

/* The resources to describe, as the session's observe wants them (plumb_resource shells). */
struct wants {
	struct plumb_vec res;   /* struct plumb_resource * handed to the session */
	struct plumb_vec owned; /* every shell allocated, targets of policies included */
};

static void wants_release(struct wants *w)
{
	for (size_t i = 0; i < w->owned.len; i++) {
		struct plumb_resource *r = w->owned.items[i];
		plumb_vec_release(&r->deps);
		free(r);
	}
	plumb_vec_release(&w->owned);
	plumb_vec_release(&w->res);
}

static struct plumb_resource *shell(struct wants *w, enum plumb_kind k, const char *name,
				    const char *region)
{
	struct plumb_resource *r = calloc(1, sizeof(*r));
	if (!r || plumb_vec_push(&w->owned, r) != 0) {
		free(r);
		return NULL;
	}
	r->kind = k;
	r->name = name;
	r->physical = name;
	r->region = region;
	return r;
}

/* Sets w to x->needs; returns how many of them were not wanted before, or -1. */
static int wants_set(struct wants *w, const struct plumb_export *x, const char *region)
{
	int fresh = 0;
	for (size_t i = 0; i < x->needs.len; i++) {
		const struct plumb_export_need *n = x->needs.items[i];
		bool known = false;
		for (size_t j = 0; j < w->res.len && !known; j++) {
			const struct plumb_resource *r = w->res.items[j];
			const char *p = plumb_resource_parent(r);
			known = r->kind == n->kind && strcmp(r->physical, n->name) == 0 &&
				(!n->parent || (p && strcmp(p, n->parent) == 0));
		}
		if (known)
			continue;
		struct plumb_resource *r = shell(w, n->kind, n->name, region);
		if (!r || plumb_vec_push(&w->res, r) != 0)
			return -1;
		if (n->parent) {
			struct plumb_resource *t =
				shell(w, PLUMB_KIND_SCALABLE_TARGET, n->parent, region);
			if (!t || plumb_vec_push(&r->deps, t) != 0)
				return -1;
		}
		fresh++;
	}
	return fresh;
}

static int write_file(const char *dir, const struct plumb_export_file *f, bool force,
		      struct plumb_err *err)
{
	char path[4096], tmp[4200];
	if (snprintf(path, sizeof(path), "%s/%s", dir, f->name) >= (int)sizeof(path))
		return plumb_err_set(err, PLUMB_EINVAL, "%s/%s: path too long", dir, f->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return plumb_err_sys(err, PLUMB_EIO, "cannot write %s", tmp);
	bool ok = write(fd, f->yaml, f->len) == (ssize_t)f->len && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	/* without --force a file that appeared meanwhile is still not replaced */
	if (ok && !force) {
		ok = link(tmp, path) == 0;
		int saved = errno;
		unlink(tmp);
		if (!ok) {
			errno = saved;
			return plumb_err_sys(err, PLUMB_EEXIST, "cannot write %s", path);
		}
		return 0;
	}
	if (!ok || rename(tmp, path) != 0) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "cannot write %s", path);
		unlink(tmp);
		return rc;
	}
	return 0;
}

static int run(struct plumb_cli *cli, struct flags *f)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	struct plumb_session s;
	struct plumb_export x;
	struct wants w = { PLUMB_VEC_INIT, PLUMB_VEC_INIT };
	plumb_export_init(&x);
	int code = PLUMB_EXIT_FAIL;
	struct plumb_session_opts so = {
		.state_path = cli->state,
		.state_mode = f->cached ? PLUMB_STATE_READ : PLUMB_STATE_WRITE,
		.holder = "plumb export",
		.region_hint = f->region,
		.offline = f->cached,
	};
	if (plumb_session_open(&s, &so, &err) != 0) {
		plumb__cli_print_err("export", &err);
		plumb_export_release(&x);
		return PLUMB_EXIT_FAIL;
	}
	if (f->region)
		plumb_strlcpy(s.default_region, f->region, sizeof(s.default_region));
	if (!s.default_region[0]) {
		fprintf(stderr, "plumb export: no region: give --region, or set AWS_REGION\n");
		goto out;
	}
	const char *region = s.default_region;
	const char *env_owner = getenv("PLUMB_OWNER");
	const char *owner = env_owner && *env_owner ? env_owner : "plumb";
	struct plumb_export_opts xo = {
		.region = region,
		.account = s.account[0] ? s.account : NULL,
		.endpoints = (const char *const *)f->endpoints.items,
		.nendpoints = f->endpoints.len,
	};
	/* observe, see what the endpoints use, observe again with that wanted: an endpoint names
	 * its config, a config its models and topics, so a few passes reach the end */
	for (int pass = 0; pass < 6; pass++) {
		if (plumb_session_observe(&s, &w.res, owner, f->refresh, true, &err) != 0) {
			plumb__cli_print_err("export", &err);
			goto out;
		}
		if (plumb_export_select(&x, &s.have, &xo, &err) != 0) {
			plumb__cli_print_err("export", &err);
			goto out;
		}
		int fresh = wants_set(&w, &x, region);
		if (fresh < 0) {
			fprintf(stderr, "plumb export: out of memory\n");
			goto out;
		}
		if ((x.complete && fresh == 0) || f->cached || x.missing.len)
			break;
	}
	if (plumb_export_build(&x, &s.have, &xo, &err) != 0) {
		plumb__cli_print_err("export", &err);
		goto out;
	}
	if (!x.complete) {
		/* a half stack would plan as deletes of what merely was not read */
		fprintf(stderr, "plumb export: some resources the endpoints use %s\n",
			f->cached ? "are not described in the state cache: run without --cached"
				  : "could not be described");
		goto out;
	}
	for (size_t i = 0; i < x.warnings.len; i++)
		fprintf(stderr, "plumb export: warning: %s\n", (const char *)x.warnings.items[i]);
	if (!f->dir) {
		for (size_t i = 0; i < x.files.len; i++) {
			const struct plumb_export_file *ef = x.files.items[i];
			fwrite(ef->yaml, 1, ef->len, stdout);
		}
		code = fflush(stdout) == 0 ? PLUMB_EXIT_OK : PLUMB_EXIT_FAIL;
		goto out;
	}
	if (mkdir(f->dir, 0755) != 0 && errno != EEXIST) {
		plumb_err_sys(&err, PLUMB_EIO, "cannot create %s", f->dir);
		plumb__cli_print_err("export", &err);
		goto out;
	}
	if (!f->force) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		for (size_t i = 0; i < x.files.len; i++) {
			const struct plumb_export_file *ef = x.files.items[i];
			char path[4096];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", f->dir, ef->name);
			if (lstat(path, &st) == 0)
				plumb_buf_addf(&b, "%s%s", b.len ? ", " : "", path);
		}
		if (b.len) {
			fprintf(stderr, "plumb export: refusing to overwrite %s (use --force)\n", b.buf);
			plumb_buf_release(&b);
			goto out;
		}
		plumb_buf_release(&b);
	}
	unsigned docs = 0;
	for (size_t i = 0; i < x.files.len; i++) {
		const struct plumb_export_file *ef = x.files.items[i];
		if (write_file(f->dir, ef, f->force, &err) != 0) {
			plumb__cli_print_err("export", &err);
			goto out;
		}
		docs += ef->docs;
	}
	fprintf(stderr, "exported %u endpoint%s (%u documents) from %s into %s\n",
		x.counts[PLUMB_KIND_ENDPOINT], x.counts[PLUMB_KIND_ENDPOINT] == 1 ? "" : "s", docs,
		region, f->dir);
	code = PLUMB_EXIT_OK;
out:
	wants_release(&w);
	plumb_export_release(&x);
	plumb_session_close(&s);
	return code;
}

int plumb_cmd_export(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest = 0;
	char **rest = NULL;
	int prc = plumb_cli_parse(&cli, "export", usage, PLUMB_CLI_O_IS_OUT, argc, argv, &nrest,
				  &rest);
	if (prc < 0)
		return PLUMB_EXIT_OK;
	if (prc > 0)
		return prc;
	struct flags f = { .refresh = PLUMB_REFRESH_AUTO };
	prc = parse_flags(nrest, rest, &f);
	free(rest);
	if (prc == 0 && (cli.manifests.len != 1 || strcmp(cli.manifests.items[0], ".") != 0))
		prc = plumb_cli_usage_error("export", "export reads no manifests (-f): it writes them");
	int code = prc ? prc : run(&cli, &f);
	plumb_vec_release(&f.endpoints);
	plumb_cli_release(&cli);
	return code;
}
