"""pkg/aws + pkg/http against the emulator: whoami, connection reuse under 1,000 concurrent
calls, throttling storms absorbed by the adaptive limiter, 5xx absorbed by retries (reads get 8
attempts, writes 3, a configured AWS_MAX_ATTEMPTS applies to all) without draining the retry
quota, and creates whose reply was lost settled by a Describe."""
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
    """20% 503 on every SageMaker call, default configuration: every read succeeds."""
    emu.set_faults({'errors': [{'service': 'sagemaker', 'rate': 0.2, 'status': 503}]})
    assert 'AWS_MAX_ATTEMPTS' not in env
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint},
                             '--count', 300)
    assert rc == 0, out
    assert out['ok'] == 300 and out['errors'] == {}
    assert out['transient'] > 20
    assert out['quota_denied'] == 0
    print('20%% 503: 300 calls ok, %d transient failures retried, quota low %d, %d ms' %
          (out['transient'], out['quota_low'], out['elapsed_ms']))


def test_five_xx_thousand_calls_quota_holds(emu, env, endpoint):
    """1000 concurrent reads at 20% 503 need ~250 retries, more than the 100 the quota's 500
    tokens pay for at once; the refills (+1 per first-try success, the retry's 5 back when it
    succeeds) keep it well above empty, so no call is refused a retry."""
    emu.set_faults({'errors': [{'service': 'sagemaker', 'rate': 0.2, 'status': 503}]})
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint},
                             '--count', 1000, '--conns', 8)
    assert rc == 0, {k: v for k, v in out.items() if k != 'last_reply'}
    assert out['ok'] == 1000
    assert out['retries'] > 150 and out['quota_denied'] == 0
    print('20%% 503: 1000 calls ok, %d retries, quota low %d, end %d, %d ms' %
          (out['retries'], out['quota_low'], out['quota_end'], out['elapsed_ms']))


def test_reads_retry_past_three_attempts(emu, env, endpoint):
    emu.set_faults({'errors': [{'service': 'sagemaker', 'operation': 'DescribeEndpoint',
                                'count': 4, 'status': 500}]})
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint})
    assert rc == 0, out
    assert out['attempts'] == 5


def test_writes_give_up_after_three_attempts(emu, env, endpoint):
    emu.set_faults({'errors': [{'service': 'sagemaker', 'rate': 1.0, 'status': 500}]})
    rc, out, err = tool_call(env, 'AddTags', {
        'ResourceArn': 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep1',
        'Tags': [{'Key': 'k', 'Value': 'v'}]})
    assert rc == 1
    assert out['attempts'] == 3
    assert out['last_error']['class'] == 'retryable'


def test_configured_max_attempts_applies_to_reads(emu, env, endpoint):
    emu.set_faults({'errors': [{'service': 'sagemaker', 'rate': 1.0, 'status': 500}]})
    env['AWS_MAX_ATTEMPTS'] = '3'
    rc, out, err = tool_call(env, 'DescribeEndpoint', {'EndpointName': endpoint})
    assert rc == 1
    assert out['attempts'] == 3
    assert out['last_error']['class'] == 'retryable'


def sm_calls(emu, since_seq):
    return [(c['operation'], c['status']) for c in emu.calls(service='sagemaker', after=since_seq)]


def last_seq(emu):
    calls = emu.calls()
    return calls[-1]['seq'] if calls else 0


