#!/usr/bin/python3
"""bench/baselines.py — the per-resource readers plumb is compared with.

Owns two baselines that read a set of resources the way other tools do, against any AWS
endpoint (the benchmark points them at the emulator), with Debian's boto3:

- serial:   one call per resource, in turn, as the deploy and invoke scripts of this field do:
            DescribeModel, DescribeEndpointConfig, DescribeEndpoint, DescribeScalableTargets and
            DescribeScalingPolicies per resource id, DescribeAlarms per alarm name,
            GetTopicAttributes per topic;
- refresh:  10 workers, one read plus one tag read per resource (how Terraform refreshes by
            default: each resource's Read, which also lists its tags). Scaling policies carry no
            tags, so they cost their read only.

Both use botocore's "standard" retry mode with 10 attempts, so throttling slows them down
rather than failing them; calls that still fail are counted, not fatal.

`resources_from_render(text)` turns `plumb render` output into the resource list both take.
Run alone: bench/baselines.py --url URL --manifests DIR [--mode serial|refresh|both].
"""

import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import threading
import time

os.environ.setdefault('AWS_DATA_PATH', os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'aws-models')))

ACCESS_KEY = 'AKIDEXAMPLE'
SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
DIMENSION = 'sagemaker:variant:DesiredInstanceCount'
THROTTLING = {'Throttling', 'ThrottlingException', 'Throttled', 'ThrottledException',
              'RequestLimitExceeded', 'TooManyRequestsException'}
SERVICES = ('sagemaker', 'application-autoscaling', 'cloudwatch', 'sns')


def resources_from_render(text):
    """[(kind, physical, parent)] from `plumb render` output (parent: a policy's ResourceId)."""
    import yaml
    out = []
    targets = {}
    docs = [d for d in yaml.safe_load_all(text) if d]
    for d in docs:
        if d.get('kind') == 'ScalableTarget':
            targets['ScalableTarget/' + d['metadata']['name']] = \
                d['metadata']['annotations']['plumb/physical-name']
    for d in docs:
        kind = d.get('kind')
        ann = d['metadata'].get('annotations') or {}
        phys = ann.get('plumb/physical-name')
        if not kind or not phys or kind == 'Defaults':
            continue
        parent = targets.get(ann.get('plumb/generated-by')) if kind == 'ScalingPolicy' else None
        out.append((kind, phys, parent))
    return out


def render(plumb, manifests, env=None):
    r = subprocess.run([plumb, 'render', '-f', manifests], capture_output=True, text=True,
                       env=env, check=True)
    return resources_from_render(r.stdout)


def clients(url, region='us-east-1', pool=10):
    import boto3
    from botocore.config import Config
    cfg = Config(retries={'mode': 'standard', 'max_attempts': 10},
                 max_pool_connections=pool)
    return {s: boto3.client(s, endpoint_url=url, region_name=region,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=cfg) for s in SERVICES}


class _Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0
        self.errors = 0
        self.samples = []

    def call(self, fn, **kw):
        """One logical read. Throttling that botocore gives up on (its 1.29 does not know SNS's
        `Throttled` code at all) is retried here with jittered backoff for up to 300 s, as plumb
        does, so that every baseline reads every resource."""
        with self.lock:
            self.calls += 1
        deadline = time.monotonic() + 300
        attempt = 0
        while True:
            try:
                return fn(**kw)
            except Exception as e:  # counted, not fatal: a baseline reports what it managed
                code = getattr(e, 'response', {}).get('Error', {}).get('Code', '')
                if code in THROTTLING and time.monotonic() < deadline:
                    attempt += 1
                    time.sleep(random.uniform(0, min(2.0, 0.05 * 2 ** attempt)))
                    continue
                with self.lock:
                    self.errors += 1
                    if len(self.samples) < 5:
                        self.samples.append('%s: %s' % (type(e).__name__, str(e)[:160]))
                return None


