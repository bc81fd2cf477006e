/*
 * pkg/aws/sigv4.c — AWS Signature Version 4 (header signing) with OpenSSL.
 *
 * Builds the canonical request (method, canonical URI, canonical query, canonical headers,
 * signed headers, payload hash), the string to sign, derives the signing key (cached per
 * secret/date/region/service: four HMACs saved per call) and the Authorization value.
 *
 * Rules (reference §3, checked by tests/aws against the AWS suite and botocore):
 * - the path is normalised (dot segments and empty segments removed, trailing '/' kept) unless
 *   no_normalize, then URI-encoded as sent on the wire (non-S3: already-encoded paths are encoded
 *   again);
 * - the query is split on '&' and '=', each part percent-decoded then encoded, sorted by name then
 *   value;
 * - header names are lower-cased, values trimmed with inner whitespace runs (space, tab, CR, LF)
 *   collapsed to one space, duplicates joined with ',' in order; hop-by-hop and user-agent style
 *   headers are never signed (botocore's skip list).
 * Costs: a few small buffers per signature; no allocation in the key cache.
 */
#include "aws/aws.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const unsigned_headers[] = {
	"connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
	"trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
	/* set by the signer itself */
	"x-amz-date", "authorization", "x-amz-security-token", "x-amz-content-sha256",
	/* informational, per reference §5.2 */
	"amz-sdk-invocation-id", "amz-sdk-request",
};

static void sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
	plumb_hex(md, 32, out);
}

static void hmac(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
	unsigned int olen = 32;
	HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen);
}

void plumb_aws_sigv4_out_release(struct plumb_aws_sigv4_out *o)
{
	plumb_buf_release(&o->authorization);
	plumb_buf_release(&o->canonical);
	plumb_buf_release(&o->string_to_sign);
	OPENSSL_cleanse(o->signature, sizeof(o->signature));
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int plumb_aws_uri_encode(struct plumb_buf *out, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (c < 0x80 && (unreserved(c) || (keep_slash && c == '/'))) {
			rc = plumb_buf_addch(out, (char)c);
		} else {
			char t[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = plumb_buf_add(out, t, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out ('+' stays '+': SigV4 queries are RFC 3986). */
static int uri_decode(struct plumb_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			if (plumb_buf_addch(out, (char)(hi * 16 + lo)))
				return PLUMB_ENOMEM;
			i += 2;
		} else if (plumb_buf_addch(out, s[i])) {
			return PLUMB_ENOMEM;
		}
	}
	return 0;
}

/* Canonical URI of path into out. */
static int canonical_uri(struct plumb_buf *out, const char *path, bool normalize)
{
	if (!path || !*path)
		return plumb_buf_addch(out, '/');
	if (!normalize)
		return plumb_aws_uri_encode(out, path, strlen(path), true);
	/* remove_dot_segments over '/'-separated segments, dropping empty ones */
	size_t n = strlen(path);
	const char **seg = calloc(n + 1, sizeof(*seg));
	size_t *len = calloc(n + 1, sizeof(*len));
	size_t nseg = 0;
	int rc = 0;
	if (!seg || !len) {
		free(seg);
		free(len);
		return PLUMB_ENOMEM;
	}
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *q = p;
		while (*q && *q != '/')
			q++;
		size_t l = (size_t)(q - p);
		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* skip */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg)
				nseg--;
		} else {
			seg[nseg] = p;
			len[nseg++] = l;
		}
		p = q;
	}
	rc = plumb_buf_addch(out, '/');
	for (size_t i = 0; i < nseg && !rc; i++) {
		if (i)
			rc = plumb_buf_addch(out, '/');
		if (!rc)
			rc = plumb_aws_uri_encode(out, seg[i], len[i], false);
	}
	if (!rc && nseg && path[n - 1] == '/')
		rc = plumb_buf_addch(out, '/');
	free(seg);
	free(len);
	return rc;
}

