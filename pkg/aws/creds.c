/*
 * pkg/aws/creds.c — the AWS SDK credential chain (reference §4), decided once at init and
 * fetched asynchronously on the loop whenever the client needs (fresh) credentials.
 *
 * Order: explicit → environment → assume-role profile (role_arn + source_profile or
 * credential_source, chained up to 4 roles) → web identity (profile or env) → static keys in the
 * credentials / config file → container endpoint → IMDS (v2 token, v1 fallback on 403/404/405 or
 * no answer unless AWS_EC2_METADATA_V1_DISABLED). SSO, credential_process and console login are
 * not supported: a profile the chain reaches (the selected one, or a source_profile) that names
 * sso_session, sso_start_url, sso_account_id, sso_role_name or credential_process is an ECONFIG
 * error naming the profile and the key, rather than a silent fall-through to container or IMDS
 * credentials of some other identity. Environment credentials and AWS_WEB_IDENTITY_TOKEN_FILE
 * still win over such a profile, as they do in the SDKs.
 *
 * A fetch is a small state machine: get the base credentials (env/file: copied; web identity:
 * unsigned STS AssumeRoleWithWebIdentity with the token file re-read each time; container: GET
 * with the authorization token re-read each time; IMDS: PUT token, GET role, GET credentials),
 * then one signed STS AssumeRole per role step. Secrets live only in struct plumb_aws_creds and
 * are wiped when replaced; nothing here logs them.
 *
 * Refresh: credentials with an expiry are refreshed in the background once they are within the
 * advisory window of it (calls keep signing with them meanwhile, so nothing waits), and no call
 * signs with them inside the mandatory window — it waits for the fetch. The windows are botocore's
 * (15 and 10 minutes) for credentials that live an hour or more, and scale down to half and a
 * quarter of the lifetime seen at fetch time for shorter ones: with fixed windows, 15-minute
 * credentials (the STS minimum) would be refreshed on every call and could never be used at all
 * once the mandatory window reached back to their issue time. Taking the lifetime from the fetch
 * also backs off geometrically when a provider hands back the same credentials (IMDS and ECS do
 * until they rotate them). A failed refresh while the old credentials still serve is retried
 * after min(10 s, a quarter of what is left) and the old ones are used meanwhile.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum base_kind { BASE_STATIC, BASE_WEB_IDENTITY, BASE_CONTAINER, BASE_IMDS };

struct role_step {
	char arn[512];        /* role to assume */
	char session[80];     /* RoleSessionName */
	char external_id[256];/* "" when none */
	int duration;         /* DurationSeconds, 0 = default */
};

struct plan {
	enum plumb_aws_provider provider; /* reported to the user */
	enum base_kind base;              /* how the first credentials are had */
	struct plumb_aws_creds base_creds;/* BASE_STATIC */
	char token_file[512];             /* BASE_WEB_IDENTITY */
	struct role_step wi;              /* its role */
	char url[512];                    /* BASE_CONTAINER */
	char auth_file[512];              /* token file, "" = use auth_env */
	char auth_env[2048];              /* AWS_CONTAINER_AUTHORIZATION_TOKEN */
	char imds[256];                   /* BASE_IMDS base URL */
	long imds_timeout_ms;
	bool imds_v1_disabled;
	struct role_step roles[4];        /* AssumeRole chain after the base */
	int nroles;
	/* refresh state (wall times, ms) */
	int64_t advisory_ms;              /* from here on refresh in the background */
	int64_t mandatory_ms;             /* from here on no call signs before a fetch */
	int64_t hold_until_ms;            /* a refresh failed: no new one before this */
	bool invalid;                     /* the service said the token expired: fetch first */
	/* fetch state */
	int next_role;                    /* index of the role being assumed */
	struct plumb_aws_creds cur;       /* credentials so far */
	char imds_token[256];             /* IMDSv2 session token, "" = v1 */
	char imds_role[128];              /* instance profile role name */
	struct plumb_aws *a;              /* owner */
};

#define REFRESH_ADVISORY_MS (15 * 60 * 1000)  /* botocore's advisory refresh */
#define REFRESH_MANDATORY_MS (10 * 60 * 1000) /* botocore's mandatory refresh */
#define REFRESH_FAIL_HOLD_MS (10 * 1000)      /* longest pause after a failed refresh */

static struct plan *plan_of(struct plumb_aws *a)
{
	return a->plan;
}

