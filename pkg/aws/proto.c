/*
 * pkg/aws/proto.c — the service and operation tables, the two wire protocols, and errors.
 *
 * Owns: the table of services (protocol, JSON target prefix, Query version, signing name, host
 * label, endpoint env/config names), the table of operations (one row each, from PLUMB_AWS_OPS
 * plus the Query reply hints below), the Query serialiser (json_t -> form body), the Query reply
 * parser (XML -> json_t, libxml2), the error parser for both protocols and the one classifier.
 *
 * Query replies are turned into json_t by one walker steered per service by hints: which member
 * names hold lists (<X><member>..</member></X>), maps (<X><entry><key/><value/></entry></X>),
 * numbers and booleans. An element whose children are all <member> is a list even without a hint;
 * a hinted list that is empty (<AlarmActions/>) becomes []. Everything else is a string,
 * timestamps included (ISO-8601 as sent). Rejected: a generic "guess types from text" walker —
 * an alarm named "123" would come back as a number.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct service_row {
	const char *name;         /* short name for errors ("sagemaker") */
	enum plumb_aws_protocol proto;
	const char *target;       /* JSON X-Amz-Target prefix */
	const char *version;      /* Query Version */
	const char *signing;      /* SigV4 signing name */
	const char *host;         /* host label before .{region}.amazonaws.com */
	const char *const *lists; /* Query hints, NULL-terminated */
	const char *const *numbers;
	const char *const *bools;
	const char *const *maps;
};

static const char *const cw_lists[] = { "MetricAlarms", "CompositeAlarms", "AlarmActions",
	"OKActions", "InsufficientDataActions", "Dimensions", "Metrics", "Tags", "AlarmNames",
	"LogAlarms", NULL };
static const char *const cw_numbers[] = { "Period", "EvaluationPeriods", "DatapointsToAlarm",
	"Threshold", "EvaluationInterval", NULL };
static const char *const cw_bools[] = { "ActionsEnabled", "ReturnData", NULL };
static const char *const sns_lists[] = { "Topics", "Tags", NULL };
static const char *const sns_maps[] = { "Attributes", NULL };
static const char *const sts_numbers[] = { "PackedPolicySize", NULL };
static const char *const none[] = { NULL };

static const struct service_row services[PLUMB_AWS_NSERVICES] = {
	[PLUMB_AWS_SAGEMAKER] = { "sagemaker", PLUMB_AWS_JSON11, "SageMaker", NULL, "sagemaker",
				  "api.sagemaker", none, none, none, none },
	[PLUMB_AWS_AAS] = { "application-autoscaling", PLUMB_AWS_JSON11, "AnyScaleFrontendService",
			    NULL, "application-autoscaling", "application-autoscaling", none, none,
			    none, none },
	[PLUMB_AWS_CLOUDWATCH] = { "monitoring", PLUMB_AWS_QUERY, NULL, "2010-08-01", "monitoring",
				   "monitoring", cw_lists, cw_numbers, cw_bools, none },
	[PLUMB_AWS_SNS] = { "sns", PLUMB_AWS_QUERY, NULL, "2010-03-31", "sns", "sns", sns_lists,
			    none, none, sns_maps },
	[PLUMB_AWS_STS] = { "sts", PLUMB_AWS_QUERY, NULL, "2011-06-15", "sts", "sts", none,
			    sts_numbers, none, none },
	[PLUMB_AWS_TAGGING] = { "tagging", PLUMB_AWS_JSON11, "ResourceGroupsTaggingAPI_20170126",
				NULL, "tagging", "tagging", none, none, none, none },
};

struct op_row {
	enum plumb_aws_service svc; /* owning service */
	const char *name;           /* wire name */
	unsigned flags;             /* PLUMB_AWS_OP_* */
};

static const struct op_row ops[PLUMB_AWS_NOPS] = {
#define PLUMB_AWS_OP_ROW(e, svc, nm, fl) [PLUMB_AWS_OP_##e] = { PLUMB_AWS_##svc, nm, fl },
	PLUMB_AWS_OPS(PLUMB_AWS_OP_ROW)
#undef PLUMB_AWS_OP_ROW
};

const char *plumb_aws_service_name(enum plumb_aws_service s)
{
	return (unsigned)s < PLUMB_AWS_NSERVICES ? services[s].name : "unknown";
}

const char *plumb_aws_signing_name(enum plumb_aws_service s)
{
	return services[s].signing;
}

const char *plumb__aws_host_label(enum plumb_aws_service s)
{
	return services[s].host;
}

enum plumb_aws_protocol plumb__aws_protocol(enum plumb_aws_service s)
{
	return services[s].proto;
}