struct qparam {
	char *name;  /* encoded */
	char *value; /* encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *encode_part(const char *s, size_t n)
{
	struct plumb_buf dec = PLUMB_BUF_INIT, enc = PLUMB_BUF_INIT;
	if (uri_decode(&dec, s, n) || plumb_aws_uri_encode(&enc, dec.buf, dec.len, false)) {
		plumb_buf_release(&dec);
		plumb_buf_release(&enc);
		return NULL;
	}
	plumb_buf_release(&dec);
	if (enc.alloc == 0)
		return strdup("");
	return plumb_buf_detach(&enc, NULL);
}

static int canonical_query(struct plumb_buf *out, const char *q)
{
	if (!q || !*q)
		return 0;
	size_t cap = 1;
	for (const char *p = q; *p; p++)
		cap += *p == '&';
	struct qparam *ps = calloc(cap, sizeof(*ps));
	size_t np = 0;
	int rc = 0;
	if (!ps)
		return PLUMB_ENOMEM;
	for (const char *p = q; *p;) {
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		if (end > p) {
			const char *eq = memchr(p, '=', (size_t)(end - p));
			const char *ne = eq ? eq : end;
			ps[np].name = encode_part(p, (size_t)(ne - p));
			ps[np].value = eq ? encode_part(eq + 1, (size_t)(end - eq - 1)) : strdup("");
			if (!ps[np].name || !ps[np].value) {
				free(ps[np].name);
				free(ps[np].value);
				rc = PLUMB_ENOMEM;
				break;
			}
			np++;
		}
		p = amp ? amp + 1 : end;
	}
	if (!rc) {
		qsort(ps, np, sizeof(*ps), qparam_cmp);
		for (size_t i = 0; i < np && !rc; i++)
			rc = plumb_buf_addf(out, "%s%s=%s", i ? "&" : "", ps[i].name, ps[i].value);
	}
	for (size_t i = 0; i < np; i++) {
		free(ps[i].name);
		free(ps[i].value);
	}
	free(ps);
	return rc;
}

struct chdr {
	char *name;        /* lower-cased, owned */
	struct plumb_buf value; /* canonical value(s), joined with ',' */
	size_t order;      /* first appearance, for a stable sort */
};

static int chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static bool is_unsigned(const char *lname)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(unsigned_headers); i++)
		if (strcmp(lname, unsigned_headers[i]) == 0)
			return true;
	return false;
}

/* Appends v trimmed with whitespace runs collapsed. */
static int add_collapsed(struct plumb_buf *b, const char *v)
{
	bool pending = false, any = false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f') {
			pending = any;
			continue;
		}
		if (pending && plumb_buf_addch(b, ' '))
			return PLUMB_ENOMEM;
		pending = false;
		any = true;
		if (plumb_buf_addch(b, (char)*p))
			return PLUMB_ENOMEM;
	}
	return 0;
}

static void key_for(struct plumb_aws_sigv4_cache *cache, const char *secret, const char *date,
		    const char *region, const char *service, uint8_t key[32])
{
	uint8_t sh[32], k1[32], k2[32], k3[32];
	unsigned int mdlen = 0;
	char kdate[160];
	if (cache) {
		EVP_Digest(secret, strlen(secret), sh, &mdlen, EVP_sha256(), NULL);
		for (size_t i = 0; i < PLUMB_ARRAY_LEN(cache->slot); i++) {
			if (cache->slot[i].used && memcmp(cache->slot[i].secret_hash, sh, 32) == 0 &&
			    strcmp(cache->slot[i].date, date) == 0 &&
			    strcmp(cache->slot[i].region, region) == 0 &&
			    strcmp(cache->slot[i].service, service) == 0) {
				memcpy(key, cache->slot[i].key, 32);
				cache->hits++;
				return;
			}
		}
	}
	int n = snprintf(kdate, sizeof(kdate), "AWS4%s", secret);
	hmac(kdate, (size_t)n, date, strlen(date), k1);
	hmac(k1, 32, region, strlen(region), k2);
	hmac(k2, 32, service, strlen(service), k3);
	hmac(k3, 32, "aws4_request", 12, key);
	OPENSSL_cleanse(kdate, sizeof(kdate));
	if (cache) {
		unsigned i = cache->next++ % PLUMB_ARRAY_LEN(cache->slot);
		memcpy(cache->slot[i].secret_hash, sh, 32);
		plumb_strlcpy(cache->slot[i].date, date, sizeof(cache->slot[i].date));
		plumb_strlcpy(cache->slot[i].region, region, sizeof(cache->slot[i].region));
		plumb_strlcpy(cache->slot[i].service, service, sizeof(cache->slot[i].service));
		memcpy(cache->slot[i].key, key, 32);
		cache->slot[i].used = true;
		cache->misses++;
	}
}

int plumb_aws_sigv4_sign(struct plumb_aws_sigv4_cache *cache, const struct plumb_aws_creds *c,
			 const char *region, const char *service, int64_t now_ms,
			 const struct plumb_aws_sigv4_req *req, struct plumb_aws_sigv4_out *out,
			 struct plumb_err *err)
{
	char iso[21], date[9], sth[65];
	uint8_t key[32], sig[32];
	int rc = 0;
	bool token = c->token[0] && !req->omit_session_token;
	size_t nh = req->nheaders + 3;
	struct chdr *hs = calloc(nh, sizeof(*hs));
	size_t n = 0;
	if (!hs)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	if (strlen(c->secret) > 128 || strlen(region) >= 32 || strlen(service) >= 48) {
		free(hs);
		return plumb_err_set(err, PLUMB_EINVAL, "sigv4: secret, region or service too long");
	}
	plumb_buf_init(&out->authorization, 0);
	plumb_buf_init(&out->canonical, 0);
	plumb_buf_init(&out->string_to_sign, 0);

