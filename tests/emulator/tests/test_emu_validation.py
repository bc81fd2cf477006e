"""Model validation and wire decoding: JSON and Query, each service's error codes."""

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from emu_helpers import error_of, query, signed, sm_json

CW_V = '2010-08-01'


def test_pattern_violation(emu):
    r = sm_json(emu.url, 'CreateModel', {'ModelName': 'bad_name'})
    assert (r.status, r.json['__type']) == (400, 'ValidationException')
    assert r.json['message'] == (
        "1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?")


def test_missing_required_and_nested_paths(emu):
    r = sm_json(emu.url, 'CreateEndpointConfig', {'ProductionVariants': [{'ModelName': 'm'}]})
    assert r.status == 400 and r.json['__type'] == 'ValidationException'
    msg = r.json['message']
    assert msg.startswith('2 validation errors detected: ')
    assert "Value null at 'endpointConfigName' failed to satisfy constraint: Member must not be null" in msg
    assert "Value null at 'productionVariants.1.member.variantName'" in msg


def test_length_enum_range(emu):
    r = sm_json(emu.url, 'CreateEndpointConfig', {
        'EndpointConfigName': 'x' * 64,
        'ProductionVariants': [{'VariantName': 'v', 'ModelName': 'm', 'InstanceType': 'ml.bogus',
                                'InitialInstanceCount': 0}]})
    msg = r.json['message']
    assert msg.startswith('4 validation errors detected')  # length + pattern + enum + range
    assert 'Member must have length less than or equal to 63' in msg
    assert "Value 'ml.bogus' at 'productionVariants.1.member.instanceType' failed to satisfy " \
           "constraint: Member must satisfy enum value set: [" in msg
    assert "Value '0' at 'productionVariants.1.member.initialInstanceCount' failed to satisfy " \
           "constraint: Member must have value greater than or equal to 1" in msg
    r = sm_json(emu.url, 'ListEndpoints', {'MaxResults': 101})
    assert 'Member must have value less than or equal to 100' in r.json['message']
    r = sm_json(emu.url, 'CreateEndpointConfig', {
        'EndpointConfigName': 'c', 'ProductionVariants': [
            {'VariantName': 'v%d' % i, 'ModelName': 'm', 'InstanceType': 'ml.m5.large',
             'InitialInstanceCount': 1} for i in range(11)]})
    assert 'Member must have length less than or equal to 10' in r.json['message']


def test_type_mismatch_and_bad_json(emu):
    r = sm_json(emu.url, 'ListEndpoints', {'MaxResults': '10'})
    assert (r.status, r.json['__type']) == (400, 'SerializationException')
    r = sm_json(emu.url, 'ListEndpoints', '{not json')
    assert (r.status, r.json['__type']) == (400, 'SerializationException')


def test_unknown_member_refused(emu):
    r = sm_json(emu.url, 'DescribeEndpoint', {'EndpointName': 'a', 'Endpointname': 'b'})
    assert r.status == 400 and 'Unknown member' in r.json['message']


def test_unknown_operation(emu):
    r = sm_json(emu.url, 'LaunchRocket', {})
    assert (r.status, r.json['__type']) == (400, 'UnknownOperationException')
    r = query(emu.url, 'sns', 'LaunchRocket', '2010-03-31')
    assert r.status == 400 and '<Code>InvalidAction</Code>' in r.text


def test_sagemaker_semantic_checks(emu, sm):
    with pytest.raises(ClientError) as e:
        sm.create_endpoint_config(EndpointConfigName='c', ProductionVariants=[
            {'VariantName': 'v', 'ModelName': 'missing', 'InstanceType': 'ml.m5.large',
             'InitialInstanceCount': 1}])
    assert error_of(e)[:2] == ('ValidationException', 'Could not find model "arn:aws:sagemaker:'
                               'us-east-1:123456789012:model/missing".')


def test_aas_enum(emu, aws):
    with pytest.raises(ClientError) as e:
        aws('application-autoscaling').describe_scalable_targets(ServiceNamespace='sagemaker',
                                                                 ScalableDimension='x:y:z')
    code, msg, status = error_of(e)
    assert (code, status) == ('ValidationException', 400) and 'enum value set' in msg


def test_cloudwatch_query_codes(emu):
    r = query(emu.url, 'monitoring', 'PutMetricAlarm', CW_V, {'MetricName': 'm'})
    assert r.status == 400 and '<Code>MissingParameter</Code>' in r.text
    assert 'The parameter AlarmName is required.' in r.text
    r = query(emu.url, 'monitoring', 'DescribeAlarms', CW_V, {'MaxRecords': '101'})
    assert '<Code>ValidationError</Code>' in r.text
    assert 'Member must have value less than or equal to 100' in r.text
    r = query(emu.url, 'monitoring', 'DescribeAlarms', CW_V, {'MaxRecords': 'ten'})
    assert '<Code>InvalidParameterValue</Code>' in r.text
    r = query(emu.url, 'monitoring', 'DescribeAlarms', CW_V, {'Bogus': '1'})
    assert r.status == 400 and 'Unknown parameter Bogus' in r.text
    r = query(emu.url, 'monitoring', 'PutMetricAlarm', CW_V, {
        'AlarmName': 'a', 'MetricName': 'm', 'Namespace': 'n', 'Statistic': 'Average',
        'Period': '45', 'EvaluationPeriods': '1', 'Threshold': '1',
        'ComparisonOperator': 'GreaterThanThreshold'})
    assert '<Code>InvalidParameterValue</Code>' in r.text and 'multiple of 60' in r.text


