/*
 * plumb run: the long-running reconciler (pkg/reconcile). This file parses flags, sets up the
 * log, and hands pkg/reconcile the CLI's manifest loader.
 */
#include "cli.h"

#include "model/model.h"
#include "reconcile/reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: plumb run [-f PATH]... [--state FILE] [--mode apply|observe] [--resync DUR]\n"
	"                 [--full-resync-every N] [--debounce DUR] [--listen HOST:PORT|off]\n"
	"                 [--sync-token-file FILE] [--shutdown-timeout DUR] [--adopt]\n"
	"                 [--prune|--no-prune] [--log-format logfmt|json]\n"
	"                 [--log-level debug|info|warn|error]\n\n"
	"Keeps AWS equal to the manifests until stopped: watches the manifest directories,\n"
	"resyncs on an interval, serves health, readiness, metrics and status on a local port.\n\n"
	"  -f, --manifests PATH     manifest file or directory, watched (repeatable; default .)\n"
	"      --state FILE         state file, locked for the daemon's life (default\n"
	"                           .plumb/state.db)\n"
	"      --mode MODE          apply (default), or observe: report drift, change nothing\n"
	"      --resync DUR         observe everything this often, ±10% jitter (default 5m)\n"
	"      --full-resync-every N  every Nth resync re-reads every resource, as\n"
	"                           --refresh full does (default 12)\n"
	"      --debounce DUR       quiet time after a manifest change (default 300ms)\n"
	"      --listen ADDR        status port HOST:PORT, or off (default 127.0.0.1:9464)\n"
	"      --sync-token-file FILE  bearer token that POST /sync requires (or\n"
	"                           $PLUMB_SYNC_TOKEN)\n"
	"      --shutdown-timeout DUR  on SIGTERM, how long in-flight work may take (default 30s)\n"
	"      --adopt              take over untagged live resources the manifests name\n"
	"      --prune, --no-prune  delete owned resources no manifest names, or keep them\n"
	"                           (default: the Defaults prune policy)\n"
	"      --log-format FORMAT  logfmt (default) or json: one line per event on stderr\n"
	"      --log-level LEVEL    debug, info (default), warn or error\n\n"
	"Signals: SIGHUP re-reads the manifests now; SIGTERM or SIGINT stop taking work and\n"
	"exit 0 once in-flight calls finished (journaled for the next start otherwise).\n"
	"Endpoints: GET /healthz /readyz /metrics /status, POST /sync.\n"
	"Exit status: 0 stopped by a signal, 1 error (e.g. another daemon holds the state).\n";

/* "300ms", "90s", "5m", "1h30m", or plain seconds, into milliseconds; -1 when invalid. */
static int64_t parse_ms(const char *s)
{
	size_t n = strlen(s);
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		return errno || end != s + n - 2 || v < 0 ? -1 : (int64_t)v;
	}
	int64_t secs = plumb_parse_duration(s);
	return secs < 0 ? -1 : secs * 1000;
}

static int load(struct plumb_manifest_set *set, void *data)
{
	return plumb__cli_load(data, set);
}

/* The token's first line, from a file only the daemon's user should read. */
static int read_token(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "plumb run: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	bool ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	out[ok ? strcspn(out, "\r\n") : 0] = '\0';
	if (!out[0]) {
		fprintf(stderr, "plumb run: %s holds no token\n", path);
		return -1;
	}
	return 0;
}

