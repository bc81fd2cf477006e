/*
 * pkg/aws/config.c — the shared config and credentials files, region and endpoint resolution.
 *
 * The INI parser is written by hand (none of our libraries reads INI) and made for hostile
 * input: it reads at most 1 MiB, keeps at most 4096 entries, skips lines longer than 1024 bytes
 * and lines it cannot parse, never recurses, and copies every string it keeps. Nested keys (the
 * `services` sections: "sagemaker =" then indented "endpoint_url = ...") are stored as
 * "sagemaker.endpoint_url". A key repeated in a section: the last one wins (botocore refuses the
 * whole file; we prefer one warning-free lookup rule).
 *
 * Profile selection: the name given by the program, else AWS_PROFILE, else AWS_DEFAULT_PROFILE,
 * else "default". Config-file sections are "[profile NAME]" ("[default]" for default);
 * credentials-file sections are "[NAME]". Values from the credentials file win, as in botocore.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"
#include "http/http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INI_MAX_BYTES (1u << 20)
#define INI_MAX_ENTRIES 4096
#define INI_MAX_LINE 1024

static char *trim(char *s, char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = 0;
	return s;
}

static int ini_add(struct plumb_aws_ini *ini, const char *sec, const char *key, const char *val)
{
	if (ini->n >= INI_MAX_ENTRIES)
		return PLUMB_ELIMIT;
	if (ini->n == ini->alloc) {
		size_t na = ini->alloc ? ini->alloc * 2 : 16;
		struct plumb_aws_ini_entry *ne = realloc(ini->e, na * sizeof(*ne));
		if (!ne)
			return PLUMB_ENOMEM;
		ini->e = ne;
		ini->alloc = na;
	}
	struct plumb_aws_ini_entry *x = &ini->e[ini->n];
	x->section = strdup(sec);
	x->key = strdup(key);
	x->value = strdup(val);
	if (!x->section || !x->key || !x->value) {
		free(x->section);
		free(x->key);
		free(x->value);
		return PLUMB_ENOMEM;
	}
	for (char *p = x->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ini->n++;
	return 0;
}

int plumb_aws_ini_parse(struct plumb_aws_ini *ini, const char *buf, size_t len,
			struct plumb_err *err)
{
	char line[INI_MAX_LINE + 1], sec[INI_MAX_LINE + 1] = "", parent[INI_MAX_LINE + 1] = "";
	bool in_sec = false;
	memset(ini, 0, sizeof(*ini));
	if (len > INI_MAX_BYTES)
		return plumb_err_set(err, PLUMB_ELIMIT, "config file larger than %u bytes",
				     INI_MAX_BYTES);
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && buf[j] != '\n')
			j++;
		size_t ll = j - i;
		const char *start = buf + i;
		i = j + 1;
		if (ll > INI_MAX_LINE || memchr(start, 0, ll))
			continue; /* too long or binary: skip */
		memcpy(line, start, ll);
		line[ll] = 0;
		bool indented = ll > 0 && (line[0] == ' ' || line[0] == '\t');
		char *s = trim(line, line + ll);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close)
				continue;
			char *name = trim(s + 1, close);
			/* "profile   dev" -> "profile dev" */
			char *sp = name;
			while (*sp && !isspace((unsigned char)*sp))
				sp++;
			if (*sp) {
				char *rest = sp;
				while (isspace((unsigned char)*rest))
					rest++;
				memmove(sp + 1, rest, strlen(rest) + 1);
				*sp = ' ';
			}
			plumb_strlcpy(sec, name, sizeof(sec));
			parent[0] = 0;
			in_sec = true;
			continue;
		}
		if (!in_sec)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		char *val = trim(eq + 1, s + strlen(s));
		char *key = trim(s, eq);
		if (!*key)
			continue;
		int rc;
		if (indented && parent[0]) {
			char full[2 * INI_MAX_LINE + 2];
			snprintf(full, sizeof(full), "%s.%s", parent, key);
			rc = ini_add(ini, sec, full, val);
		} else {
			if (!*val)
				plumb_strlcpy(parent, key, sizeof(parent));
			else
				parent[0] = 0;
			rc = ini_add(ini, sec, key, val);
		}
		if (rc == PLUMB_ELIMIT)
			break; /* keep what fits */
		if (rc) {
			plumb_aws_ini_release(ini);
			return plumb_err_set(err, rc, "out of memory reading config");
		}
	}
	return 0;
}