def test_query_deflattening(emu, aws):
    r = query(emu.url, 'monitoring', 'PutMetricAlarm', CW_V, {
        'AlarmName': 'a1', 'MetricName': 'm', 'Namespace': 'AWS/SageMaker',
        'Statistic': 'Average', 'Period': '60', 'EvaluationPeriods': '2', 'Threshold': '1.5',
        'ComparisonOperator': 'GreaterThanOrEqualToThreshold', 'TreatMissingData': 'missing',
        'Dimensions.member.1.Name': 'EndpointName', 'Dimensions.member.1.Value': 'ep1',
        'Dimensions.member.2.Name': 'VariantName', 'Dimensions.member.2.Value': 'v',
        'AlarmActions.member.1': 'arn:aws:sns:us-east-1:123456789012:t',
        'ActionsEnabled': 'false',
        'Tags.member.1.Key': 'owner', 'Tags.member.1.Value': 'plumb'})
    assert r.status == 200, r
    assert r.text.startswith('<PutMetricAlarmResponse xmlns="http://monitoring.amazonaws.com/'
                             'doc/2010-08-01/">')
    a = aws('cloudwatch').describe_alarms(AlarmNames=['a1'])['MetricAlarms'][0]
    assert a['Dimensions'] == [{'Name': 'EndpointName', 'Value': 'ep1'},
                               {'Name': 'VariantName', 'Value': 'v'}]
    assert a['Threshold'] == 1.5 and a['ActionsEnabled'] is False
    assert a['AlarmActions'] == ['arn:aws:sns:us-east-1:123456789012:t']
    # an empty list parameter clears the list on overwrite
    r = query(emu.url, 'monitoring', 'PutMetricAlarm', CW_V, {
        'AlarmName': 'a1', 'MetricName': 'm', 'Namespace': 'AWS/SageMaker',
        'Statistic': 'Average', 'Period': '60', 'EvaluationPeriods': '2', 'Threshold': '1',
        'ComparisonOperator': 'GreaterThanThreshold', 'AlarmActions': ''})
    assert r.status == 200, r
    assert aws('cloudwatch').describe_alarms(AlarmNames=['a1'])['MetricAlarms'][0][
        'AlarmActions'] == []
    # maps: Attributes.entry.N.key/value
    r = query(emu.url, 'sns', 'CreateTopic', '2010-03-31', {
        'Name': 'tp', 'Attributes.entry.1.key': 'DisplayName',
        'Attributes.entry.1.value': 'Shown'})
    assert r.status == 200, r
    arn = 'arn:aws:sns:us-east-1:123456789012:tp'
    assert aws('sns').get_topic_attributes(TopicArn=arn)['Attributes']['DisplayName'] == 'Shown'


def test_sns_and_sts_codes(emu, aws):
    with pytest.raises(ClientError) as e:
        aws('sns').create_topic(Name='bad name!')
    assert error_of(e) == ('InvalidParameter', 'Invalid parameter: Topic Name', 400)
    with pytest.raises(ClientError) as e:
        aws('sts').assume_role(RoleArn='arn:aws:iam::123456789012:role/r',
                               RoleSessionName='has space')
    code, msg, status = error_of(e)
    assert (code, status) == ('ValidationError', 400)
    assert "at 'roleSessionName' failed to satisfy constraint" in msg


def test_boto3_client_side_validation_still_works(sm):
    with pytest.raises(ParamValidationError):
        sm.describe_endpoint()


def test_cloudwatch_json_protocol(emu, aws):
    """CloudWatch over AWS JSON 1.0 (the newest SDKs' choice), awsQueryCompatible errors."""
    target = 'GraniteServiceVersion20100801.'
    ct = 'application/x-amz-json-1.0'
    r = signed(emu.url, {'AlarmName': 'j1', 'MetricName': 'm', 'Namespace': 'n',
                         'Statistic': 'Sum', 'Period': 60, 'EvaluationPeriods': 1,
                         'Threshold': 2, 'ComparisonOperator': 'LessThanThreshold'},
               'monitoring', target=target + 'PutMetricAlarm', content_type=ct,
               extra_headers={'x-amzn-query-mode': 'true'})
    assert r.status == 200, r
    r = signed(emu.url, {'AlarmNames': ['j1']}, 'monitoring', target=target + 'DescribeAlarms',
               content_type=ct)
    alarm = r.json['MetricAlarms'][0]
    assert alarm['AlarmName'] == 'j1' and isinstance(alarm['StateUpdatedTimestamp'], float)
    assert r.headers['content-type'] == ct
    r = signed(emu.url, {'ResourceARN': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:nope'},
               'monitoring', target=target + 'ListTagsForResource', content_type=ct)
    assert r.status == 404 and r.json['__type'] == 'ResourceNotFoundException'
    assert r.headers['x-amzn-query-error'] == 'ResourceNotFoundException;Sender'