void plumb__aws_refresh_windows(int64_t now, int64_t expires, int64_t *advisory,
				int64_t *mandatory)
{
	int64_t life = expires > now ? expires - now : 0;
	int64_t adv = life / 2 < REFRESH_ADVISORY_MS ? life / 2 : REFRESH_ADVISORY_MS;
	int64_t man = life / 4 < REFRESH_MANDATORY_MS ? life / 4 : REFRESH_MANDATORY_MS;
	*advisory = expires - adv;
	*mandatory = expires - man;
}

enum plumb__aws_creds_verdict plumb__aws_creds_check(struct plumb_aws *a, int64_t now)
{
	struct plan *p = plan_of(a);
	if (!a->have_creds || !p)
		return PLUMB__AWS_CREDS_WAIT;
	bool held = now < p->hold_until_ms; /* a refresh just failed: these still serve */
	if (p->invalid && !held)
		return PLUMB__AWS_CREDS_WAIT;
	if (!a->creds.expires_ms)
		return PLUMB__AWS_CREDS_OK;
	if (now >= a->creds.expires_ms)
		return PLUMB__AWS_CREDS_WAIT;
	if (held)
		return PLUMB__AWS_CREDS_OK;
	if (now >= p->mandatory_ms)
		return PLUMB__AWS_CREDS_WAIT;
	return now >= p->advisory_ms ? PLUMB__AWS_CREDS_REFRESH : PLUMB__AWS_CREDS_OK;
}

void plumb__aws_creds_invalidate(struct plumb_aws *a)
{
	struct plan *p = plan_of(a);
	if (p) {
		p->invalid = true;
		p->hold_until_ms = 0;
	}
}

static bool truthy(const char *v)
{
	return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void session_name(char *out, size_t n, const char *given, const struct plumb_aws *a)
{
	if (given && *given)
		plumb_strlcpy(out, given, n);
	else
		snprintf(out, n, "plumb-%lld", (long long)(plumb_clock_now_ms(a->clock) / 1000));
}

static bool env_creds(struct plumb_aws_creds *c)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN"), *exp = getenv("AWS_CREDENTIAL_EXPIRATION");
	if (!id || !*id || !sk || !*sk)
		return false;
	if (!tok || !*tok)
		tok = getenv("AWS_SECURITY_TOKEN");
	memset(c, 0, sizeof(*c));
	plumb_strlcpy(c->access_key_id, id, sizeof(c->access_key_id));
	plumb_strlcpy(c->secret, sk, sizeof(c->secret));
	if (tok)
		plumb_strlcpy(c->token, tok, sizeof(c->token));
	if (exp && *exp)
		plumb_time_parse_iso8601(exp, &c->expires_ms);
	c->provider = PLUMB_AWS_PROV_ENV;
	plumb_strlcpy(c->detail, "environment", sizeof(c->detail));
	return true;
}

static bool container_host_ok(const char *url)
{
	static const char *const ok[] = { "http://169.254.170.2/", "http://169.254.170.2:",
					  "http://169.254.170.23/", "http://169.254.170.23:",
					  "http://[fd00:ec2::23]" };
	if (strncasecmp(url, "https://", 8) == 0 || plumb_http_url_is_loopback(url))
		return true;
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(ok); i++)
		if (strncasecmp(url, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

static int plan_container(struct plan *p, struct plumb_err *err)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel && *rel)
		snprintf(p->url, sizeof(p->url), "http://169.254.170.2%s", rel);
	else if (full && *full)
		plumb_strlcpy(p->url, full, sizeof(p->url));
	else
		return 0;
	if (!container_host_ok(p->url))
		return plumb_err_set(err, PLUMB_ECONFIG,
				     "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or http to "
				     "loopback or the ECS/EKS link-local hosts");
	const char *f = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *t = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (f && *f)
		plumb_strlcpy(p->auth_file, f, sizeof(p->auth_file));
	else if (t && *t)
		plumb_strlcpy(p->auth_env, t, sizeof(p->auth_env));
	p->base = BASE_CONTAINER;
	p->provider = PLUMB_AWS_PROV_CONTAINER;
	return 1;
}

