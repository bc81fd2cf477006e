"""Fault injection: latency, throttling buckets, 5xx, dropped connections."""

import time

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from emu_helpers import config, error_of, model, query


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_latency_fixed_jitter_and_scoped(emu, sm, aws):
    sts = aws('sts')
    emu.set_faults({'latency': [{'service': 'sagemaker', 'operation': 'ListModels', 'ms': 150},
                                {'service': 'sts', 'ms': 50, 'jitter_ms': 50}]})
    assert _timed(sm.list_models) >= 0.15
    assert _timed(sm.list_endpoints) < 0.1  # other operations unaffected
    took = _timed(sts.get_caller_identity)
    assert 0.05 <= took < 0.5
    emu.clear_faults()
    assert _timed(sm.list_models) < 0.1


def test_latency_floor_counts_the_emulators_own_work(emu, sm):
    # a floor: the reply leaves 150 ms after the request came in, not 150 ms plus the work
    emu.set_faults({'latency': [{'operation': 'ListModels', 'ms': 150, 'floor': True}]})
    took = _timed(sm.list_models)
    assert 0.15 <= took < 0.4
    call = emu.calls(operation='ListModels')[-1]
    assert call['duration_ms'] >= 150
    with pytest.raises(Exception):
        emu.set_faults({'latency': [{'ms': 10, 'floor': 'yes'}]})
    emu.clear_faults()


def test_throttling_buckets_per_operation(emu, sm, aws):
    emu.set_faults({'throttle': [{'rate': 0.001, 'burst': 3}]})
    for _ in range(3):
        sm.list_models()
    with pytest.raises(ClientError) as e:
        sm.list_models()
    assert error_of(e) == ('ThrottlingException', 'Rate exceeded', 400)
    sm.list_endpoints()  # separate bucket per operation
    # each service's throttling code
    cw, sns, sts = aws('cloudwatch'), aws('sns'), aws('sts')
    for client, call, code, status in [(cw, cw.describe_alarms, 'Throttling', 400),
                                       (sns, sns.list_topics, 'Throttled', 429),
                                       (sts, sts.get_caller_identity, 'Throttling', 400)]:
        for _ in range(3):
            call()
        with pytest.raises(ClientError) as e:
            call()
        assert (error_of(e)[0], error_of(e)[2]) == (code, status)
    counts = emu.counts(error='ThrottlingException')
    assert counts == {'sagemaker.ListModels': 1}


def test_throttling_refills(emu, sm):
    emu.set_faults({'throttle': [{'service': 'sagemaker', 'rate': 20, 'burst': 1}]})
    sm.list_models()
    with pytest.raises(ClientError):
        sm.list_models()
    time.sleep(0.1)
    sm.list_models()


def test_5xx_rate_and_count(emu, sm, aws):
    emu.set_faults({'errors': [{'service': 'sagemaker', 'count': 2, 'status': 500}]})
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            sm.list_models()
        assert error_of(e)[0::2] == ('InternalFailure', 500)
    sm.list_models()  # rule used up
    emu.set_faults({'errors': [{'rate': 1.0, 'status': 503}]})
    with pytest.raises(ClientError) as e:
        aws('sns').list_topics()
    assert error_of(e)[0::2] == ('ServiceUnavailable', 503)
    r = query(emu.url, 'monitoring', 'DescribeAlarms', '2010-08-01')
    assert r.status == 503 and '<Type>Receiver</Type>' in r.text
    emu.set_faults({'errors': [{'rate': 0.2}], 'seed': 7})
    failures = 0
    for _ in range(200):
        try:
            sm.list_models()
        except ClientError:
            failures += 1
    assert 20 <= failures <= 60


def test_sdk_retries_through_5xx(emu, aws):
    from botocore.config import Config
    sm = aws('sagemaker', config=Config(retries={'total_max_attempts': 3, 'mode': 'standard'}))
    emu.set_faults({'errors': [{'count': 2, 'status': 500}]})
    sm.list_models()
    assert emu.counts(service='sagemaker') == {'sagemaker.ListModels': 3}


def test_dropped_connections(emu, sm):
    emu.set_faults({'drop': [{'operation': 'ListModels', 'count': 1}]})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sm.list_models()
    sm.list_models()
    calls = emu.calls(operation='ListModels')
    assert [(c['status'], c['error']) for c in calls] == [(0, 'ConnectionDropped'), (200, None)]


def test_faults_after_the_operation(emu, sm):
    """"after": the operation runs and its effect stays; only the reply is lost or replaced."""
    emu.set_faults({'drop': [{'operation': 'CreateModel', 'count': 1, 'after': True}],
                    'errors': [{'operation': 'CreateEndpointConfig', 'count': 1, 'after': True,
                                'status': 503}]})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        model(sm, 'm-after')
    assert sm.describe_model(ModelName='m-after')['ModelName'] == 'm-after'
    with pytest.raises(ClientError) as e:
        model(sm, 'm-after')  # the rule retired; the retry finds what the first call made
    assert 'Cannot create already existing model' in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        config(sm, 'c-after', model_name='m-after')
    assert error_of(e)[0::2] == ('ServiceUnavailable', 503)
    assert sm.describe_endpoint_config(EndpointConfigName='c-after')['EndpointConfigName'] == \
        'c-after'
    calls = emu.calls(service='sagemaker')
    assert [(c['operation'], c['status']) for c in calls][:3] == [
        ('CreateModel', 0), ('DescribeModel', 200), ('CreateModel', 400)]


def test_faults_after_skip_failed_operations(emu, sm):
    """An operation that fails keeps its own error; the "after" rule waits for one that works."""
    emu.set_faults({'drop': [{'operation': 'DescribeModel', 'count': 1, 'after': True}]})
    with pytest.raises(ClientError) as e:
        sm.describe_model(ModelName='missing')
    assert error_of(e)[0] == 'ValidationException'
    model(sm, 'm-present')
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sm.describe_model(ModelName='m-present')
    sm.describe_model(ModelName='m-present')


def test_bad_fault_specs_are_refused(emu):
    import client
    for bad in [{'errors': [{'rate': 2}]}, {'nope': []}, {'throttle': [{'burst': 0}]},
                {'latency': [{'service': 'ec2', 'ms': 1}]},
                {'endpoint_failures': [{'endpoint': 'x', 'mode': 'explode'}]},
                {'throttle': [{'rate': 1, 'after': True}]}, {'drop': [{'count': 1, 'after': 1}]}]:
        with pytest.raises(client.EmulatorError):
            emu.set_faults(bad)
