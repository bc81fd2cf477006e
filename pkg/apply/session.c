/*
 * The session behind plan, apply and drift: one loop, one HTTP pool, an AWS client per region,
 * the caller's identity, the account guard, the state file, and observation of every region
 * the manifests name (plus the default region, where orphans of an emptied manifest live).
 *
 * The account comes from STS GetCallerIdentity, never from configuration: the guard compares
 * what the credentials really are with what Defaults expects, before anything else happens.
 * Offline (--cached) sessions make no call at all; their account is Defaults' accountId or the
 * one the state file last observed.
 *
 * Owns: the loop, the pool, the clients (freed only after the loop has run their close
 * callbacks), the state handle and the observed set. Blocking helpers run the loop until their
 * own work is done; nothing else is pending on it between calls.
 */
#include "apply/apply.h"

#include <stdlib.h>
#include <string.h>

static struct plumb_session_region *find_region(struct plumb_session *s, const char *name)
{
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		if (strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

static struct plumb_session_region *add_region(struct plumb_session *s, const char *name)
{
	struct plumb_session_region *r = find_region(s, name);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	plumb_strlcpy(r->name, name, sizeof(r->name));
	if (plumb_vec_push(&s->regions, r) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

int plumb_session_aws(struct plumb_session *s, const char *region, struct plumb_aws **out,
		      struct plumb_err *err)
{
	if (s->offline)
		return plumb_err_set(err, PLUMB_EINVAL, "no AWS calls in an offline (--cached) run");
	struct plumb_session_region *r = add_region(s, region);
	if (!r)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	if (!r->aws_up) {
		struct plumb_aws_opts o = { .profile = s->profile_name, .region = region };
		int rc = plumb_aws_init(&r->aws, &s->loop, &s->http, &o, err);
		if (rc)
			return rc;
		r->aws_up = true;
	}
	*out = &r->aws;
	return 0;
}

static int whoami(struct plumb_session *s, const char *region, struct plumb_err *err)
{
	struct plumb_aws *a;
	int rc = plumb_session_aws(s, region, &a, err);
	if (rc)
		return rc;
	json_t *reply;
	if ((rc = plumb_aws_call_wait(a, PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY, NULL, &reply,
				      err)) != 0)
		return rc;
	const char *acct = json_string_value(json_object_get(reply, "Account"));
	const char *arn = json_string_value(json_object_get(reply, "Arn"));
	plumb_strlcpy(s->account, acct ? acct : "", sizeof(s->account));
	plumb_strlcpy(s->caller_arn, arn ? arn : "", sizeof(s->caller_arn));
	plumb_strlcpy(s->provider, plumb_aws_provider_name(a->creds.provider),
		      sizeof(s->provider));
	json_decref(reply);
	if (!s->account[0])
		return plumb_err_set(err, PLUMB_EAWS, "sts GetCallerIdentity: no account in the reply");
	return 0;
}

int plumb_session_open(struct plumb_session *s, const struct plumb_session_opts *opts,
		       struct plumb_err *err)
{
	int rc;
	memset(s, 0, sizeof(*s));
	plumb_observed_set_init(&s->have);
	s->offline = opts->offline;
	s->profile_name = opts->profile;
	if (uv_loop_init(&s->loop) != 0)
		return plumb_err_set(err, PLUMB_EIO, "cannot start the event loop");
	s->loop_up = true;
	if ((rc = plumb_aws_profile_load(&s->profile, opts->profile, err)) != 0)
		goto fail;
	s->profile_up = true;
	plumb_aws_region_resolve(&s->profile, s->default_region, sizeof(s->default_region));

	if (!s->offline) {
		if ((rc = plumb_http_init(&s->http, &s->loop, NULL, err)) != 0)
			goto fail;
		s->http_up = true;
		const char *r = s->default_region[0] ? s->default_region
			      : opts->region_hint    ? opts->region_hint
						     : "us-east-1";
		if ((rc = whoami(s, r, err)) != 0)
			goto fail;
		if (opts->expected_account && strcmp(opts->expected_account, s->account) != 0) {
			rc = plumb_err_set(err, PLUMB_ECONFIG,
					   "refusing to run: the credentials (%s, %s) belong to account "
					   "%s, but Defaults accountId is %s",
					   s->caller_arn, s->provider, s->account,
					   opts->expected_account);
			goto fail;
		}
	}

	struct plumb_state_opts so = { .path = opts->state_path,
				       .mode = s->offline ? PLUMB_STATE_READ : opts->state_mode,
				       .holder = opts->holder };
	if ((rc = plumb_state_open(&s->state, &so, err)) != 0) {
		if (rc == PLUMB_ENOENT && s->offline)
			rc = plumb_err_set(err, PLUMB_ENOENT,
					   "--cached needs a state file, and %s does not exist: run "
					   "without --cached once to observe AWS",
					   opts->state_path ? opts->state_path : ".plumb/state.db");
		goto fail;
	}
	if (s->offline) {
		if (opts->expected_account) {
			plumb_strlcpy(s->account, opts->expected_account, sizeof(s->account));
		} else {
			char *v = NULL;
			if ((rc = plumb_state_meta_get(s->state, "last_account", &v, err)) != 0)
				goto fail;
			plumb_strlcpy(s->account, v ? v : "", sizeof(s->account));
			free(v);
			if (!s->account[0]) {
				rc = plumb_err_set(err, PLUMB_ENOENT,
						   "the state file has never observed an account: run "
						   "without --cached once");
				goto fail;
			}
		}
	}
	return 0;
fail:
	plumb_session_close(s);
	return rc;
}

void plumb_session_close(struct plumb_session *s)
{
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		if (r->aws_up)
			plumb_aws_close(&r->aws);
	}
	if (s->http_up)
		plumb_http_close(&s->http);
	if (s->loop_up)
		uv_run(&s->loop, UV_RUN_DEFAULT);
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		if (r->ob)
			plumb_observe_free(r->ob);
		free(r->want);
		free(r);
	}
	plumb_vec_release(&s->regions);
	if (s->loop_up)
		uv_loop_close(&s->loop);
	if (s->state)
		plumb_state_close(s->state);
	plumb_observed_set_release(&s->have);
	if (s->profile_up)
		plumb_aws_profile_release(&s->profile);
	memset(s, 0, sizeof(*s));
}

static void observed_all(struct plumb_session *s);

static void on_observed(int rc, const struct plumb_err *err, void *data)
{
	struct plumb_session_region *r = data;
	r->done = true;
	r->rc = rc;
	if (rc && err)
		r->err = *err;
	observed_all(r->session);
}

static int push_want(struct plumb_session_region *r, const struct plumb_observe_want *w)
{
	if (r->nwant == r->awant) {
		size_t n = r->awant ? r->awant * 2 : 16;
		struct plumb_observe_want *nw = realloc(r->want, n * sizeof(*nw));
		if (!nw)
			return PLUMB_ENOMEM;
		r->want = nw;
		r->awant = n;
	}
	r->want[r->nwant++] = *w;
	return 0;
}

static int prepare_regions(struct plumb_session *s, const struct plumb_vec *want,
			   struct plumb_err *err)
{
	if (s->default_region[0] && !add_region(s, s->default_region))
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->regions.len; i++)
		((struct plumb_session_region *)s->regions.items[i])->nwant = 0;
	for (size_t i = 0; i < want->len; i++) {
		struct plumb_resource *res = want->items[i];
		if (res->kind == PLUMB_KIND_DEFAULTS)
			continue;
		if (!res->region || !res->region[0]) {
			if (!s->default_region[0])
				return plumb_err_set(err, PLUMB_ECONFIG,
						     "%s/%s has no region: set one in Defaults "
						     "(spec.region) or metadata.region, or set AWS_REGION",
						     plumb_kind_name(res->kind), res->name);
			res->region = s->default_region;
		}
		struct plumb_session_region *r = add_region(s, res->region);
		struct plumb_observe_want w = {
			.kind = res->kind,
			.name = res->physical,
			.parent = plumb_resource_parent(res),
		};
		if (!r || push_want(r, &w) != 0)
			return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	}
	return 0;
}

static int load_cached(struct plumb_session *s, struct plumb_err *err)
{
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		char key[96];
		char *v = NULL;
		snprintf(key, sizeof(key), "observed:%s:%s", s->account, r->name);
		int rc = plumb_state_meta_get(s->state, key, &v, err);
		if (rc)
			return rc;
		bool seen = v != NULL;
		free(v);
		if (!seen)
			return plumb_err_set(err, PLUMB_ENOENT,
					     "--cached: the state file has no observation of account "
					     "%s in %s: run without --cached once",
					     s->account, r->name);
		if ((rc = plumb_state_load_observed(s->state, s->account, r->name, &s->have, err)))
			return rc;
	}
	return 0;
}