const char *plumb__aws_target(enum plumb_aws_service s)
{
	return services[s].target;
}

const char *plumb__aws_version(enum plumb_aws_service s)
{
	return services[s].version;
}

const char *plumb_aws_op_name(enum plumb_aws_op op)
{
	return (unsigned)op < PLUMB_AWS_NOPS ? ops[op].name : "unknown";
}

enum plumb_aws_service plumb_aws_op_service(enum plumb_aws_op op)
{
	return ops[op].svc;
}

unsigned plumb_aws_op_flags(enum plumb_aws_op op)
{
	return ops[op].flags;
}

int plumb_aws_op_find(const char *service, const char *name)
{
	for (int i = 0; i < PLUMB_AWS_NOPS; i++)
		if (strcmp(ops[i].name, name) == 0 &&
		    (!service || strcmp(services[ops[i].svc].name, service) == 0 ||
		     strcmp(services[ops[i].svc].signing, service) == 0))
			return i;
	return -1;
}

/* ---------------------------------------------------------------- Query serialiser */

static int form_pair(struct plumb_buf *out, const char *name, const char *value)
{
	int rc = plumb_buf_addch(out, '&');
	if (!rc)
		rc = plumb_aws_uri_encode(out, name, strlen(name), false);
	if (!rc)
		rc = plumb_buf_addch(out, '=');
	if (!rc)
		rc = plumb_aws_uri_encode(out, value, strlen(value), false);
	return rc;
}

static bool in_list(const char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

static void format_real(double d, char *out, size_t n)
{
	if (isnan(d)) {
		plumb_strlcpy(out, "NaN", n);
	} else if (isinf(d)) {
		plumb_strlcpy(out, d > 0 ? "Infinity" : "-Infinity", n);
	} else {
		snprintf(out, n, "%.15g", d);
		if (strtod(out, NULL) != d)
			snprintf(out, n, "%.17g", d);
		if (!strpbrk(out, ".eEn"))
			strncat(out, ".0", n - strlen(out) - 1);
	}
}

static int flatten(struct plumb_buf *out, const char *prefix, const json_t *v,
		   const char *const *maps, int depth, struct plumb_err *err)
{
	char name[512], num[64];
	if (depth > 16)
		return plumb_err_set(err, PLUMB_ELIMIT, "query input nested too deeply at %s", prefix);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *m;
		bool is_map = depth == 1 && in_list(maps, prefix);
		size_t i = 0;
		json_object_foreach((json_t *)v, k, m) {
			int rc;
			if (is_map) {
				i++;
				snprintf(name, sizeof(name), "%s.entry.%zu.key", prefix, i);
				if ((rc = form_pair(out, name, k)))
					return rc;
				snprintf(name, sizeof(name), "%s.entry.%zu.value", prefix, i);
				rc = flatten(out, name, m, maps, depth + 1, err);
			} else {
				int n = prefix[0] ? snprintf(name, sizeof(name), "%s.%s", prefix, k)
						  : snprintf(name, sizeof(name), "%s", k);
				if (n < 0 || (size_t)n >= sizeof(name))
					return plumb_err_set(err, PLUMB_ELIMIT, "query member name too long");
				rc = flatten(out, name, m, maps, depth + 1, err);
			}
			if (rc)
				return rc;
		}
		return 0;
	}
	case JSON_ARRAY: {
		if (json_array_size(v) == 0)
			return form_pair(out, prefix, "");
		for (size_t i = 0; i < json_array_size(v); i++) {
			snprintf(name, sizeof(name), "%s.member.%zu", prefix, i + 1);
			int rc = flatten(out, name, json_array_get(v, i), maps, depth + 1, err);
			if (rc)
				return rc;
		}
		return 0;
	}
	case JSON_STRING:
		return form_pair(out, prefix, json_string_value(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return form_pair(out, prefix, num);
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof(num));
		return form_pair(out, prefix, num);
	case JSON_TRUE:
		return form_pair(out, prefix, "true");
	case JSON_FALSE:
		return form_pair(out, prefix, "false");
	case JSON_NULL:
		return 0; /* unset */
	}
	return 0;
}

int plumb__aws_query_encode_maps(struct plumb_buf *out, const char *action, const char *version,
				 const json_t *input, const char *const *maps,
				 struct plumb_err *err)
{
	int rc = plumb_buf_adds(out, "Action=");
	if (!rc)
		rc = plumb_aws_uri_encode(out, action, strlen(action), false);
	if (!rc)
		rc = form_pair(out, "Version", version);
	if (rc)
		return plumb_err_set(err, rc, "query body too large");
	if (input && !json_is_object(input))
		return plumb_err_set(err, PLUMB_EINVAL, "query input must be an object");
	if (input && (rc = flatten(out, "", input, maps, 0, err)) != 0)
		return err && err->code ? rc : plumb_err_set(err, rc, "cannot encode query input");
	return 0;
}

