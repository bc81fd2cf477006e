/*
 * apply_tool — a test-only driver of the pkg/apply executor, built into build/tests/ and never
 * installed. It runs the actions of a JSON plan (the output of `plumb plan --output json`, or a
 * hand-written {"actions": [...]} / bare array) against whatever AWS_ENDPOINT_URL names, with
 * the real session (STS, account, state file, journal).
 *
 *   apply_tool run PLAN.json [--state FILE] [--target ADDR] [--no-recover] [--max-inflight N]
 *                            [--poll-ms N] [--run-id ID]
 *       recovers open journal rows first (unless --no-recover), runs, prints
 *       {"recovery": {...}, "result": {...}} on stdout and one JSON line per event on stderr
 *       (flushed, so a test can kill the tool at a chosen event); exit 0 all done, 1 not
 *   apply_tool recover [--state FILE]      prints the recovery counts
 *   apply_tool failed PLAN.json [--state FILE]   prints plumb_apply_failed_hashes
 *   apply_tool target PLAN.json ADDR       prints the --target reduction (no AWS)
 *
 * PLAN.json "-" reads stdin. Exit 2 on usage or setup errors.
 */
#include "apply/apply.h"

#include <stdlib.h>
#include <string.h>

static json_t *load_plan(const char *path, json_t **doc)
{
	json_error_t je;
	*doc = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
	if (!*doc) {
		fprintf(stderr, "apply_tool: %s: %s (line %d)\n", path, je.text, je.line);
		return NULL;
	}
	if (json_is_array(*doc))
		return *doc;
	json_t *a = json_object_get(*doc, "actions");
	if (!json_is_array(a)) {
		fprintf(stderr, "apply_tool: %s: no \"actions\" array\n", path);
		return NULL;
	}
	return a;
}

static void on_event(const struct plumb_apply_event *ev, void *data)
{
	(void)data;
	const struct plumb_apply_action *a = ev->action;
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:i, s:i}", "event",
			      plumb_apply_event_name(ev->type), "id", (json_int_t)a->id, "address",
			      a->address, "status", plumb_apply_status_name(a->status),
			      "endpoint_status", a->endpoint_status, "detail", a->detail,
			      "elapsed_ms", (json_int_t)a->elapsed_ms, "done", (int)ev->totals->done,
			      "failed", (int)ev->totals->failed, "skipped", (int)ev->totals->skipped,
			      "total", (int)ev->totals->total);
	char *s = json_dumps(o, JSON_COMPACT);
	fprintf(stderr, "%s\n", s);
	fflush(stderr);
	free(s);
	json_decref(o);
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
}

static json_t *recovery_json(const struct plumb_apply_recovery *r)
{
	return json_pack("{s:i, s:i, s:i, s:i}", "open", (int)r->open, "done", (int)r->done,
			 "failed", (int)r->failed, "left", (int)r->left);
}

static int usage(void)
{
	fprintf(stderr, "usage: apply_tool run|recover|failed|target ... (see the source)\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	const char *plan = NULL, *state = NULL, *target = NULL, *run_id = NULL;
	bool recover = true;
	struct plumb_apply_opts opts = { 0 };
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--state") == 0 && v) {
			state = v;
			i++;
		} else if (strcmp(a, "--target") == 0 && v) {
			target = v;
			i++;
		} else if (strcmp(a, "--max-inflight") == 0 && v) {
			opts.max_inflight = (unsigned)strtoul(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--poll-ms") == 0 && v) {
			opts.poll_ms = strtoll(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--run-id") == 0 && v) {
			run_id = v;
			i++;
		} else if (strcmp(a, "--no-recover") == 0) {
			recover = false;
		} else if (a[0] == '-' && a[1]) {
			return usage();
		} else if (!plan) {
			plan = a;
		} else if (strcmp(cmd, "target") == 0 && !target) {
			target = a;
		} else {
			return usage();
		}
	}
	opts.run_id = run_id;
	json_t *doc = NULL, *actions = NULL;
	if (strcmp(cmd, "recover") != 0) {
		if (!plan)
			return usage();
		if (!(actions = load_plan(plan, &doc))) {
			json_decref(doc);
			return 2;
		}
	}
	struct plumb_err err;
	plumb_err_clear(&err);
	if (target) {
		json_t *t;
		if (plumb_apply_target(actions, target, &t, &err) != 0) {
			fprintf(stderr, "apply_tool: %s\n", err.msg);
			json_decref(doc);
			return 2;
		}
		json_decref(doc);
		doc = actions = t;
	}
	if (strcmp(cmd, "target") == 0) {
		print_json(actions);
		json_decref(doc);
		return 0;
	}

	plumb_log_setup(stderr, PLUMB_LOG_WARN, PLUMB_LOG_LOGFMT, NULL);
	struct plumb_session s;
	struct plumb_session_opts so = { .state_path = state, .state_mode = PLUMB_STATE_WRITE,
					 .holder = "apply_tool", .region_hint = "us-east-1" };
	if (plumb_session_open(&s, &so, &err) != 0) {
		fprintf(stderr, "apply_tool: %s\n", err.msg);
		json_decref(doc);
		return 2;
	}
	int rc = 2;
	if (strcmp(cmd, "failed") == 0) {
		json_t *refused;
		if (plumb_apply_failed_hashes(s.state, actions, &refused, &err) == 0) {
			print_json(refused);
			json_decref(refused);
			rc = 0;
		}
	} else if (strcmp(cmd, "recover") == 0) {
		struct plumb_apply_recovery rec;
		if (plumb_apply_recover(&s, &rec, &err) == 0) {
			json_t *o = recovery_json(&rec);
			print_json(o);
			json_decref(o);
			rc = 0;
		}
	} else if (strcmp(cmd, "run") == 0) {
		struct plumb_apply_recovery rec = { 0 };
		if (!recover || plumb_apply_recover(&s, &rec, &err) == 0) {
			opts.on_event = on_event;
			struct plumb_apply *ex = NULL;
			int arc = plumb_apply_run(&s, actions, &opts, &ex, &err);
			if (ex) {
				json_t *o = json_pack("{s:o, s:o, s:i}", "recovery", recovery_json(&rec),
						      "result", plumb_apply_result_json(ex), "rc",
						      arc);
				print_json(o);
				json_decref(o);
				plumb_apply_free(ex);
				rc = arc == 0 ? 0 : 1;
			}
		}
	} else {
		rc = usage();
	}
	if (rc == 2 && err.msg[0])
		fprintf(stderr, "apply_tool: %s\n", err.msg);
	plumb_session_close(&s);
	json_decref(doc);
	return rc;
}