const char *plumb_aws_ini_get(const struct plumb_aws_ini *ini, const char *section,
			      const char *key)
{
	for (size_t i = ini->n; i-- > 0;)
		if (strcmp(ini->e[i].section, section) == 0 && strcasecmp(ini->e[i].key, key) == 0)
			return ini->e[i].value;
	return NULL;
}

bool plumb_aws_ini_has_section(const struct plumb_aws_ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].section, section) == 0)
			return true;
	return false;
}

void plumb_aws_ini_release(struct plumb_aws_ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->e[i].section);
		free(ini->e[i].key);
		/* values may be secrets */
		memset(ini->e[i].value, 0, strlen(ini->e[i].value));
		free(ini->e[i].value);
	}
	free(ini->e);
	memset(ini, 0, sizeof(*ini));
}

static int load_file(struct plumb_aws_ini *ini, const char *env, const char *dflt,
		     struct plumb_err *err)
{
	char path[1024];
	const char *p = getenv(env);
	const char *home = getenv("HOME");
	memset(ini, 0, sizeof(*ini));
	if (p && *p) {
		if (p[0] == '~' && home)
			snprintf(path, sizeof(path), "%s%s", home, p + 1);
		else
			plumb_strlcpy(path, p, sizeof(path));
	} else if (home) {
		snprintf(path, sizeof(path), "%s/.aws/%s", home, dflt);
	} else {
		return 0;
	}
	struct plumb_buf b = PLUMB_BUF_INIT;
	struct plumb_err e2;
	plumb_err_clear(&e2);
	int rc = plumb_fs_read(path, INI_MAX_BYTES, &b, &e2);
	if (rc == 0)
		rc = plumb_aws_ini_parse(ini, b.buf, b.len, err);
	else if (rc == PLUMB_ELIMIT)
		rc = plumb_err_set(err, rc, "%s: larger than %u bytes", path, INI_MAX_BYTES);
	else
		rc = 0; /* a missing file is no error */
	if (b.len)
		memset(b.buf, 0, b.len);
	plumb_buf_release(&b);
	return rc;
}

int plumb_aws_profile_load(struct plumb_aws_profile *p, const char *name, struct plumb_err *err)
{
	memset(p, 0, sizeof(*p));
	const char *n = name;
	p->explicit_profile = name && *name;
	if (!n || !*n)
		n = getenv("AWS_PROFILE");
	if (!n || !*n)
		n = getenv("AWS_DEFAULT_PROFILE");
	if (!n || !*n)
		n = "default";
	plumb_strlcpy(p->name, n, sizeof(p->name));
	int rc = load_file(&p->config, "AWS_CONFIG_FILE", "config", err);
	if (!rc)
		rc = load_file(&p->credentials, "AWS_SHARED_CREDENTIALS_FILE", "credentials", err);
	if (rc)
		plumb_aws_profile_release(p);
	return rc;
}

const char *plumb_aws_profile_get(const struct plumb_aws_profile *p, const char *name,
				  const char *key)
{
	char sec[160];
	const char *v = plumb_aws_ini_get(&p->credentials, name, key);
	if (v)
		return v;
	snprintf(sec, sizeof(sec), "profile %s", name);
	v = plumb_aws_ini_get(&p->config, sec, key);
	if (!v && strcmp(name, "default") == 0)
		v = plumb_aws_ini_get(&p->config, "default", key);
	return v;
}