int plumb_aws_query_encode(struct plumb_buf *out, const char *action, const char *version,
			   const json_t *input, struct plumb_err *err)
{
	/* the only map member in a Query input plumb sends: SNS CreateTopic Attributes */
	return plumb__aws_query_encode_maps(out, action, version, input, sns_maps, err);
}

int plumb__aws_query_encode_op(struct plumb_buf *out, enum plumb_aws_op op, const json_t *input,
			       struct plumb_err *err)
{
	const struct service_row *s = &services[ops[op].svc];
	return plumb__aws_query_encode_maps(out, ops[op].name, s->version, input, s->maps, err);
}

/* ---------------------------------------------------------------- Query reply parser */

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

static bool has_element_children(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

static bool all_members(const xmlNode *n)
{
	bool any = false;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!named(c, "member"))
			return false;
		any = true;
	}
	return any;
}

static json_t *text_of(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	json_t *s = json_string(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

static json_t *convert(const struct service_row *s, const xmlNode *n, int depth);

static json_t *convert_value(const struct service_row *s, const char *name, const xmlNode *n,
			     int depth)
{
	if (depth > 32)
		return json_null();
	if (in_list(s->maps, name)) {
		json_t *o = json_object();
		for (const xmlNode *e = n->children; e; e = e->next) {
			if (!named(e, "entry"))
				continue;
			const xmlNode *k = child(e, "key"), *v = child(e, "value");
			if (!k)
				continue;
			xmlChar *kt = xmlNodeGetContent(k);
			json_object_set_new(o, kt ? (const char *)kt : "",
					    v ? text_of(v) : json_string(""));
			xmlFree(kt);
		}
		return o;
	}
	if (in_list(s->lists, name) || all_members(n)) {
		json_t *a = json_array();
		for (const xmlNode *m = n->children; m; m = m->next)
			if (named(m, "member"))
				json_array_append_new(a, has_element_children(m)
								 ? convert(s, m, depth + 1)
								 : text_of(m));
		return a;
	}
	if (has_element_children(n))
		return convert(s, n, depth + 1);
	xmlChar *t = xmlNodeGetContent(n);
	const char *txt = t ? (const char *)t : "";
	json_t *out;
	if (in_list(s->numbers, name)) {
		char *end;
		double d = strtod(txt, &end);
		if (*txt && !*end)
			out = (d == floor(d) && fabs(d) < 9e15 && !strchr(txt, '.'))
				      ? json_integer((json_int_t)d)
				      : json_real(d);
		else
			out = json_string(txt);
	} else if (in_list(s->bools, name)) {
		out = strcmp(txt, "true") == 0 ? json_true() : json_false();
	} else {
		out = json_string(txt);
	}
	xmlFree(t);
	return out;
}

/* A structure element: each element child becomes a member. */
static json_t *convert(const struct service_row *s, const xmlNode *n, int depth)
{
	json_t *o = json_object();
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)c->name;
		json_object_set_new(o, name, convert_value(s, name, c, depth + 1));
	}
	return o;
}

static xmlDoc *parse_xml(const char *xml, size_t len)
{
	if (len > INT32_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)len, "reply.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

int plumb_aws_query_parse(enum plumb_aws_op op, const char *xml, size_t len, json_t **out,
			  struct plumb_err *err)
{
	const struct service_row *s = &services[ops[op].svc];
	char want[128];
	*out = NULL;
	xmlDoc *doc = parse_xml(xml, len);
	if (!doc)
		return plumb_err_set(err, PLUMB_EPARSE, "%s %s: reply is not XML", s->name,
				     ops[op].name);
	xmlNode *root = xmlDocGetRootElement(doc);
	snprintf(want, sizeof(want), "%sResponse", ops[op].name);
	if (!root || !named(root, want)) {
		xmlFreeDoc(doc);
		return plumb_err_set(err, PLUMB_EPARSE, "%s %s: reply root is not <%s>", s->name,
				     ops[op].name, want);
	}
	snprintf(want, sizeof(want), "%sResult", ops[op].name);
	const xmlNode *res = child(root, want);
	*out = res ? convert(s, res, 0) : json_object();
	xmlFreeDoc(doc);
	return *out ? 0 : plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- errors */

static void header_value(const char *headers, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	out[0] = 0;
	for (const char *p = headers; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = ll - (size_t)(v - p);
			snprintf(out, n, "%.*s", (int)vl, v);
			return;
		}
		p = eol ? eol + 1 : p + ll;
	}
}

/* botocore's code extraction: cut at ':', keep what follows the last '#'. */
static void clean_code(const char *in, char *out, size_t n)
{
	const char *h = strrchr(in, '#');
	const char *s = h ? h + 1 : in;
	size_t l = strcspn(s, ":");
	snprintf(out, n, "%.*s", (int)l, s);
}

static void text_into(const xmlNode *n, char *out, size_t sz)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	if (t)
		plumb_strlcpy(out, (const char *)t, sz);
	xmlFree(t);
}