static void plan_imds(struct plan *p)
{
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	const char *to = getenv("AWS_METADATA_SERVICE_TIMEOUT");
	if (ep && *ep)
		plumb_strlcpy(p->imds, ep, sizeof(p->imds));
	else if (mode && strcasecmp(mode, "IPv6") == 0)
		plumb_strlcpy(p->imds, "http://[fd00:ec2::254]", sizeof(p->imds));
	else
		plumb_strlcpy(p->imds, "http://169.254.169.254", sizeof(p->imds));
	size_t n = strlen(p->imds);
	while (n && p->imds[n - 1] == '/')
		p->imds[--n] = 0;
	p->imds_timeout_ms = 1000;
	if (to && *to) {
		char *end;
		double s = strtod(to, &end);
		if (!*end && s > 0 && s < 600)
			p->imds_timeout_ms = (long)(s * 1000);
	}
	p->imds_v1_disabled = truthy(getenv("AWS_EC2_METADATA_V1_DISABLED"));
	p->base = BASE_IMDS;
	p->provider = PLUMB_AWS_PROV_IMDS;
}

static void fill_role(struct role_step *r, const struct plumb_aws_profile *pf, const char *name,
		      const struct plumb_aws *a)
{
	const char *v;
	plumb_strlcpy(r->arn, plumb_aws_profile_get(pf, name, "role_arn"), sizeof(r->arn));
	session_name(r->session, sizeof(r->session),
		     plumb_aws_profile_get(pf, name, "role_session_name"), a);
	if ((v = plumb_aws_profile_get(pf, name, "external_id")))
		plumb_strlcpy(r->external_id, v, sizeof(r->external_id));
	if ((v = plumb_aws_profile_get(pf, name, "duration_seconds")))
		r->duration = (int)strtol(v, NULL, 10);
}

/* SSO and credential_process: refuse by name instead of falling through the chain. */
static int unsupported_keys(const struct plumb_aws_profile *pf, const char *name,
			    struct plumb_err *err)
{
	static const char *const keys[] = { "sso_session", "sso_start_url", "sso_account_id",
					    "sso_role_name", "credential_process" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(keys); i++) {
		const char *v = plumb_aws_profile_get(pf, name, keys[i]);
		if (v && *v)
			return plumb_err_set(err, PLUMB_ECONFIG,
					     "profile %s: %s is not supported (plumb does no SSO or "
					     "credential_process); use keys, role_arn or web identity, or "
					     "export credentials to the environment (aws configure "
					     "export-credentials --profile %s --format env)",
					     name, keys[i], name);
	}
	return 0;
}

static bool profile_keys(struct plan *p, const struct plumb_aws_profile *pf, const char *name)
{
	const char *id = plumb_aws_profile_get(pf, name, "aws_access_key_id");
	const char *sk = plumb_aws_profile_get(pf, name, "aws_secret_access_key");
	const char *tok = plumb_aws_profile_get(pf, name, "aws_session_token");
	if (!id || !*id || !sk || !*sk)
		return false;
	struct plumb_aws_creds *c = &p->base_creds;
	memset(c, 0, sizeof(*c));
	plumb_strlcpy(c->access_key_id, id, sizeof(c->access_key_id));
	plumb_strlcpy(c->secret, sk, sizeof(c->secret));
	if (tok)
		plumb_strlcpy(c->token, tok, sizeof(c->token));
	p->base = BASE_STATIC;
	return true;
}

/*
 * Resolves profile `name` into the plan: its base and the roles to assume after it, innermost
 * first. Returns 1 when resolved, 0 when the profile has nothing, or an error.
 */