int plumb_cmd_run(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest = 0;
	char **rest = NULL;
	int prc = plumb_cli_parse(&cli, "run", usage, 0, argc, argv, &nrest, &rest);
	if (prc < 0)
		return PLUMB_EXIT_OK;
	if (prc > 0)
		return prc;
	struct plumb_reconcile_opts o = { .prune = -1, .listen = "127.0.0.1:9464" };
	/* the environment gives the defaults (as for every command); the flags win */
	const char *token_file = NULL, *log_format = getenv("PLUMB_LOG_FORMAT"),
		   *log_level = getenv("PLUMB_LOG_LEVEL");
	if (!log_format || (strcmp(log_format, "logfmt") != 0 && strcmp(log_format, "json") != 0))
		log_format = "logfmt";
	if (!log_level || (strcmp(log_level, "debug") && strcmp(log_level, "warn") &&
			   strcmp(log_level, "error")))
		log_level = "info";
	int code = 0;
	for (int i = 0; i < nrest && !code; i++) {
		const char *a = rest[i];
		static const char *const valued[] = { "--mode", "--resync", "--debounce", "--listen",
						      "--sync-token-file", "--shutdown-timeout",
						      "--log-format", "--log-level",
						      "--full-resync-every" };
		const char *v = NULL, *name = a;
		char key[40];
		for (size_t k = 0; k < PLUMB_ARRAY_LEN(valued); k++) {
			size_t kl = strlen(valued[k]);
			if (strcmp(a, valued[k]) == 0) {
				if (i + 1 >= nrest) {
					code = plumb_cli_usage_error("run", "%s needs a value", a);
					break;
				}
				v = rest[++i];
			} else if (strncmp(a, valued[k], kl) == 0 && a[kl] == '=') {
				v = a + kl + 1;
				snprintf(key, sizeof(key), "%s", valued[k]);
				name = key;
			}
		}
		if (code)
			break;
		int64_t ms;
		if (strcmp(name, "--mode") == 0 && v) {
			if (strcmp(v, "apply") == 0)
				o.observe_only = false;
			else if (strcmp(v, "observe") == 0)
				o.observe_only = true;
			else
				code = plumb_cli_usage_error("run", "--mode takes apply or observe, not '%s'",
							     v);
		} else if ((strcmp(name, "--resync") == 0 || strcmp(name, "--debounce") == 0 ||
			    strcmp(name, "--shutdown-timeout") == 0) && v) {
			if ((ms = parse_ms(v)) <= 0)
				code = plumb_cli_usage_error("run", "%s takes a duration such as 300ms, "
								    "90s or 5m, not '%s'", name, v);
			else if (name[2] == 'r')
				o.resync_ms = ms;
			else if (name[2] == 'd')
				o.debounce_ms = ms;
			else
				o.shutdown_ms = ms;
		} else if (strcmp(name, "--full-resync-every") == 0 && v) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1)
				code = plumb_cli_usage_error("run", "--full-resync-every takes a count "
								    "of 1 or more, not '%s'", v);
			o.full_every = n;
		} else if (strcmp(name, "--listen") == 0 && v) {
			o.listen = strcmp(v, "off") == 0 ? NULL : v;
		} else if (strcmp(name, "--sync-token-file") == 0 && v) {
			token_file = v;
		} else if (strcmp(name, "--log-format") == 0 && v) {
			if (strcmp(v, "logfmt") != 0 && strcmp(v, "json") != 0)
				code = plumb_cli_usage_error("run", "--log-format takes logfmt or json");
			log_format = v;
		} else if (strcmp(name, "--log-level") == 0 && v) {
			if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") &&
			    strcmp(v, "error"))
				code = plumb_cli_usage_error("run", "--log-level takes debug, info, "
								    "warn or error");
			log_level = v;
		} else if (strcmp(a, "--adopt") == 0) {
			o.adopt = true;
		} else if (strcmp(a, "--prune") == 0) {
			o.prune = 1;
		} else if (strcmp(a, "--no-prune") == 0) {
			o.prune = 0;
		} else {
			code = plumb_cli_usage_error("run", "unknown %s '%s'",
						     a[0] == '-' ? "option" : "argument", a);
		}
	}
	free(rest);
	char token[256] = "";
	if (!code && token_file && read_token(token_file, token, sizeof(token)) != 0)
		code = PLUMB_EXIT_FAIL;
	if (!code && !token_file && getenv("PLUMB_SYNC_TOKEN"))
		plumb_strlcpy(token, getenv("PLUMB_SYNC_TOKEN"), sizeof(token));
	if (code) {
		plumb_cli_release(&cli);
		return code;
	}
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	enum plumb_log_level lv = PLUMB_LOG_INFO;
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(levels); i++)
		if (strcmp(log_level, levels[i]) == 0)
			lv = (enum plumb_log_level)i;
	plumb_log_setup(stderr, lv, strcmp(log_format, "json") == 0 ? PLUMB_LOG_JSON
								    : PLUMB_LOG_LOGFMT, NULL);
	setvbuf(stderr, NULL, _IOLBF, 0);

	o.paths = (const char *const *)cli.manifests.items;
	o.npaths = cli.manifests.len;
	o.load = load;
	o.load_data = &cli;
	o.state_path = cli.state;
	o.env_owner = getenv("PLUMB_OWNER");
	o.token = token[0] ? token : NULL;
	struct plumb_err err;
	plumb_err_clear(&err);
	int rc = plumb_reconcile_run(&o, &err);
	memset(token, 0, sizeof(token));
	if (rc == 1) {
		/* the shutdown bound passed with calls in flight: leave now, the journal has them */
		fflush(NULL);
		_exit(PLUMB_EXIT_OK);
	}
	plumb_cli_release(&cli);
	if (rc) {
		plumb__cli_print_err("run", &err);
		return PLUMB_EXIT_FAIL;
	}
	return PLUMB_EXIT_OK;
}
