/* pkg/aws protocols: Query flattening, XML replies to json_t, error parsing and classes. */
#include "aws/aws.h"
#include "aws/aws_int.h"
#include "test.h"

#include <string.h>

static char *encode(enum plumb_aws_op op, const char *json)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	json_t *in = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(plumb__aws_query_encode_op(&b, op, in, NULL), 0);
	json_decref(in);
	return plumb_buf_detach(&b, NULL);
}

START_TEST(query_flattening)
{
	char *s = encode(PLUMB_AWS_OP_CW_PUT_METRIC_ALARM,
			 "{\"AlarmName\":\"ep1 backlog\",\"Namespace\":\"AWS/SageMaker\",\"Period\":60,"
			 "\"Threshold\":1.0,\"ActionsEnabled\":true,"
			 "\"Dimensions\":[{\"Name\":\"EndpointName\",\"Value\":\"ep1\"}],"
			 "\"AlarmActions\":[\"arn:aws:sns:us-east-1:1:t\"],\"OKActions\":[],"
			 "\"Unit\":null}");
	ck_assert_str_eq(s, "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=ep1%20backlog"
			    "&Namespace=AWS%2FSageMaker&Period=60&Threshold=1.0&ActionsEnabled=true"
			    "&Dimensions.member.1.Name=EndpointName&Dimensions.member.1.Value=ep1"
			    "&AlarmActions.member.1=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&OKActions=");
	free(s);
	s = encode(PLUMB_AWS_OP_SNS_CREATE_TOPIC,
		   "{\"Name\":\"t\",\"Attributes\":{\"DisplayName\":\"x y\",\"TracingConfig\":\"Active\"},"
		   "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}");
	ck_assert_str_eq(s, "Action=CreateTopic&Version=2010-03-31&Name=t"
			    "&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x%20y"
			    "&Attributes.entry.2.key=TracingConfig&Attributes.entry.2.value=Active"
			    "&Tags.member.1.Key=k&Tags.member.1.Value=v");
	free(s);
	s = encode(PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY, "{}");
	ck_assert_str_eq(s, "Action=GetCallerIdentity&Version=2011-06-15");
	free(s);
}
END_TEST

static json_t *parse(enum plumb_aws_op op, const char *xml)
{
	json_t *out = NULL;
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_msg(plumb_aws_query_parse(op, xml, strlen(xml), &out, &err) == 0, "%s", err.msg);
	return out;
}

START_TEST(query_replies_to_json)
{
	json_t *j = parse(PLUMB_AWS_OP_CW_DESCRIBE_ALARMS,
		"<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
		"<DescribeAlarmsResult><MetricAlarms><member><AlarmName>123</AlarmName>"
		"<Period>60</Period><Threshold>1.5</Threshold><EvaluationPeriods>2</EvaluationPeriods>"
		"<ActionsEnabled>true</ActionsEnabled><OKActions/><AlarmActions><member>arn:a</member>"
		"</AlarmActions><Dimensions><member><Name>EndpointName</Name><Value>ep1</Value></member>"
		"</Dimensions><StateUpdatedTimestamp>2024-01-02T03:04:05.000Z</StateUpdatedTimestamp>"
		"</member></MetricAlarms><NextToken>tok</NextToken></DescribeAlarmsResult>"
		"<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeAlarmsResponse>");
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"MetricAlarms\":[{\"ActionsEnabled\":true,\"AlarmActions\":[\"arn:a\"],"
			    "\"AlarmName\":\"123\",\"Dimensions\":[{\"Name\":\"EndpointName\","
			    "\"Value\":\"ep1\"}],\"EvaluationPeriods\":2,\"OKActions\":[],\"Period\":60,"
			    "\"StateUpdatedTimestamp\":\"2024-01-02T03:04:05.000Z\",\"Threshold\":1.5}],"
			    "\"NextToken\":\"tok\"}");
	free(s);
	json_decref(j);
	j = parse(PLUMB_AWS_OP_SNS_GET_TOPIC_ATTRIBUTES,
		  "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes>"
		  "<entry><key>TopicArn</key><value>arn:aws:sns:us-east-1:1:t</value></entry>"
		  "<entry><key>Policy</key><value>{\"a\":1}</value></entry>"
		  "</Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "Attributes"), "Policy")),
			 "{\"a\":1}");
	json_decref(j);
	j = parse(PLUMB_AWS_OP_SNS_LIST_TOPICS,
		  "<ListTopicsResponse><ListTopicsResult><Topics/></ListTopicsResult></ListTopicsResponse>");
	ck_assert(json_is_array(json_object_get(j, "Topics")));
	json_decref(j);
	j = parse(PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY,
		  "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x"
		  "</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
		  "</GetCallerIdentityResponse>");
	ck_assert_str_eq(json_string_value(json_object_get(j, "Account")), "123456789012");
	json_decref(j);
	j = parse(PLUMB_AWS_OP_CW_DELETE_ALARMS,
		  "<DeleteAlarmsResponse><ResponseMetadata><RequestId>x</RequestId>"
		  "</ResponseMetadata></DeleteAlarmsResponse>");
	ck_assert_uint_eq(json_object_size(j), 0);
	json_decref(j);
	json_t *bad = NULL;
	ck_assert_int_eq(plumb_aws_query_parse(PLUMB_AWS_OP_CW_DELETE_ALARMS, "<x", 2, &bad, NULL),
			 PLUMB_EPARSE);
	ck_assert_int_eq(plumb_aws_query_parse(PLUMB_AWS_OP_CW_DELETE_ALARMS, "<Other/>", 8, &bad,
					       NULL), PLUMB_EPARSE);
}
END_TEST