static int resolve_profile(struct plan *p, struct plumb_aws *a, const char *name, int depth,
			   struct plumb_err *err)
{
	const struct plumb_aws_profile *pf = &a->profile;
	if (depth > 4)
		return plumb_err_set(err, PLUMB_ECONFIG, "profile %s: source_profile chain too long "
				     "or circular", name);
	const char *role = plumb_aws_profile_get(pf, name, "role_arn");
	const char *src = plumb_aws_profile_get(pf, name, "source_profile");
	const char *csrc = plumb_aws_profile_get(pf, name, "credential_source");
	const char *wif = plumb_aws_profile_get(pf, name, "web_identity_token_file");
	if (role && *role) {
		if (wif && *wif) {
			p->base = BASE_WEB_IDENTITY;
			plumb_strlcpy(p->token_file, wif, sizeof(p->token_file));
			fill_role(&p->wi, pf, name, a);
			return 1;
		}
		int rc;
		if (src && *src) {
			if (strcmp(src, name) == 0)
				rc = profile_keys(p, pf, name) ? 1 : 0;
			else
				rc = resolve_profile(p, a, src, depth + 1, err);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return plumb_err_set(err, PLUMB_ECONFIG,
						     "profile %s: source_profile %s has no credentials",
						     name, src);
		} else if (csrc && *csrc) {
			if (strcasecmp(csrc, "Environment") == 0) {
				if (!env_creds(&p->base_creds))
					return plumb_err_set(err, PLUMB_ECONFIG,
							     "profile %s: credential_source Environment "
							     "but AWS_ACCESS_KEY_ID is not set", name);
				p->base = BASE_STATIC;
			} else if (strcasecmp(csrc, "EcsContainer") == 0) {
				rc = plan_container(p, err);
				if (rc <= 0)
					return rc < 0 ? rc : plumb_err_set(err, PLUMB_ECONFIG,
						"profile %s: credential_source EcsContainer but no "
						"container credentials endpoint is set", name);
			} else if (strcasecmp(csrc, "Ec2InstanceMetadata") == 0) {
				plan_imds(p);
			} else {
				return plumb_err_set(err, PLUMB_ECONFIG,
						     "profile %s: unknown credential_source %s", name, csrc);
			}
		} else {
			return plumb_err_set(err, PLUMB_ECONFIG,
					     "profile %s: role_arn needs source_profile or "
					     "credential_source", name);
		}
		if (p->nroles >= (int)PLUMB_ARRAY_LEN(p->roles))
			return plumb_err_set(err, PLUMB_ECONFIG, "profile %s: too many chained roles",
					     name);
		fill_role(&p->roles[p->nroles++], pf, name, a);
		return 1;
	}
	if (wif && *wif)
		return plumb_err_set(err, PLUMB_ECONFIG,
				     "profile %s: web_identity_token_file needs role_arn", name);
	int urc = unsupported_keys(pf, name, err);
	if (urc)
		return urc;
	return profile_keys(p, pf, name) ? 1 : 0;
}

int plumb__aws_creds_plan(struct plumb_aws *a, const struct plumb_aws_creds *explicit_creds,
			  struct plumb_err *err)
{
	struct plan *p = calloc(1, sizeof(*p));
	if (!p)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	p->a = a;
	a->plan = p;
	const char *name = a->profile.name;
	if (explicit_creds) {
		p->base_creds = *explicit_creds;
		p->base = BASE_STATIC;
		p->provider = PLUMB_AWS_PROV_STATIC;
		plumb_strlcpy(p->base_creds.detail, "given by the program", sizeof(p->base_creds.detail));
		return 0;
	}
	if (!a->profile.explicit_profile && env_creds(&p->base_creds)) {
		p->base = BASE_STATIC;
		p->provider = PLUMB_AWS_PROV_ENV;
		return 0;
	}
	char sec[160];
	snprintf(sec, sizeof(sec), "profile %s", name);
	bool exists = plumb_aws_ini_has_section(&a->profile.config, sec) ||
		      plumb_aws_ini_has_section(&a->profile.credentials, name) ||
		      (strcmp(name, "default") == 0 &&
		       plumb_aws_ini_has_section(&a->profile.config, "default"));
	if (!exists && strcmp(name, "default") != 0)
		return plumb_err_set(err, PLUMB_ECONFIG, "profile %s not found in the config or "
				     "credentials file", name);
	const char *role = plumb_aws_profile_get(&a->profile, name, "role_arn");
	int rc;
	if (role && *role) {
		rc = resolve_profile(p, a, name, 0, err);
		if (rc < 0)
			return rc;
		p->provider = p->base == BASE_WEB_IDENTITY && p->nroles == 0
				      ? PLUMB_AWS_PROV_WEB_IDENTITY
				      : PLUMB_AWS_PROV_ASSUME_ROLE;
		return 0;
	}
	const char *wif = plumb_aws_profile_get(&a->profile, name, "web_identity_token_file");
	const char *ewif = getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), *erole = getenv("AWS_ROLE_ARN");
	if (wif && *wif)
		return plumb_err_set(err, PLUMB_ECONFIG,
				     "profile %s: web_identity_token_file needs role_arn", name);
	if (ewif && *ewif && erole && *erole) {
		p->base = BASE_WEB_IDENTITY;
		p->provider = PLUMB_AWS_PROV_WEB_IDENTITY;
		plumb_strlcpy(p->token_file, ewif, sizeof(p->token_file));
		plumb_strlcpy(p->wi.arn, erole, sizeof(p->wi.arn));
		session_name(p->wi.session, sizeof(p->wi.session), getenv("AWS_ROLE_SESSION_NAME"), a);
		return 0;
	}
	if ((rc = unsupported_keys(&a->profile, name, err)) != 0)
		return rc;
	if (profile_keys(p, &a->profile, name)) {
		p->provider = PLUMB_AWS_PROV_PROFILE;
		snprintf(p->base_creds.detail, sizeof(p->base_creds.detail), "profile %s", name);
		return 0;
	}
	if ((rc = plan_container(p, err)) != 0)
		return rc < 0 ? rc : 0;
	if (truthy(getenv("AWS_EC2_METADATA_DISABLED")))
		return plumb_err_set(err, PLUMB_ECONFIG,
				     "no AWS credentials: none in the environment, profile %s, web "
				     "identity or container settings, and IMDS is disabled", name);
	plan_imds(p);
	return 0;
}