/* Finds the first element called name anywhere below n. */
static const xmlNode *find_deep(const xmlNode *n, const char *name, int depth)
{
	for (const xmlNode *c = n ? n->children : NULL; c && depth < 8; c = c->next) {
		if (named(c, name))
			return c;
		const xmlNode *f = find_deep(c, name, depth + 1);
		if (f)
			return f;
	}
	return NULL;
}

int plumb_aws_parse_error(enum plumb_aws_op op, long status, const char *body, size_t len,
			  const char *headers, struct plumb_err *e)
{
	const struct service_row *s = &services[ops[op].svc];
	char code[128] = "", msg[400] = "", rid[80] = "";
	header_value(headers, "x-amzn-RequestId", rid, sizeof(rid));
	if (!rid[0])
		header_value(headers, "x-amz-request-id", rid, sizeof(rid));
	if (s->proto == PLUMB_AWS_JSON11) {
		json_t *j = len ? json_loadb(body, len, 0, NULL) : NULL;
		const char *t = json_string_value(json_object_get(j, "__type"));
		char hdr[128];
		header_value(headers, "X-Amzn-ErrorType", hdr, sizeof(hdr));
		if (t && *t)
			clean_code(t, code, sizeof(code));
		else if (hdr[0])
			clean_code(hdr, code, sizeof(code));
		const char *m = json_string_value(json_object_get(j, "message"));
		if (!m)
			m = json_string_value(json_object_get(j, "Message"));
		if (m)
			plumb_strlcpy(msg, m, sizeof(msg));
		json_decref(j);
	} else {
		xmlDoc *doc = len ? parse_xml(body, len) : NULL;
		xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		if (root) {
			text_into(find_deep(root, "Code", 0), code, sizeof(code));
			text_into(find_deep(root, "Message", 0), msg, sizeof(msg));
			if (!rid[0])
				text_into(find_deep(root, "RequestId", 0), rid, sizeof(rid));
		}
		if (doc)
			xmlFreeDoc(doc);
	}
	if (!code[0])
		snprintf(code, sizeof(code), "Http%ld", status);
	plumb_strlcpy(e->service, s->name, sizeof(e->service));
	plumb_strlcpy(e->operation, ops[op].name, sizeof(e->operation));
	plumb_strlcpy(e->aws_code, code, sizeof(e->aws_code));
	plumb_strlcpy(e->request_id, rid, sizeof(e->request_id));
	e->http_status = (int)status;
	plumb_err_set(e, PLUMB_EAWS, "%s %s: %s: %s", s->name, ops[op].name, code,
		      msg[0] ? msg : "(no message)");
	e->cls = plumb_aws_classify(e);
	return PLUMB_EAWS;
}

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", "Throttled", NULL,
};
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalFailure",
	"InternalError", "InternalServiceError", "InternalServiceException", "ServiceUnavailable",
	"IDPCommunicationError", NULL,
};
static const char *const not_found_codes[] = {
	"ObjectNotFoundException", "ResourceNotFoundException", "ResourceNotFound", "NotFound",
	"NoSuchEntity", NULL,
};
static const char *const conflict_codes[] = {
	"ConcurrentUpdateException", "ResourceInUse", "ConflictException", "ResourceConflict",
	"ConcurrentAccess", "ConcurrentModificationException", NULL,
};

/*
 * Errors whose class lies in the message, not the code: the first rule whose service, code,
 * message prefix and (if given) substring match decides. SageMaker says everything with
 * ValidationException (reference §13.2; longest prefix first); Application Auto Scaling names
 * a missing endpoint or variant with it too (§7.1: a deleted or not-yet-created endpoint says
 * nothing against the request, and as terminal it condemned a target's spec); SNS says
 * "already exists with different tags" with InvalidParameter.
 */