static const struct {
	enum plumb_aws_op op;
	long status;
	const char *body;
	const char *headers;
	const char *code;
	enum plumb_err_class cls;
	const char *resource;
} errors[] = {
	{ PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, 400,
	  "{\"__type\":\"com.amazonaws.sagemaker#ValidationException:http://x\","
	  "\"message\":\"Could not find endpoint \\\"ep1\\\".\"}",
	  "x-amzn-RequestId: rid-9\n", "ValidationException", PLUMB_ERRC_NOT_FOUND, "Endpoint" },
	{ PLUMB_AWS_OP_SM_CREATE_ENDPOINT, 400,
	  "{\"__type\":\"ValidationException\",\"Message\":\"Could not find endpoint configuration "
	  "\\\"c1\\\".\"}", "", "ValidationException", PLUMB_ERRC_NOT_FOUND, "EndpointConfig" },
	{ PLUMB_AWS_OP_SM_CREATE_MODEL, 400,
	  "{\"__type\":\"ValidationException\",\"message\":\"Cannot create already existing model "
	  "\\\"arn:aws:sagemaker:us-east-1:1:model/m\\\".\"}", "", "ValidationException",
	  PLUMB_ERRC_CONFLICT, "Model" },
	{ PLUMB_AWS_OP_SM_UPDATE_ENDPOINT, 400,
	  "{\"__type\":\"ValidationException\",\"message\":\"Cannot update in-progress endpoint\"}",
	  "", "ValidationException", PLUMB_ERRC_CONFLICT, "Endpoint" },
	{ PLUMB_AWS_OP_SM_CREATE_MODEL, 400,
	  "{\"__type\":\"ValidationException\",\"message\":\"1 validation error detected\"}", "",
	  "ValidationException", PLUMB_ERRC_TERMINAL, "" },
	{ PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, 400, "{\"__type\":\"ThrottlingException\"}", "",
	  "ThrottlingException", PLUMB_ERRC_THROTTLED, "" },
	{ PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, 503, "", "X-Amzn-ErrorType: ServiceUnavailable:x\n",
	  "ServiceUnavailable", PLUMB_ERRC_RETRYABLE, "" },
	{ PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, 502, "<html>bad gateway</html>", "", "Http502",
	  PLUMB_ERRC_RETRYABLE, "" },
	{ PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY, 400, "{\"__type\":\"LimitExceededException\"}", "",
	  "LimitExceededException", PLUMB_ERRC_TERMINAL, "" },
	{ PLUMB_AWS_OP_AAS_DELETE_SCALING_POLICY, 400, "{\"__type\":\"ObjectNotFoundException\"}",
	  "", "ObjectNotFoundException", PLUMB_ERRC_NOT_FOUND, "" },
	{ PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET, 400,
	  "{\"__type\":\"ConcurrentUpdateException\"}", "", "ConcurrentUpdateException",
	  PLUMB_ERRC_CONFLICT, "" },
	{ PLUMB_AWS_OP_SNS_GET_TOPIC_ATTRIBUTES, 404,
	  "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not "
	  "exist</Message></Error><RequestId>q-1</RequestId></ErrorResponse>", "", "NotFound",
	  PLUMB_ERRC_NOT_FOUND, "" },
	{ PLUMB_AWS_OP_SNS_LIST_TOPICS, 429,
	  "<ErrorResponse><Error><Code>Throttled</Code></Error></ErrorResponse>", "", "Throttled",
	  PLUMB_ERRC_THROTTLED, "" },
	{ PLUMB_AWS_OP_CW_PUT_METRIC_ALARM, 400,
	  "<ErrorResponse><Error><Code>LimitExceeded</Code></Error></ErrorResponse>", "",
	  "LimitExceeded", PLUMB_ERRC_TERMINAL, "" },
	{ PLUMB_AWS_OP_CW_DESCRIBE_ALARMS, 400,
	  "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
	  "</ErrorResponse>", "", "Throttling", PLUMB_ERRC_THROTTLED, "" },
	{ PLUMB_AWS_OP_SNS_CREATE_TOPIC, 400,
	  "<ErrorResponse><Error><Code>InvalidParameter</Code><Message>Invalid parameter: Tags "
	  "Reason: Topic already exists with different tags</Message></Error></ErrorResponse>", "",
	  "InvalidParameter", PLUMB_ERRC_CONFLICT, "" },
	{ PLUMB_AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY, 400,
	  "<ErrorResponse><Error><Code>IDPCommunicationError</Code></Error></ErrorResponse>", "",
	  "IDPCommunicationError", PLUMB_ERRC_RETRYABLE, "" },
	{ PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY, 403,
	  "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>", "",
	  "InvalidClientTokenId", PLUMB_ERRC_TERMINAL, "" },
	{ PLUMB_AWS_OP_SM_LIST_TAGS, 400,
	  "{\"__type\":\"ValidationException\",\"message\":\"Resource \\\"arn:aws:sagemaker:"
	  "us-east-1:1:model/m\\\" does not exist or is not taggable.\"}", "", "ValidationException",
	  PLUMB_ERRC_NOT_FOUND, "" },
	{ PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET, 400,
	  "{\"__type\":\"ValidationException\",\"message\":\"The endpoint s1 does not exist.\"}", "",
	  "ValidationException", PLUMB_ERRC_NOT_FOUND, "" },
	{ PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET, 400,
	  "{\"__type\":\"ValidationException\",\"message\":\"Unsupported scalable dimension x\"}",
	  "", "ValidationException", PLUMB_ERRC_TERMINAL, "" },
};