void plumb__aws_creds_release(struct plumb_aws *a)
{
	struct plan *p = plan_of(a);
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	free(p);
	a->plan = NULL;
}

/* ---------------------------------------------------------------- fetching */

static void fetch_failed(struct plan *p, int rc, const struct plumb_err *e)
{
	struct plumb_aws *a = p->a;
	a->fetching = false;
	a->creds_rc = rc;
	if (e)
		a->creds_err = *e;
	else
		plumb_err_set(&a->creds_err, rc, "cannot get credentials");
	char msg[sizeof(a->creds_err.msg)];
	plumb_strlcpy(msg, a->creds_err.msg, sizeof(msg));
	int code = a->creds_err.code;
	plumb_err_set(&a->creds_err, code, "credentials (%s): %s",
		      plumb_aws_provider_name(p->provider), msg);
	if (a->creds_err.cls == PLUMB_ERRC_NONE)
		a->creds_err.cls = PLUMB_ERRC_TERMINAL;
	/* keep serving still-valid credentials after a failed refresh, and pause before the next */
	int64_t now = plumb_clock_now_ms(a->clock);
	if (a->have_creds && a->creds.expires_ms && now >= a->creds.expires_ms)
		a->have_creds = false;
	if (a->have_creds) {
		int64_t hold = REFRESH_FAIL_HOLD_MS;
		if (a->creds.expires_ms && (a->creds.expires_ms - now) / 4 < hold)
			hold = (a->creds.expires_ms - now) / 4;
		p->hold_until_ms = now + hold;
	}
	plumb_log(PLUMB_LOG_WARN, "aws_credentials_failed", "provider",
		  plumb_aws_provider_name(p->provider), "error", msg, (char *)NULL);
	memset(&p->cur, 0, sizeof(p->cur));
	plumb__aws_creds_done(a);
}

static void fetch_succeeded(struct plan *p)
{
	struct plumb_aws *a = p->a;
	int64_t now = plumb_clock_now_ms(a->clock);
	if (p->cur.expires_ms && now >= p->cur.expires_ms) {
		/* e.g. AWS_CREDENTIAL_EXPIRATION passed: fetching again would give the same */
		struct plumb_err e;
		char exp[21];
		plumb_err_clear(&e);
		plumb_time_iso8601(p->cur.expires_ms, exp);
		plumb_err_set(&e, PLUMB_ECONFIG, "the credentials expired at %s", exp);
		fetch_failed(p, PLUMB_ECONFIG, &e);
		return;
	}
	plumb__aws_refresh_windows(now, p->cur.expires_ms, &p->advisory_ms, &p->mandatory_ms);
	p->hold_until_ms = 0;
	p->invalid = false;
	memset(&a->creds, 0, sizeof(a->creds));
	a->creds = p->cur;
	a->creds.provider = p->provider;
	if (!a->creds.detail[0])
		plumb_strlcpy(a->creds.detail, plumb_aws_provider_name(p->provider),
			      sizeof(a->creds.detail));
	memset(&p->cur, 0, sizeof(p->cur));
	a->have_creds = true;
	a->fetching = false;
	a->creds_rc = 0;
	plumb_err_clear(&a->creds_err);
	char exp[21] = "never";
	if (a->creds.expires_ms)
		plumb_time_iso8601(a->creds.expires_ms, exp);
	plumb_log(PLUMB_LOG_DEBUG, "aws_credentials", "provider",
		  plumb_aws_provider_name(p->provider), "expires", exp, (char *)NULL);
	plumb__aws_creds_done(a);
}

