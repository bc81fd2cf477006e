"""pkg/aws + pkg/http against the emulator: whoami, connection reuse under 1,000 concurrent
calls, throttling storms absorbed by the adaptive limiter, 5xx absorbed by standard retries."""
import pytest

from aws_helpers import clean_env, emulator, tool_call, whoami

ROLE = 'arn:aws:iam::123456789012:role/plumb-test'


@pytest.fixture(scope='module')
def emu():
    e = emulator.start(create_delay=0)
    yield e
    e.stop()


@pytest.fixture
def env(emu, tmp_path):
    emu.clear_faults()
    return clean_env(emu, tmp_path)


@pytest.fixture(scope='module')
def endpoint(emu):
    sm = emu.boto3_client('sagemaker')
    sm.create_model(ModelName='m1', ExecutionRoleArn=ROLE,
                    PrimaryContainer={'Image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1'})
    sm.create_endpoint_config(EndpointConfigName='c1', ProductionVariants=[{
        'VariantName': 'v1', 'ModelName': 'm1', 'InitialInstanceCount': 1,
        'InstanceType': 'ml.m5.large'}])
    sm.create_endpoint(EndpointName='ep1', EndpointConfigName='c1')
    return 'ep1'


def test_whoami_env(env):
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['account'] == '123456789012'
    assert out['provider'] == 'env'
    assert out['region'] == 'us-east-1'
    assert out['arn'].startswith('arn:aws:')


def test_whoami_failure_is_clear(env):
    env['AWS_SECRET_ACCESS_KEY'] = 'not-the-secret'
    rc, _, err = whoami(env)
    assert rc == 1
    assert 'sts GetCallerIdentity' in err and 'SignatureDoesNotMatch' in err
    assert 'not-the-secret' not in err


def test_plain_http_to_non_loopback_refused(env):
    env['AWS_ENDPOINT_URL'] = 'http://10.1.2.3:4566'
    rc, _, err = whoami(env)
    assert rc == 1 and 'loopback' in err


def test_thousand_concurrent_calls_few_connections(emu, env, endpoint):
    emu.clear_calls()
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint},
                             '--count', 1000, '--conns', 8)
    assert rc == 0, out
    assert out['ok'] == 1000
    assert out['last_reply']['EndpointName'] == endpoint
    assert out['http_connects'] <= 8, out
    assert out['http_max_in_flight'] == 1000  # all accepted at once, curl queued the rest
    assert emu.counts(service='sagemaker', operation='DescribeEndpoint') == \
        {'sagemaker.DescribeEndpoint': 1000}
    print('1000 DescribeEndpoint: %d connections, %d ms' % (out['http_connects'],
                                                             out['elapsed_ms']))


def test_throttling_storm_is_absorbed(emu, env, endpoint):
    emu.set_faults({'throttle': [{'service': 'sagemaker', 'operation': 'DescribeEndpoint',
                                  'rate': 10, 'burst': 10}]})
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint},
                             '--count', 150)
    assert rc == 0, out
    assert out['ok'] == 150 and out['errors'] == {}
    assert out['throttled'] > 0
    # 150 calls at 10/s take at least ~14 s; the limiter keeps retries from hammering
    assert out['elapsed_ms'] >= 12000
    assert out['attempts'] < 150 * 4, out
    print('throttled at 10/s: 150 calls in %d ms, %d attempts, %d throttled' %
          (out['elapsed_ms'], out['attempts'], out['throttled']))


def test_five_xx_absorbed(emu, env, endpoint):
    emu.set_faults({'errors': [{'service': 'sagemaker', 'rate': 0.2, 'status': 503}],
                    'seed': 11})
    env['AWS_MAX_ATTEMPTS'] = '6'
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint},
                             '--count', 200)
    assert rc == 0, out
    assert out['ok'] == 200
    assert out['transient'] > 10
    print('20%% 503: 200 calls ok, %d transient failures retried' % out['transient'])


def test_standard_mode_gives_up_after_max_attempts(emu, env, endpoint):
    emu.set_faults({'errors': [{'service': 'sagemaker', 'rate': 1.0, 'status': 500}]})
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint})
    assert rc == 1
    assert out['attempts'] == 3
    assert out['last_error']['class'] == 'retryable'


def test_query_and_json_protocols_roundtrip(emu, env):
    rc, out, _ = tool_call(env, 'CreateTopic', {'Name': 'alerts', 'Attributes':
                                                {'DisplayName': 'Alerts'}})
    assert rc == 0, out
    arn = out['last_reply']['TopicArn']
    rc, out, _ = tool_call(env, 'GetTopicAttributes', {'TopicArn': arn})
    assert out['last_reply']['Attributes']['DisplayName'] == 'Alerts'
    rc, out, _ = tool_call(env, 'PutMetricAlarm', {
        'AlarmName': 'a1', 'Namespace': 'AWS/SageMaker', 'MetricName': 'Invocations',
        'Statistic': 'Average', 'Period': 60, 'EvaluationPeriods': 2, 'Threshold': 1.5,
        'ComparisonOperator': 'GreaterThanOrEqualToThreshold', 'AlarmActions': [arn],
        'Dimensions': [{'Name': 'EndpointName', 'Value': 'ep1'}]})
    assert rc == 0, out
    rc, out, _ = tool_call(env, 'DescribeAlarms', {'AlarmNames': ['a1']})
    alarm = out['last_reply']['MetricAlarms'][0]
    assert alarm['Period'] == 60 and alarm['Threshold'] == 1.5
    assert alarm['AlarmActions'] == [arn] and alarm['ActionsEnabled'] is True
    rc, out, _ = tool_call(env, 'DeleteTopic', {'TopicArn': arn})
    assert rc == 0
    rc, out, _ = tool_call(env, 'GetTopicAttributes', {'TopicArn': arn})
    assert rc == 1 and out['last_error']['class'] == 'not_found'


def test_not_found_classified(env):
    rc, out, _ = tool_call(env, 'DescribeEndpointConfig', {'EndpointConfigName': 'nope'})
    assert rc == 1
    assert out['last_error']['code'] == 'ValidationException'
    assert out['last_error']['class'] == 'not_found'


def test_pagination(emu, env):
    for i in range(25):
        tool_call(env, 'CreateTopic', {'Name': 'page-%02d' % i})
    rc, out, _ = tool_call(env, 'ListTopics', {}, '--paginate', 'Topics')
    assert rc == 0
    names = [t['TopicArn'].rsplit(':', 1)[1] for t in out['last_reply']['Topics']]
    assert len([n for n in names if n.startswith('page-')]) == 25