START_TEST(error_parsing_and_classes)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(errors); i++) {
		struct plumb_err e;
		plumb_err_clear(&e);
		ck_assert_int_eq(plumb_aws_parse_error(errors[i].op, errors[i].status, errors[i].body,
						       strlen(errors[i].body), errors[i].headers, &e),
				 PLUMB_EAWS);
		ck_assert_msg(strcmp(e.aws_code, errors[i].code) == 0, "case %zu: code %s", i,
			      e.aws_code);
		ck_assert_msg(e.cls == errors[i].cls, "case %zu (%s): class %s", i, e.msg,
			      plumb_err_class_name(e.cls));
		ck_assert_str_eq(plumb_aws_err_resource(&e), errors[i].resource);
		ck_assert_int_eq(e.http_status, (int)errors[i].status);
		ck_assert_str_eq(e.operation, plumb_aws_op_name(errors[i].op));
	}
	struct plumb_err e;
	plumb_err_clear(&e);
	plumb_aws_parse_error(errors[0].op, 400, errors[0].body, strlen(errors[0].body),
			      errors[0].headers, &e);
	ck_assert_str_eq(e.request_id, "rid-9");
	ck_assert_str_eq(e.service, "sagemaker");
	ck_assert_ptr_nonnull(strstr(e.msg, "Could not find endpoint"));
	plumb_err_clear(&e);
	plumb_aws_parse_error(errors[11].op, 404, errors[11].body, strlen(errors[11].body), "", &e);
	ck_assert_str_eq(e.request_id, "q-1");
	plumb_err_clear(&e);
	plumb_aws_parse_error(errors[2].op, 400, errors[2].body, strlen(errors[2].body), "", &e);
	ck_assert(plumb_aws_err_is_exists(&e));
}
END_TEST

START_TEST(op_table)
{
	ck_assert_int_eq(plumb_aws_op_find("sagemaker", "DescribeEndpoint"),
			 PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT);
	ck_assert_int_eq(plumb_aws_op_find("sns", "TagResource"), PLUMB_AWS_OP_SNS_TAG_RESOURCE);
	ck_assert_int_eq(plumb_aws_op_find("monitoring", "TagResource"), PLUMB_AWS_OP_CW_TAG_RESOURCE);
	ck_assert_int_eq(plumb_aws_op_find(NULL, "Nope"), -1);
	ck_assert_str_eq(plumb_aws_signing_name(PLUMB_AWS_SAGEMAKER), "sagemaker");
	ck_assert_str_eq(plumb_aws_signing_name(PLUMB_AWS_CLOUDWATCH), "monitoring");
	ck_assert_str_eq(plumb_aws_signing_name(PLUMB_AWS_TAGGING), "tagging");
	ck_assert(plumb_aws_op_flags(PLUMB_AWS_OP_SM_CREATE_MODEL) & PLUMB_AWS_OP_CREATE);
	ck_assert(plumb_aws_op_flags(PLUMB_AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY) &
		  PLUMB_AWS_OP_UNSIGNED);
	for (int i = 0; i < PLUMB_AWS_NOPS; i++)
		ck_assert_int_eq(plumb_aws_op_find(plumb_aws_service_name(plumb_aws_op_service(i)),
						   plumb_aws_op_name(i)), i);
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("aws_proto");
	TCase *tc = tcase_create("proto");
	tcase_add_test(tc, query_flattening);
	tcase_add_test(tc, query_replies_to_json);
	tcase_add_test(tc, error_parsing_and_classes);
	tcase_add_test(tc, op_table);
	suite_add_tcase(s, tc);
	return s;
}