/* Credentials out of an STS reply ({"Credentials": {...}}) or a container/IMDS document. */
static int take_creds(struct plan *p, const json_t *j, const char *token_key, struct plumb_err *e)
{
	const char *id = json_string_value(json_object_get(j, "AccessKeyId"));
	const char *sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	const char *tok = json_string_value(json_object_get(j, token_key));
	const char *exp = json_string_value(json_object_get(j, "Expiration"));
	if (!id || !sk)
		return plumb_err_set(e, PLUMB_EPARSE, "credentials reply lacks AccessKeyId or "
				     "SecretAccessKey");
	char detail[sizeof(p->cur.detail)];
	plumb_strlcpy(detail, p->cur.detail, sizeof(detail));
	memset(&p->cur, 0, sizeof(p->cur));
	plumb_strlcpy(p->cur.detail, detail, sizeof(p->cur.detail));
	plumb_strlcpy(p->cur.access_key_id, id, sizeof(p->cur.access_key_id));
	plumb_strlcpy(p->cur.secret, sk, sizeof(p->cur.secret));
	if (tok)
		plumb_strlcpy(p->cur.token, tok, sizeof(p->cur.token));
	if (exp && plumb_time_parse_iso8601(exp, &p->cur.expires_ms) != 0)
		return plumb_err_set(e, PLUMB_EPARSE, "credentials expiration %s is not ISO-8601", exp);
	return 0;
}

static void next_role(struct plan *p);

static void on_assume(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct plan *p = data;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (rc == PLUMB_ECANCELED)
		return;
	if (rc) {
		fetch_failed(p, rc, err);
		return;
	}
	if ((rc = take_creds(p, json_object_get(reply, "Credentials"), "SessionToken", &e))) {
		fetch_failed(p, rc, &e);
		return;
	}
	next_role(p);
}

static void next_role(struct plan *p)
{
	struct plumb_err e;
	plumb_err_clear(&e);
	if (p->next_role >= p->nroles) {
		fetch_succeeded(p);
		return;
	}
	struct role_step *r = &p->roles[p->next_role++];
	json_t *in = json_pack("{s:s, s:s}", "RoleArn", r->arn, "RoleSessionName", r->session);
	if (r->external_id[0])
		json_object_set_new(in, "ExternalId", json_string(r->external_id));
	if (r->duration > 0)
		json_object_set_new(in, "DurationSeconds", json_integer(r->duration));
	plumb_strlcpy(p->cur.detail, r->arn, sizeof(p->cur.detail));
	struct plumb_aws_creds src = p->cur;
	int rc = plumb__aws_call_with(p->a, PLUMB_AWS_OP_STS_ASSUME_ROLE, in, &src, on_assume, p, &e);
	memset(&src, 0, sizeof(src));
	json_decref(in);
	if (rc)
		fetch_failed(p, rc, &e);
}

static void start_web_identity(struct plan *p)
{
	struct plumb_err e;
	struct plumb_buf tok;
	plumb_err_clear(&e);
	plumb_buf_init(&tok, 0);
	int rc = plumb_fs_read(p->token_file, 64 * 1024, &tok, &e);
	if (rc) {
		fetch_failed(p, rc, &e);
		plumb_buf_release(&tok);
		return;
	}
	while (tok.len && (tok.buf[tok.len - 1] == '\n' || tok.buf[tok.len - 1] == '\r'))
		plumb_buf_truncate(&tok, tok.len - 1);
	json_t *in = json_pack("{s:s, s:s, s:s}", "RoleArn", p->wi.arn, "RoleSessionName",
			       p->wi.session, "WebIdentityToken", tok.buf);
	memset(tok.buf, 0, tok.len);
	plumb_buf_release(&tok);
	plumb_strlcpy(p->cur.detail, p->wi.arn, sizeof(p->cur.detail));
	rc = plumb__aws_call_with(p->a, PLUMB_AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY, in, NULL,
				  on_assume, p, &e);
	json_decref(in);
	if (rc)
		fetch_failed(p, rc, &e);
}

/* ---- container */

static void on_container(int rc, struct plumb_http_resp *resp, const struct plumb_err *err,
			 void *data)
{
	struct plan *p = data;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (rc == PLUMB_ECANCELED || p->a->closing)
		return;
	if (rc) {
		fetch_failed(p, rc, err);
		return;
	}
	if (resp->status != 200) {
		plumb_err_set(&e, PLUMB_ECONFIG, "container credentials endpoint answered HTTP %ld",
			      resp->status);
		e.http_status = (int)resp->status;
		fetch_failed(p, PLUMB_ECONFIG, &e);
		return;
	}
	json_t *j = json_loadb(resp->body.buf, resp->body.len, 0, NULL);
	plumb_strlcpy(p->cur.detail, p->url, sizeof(p->cur.detail));
	rc = j ? take_creds(p, j, "Token", &e)
	       : plumb_err_set(&e, PLUMB_EPARSE, "container credentials are not json");
	json_decref(j);
	memset(resp->body.buf, 0, resp->body.len);
	if (rc)
		fetch_failed(p, rc, &e);
	else
		next_role(p);
}