def _serial_reads(c, n, kind, phys, parent, seen):
    sm, aas, cw, sns = (c['sagemaker'], c['application-autoscaling'], c['cloudwatch'],
                        c['sns'])
    if kind == 'Model':
        n.call(sm.describe_model, ModelName=phys)
    elif kind == 'EndpointConfig':
        n.call(sm.describe_endpoint_config, EndpointConfigName=phys)
    elif kind == 'Endpoint':
        n.call(sm.describe_endpoint, EndpointName=phys)
    elif kind == 'ScalableTarget':
        n.call(aas.describe_scalable_targets, ServiceNamespace='sagemaker',
               ResourceIds=[phys], ScalableDimension=DIMENSION)
    elif kind == 'ScalingPolicy':
        # one DescribeScalingPolicies per resource id covers all its policies
        if parent not in seen:
            seen.add(parent)
            n.call(aas.describe_scaling_policies, ServiceNamespace='sagemaker',
                   ResourceId=parent, ScalableDimension=DIMENSION)
    elif kind == 'Alarm':
        n.call(cw.describe_alarms, AlarmNames=[phys])
    elif kind == 'Topic':
        n.call(sns.get_topic_attributes, TopicArn=_topic_arn(phys))


def _topic_arn(name, region='us-east-1', account='123456789012'):
    return 'arn:aws:sns:%s:%s:%s' % (region, account, name)


def serial(url, resources):
    """Read every resource in turn. Returns {calls, errors, seconds}."""
    c = clients(url, pool=1)
    n = _Counter()
    seen = set()
    t0 = time.monotonic()
    for kind, phys, parent in resources:
        _serial_reads(c, n, kind, phys, parent, seen)
    return {'calls': n.calls, 'errors': n.errors, 'seconds': time.monotonic() - t0,
            'error_samples': n.samples}


def _refresh_one(c, n, kind, phys, parent):
    sm, aas, cw, sns = (c['sagemaker'], c['application-autoscaling'], c['cloudwatch'],
                        c['sns'])
    if kind == 'Model':
        r = n.call(sm.describe_model, ModelName=phys)
        if r:
            n.call(sm.list_tags, ResourceArn=r['ModelArn'])
    elif kind == 'EndpointConfig':
        r = n.call(sm.describe_endpoint_config, EndpointConfigName=phys)
        if r:
            n.call(sm.list_tags, ResourceArn=r['EndpointConfigArn'])
    elif kind == 'Endpoint':
        r = n.call(sm.describe_endpoint, EndpointName=phys)
        if r:
            n.call(sm.list_tags, ResourceArn=r['EndpointArn'])
    elif kind == 'ScalableTarget':
        r = n.call(aas.describe_scalable_targets, ServiceNamespace='sagemaker',
                   ResourceIds=[phys], ScalableDimension=DIMENSION)
        if r and r.get('ScalableTargets'):
            n.call(aas.list_tags_for_resource,
                   ResourceARN=r['ScalableTargets'][0]['ScalableTargetARN'])
    elif kind == 'ScalingPolicy':
        n.call(aas.describe_scaling_policies, ServiceNamespace='sagemaker', PolicyNames=[phys],
               ResourceId=parent, ScalableDimension=DIMENSION)
    elif kind == 'Alarm':
        r = n.call(cw.describe_alarms, AlarmNames=[phys])
        if r and r.get('MetricAlarms'):
            n.call(cw.list_tags_for_resource, ResourceARN=r['MetricAlarms'][0]['AlarmArn'])
    elif kind == 'Topic':
        r = n.call(sns.get_topic_attributes, TopicArn=_topic_arn(phys))
        if r:
            n.call(sns.list_tags_for_resource, ResourceArn=r['Attributes']['TopicArn'])


def refresh(url, resources, workers=10):
    """A read and a tag read per resource on `workers` threads. Returns {calls, errors, seconds}."""
    c = clients(url, pool=workers)
    n = _Counter()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        for f in [ex.submit(_refresh_one, c, n, *r) for r in resources]:
            f.result()
    return {'calls': n.calls, 'errors': n.errors, 'seconds': time.monotonic() - t0,
            'error_samples': n.samples}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--url', required=True, help='AWS endpoint URL (the emulator)')
    ap.add_argument('--manifests', required=True)
    ap.add_argument('--plumb', default=os.path.join(os.path.dirname(__file__), '..', 'bin',
                                                     'plumb'))
    ap.add_argument('--mode', choices=('serial', 'refresh', 'both'), default='both')
    ap.add_argument('--workers', type=int, default=10)
    a = ap.parse_args(argv)
    res = render(a.plumb, a.manifests)
    out = {'resources': len(res)}
    if a.mode in ('serial', 'both'):
        out['serial'] = serial(a.url, res)
    if a.mode in ('refresh', 'both'):
        out['refresh'] = refresh(a.url, res, a.workers)
    print(json.dumps(out, indent=2))


if __name__ == '__main__':
    sys.exit(main())