/* Sums the regions' passes into s->stats once every started pass called back; then reports. */
static void observed_all(struct plumb_session *s)
{
	struct plumb_session_obs *o = &s->obs;
	if (!o->active)
		return;
	size_t done = 0;
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		done += r->ob && r->done;
	}
	if (done < o->started)
		return;
	int rc = o->rc;
	struct plumb_err err = o->err;
	memset(&s->stats, 0, sizeof(s->stats));
	uint64_t calls1 = 0;
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		if (!r->aws_up)
			continue;
		calls1 += r->aws.stats.calls;
		if (!r->ob)
			continue;
		if (r->rc && rc == 0) {
			rc = r->rc;
			err = r->err;
		}
		const struct plumb_observe_stats *st = plumb_observe_stats(r->ob);
		s->stats.list_calls += st->list_calls;
		s->stats.describe_calls += st->describe_calls;
		s->stats.tag_calls += st->tag_calls;
		s->stats.resources += st->resources;
		s->stats.unchanged += st->unchanged;
		s->stats.removed += st->removed;
		if (st->elapsed_ms > s->stats.elapsed_ms)
			s->stats.elapsed_ms = st->elapsed_ms;
	}
	s->aws_calls = calls1 - o->calls0;
	if (rc == 0)
		rc = plumb_state_meta_set(s->state, "last_account", s->account, &err);
	o->active = false;
	plumb_session_observe_cb cb = o->cb;
	void *data = o->data;
	o->cb = NULL;
	cb(rc, rc ? &err : NULL, data);
}

