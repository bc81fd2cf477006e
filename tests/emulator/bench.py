#!/usr/bin/python3
"""Measure the emulator's request rate.

Starts the emulator (or uses --url), creates one endpoint, then signs a small set of real requests
with botocore (SageMaker DescribeEndpoint and ListEndpoints over JSON, CloudWatch DescribeAlarms and
STS GetCallerIdentity over Query; signatures stay valid for the 5-minute skew window) and replays
them over keep-alive connections from several client processes for --seconds. Every reply must be
HTTP 200. Prints requests/s and latency percentiles. Each replayed request is fully verified by the
emulator (SigV4, validation, handler, reply encoding, call log), exactly like a fresh one.

    /usr/bin/python3 tests/emulator/bench.py [--seconds 10] [--procs 2] [--conns 4]
"""

import argparse
import multiprocessing
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import client  # noqa: E402

os.environ.setdefault('AWS_DATA_PATH', client.models_path())


def signed_requests(url):
    """Raw HTTP/1.1 request bytes for a few operations, signed with botocore."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    creds = Credentials(client.ACCESS_KEY, client.SECRET_KEY)
    host = url[len('http://'):]
    specs = [
        ('sagemaker', 'application/x-amz-json-1.1', 'SageMaker.DescribeEndpoint',
         b'{"EndpointName":"bench-ep"}'),
        ('sagemaker', 'application/x-amz-json-1.1', 'SageMaker.ListEndpoints',
         b'{"MaxResults":10}'),
        ('monitoring', 'application/x-www-form-urlencoded; charset=utf-8', None,
         b'Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=bench-alarm'),
        ('sts', 'application/x-www-form-urlencoded; charset=utf-8', None,
         b'Action=GetCallerIdentity&Version=2011-06-15'),
    ]
    out = []
    for service, ctype, target, body in specs:
        headers = {'Content-Type': ctype, 'Host': host}
        if target:
            headers['X-Amz-Target'] = target
        req = AWSRequest(method='POST', url=url + '/', data=body, headers=headers)
        SigV4Auth(creds, service, 'us-east-1').add_auth(req)
        lines = ['POST / HTTP/1.1'] + ['%s: %s' % kv for kv in req.headers.items()]
        lines.append('Content-Length: %d' % len(body))
        out.append(('\r\n'.join(lines) + '\r\n\r\n').encode() + body)
    return out


def _read_response(sock, buf):
    while b'\r\n\r\n' not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed')
        buf += chunk
    head, _, rest = buf.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1])
    length = 0
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            length = int(v)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed')
        rest += chunk
    return status, rest[length:]


def _worker(args):
    url, requests, conns, seconds, start_at = args
    import threading
    host, port = url[len('http://'):].rsplit(':', 1)
    results = []
    lock = threading.Lock()

    def run(idx):
        sock = socket.create_connection((host, int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lat, bad, buf = [], 0, b''
        i = idx
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while True:
            t = time.perf_counter()
            if time.time() >= end:
                break
            sock.sendall(requests[i % len(requests)])
            status, buf = _read_response(sock, buf)
            lat.append(time.perf_counter() - t)
            if status != 200:
                bad += 1
            i += 1
        sock.close()
        with lock:
            results.append((lat, bad))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = [x for r in results for x in r[0]]
    return lat, sum(r[1] for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('--url', help='use a running emulator instead of starting one')
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--procs', type=int, default=2)
    ap.add_argument('--conns', type=int, default=4, help='keep-alive connections per process')
    args = ap.parse_args()
    emu = client.Emulator(args.url) if args.url else client.start(create_delay=0)
    try:
        emu.reset()
        sm = emu.boto3_client('sagemaker')
        sm.create_model(ModelName='bench-m', PrimaryContainer={'Image': 'img:1'})
        sm.create_endpoint_config(EndpointConfigName='bench-c', ProductionVariants=[{
            'VariantName': 'v', 'ModelName': 'bench-m', 'InstanceType': 'ml.m5.large',
            'InitialInstanceCount': 1}])
        sm.create_endpoint(EndpointName='bench-ep', EndpointConfigName='bench-c')
        emu.boto3_client('cloudwatch').put_metric_alarm(
            AlarmName='bench-alarm', MetricName='m', Namespace='n', Statistic='Average',
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator='GreaterThanThreshold')
        requests = signed_requests(emu.url)
        emu.clear_calls()
        start_at = time.time() + 0.5
        with multiprocessing.Pool(args.procs) as pool:
            parts = pool.map(_worker, [(emu.url, requests, args.conns, args.seconds, start_at)]
                             * args.procs)
        lat = sorted(x for p in parts for x in p[0])
        bad = sum(p[1] for p in parts)
        n = len(lat)
        logged = sum(emu.counts().values())
        print('requests: %d in %.1f s over %d connections -> %.0f req/s; non-200: %d; '
              'call log entries: %d' % (n, args.seconds, args.procs * args.conns,
                                        n / args.seconds, bad, logged))
        if n:
            print('latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f' % tuple(
                lat[min(n - 1, int(q * n))] * 1000 for q in (0.5, 0.9, 0.99, 0.999999)))
        return 1 if bad else 0
    finally:
        if not args.url:
            emu.stop()


if __name__ == '__main__':
    sys.exit(main())