static void start_container(struct plan *p)
{
	struct plumb_err e;
	char auth[2048] = "";
	plumb_err_clear(&e);
	if (p->auth_file[0]) {
		struct plumb_buf b;
		plumb_buf_init(&b, 0);
		int rc = plumb_fs_read(p->auth_file, sizeof(auth) - 1, &b, &e);
		if (rc) {
			plumb_buf_release(&b);
			fetch_failed(p, rc, &e);
			return;
		}
		while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == '\r'))
			plumb_buf_truncate(&b, b.len - 1);
		plumb_strlcpy(auth, b.buf, sizeof(auth));
		memset(b.buf, 0, b.len);
		plumb_buf_release(&b);
	} else {
		plumb_strlcpy(auth, p->auth_env, sizeof(auth));
	}
	if (strpbrk(auth, "\r\n")) {
		plumb_err_set(&e, PLUMB_ECONFIG, "container authorization token holds CR or LF");
		fetch_failed(p, PLUMB_ECONFIG, &e);
		return;
	}
	struct plumb_http_header h[2] = { { "Accept", "application/json" },
					  { "Authorization", auth } };
	struct plumb_http_req req = { .method = "GET", .url = p->url, .headers = h,
				      .nheaders = auth[0] ? 2 : 1, .timeout_ms = 2000,
				      .connect_timeout_ms = 2000, .allow_metadata_http = true };
	int rc = plumb_http_start(p->a->http, &req, on_container, p, &e);
	memset(auth, 0, sizeof(auth));
	if (rc)
		fetch_failed(p, rc, &e);
}

/* ---- IMDS */

static void imds_get(struct plan *p, const char *path, plumb_http_cb cb);

static void on_imds_creds(int rc, struct plumb_http_resp *resp, const struct plumb_err *err,
			  void *data)
{
	struct plan *p = data;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (rc == PLUMB_ECANCELED || p->a->closing)
		return;
	if (rc || resp->status != 200) {
		if (!rc)
			plumb_err_set(&e, PLUMB_ECONFIG, "imds credentials: HTTP %ld", resp->status);
		fetch_failed(p, rc ? rc : PLUMB_ECONFIG, rc ? err : &e);
		return;
	}
	json_t *j = json_loadb(resp->body.buf, resp->body.len, 0, NULL);
	const char *code = json_string_value(json_object_get(j, "Code"));
	snprintf(p->cur.detail, sizeof(p->cur.detail), "instance profile role %s", p->imds_role);
	if (!j || (code && strcmp(code, "Success") != 0))
		rc = plumb_err_set(&e, PLUMB_ECONFIG, "imds credentials: not a Success document");
	else
		rc = take_creds(p, j, "Token", &e);
	json_decref(j);
	memset(resp->body.buf, 0, resp->body.len);
	if (rc)
		fetch_failed(p, rc, &e);
	else
		next_role(p);
}

static void on_imds_role(int rc, struct plumb_http_resp *resp, const struct plumb_err *err,
			 void *data)
{
	struct plan *p = data;
	struct plumb_err e;
	char path[256];
	plumb_err_clear(&e);
	if (rc == PLUMB_ECANCELED || p->a->closing)
		return;
	if (rc || resp->status != 200) {
		if (!rc)
			plumb_err_set(&e, PLUMB_ECONFIG, "imds: no instance profile (HTTP %ld)",
				      resp->status);
		fetch_failed(p, rc ? rc : PLUMB_ECONFIG, rc ? err : &e);
		return;
	}
	size_t n = strcspn(resp->body.buf, "\r\n");
	if (n == 0 || n >= sizeof(p->imds_role) || strpbrk(resp->body.buf, "/?#%")) {
		plumb_err_set(&e, PLUMB_ECONFIG, "imds: bad role name");
		fetch_failed(p, PLUMB_ECONFIG, &e);
		return;
	}
	snprintf(p->imds_role, sizeof(p->imds_role), "%.*s", (int)n, resp->body.buf);
	snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", p->imds_role);
	imds_get(p, path, on_imds_creds);
}

