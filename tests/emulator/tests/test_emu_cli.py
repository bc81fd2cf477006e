"""The start script and its flags, driven with the AWS CLI (/usr/bin/aws)."""

import json
import os
import subprocess

import pytest

import client

AWS_CLI = '/usr/bin/aws'


def cli(emu, *args, check=True, env_extra=None):
    env = {'PATH': '/usr/bin:/bin', 'HOME': os.environ.get('HOME', '/tmp'),
           'AWS_CONFIG_FILE': os.devnull, 'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
           'AWS_DATA_PATH': client.models_path(), 'AWS_EC2_METADATA_DISABLED': 'true',
           'AWS_PAGER': ''}
    env.update(emu.env())
    env.update(env_extra or {})
    p = subprocess.run([AWS_CLI, '--endpoint-url', emu.url, '--output', 'json'] + list(args),
                       env=env, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(p.stderr)
    return p


@pytest.fixture
def fresh():
    started = []

    def start(*flags, **kw):
        e = client.start(extra_args=flags, **kw)
        started.append(e)
        return e
    yield start
    for e in started:
        assert e.stop() == 0


def test_url_first_line_and_sigterm(fresh):
    emu = fresh()
    assert emu.url.startswith('http://127.0.0.1:')
    assert emu.health()['ok']
    assert emu.stop() == 0


def test_refuses_non_loopback():
    with pytest.raises(client.EmulatorError):
        client.start(extra_args=['--host', '0.0.0.0'], timeout=10)


def test_flags(fresh, tmp_path):
    creds = tmp_path / 'creds'
    creds.write_text('# key secret account\nAKIDTWO secrettwo 444455556666 alice\n')
    emu = fresh('--credentials', str(creds), '--account', 'AKIDTHREE:s3:777788889999',
                '--latency-ms', '20', '--silent-rollback', '--delete-delay', '0',
                create_delay=0.5, update_delay=0.25)
    health = emu.health()
    assert health['accounts'] == ['123456789012', '444455556666', '777788889999']
    assert health['settings'] == {'create_delay': 0.5, 'update_delay': 0.25, 'delete_delay': 0.0,
                                  'silent_rollback': True}
    assert emu.faults()['latency'] == [{'ms': 20.0, 'jitter_ms': 0.0}]
    emu.reset()
    assert emu.faults()['latency'] == [{'ms': 20.0, 'jitter_ms': 0.0}]  # flags survive reset
    ident = json.loads(cli(emu, 'sts', 'get-caller-identity', env_extra={
        'AWS_ACCESS_KEY_ID': 'AKIDTWO', 'AWS_SECRET_ACCESS_KEY': 'secrettwo'}).stdout)
    assert ident['Arn'] == 'arn:aws:iam::444455556666:user/alice'
    assert emu.calls()[-1]['duration_ms'] >= 20


def test_throttle_and_error_flags(fresh):
    emu = fresh('--throttle-rate', '0.001', '--throttle-burst', '1')
    cli(emu, 'sns', 'list-topics')
    p = cli(emu, 'sns', 'list-topics', check=False, env_extra={'AWS_MAX_ATTEMPTS': '1'})
    assert p.returncode != 0 and 'Throttled' in p.stderr


def test_aws_cli_round_trip(emu):
    cli(emu, 'sagemaker', 'create-model', '--model-name', 'cli-model', '--primary-container',
        'Image=img:1')
    cli(emu, 'sagemaker', 'create-endpoint-config', '--endpoint-config-name', 'cli-config',
        '--production-variants', 'VariantName=v,ModelName=cli-model,InstanceType=ml.m5.large,'
        'InitialInstanceCount=1')
    out = json.loads(cli(emu, 'sagemaker', 'create-endpoint', '--endpoint-name', 'cli-ep',
                         '--endpoint-config-name', 'cli-config').stdout)
    assert out['EndpointArn'].endswith(':endpoint/cli-ep')
    d = json.loads(cli(emu, 'sagemaker', 'describe-endpoint', '--endpoint-name', 'cli-ep').stdout)
    assert d['EndpointStatus'] == 'Creating'
    p = cli(emu, 'sagemaker', 'describe-endpoint', '--endpoint-name', 'nope', check=False)
    assert p.returncode != 0 and 'Could not find endpoint' in p.stderr
    cli(emu, 'cloudwatch', 'put-metric-alarm', '--alarm-name', 'cli-alarm', '--metric-name', 'm',
        '--namespace', 'n', '--statistic', 'Average', '--period', '60', '--evaluation-periods', '1',
        '--threshold', '1', '--comparison-operator', 'GreaterThanThreshold',
        '--dimensions', 'Name=EndpointName,Value=cli-ep')
    alarms = json.loads(cli(emu, 'cloudwatch', 'describe-alarms').stdout)['MetricAlarms']
    assert alarms[0]['Dimensions'] == [{'Name': 'EndpointName', 'Value': 'cli-ep'}]
    arn = json.loads(cli(emu, 'sns', 'create-topic', '--name', 'cli-topic').stdout)['TopicArn']
    assert json.loads(cli(emu, 'sns', 'list-topics').stdout)['Topics'] == [{'TopicArn': arn}]
    cli(emu, 'application-autoscaling', 'describe-scalable-targets', '--service-namespace',
        'sagemaker')
    res = json.loads(cli(emu, 'resourcegroupstaggingapi', 'get-resources').stdout)
    assert res['ResourceTagMappingList'] == []
    assert emu.counts()['sagemaker.DescribeEndpoint'] == 2


def test_curl_aws_sigv4(emu):
    """libcurl's own SigV4 signer (what a C client built on libcurl may use) is accepted."""
    common = ['curl', '-sS', '--max-time', '10', '--aws-sigv4', 'aws:amz:us-east-1:sagemaker',
              '--user', '%s:%s' % (client.ACCESS_KEY, client.SECRET_KEY),
              '-H', 'Content-Type: application/x-amz-json-1.1', '-w', '\n%{http_code}']
    p = subprocess.run(common + ['-H', 'X-Amz-Target: SageMaker.ListModels', '--data', '{}',
                                 emu.url + '/'], capture_output=True, text=True, timeout=30)
    body, status = p.stdout.rsplit('\n', 1)
    assert (status, json.loads(body)) == ('200', {'Models': []})
    p = subprocess.run(common[:-2] + ['-H', 'X-Amz-Target: SageMaker.ListModels', '--data', '{}',
                                      '-H', 'X-Extra: 1', '-w', '%{http_code}',
                                      emu.url + '/?x=1'],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout.endswith('200')