@pytest.mark.parametrize('fault', ['drop', 'errors'])
def test_create_endpoint_reply_lost_is_settled_by_describe(emu, env, endpoint, fault):
    """CreateEndpoint runs but its reply is lost (connection dropped, or a 500 after the fact);
    the retry answers "already existing" and DescribeEndpoint shows our config: success."""
    name = 'ep-lost-' + fault
    rule = {'operation': 'CreateEndpoint', 'count': 1, 'after': True}
    if fault == 'errors':
        rule['status'] = 500
    emu.set_faults({fault: [rule]})
    seq = last_seq(emu)
    rc, out, err = tool_call(env, 'CreateEndpoint', {'EndpointName': name,
                                                     'EndpointConfigName': 'c1'})
    assert rc == 0, out
    assert out['last_reply'] == {
        'EndpointArn': 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/' + name}
    assert out['creates_verified'] == 1
    assert sm_calls(emu, seq) == [('CreateEndpoint', 0 if fault == 'drop' else 500),
                                  ('CreateEndpoint', 400), ('DescribeEndpoint', 200)]


def test_create_model_and_config_reply_lost(emu, env, endpoint):
    emu.set_faults({'drop': [{'operation': 'CreateModel', 'count': 1, 'after': True},
                             {'operation': 'CreateEndpointConfig', 'count': 1, 'after': True}]})
    rc, out, err = tool_call(env, 'CreateModel', {
        'ModelName': 'm-lost', 'ExecutionRoleArn': ROLE,
        'PrimaryContainer': {'Image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1'}})
    assert rc == 0, out
    assert out['last_reply'] == {'ModelArn': 'arn:aws:sagemaker:us-east-1:123456789012:model/m-lost'}
    emu.set_faults({'drop': [{'operation': 'CreateEndpointConfig', 'count': 1, 'after': True}]})
    rc, out, err = tool_call(env, 'CreateEndpointConfig', {
        'EndpointConfigName': 'c-lost', 'ProductionVariants': [{
            'VariantName': 'v1', 'ModelName': 'm-lost', 'InitialInstanceCount': 1,
            'InstanceType': 'ml.m5.large'}]})
    assert rc == 0, out
    assert out['last_reply'] == {
        'EndpointConfigArn': 'arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c-lost'}


def test_create_endpoint_conflicts_stay_conflicts(emu, env, endpoint):
    sm = emu.boto3_client('sagemaker')
    sm.create_endpoint_config(EndpointConfigName='c2', ProductionVariants=[{
        'VariantName': 'v1', 'ModelName': 'm1', 'InitialInstanceCount': 1,
        'InstanceType': 'ml.m5.large'}])
    # "already existing" on the first attempt: someone else's endpoint, no Describe
    seq = last_seq(emu)
    rc, out, err = tool_call(env, 'CreateEndpoint', {'EndpointName': endpoint,
                                                     'EndpointConfigName': 'c1'})
    assert rc == 1 and out['last_error']['class'] == 'conflict', out
    assert sm_calls(emu, seq) == [('CreateEndpoint', 400)]
    # after an ambiguous 503 the Describe shows another config: still a conflict
    emu.set_faults({'errors': [{'operation': 'CreateEndpoint', 'count': 1, 'status': 503}]})
    seq = last_seq(emu)
    rc, out, err = tool_call(env, 'CreateEndpoint', {'EndpointName': endpoint,
                                                     'EndpointConfigName': 'c2'})
    assert rc == 1 and out['last_error']['class'] == 'conflict', out
    assert 'already existing' in out['last_error']['message']
    assert out['creates_verified'] == 0
    assert sm_calls(emu, seq) == [('CreateEndpoint', 503), ('CreateEndpoint', 400),
                                  ('DescribeEndpoint', 200)]


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


def test_pagination_cap_fails_instead_of_truncating(emu, env):
    """At max_pages with a token left the call fails (PLUMB_ELIMIT, naming the operation and
    the cap): a short list would make the resources on later pages look deleted."""
    for i in range(5):
        rc, _, err = tool_call(env, 'CreateModel', {
            'ModelName': 'cap-%d' % i, 'ExecutionRoleArn': 'arn:aws:iam::123456789012:role/r',
            'PrimaryContainer': {'Image': 'img:1'}})
        assert rc == 0, err
    page = {'MaxResults': 2, 'NameContains': 'cap-'}  # 5 models: 3 pages
    rc, out, _ = tool_call(env, 'ListModels', page, '--paginate', 'Models', '--max-pages', 2)
    assert rc == 1
    assert out['last_error']['code'] == 'limit exceeded', out
    assert 'ListModels' in out['last_error']['message']
    assert '2 pages' in out['last_error']['message']
    rc, out, _ = tool_call(env, 'ListModels', page, '--paginate', 'Models', '--max-pages', 3)
    assert rc == 0
    assert sorted(m['ModelName'] for m in out['last_reply']['Models']) == \
        ['cap-%d' % i for i in range(5)]