static void imds_get(struct plan *p, const char *path, plumb_http_cb cb)
{
	char url[1024];
	struct plumb_err e;
	plumb_err_clear(&e);
	snprintf(url, sizeof(url), "%s%s", p->imds, path);
	struct plumb_http_header h = { "x-aws-ec2-metadata-token", p->imds_token };
	struct plumb_http_req req = { .method = "GET", .url = url, .headers = &h,
				      .nheaders = p->imds_token[0] ? 1 : 0,
				      .timeout_ms = p->imds_timeout_ms,
				      .connect_timeout_ms = p->imds_timeout_ms,
				      .allow_metadata_http = true };
	int rc = plumb_http_start(p->a->http, &req, cb, p, &e);
	if (rc)
		fetch_failed(p, rc, &e);
}

static void on_imds_token(int rc, struct plumb_http_resp *resp, const struct plumb_err *err,
			  void *data)
{
	struct plan *p = data;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (rc == PLUMB_ECANCELED || p->a->closing)
		return;
	p->imds_token[0] = 0;
	if (rc == 0 && resp->status == 200 && resp->body.len && resp->body.len < sizeof(p->imds_token) &&
	    !strpbrk(resp->body.buf, "\r\n")) {
		plumb_strlcpy(p->imds_token, resp->body.buf, sizeof(p->imds_token));
	} else if (rc == 0 && resp->status == 400) {
		plumb_err_set(&e, PLUMB_ECONFIG, "imds: token request refused (HTTP 400)");
		fetch_failed(p, PLUMB_ECONFIG, &e);
		return;
	} else if (rc == PLUMB_ENET || (rc == 0 && (resp->status == 403 || resp->status == 404 ||
						    resp->status == 405))) {
		if (p->imds_v1_disabled) {
			plumb_err_set(&e, PLUMB_ECONFIG,
				      "imds: no IMDSv2 token and AWS_EC2_METADATA_V1_DISABLED is set");
			fetch_failed(p, PLUMB_ECONFIG, &e);
			return;
		}
		/* IMDSv1 fallback */
	} else {
		if (!rc)
			plumb_err_set(&e, PLUMB_ECONFIG, "imds: token request answered HTTP %ld",
				      resp->status);
		fetch_failed(p, rc ? rc : PLUMB_ECONFIG, rc ? err : &e);
		return;
	}
	imds_get(p, "/latest/meta-data/iam/security-credentials/", on_imds_role);
}

static void start_imds(struct plan *p)
{
	char url[512];
	struct plumb_err e;
	plumb_err_clear(&e);
	snprintf(url, sizeof(url), "%s/latest/api/token", p->imds);
	struct plumb_http_header h = { "x-aws-ec2-metadata-token-ttl-seconds", "21600" };
	struct plumb_http_req req = { .method = "PUT", .url = url, .headers = &h, .nheaders = 1,
				      .timeout_ms = p->imds_timeout_ms,
				      .connect_timeout_ms = p->imds_timeout_ms,
				      .allow_metadata_http = true };
	int rc = plumb_http_start(p->a->http, &req, on_imds_token, p, &e);
	if (rc)
		fetch_failed(p, rc, &e);
}

void plumb__aws_creds_fetch(struct plumb_aws *a)
{
	struct plan *p = plan_of(a);
	if (!p || a->fetching)
		return;
	a->fetching = true;
	a->stats.cred_fetches++;
	p->next_role = 0;
	memset(&p->cur, 0, sizeof(p->cur));
	switch (p->base) {
	case BASE_STATIC:
		p->cur = p->base_creds;
		next_role(p);
		break;
	case BASE_WEB_IDENTITY:
		start_web_identity(p);
		break;
	case BASE_CONTAINER:
		start_container(p);
		break;
	case BASE_IMDS:
		start_imds(p);
		break;
	}
}

const char *plumb_aws_provider_name(enum plumb_aws_provider p)
{
	switch (p) {
	case PLUMB_AWS_PROV_NONE: return "none";
	case PLUMB_AWS_PROV_STATIC: return "static";
	case PLUMB_AWS_PROV_ENV: return "env";
	case PLUMB_AWS_PROV_ASSUME_ROLE: return "assume-role";
	case PLUMB_AWS_PROV_WEB_IDENTITY: return "web-identity";
	case PLUMB_AWS_PROV_PROFILE: return "profile";
	case PLUMB_AWS_PROV_CONTAINER: return "container";
	case PLUMB_AWS_PROV_IMDS: return "imds";
	}
	return "unknown";
}