	plumb_time_iso8601(now_ms, iso); /* 2015-08-30T12:36:00Z */
	snprintf(out->amz_date, sizeof(out->amz_date), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5,
		 iso + 8, iso + 11, iso + 14, iso + 17);
	memcpy(date, out->amz_date, 8);
	date[8] = 0;
	sha256_hex(req->body ? req->body : "", req->body_len, out->content_sha256);

	/* collect headers to sign, merging duplicates */
	for (size_t i = 0; i < req->nheaders + 3 && !rc; i++) {
		char lname[128];
		const char *name, *value;
		if (i < req->nheaders) {
			name = req->headers[i].name;
			value = req->headers[i].value;
		} else if (i == req->nheaders) {
			name = "x-amz-date";
			value = out->amz_date;
		} else if (i == req->nheaders + 1) {
			if (!token)
				continue;
			name = "x-amz-security-token";
			value = c->token;
		} else {
			if (!req->sign_body)
				continue;
			name = "x-amz-content-sha256";
			value = out->content_sha256;
		}
		size_t ln = strlen(name);
		if (ln >= sizeof(lname)) {
			rc = plumb_err_set(err, PLUMB_EINVAL, "sigv4: header name too long");
			break;
		}
		for (size_t k = 0; k <= ln; k++)
			lname[k] = (char)tolower((unsigned char)name[k]);
		if (i < req->nheaders && is_unsigned(lname))
			continue;
		size_t j;
		for (j = 0; j < n; j++)
			if (strcmp(hs[j].name, lname) == 0)
				break;
		if (j == n) {
			hs[n].name = strdup(lname);
			plumb_buf_init(&hs[n].value, 0);
			hs[n].order = n;
			if (!hs[n].name) {
				rc = PLUMB_ENOMEM;
				break;
			}
			n++;
		} else if (plumb_buf_addch(&hs[j].value, ',')) {
			rc = PLUMB_ENOMEM;
			break;
		}
		if (add_collapsed(&hs[j].value, value))
			rc = PLUMB_ENOMEM;
	}
	qsort(hs, n, sizeof(*hs), chdr_cmp);

	struct plumb_buf *cr = &out->canonical;
	struct plumb_buf signed_list = PLUMB_BUF_INIT;
	if (!rc)
		rc = plumb_buf_addf(cr, "%s\n", req->method);
	if (!rc)
		rc = canonical_uri(cr, req->path, !req->no_normalize);
	if (!rc)
		rc = plumb_buf_addch(cr, '\n');
	if (!rc)
		rc = canonical_query(cr, req->query);
	if (!rc)
		rc = plumb_buf_addch(cr, '\n');
	for (size_t i = 0; i < n && !rc; i++) {
		rc = plumb_buf_addf(cr, "%s:%s\n", hs[i].name, hs[i].value.buf);
		if (!rc)
			rc = plumb_buf_addf(&signed_list, "%s%s", i ? ";" : "", hs[i].name);
	}
	if (!rc)
		rc = plumb_buf_addf(cr, "\n%s\n%s", signed_list.buf, out->content_sha256);
	if (!rc) {
		sha256_hex(cr->buf, cr->len, sth);
		rc = plumb_buf_addf(&out->string_to_sign, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
				    out->amz_date, date, region, service, sth);
	}
	if (!rc) {
		key_for(cache, c->secret, date, region, service, key);
		hmac(key, 32, out->string_to_sign.buf, out->string_to_sign.len, sig);
		OPENSSL_cleanse(key, sizeof(key));
		plumb_hex(sig, 32, out->signature);
		rc = plumb_buf_addf(&out->authorization,
				    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
				    "SignedHeaders=%s, Signature=%s",
				    c->access_key_id, date, region, service, signed_list.buf,
				    out->signature);
	}
	for (size_t i = 0; i < n; i++) {
		free(hs[i].name);
		plumb_buf_release(&hs[i].value);
	}
	free(hs);
	plumb_buf_release(&signed_list);
	if (rc) {
		plumb_aws_sigv4_out_release(out);
		if (err && !err->code)
			return plumb_err_set(err, rc, "sigv4: cannot build the signature");
		return rc;
	}
	return 0;
}