void plumb_aws_profile_release(struct plumb_aws_profile *p)
{
	plumb_aws_ini_release(&p->config);
	plumb_aws_ini_release(&p->credentials);
}

void plumb_aws_region_resolve(const struct plumb_aws_profile *p, char *out, size_t outsz)
{
	const char *r = getenv("AWS_REGION");
	if (!r || !*r)
		r = getenv("AWS_DEFAULT_REGION");
	if ((!r || !*r) && p)
		r = plumb_aws_profile_get(p, p->name, "region");
	plumb_strlcpy(out, r ? r : "", outsz);
}

static const struct {
	const char *env;     /* AWS_ENDPOINT_URL_<env> */
	const char *config;  /* key in a [services] section */
} endpoint_names[PLUMB_AWS_NSERVICES] = {
	[PLUMB_AWS_SAGEMAKER] = { "SAGEMAKER", "sagemaker" },
	[PLUMB_AWS_AAS] = { "APPLICATION_AUTO_SCALING", "application_auto_scaling" },
	[PLUMB_AWS_CLOUDWATCH] = { "CLOUDWATCH", "cloudwatch" },
	[PLUMB_AWS_SNS] = { "SNS", "sns" },
	[PLUMB_AWS_STS] = { "STS", "sts" },
	[PLUMB_AWS_TAGGING] = { "RESOURCE_GROUPS_TAGGING_API", "resource_groups_tagging_api" },
};

static bool truthy(const char *v)
{
	return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

int plumb_aws_endpoint_resolve(const struct plumb_aws_profile *p, enum plumb_aws_service s,
			       const char *region, char *out, size_t outsz, bool *custom,
			       struct plumb_err *err)
{
	char env[96], key[96];
	const char *url = NULL, *from = NULL;
	bool ignore = truthy(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
		      (p && truthy(plumb_aws_profile_get(p, p->name, "ignore_configured_endpoint_urls")));
	if (!ignore) {
		snprintf(env, sizeof(env), "AWS_ENDPOINT_URL_%s", endpoint_names[s].env);
		if ((url = getenv(env)) && *url)
			from = env;
		else if ((url = getenv("AWS_ENDPOINT_URL")) && *url)
			from = "AWS_ENDPOINT_URL";
		else if (p) {
			const char *svcs = plumb_aws_profile_get(p, p->name, "services");
			url = NULL;
			if (svcs) {
				char sec[160];
				snprintf(sec, sizeof(sec), "services %s", svcs);
				snprintf(key, sizeof(key), "%s.endpoint_url", endpoint_names[s].config);
				url = plumb_aws_ini_get(&p->config, sec, key);
				from = "config services section";
			}
			if (!url || !*url) {
				url = plumb_aws_profile_get(p, p->name, "endpoint_url");
				from = "profile endpoint_url";
			}
		}
	}
	if (url && *url) {
		size_t n = strlen(url);
		while (n > 0 && url[n - 1] == '/')
			n--;
		if (n >= outsz)
			return plumb_err_set(err, PLUMB_ECONFIG, "%s: endpoint url too long", from);
		memcpy(out, url, n);
		out[n] = 0;
		if (strncasecmp(out, "https://", 8) != 0 &&
		    !(strncasecmp(out, "http://", 7) == 0 && plumb_http_url_is_loopback(out)))
			return plumb_err_set(err, PLUMB_ECONFIG,
					     "%s: %s is neither https nor http to loopback", from, out);
		if (custom)
			*custom = true;
		return 0;
	}
	if (custom)
		*custom = false;
	if (!region || !*region)
		return plumb_err_set(err, PLUMB_ECONFIG,
				     "no region: set AWS_REGION or a region in the profile");
	for (const char *c = region; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-')
			return plumb_err_set(err, PLUMB_ECONFIG, "region %s is not a region name",
					     region);
	const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
	snprintf(out, outsz, "https://%s.%s.%s", plumb__aws_host_label(s), region, suffix);
	return 0;
}