static const struct {
	const char *service, *code; /* both must match */
	const char *prefix;         /* of the AWS message */
	const char *contains;       /* and somewhere in it, or NULL */
	enum plumb_err_class cls;
	const char *resource;       /* the kind the message names, "" when it names none */
	bool exists;                /* "already exists": a create met its name taken */
} msg_rules[] = {
	{ "sagemaker", "ValidationException", "Could not find endpoint configuration", NULL,
	  PLUMB_ERRC_NOT_FOUND, "EndpointConfig", false },
	{ "sagemaker", "ValidationException", "Could not find endpoint", NULL, PLUMB_ERRC_NOT_FOUND,
	  "Endpoint", false },
	{ "sagemaker", "ValidationException", "Could not find model", NULL, PLUMB_ERRC_NOT_FOUND,
	  "Model", false },
	{ "sagemaker", "ValidationException", "Could not find", NULL, PLUMB_ERRC_NOT_FOUND, "",
	  false },
	{ "sagemaker", "ValidationException", "Cannot create already existing endpoint configuration",
	  NULL, PLUMB_ERRC_CONFLICT, "EndpointConfig", true },
	{ "sagemaker", "ValidationException", "Cannot create already existing endpoint", NULL,
	  PLUMB_ERRC_CONFLICT, "Endpoint", true },
	{ "sagemaker", "ValidationException", "Cannot create already existing model", NULL,
	  PLUMB_ERRC_CONFLICT, "Model", true },
	{ "sagemaker", "ValidationException", "Cannot create already existing", NULL,
	  PLUMB_ERRC_CONFLICT, "", true },
	{ "sagemaker", "ValidationException", "Cannot update in-progress", NULL, PLUMB_ERRC_CONFLICT,
	  "Endpoint", false },
	/* tag calls on a resource deleted meanwhile: 'Resource "arn" does not exist ...' */
	{ "sagemaker", "ValidationException", "Resource ", "does not exist", PLUMB_ERRC_NOT_FOUND, "",
	  false },
	{ "application-autoscaling", "ValidationException", "", "does not exist",
	  PLUMB_ERRC_NOT_FOUND, "", false },
	{ "sns", "InvalidParameter", "", "already exists", PLUMB_ERRC_CONFLICT, "", true },
};

/* The AWS message without our "service op: code: " prefix. */
static const char *aws_message(const struct plumb_err *e)
{
	size_t n = strlen(e->aws_code);
	const char *p = strstr(e->msg, e->aws_code);
	if (p && p[n] == ':' && p[n + 1] == ' ')
		return p + n + 2;
	return e->msg;
}

static int msg_match(const struct plumb_err *e)
{
	const char *m = aws_message(e);
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(msg_rules); i++)
		if (strcmp(e->service, msg_rules[i].service) == 0 &&
		    strcmp(e->aws_code, msg_rules[i].code) == 0 &&
		    strncmp(m, msg_rules[i].prefix, strlen(msg_rules[i].prefix)) == 0 &&
		    (!msg_rules[i].contains || strstr(m, msg_rules[i].contains)))
			return (int)i;
	return -1;
}

bool plumb_aws_is_throttle(const struct plumb_err *e)
{
	if (e->http_status == 429)
		return true;
	/* AAS uses LimitExceededException for account quotas: retrying cannot help */
	if (strcmp(e->aws_code, "LimitExceededException") == 0 &&
	    strcmp(e->service, "application-autoscaling") == 0)
		return false;
	return in_list(throttle_codes, e->aws_code);
}

enum plumb_err_class plumb_aws_classify(const struct plumb_err *e)
{
	if (plumb_aws_is_throttle(e))
		return PLUMB_ERRC_THROTTLED;
	int i = msg_match(e);
	if (i >= 0)
		return msg_rules[i].cls;
	if (in_list(transient_codes, e->aws_code))
		return PLUMB_ERRC_RETRYABLE;
	if (in_list(not_found_codes, e->aws_code))
		return PLUMB_ERRC_NOT_FOUND;
	if (in_list(conflict_codes, e->aws_code))
		return PLUMB_ERRC_CONFLICT;
	if (e->http_status == 500 || e->http_status == 502 || e->http_status == 503 ||
	    e->http_status == 504)
		return PLUMB_ERRC_RETRYABLE;
	return PLUMB_ERRC_TERMINAL;
}

const char *plumb_aws_err_resource(const struct plumb_err *e)
{
	int i = msg_match(e);
	return i >= 0 ? msg_rules[i].resource : "";
}

bool plumb_aws_err_is_exists(const struct plumb_err *e)
{
	int i = msg_match(e);
	return i >= 0 && msg_rules[i].exists;
}
