"""Control API and call log."""

import json
import time
import urllib.error
import urllib.request

import pytest

from emu_helpers import model, sm_json


def _raw(emu, method, route, body=None):
    req = urllib.request.Request(emu.url + route, method=method,
                                 data=body if body is None else body.encode())
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_call_log_filters_and_counts(emu, sm, aws):
    t0 = time.time()
    model(sm)
    sm.describe_model(ModelName='m1')
    sm.describe_model(ModelName='m1')
    aws('sts').get_caller_identity()
    sm_json(emu.url, 'DescribeModel', {'ModelName': 'nope'})
    calls = emu.calls()
    assert [(c['service'], c['operation'], c['status']) for c in calls] == [
        ('sagemaker', 'CreateModel', 200), ('sagemaker', 'DescribeModel', 200),
        ('sagemaker', 'DescribeModel', 200), ('sts', 'GetCallerIdentity', 200),
        ('sagemaker', 'DescribeModel', 400)]
    assert calls[-1]['error'] == 'ValidationException'
    assert all(c['time'] >= t0 and c['duration_ms'] >= 0 and c['account'] == '123456789012'
               and c['region'] == 'us-east-1' for c in calls)
    assert emu.counts() == {'sagemaker.CreateModel': 1, 'sagemaker.DescribeModel': 3,
                            'sts.GetCallerIdentity': 1}
    assert len(emu.calls(service='sagemaker', operation='DescribeModel', status=200)) == 2
    assert len(emu.calls(error='ValidationException')) == 1
    assert len(emu.calls(after=calls[2]['seq'])) == 2
    assert emu.calls(since=time.time() + 10) == []
    assert len(emu.calls(limit=1)) == 1
    assert emu.counts(service='cloudwatch') == {}
    emu.clear_calls()
    assert emu.calls() == [] and emu.counts() == {}


def test_reset_forgets_everything(emu, sm):
    model(sm)
    emu.set_faults({'latency': [{'ms': 1}]})
    emu.configure(create_delay=1)
    emu.advance(100)
    emu.reset()
    assert sm.list_models()['Models'] == []
    assert emu.faults()['latency'] == []
    assert emu.health()['settings']['create_delay'] == 30.0
    assert abs(emu.clock()['offset']) < 5
    assert [c['operation'] for c in emu.calls()] == ['ListModels']


def test_control_errors(emu):
    assert _raw(emu, 'GET', '/_emulator/nope')[0] == 404
    assert _raw(emu, 'POST', '/_emulator/faults', '{bad')[0] == 400
    assert _raw(emu, 'POST', '/_emulator/clock', '{"advance": -5}')[0] == 400
    assert _raw(emu, 'POST', '/_emulator/config', '{"create_delay": "x"}')[0] == 400
    status, body = _raw(emu, 'GET', '/_emulator/health')
    assert status == 200 and body['ok'] and body['accounts'] == ['123456789012']


def test_add_credentials_at_runtime(emu, aws):
    emu.add_credentials('AKIDSECONDACCOUNT', 'secret2', '111122223333')
    other = aws('sts', aws_access_key_id='AKIDSECONDACCOUNT', aws_secret_access_key='secret2')
    assert other.get_caller_identity()['Account'] == '111122223333'
    emu.calls(account='111122223333')


def test_add_fault_rule_and_listing(emu):
    emu.add_fault('latency', {'ms': 1})
    emu.add_fault('endpoint-failures', {'endpoint': '*', 'on': 'update', 'mode': 'rollback',
                                        'count': None})
    f = emu.faults()
    assert f['latency'] == [{'ms': 1}]
    assert f['endpoint_failures'][0]['count'] is None


@pytest.mark.parametrize('route', ['/_emulator/calls', '/_emulator/calls/counts'])
def test_bad_filters(emu, route):
    assert _raw(emu, 'GET', route + '?service=ec2')[0] == 400
    assert _raw(emu, 'GET', route + '?since=yesterday')[0] == 400
