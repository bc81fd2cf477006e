"""HTTP server behaviour: keep-alive, concurrency, routing edge cases, explicit ports, fault files."""

import http.client
import json
import socket
import threading

import pytest
from botocore.exceptions import ClientError

import client
from emu_helpers import JSON11, signed


def test_keep_alive_many_requests_one_connection(emu):
    host, port = emu.url[len('http://'):].split(':')
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    for _ in range(20):
        conn.request('GET', '/_emulator/health')
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())['ok']
    sock = conn.sock
    conn.request('GET', '/_emulator/health')
    conn.getresponse().read()
    assert conn.sock is sock  # same TCP connection reused
    conn.close()


def test_concurrent_clients(emu, aws):
    errors = []

    clients = [aws('sagemaker') for _ in range(8)]  # boto3 client creation is not thread-safe

    def work(n):
        try:
            sm = clients[n]
            for i in range(10):
                sm.create_model(ModelName='t%d-m%d' % (n, i), PrimaryContainer={'Image': 'i'})
        except Exception as e:  # collected and asserted below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(aws('sagemaker').list_models(MaxResults=100)['Models']) == 80
    assert emu.counts()['sagemaker.CreateModel'] == 80


def test_duplicate_creates_race(emu, aws):
    results = []
    clients = [aws('sagemaker') for _ in range(6)]

    def create(sm):
        try:
            sm.create_model(ModelName='same', PrimaryContainer={'Image': 'i'})
            results.append('ok')
        except ClientError as e:
            results.append(e.response['Error']['Code'])
    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ['ValidationException'] * 5 + ['ok']


def test_unknown_target_prefix_and_missing_action(emu):
    r = signed(emu.url, {}, 'sagemaker', target='Nope_2020.Thing')
    assert r.status == 400 and r.json['__type'] == 'UnknownOperationException'
    r = signed(emu.url, 'Version=2010-03-31', 'sns')
    assert r.status == 400 and '<Code>MissingAction</Code>' in r.text
    r = signed(emu.url, 'Action=ListTopics&Version=1999-01-01', 'sns')
    assert r.status == 400 and '<Code>InvalidAction</Code>' in r.text


def test_json_request_to_query_only_service(emu):
    r = signed(emu.url, {}, 'sns', target='SNS.ListTopics', content_type=JSON11)
    assert r.status == 400


def test_explicit_port_and_faults_file(tmp_path):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    faults = tmp_path / 'faults.json'
    faults.write_text(json.dumps({'errors': [{'service': 'sts', 'status': 503, 'count': 1}]}))
    emu = client.start(port=port, extra_args=['--faults', str(faults)])
    try:
        assert emu.url == 'http://127.0.0.1:%d' % port
        sts = emu.boto3_client('sts', config=__import__('botocore.config').config.Config(
            retries={'total_max_attempts': 1}))
        with pytest.raises(ClientError) as e:
            sts.get_caller_identity()
        assert e.value.response['Error']['Code'] == 'ServiceUnavailable'
        assert sts.get_caller_identity()['Account'] == client.ACCOUNT
    finally:
        assert emu.stop() == 0