int plumb_session_observe_start(struct plumb_session *s, const struct plumb_vec *want,
				const char *owner, enum plumb_refresh refresh, bool adopt,
				struct plumb_observed_set *out, plumb_session_observe_cb cb,
				void *data, struct plumb_err *err)
{
	if (s->obs.active)
		return plumb_err_set(err, PLUMB_EBUSY, "an observation is already running");
	if (s->offline)
		return plumb_err_set(err, PLUMB_EINVAL, "cannot observe offline (--cached)");
	int rc = prepare_regions(s, want, err);
	if (rc)
		return rc;
	uint64_t calls0 = 0;
	for (size_t i = 0; i < s->regions.len; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		struct plumb_aws *a;
		if ((rc = plumb_session_aws(s, r->name, &a, err)) != 0)
			return rc;
		calls0 += a->stats.calls;
	}
	struct plumb_session_obs *o = &s->obs;
	memset(o, 0, sizeof(*o));
	o->calls0 = calls0;
	o->cb = cb;
	o->data = data;
	for (size_t i = 0; i < s->regions.len && rc == 0; i++) {
		struct plumb_session_region *r = s->regions.items[i];
		if (r->ob) {
			plumb_observe_free(r->ob);
			r->ob = NULL;
		}
		r->done = false;
		r->rc = 0;
		r->session = s;
		struct plumb_observe_opts oo = {
			.account = s->account,
			.owner = owner,
			.refresh = refresh,
			.adopt = adopt,
			.want = r->want,
			.nwant = r->nwant,
		};
		rc = plumb_observe_start(&r->ob, &r->aws, s->state, &oo, out, on_observed, r, err);
		if (rc == 0)
			o->started++;
	}
	if (rc && o->started == 0)
		return rc;
	/* what started runs to its end; a failed start is reported through the callback */
	if (rc) {
		o->rc = rc;
		o->err = *err;
	}
	o->active = true;
	return 0;
}

struct observe_wait {
	bool done;
	int rc;
	struct plumb_err err;
};

static void on_observe_done(int rc, const struct plumb_err *err, void *data)
{
	struct observe_wait *w = data;
	w->done = true;
	w->rc = rc;
	if (rc && err)
		w->err = *err;
}

int plumb_session_observe(struct plumb_session *s, const struct plumb_vec *want,
			  const char *owner, enum plumb_refresh refresh, bool adopt,
			  struct plumb_err *err)
{
	plumb_observed_set_release(&s->have);
	plumb_observed_set_init(&s->have);
	if (s->offline) {
		int rc = prepare_regions(s, want, err);
		return rc ? rc : load_cached(s, err);
	}
	struct observe_wait w = { 0 };
	int rc = plumb_session_observe_start(s, want, owner, refresh, adopt, &s->have,
					     on_observe_done, &w, err);
	if (rc)
		return rc;
	while (!w.done)
		uv_run(&s->loop, UV_RUN_ONCE);
	if (w.rc && err)
		*err = w.err;
	return w.rc;
}
