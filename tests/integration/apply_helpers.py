"""Helpers for the executor tests (test_apply_exec.py): hand-written JSON plans in the format of
`plumb plan --output json` (docs/plan-format.md), the test-only driver build/tests/apply_tool,
and counting what the emulator holds."""
import hashlib
import json
import os
import sqlite3
import subprocess
import time

import aws_helpers as H

REPO = H.REPO
OWNER = 'apply-test'
ROLE = 'arn:aws:iam::123456789012:role/plumb-test'
IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1'
DIM = 'sagemaker:variant:DesiredInstanceCount'


def _tool():
    if os.environ.get('PLUMB_APPLY_TOOL'):
        return os.environ['PLUMB_APPLY_TOOL']
    b = os.environ.get('PLUMB_BIN')
    if b:  # build-asan/bin/plumb -> build-asan/tests/apply_tool
        t = os.path.join(os.path.dirname(os.path.dirname(b)), 'tests', 'apply_tool')
        if os.path.exists(t):
            return t
    return os.path.join(REPO, 'build', 'tests', 'apply_tool')


APPLY_TOOL = _tool()


def tags(kind, name, h, as_map=False, **extra):
    t = {'plumb:owner': OWNER, 'plumb:id': '%s/%s' % (kind, name), 'plumb:spec-hash': h}
    t.update(extra)
    if as_map:
        return t
    return [{'Key': k, 'Value': v} for k, v in sorted(t.items())]


class Plan:
    """Builds a plan's actions; add() returns the new action's id."""

    def __init__(self):
        self.actions = []

    def add(self, type_, kind, name, physical, input_=None, deps=(), region='us-east-1',
            **more):
        a = {'id': len(self.actions), 'type': type_, 'kind': kind,
             'address': '%s/%s' % (kind, name), 'name': name, 'physical': physical,
             'parent': more.pop('parent', None), 'region': region, 'input': input_,
             'add_tags': more.pop('add_tags', None), 'remove_tags': more.pop('remove_tags', None),
             'wait_for': more.pop('wait_for', None), 'wait_config': more.pop('wait_config', None),
             'wait_deadline_s': more.pop('wait_deadline_s', None), 'why': None,
             'depends_on': list(deps)}
        assert not more, more
        self.actions.append(a)
        return a['id']

    def doc(self):
        return {'format_version': 1, 'actions': self.actions}


def stack(p, name, version='1', bad_image=False, region='us-east-1', deadline=60):
    """Adds the create actions of one async stack (topic, model, config, endpoint, wait,
    target, step policy, alarm naming the policy) to p; returns {part: id}."""
    h = hashlib.sha256(('%s/%s' % (name, version)).encode()).hexdigest()
    suffix = h[:8]
    model, cfg = '%s-m-%s' % (name, suffix), '%s-c-%s' % (name, suffix)
    ids = {}
    ids['topic'] = p.add('create', 'Topic', name + '-done', name + '-done',
                         {'Name': name + '-done', 'Tags': tags('Topic', name + '-done', h)},
                         region=region)
    image = 'bad' if bad_image else IMAGE
    ids['model'] = p.add('create', 'Model', name, model,
                         {'ModelName': model, 'ExecutionRoleArn': ROLE,
                          'PrimaryContainer': {'Image': image,
                                               'Environment': {'API_TOKEN': 'hunter2'}},
                          'Tags': tags('Model', name, h)}, region=region)
    ids['config'] = p.add('create', 'EndpointConfig', name, cfg,
                          {'EndpointConfigName': cfg,
                           'ProductionVariants': [{'VariantName': 'v1', 'ModelName': model,
                                                   'InitialInstanceCount': 1,
                                                   'InstanceType': 'ml.m5.large'}],
                           'AsyncInferenceConfig': {'OutputConfig': {
                               'S3OutputPath': 's3://bucket/out',
                               'NotificationConfig': {
                                   'SuccessTopic': {'plumb:ref': 'Topic/%s-done' % name}}}},
                           'Tags': tags('EndpointConfig', name, h)},
                          deps=[ids['topic'], ids['model']], region=region)
    ids['endpoint'] = p.add('create', 'Endpoint', name, name,
                            {'EndpointName': name, 'EndpointConfigName': cfg,
                             'Tags': tags('Endpoint', name, h)},
                            deps=[ids['config']], region=region)
    ids['wait'] = p.add('wait', 'Endpoint', name, name, None, deps=[ids['endpoint']],
                        region=region, wait_for='in_service', wait_config=cfg,
                        wait_deadline_s=deadline)
    rid = 'endpoint/%s/variant/v1' % name
    ids['target'] = p.add('create', 'ScalableTarget', name, rid,
                          {'ServiceNamespace': 'sagemaker', 'ResourceId': rid,
                           'ScalableDimension': DIM, 'MinCapacity': 1, 'MaxCapacity': 4,
                           'Tags': tags('ScalableTarget', name, h, as_map=True)},
                          deps=[ids['wait']], region=region)
    ids['policy'] = p.add('create', 'ScalingPolicy', name + '/wake', 'wake',
                          {'PolicyName': 'wake', 'ServiceNamespace': 'sagemaker',
                           'ResourceId': rid, 'ScalableDimension': DIM,
                           'PolicyType': 'StepScaling',
                           'StepScalingPolicyConfiguration': {
                               'AdjustmentType': 'ChangeInCapacity', 'Cooldown': 300,
                               'StepAdjustments': [{'MetricIntervalLowerBound': 0,
                                                    'ScalingAdjustment': 1}]}},
                          deps=[ids['target']], region=region, parent=rid)
    ids['alarm'] = p.add('create', 'Alarm', name + '-wake', name + '-wake',
                         {'AlarmName': name + '-wake', 'Namespace': 'AWS/SageMaker',
                          'MetricName': 'HasBacklogWithoutCapacity', 'Statistic': 'Average',
                          'Period': 60, 'EvaluationPeriods': 2, 'Threshold': 1,
                          'ComparisonOperator': 'GreaterThanOrEqualToThreshold',
                          'Dimensions': [{'Name': 'EndpointName', 'Value': name}],
                          'AlarmActions': [{'plumb:ref': 'ScalingPolicy/%s/wake' % name}],
                          'Tags': tags('Alarm', name + '-wake', h)},
                         deps=[ids['policy']], region=region)
    ids['hash'] = h
    ids['model_name'], ids['config_name'] = model, cfg
    return ids


def write(tmp, doc, name='plan.json'):
    path = os.path.join(str(tmp), name)
    with open(path, 'w') as f:
        json.dump(doc, f)
    return path


def run(env, plan_path, state, *args, timeout=120):
    """apply_tool run: (exit code, {"recovery", "result"}, [events], stderr lines)."""
    p = subprocess.run([APPLY_TOOL, 'run', plan_path, '--state', str(state), *args], env=env,
                       capture_output=True, text=True, timeout=timeout)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    events, other = [], []
    for line in p.stderr.splitlines():
        if line.startswith('{'):
            events.append(json.loads(line))
        elif line:
            other.append(line)
    return p.returncode, out, events, other


def tool(env, *args, timeout=60):
    p = subprocess.run([APPLY_TOOL, *map(str, args)], env=env, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def run_until(env, plan_path, state, stop, *args, timeout=60):
    """Starts apply_tool run and SIGKILLs it when stop(events) is true (or it ends). Returns
    (killed, events)."""
    p = subprocess.Popen([APPLY_TOOL, 'run', plan_path, '--state', str(state), *args], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    events = []
    killed = False
    end = time.monotonic() + timeout
    for line in p.stderr:
        if line.startswith('{'):
            events.append(json.loads(line))
            if stop(events):
                p.kill()
                killed = True
                break
        if time.monotonic() > end:
            p.kill()
            raise AssertionError('apply_tool did not finish')
    p.wait()
    p.stderr.close()
    return killed, events


def by_address(result, address, type_=None):
    for a in result['actions']:
        if a['address'] == address and (type_ is None or a['type'] == type_):
            return a
    raise AssertionError('no action %s in %s' % (address, [a['address'] for a in
                                                             result['actions']]))


def journal(state):
    db = sqlite3.connect(str(state))
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute('select * from journal order by id')]
    finally:
        db.close()


class Inventory:
    """What the emulator holds in one region, by kind: {name: detail}."""

    def __init__(self, emu, region='us-east-1'):
        self.sm = emu.boto3_client('sagemaker', region=region)
        self.aas = emu.boto3_client('application-autoscaling', region=region)
        self.cw = emu.boto3_client('cloudwatch', region=region)
        self.sns = emu.boto3_client('sns', region=region)

    def _pages(self, fn, key, **kw):
        out, tok = [], None
        while True:
            r = fn(**kw, **({'NextToken': tok} if tok else {}))
            out += r[key]
            tok = r.get('NextToken')
            if not tok:
                return out

    def models(self):
        return [m['ModelName'] for m in self._pages(self.sm.list_models, 'Models',
                                                     MaxResults=100)]

    def configs(self):
        return [c['EndpointConfigName'] for c in self._pages(
            self.sm.list_endpoint_configs, 'EndpointConfigs', MaxResults=100)]

    def endpoints(self):
        return {e['EndpointName']: e['EndpointStatus'] for e in self._pages(
            self.sm.list_endpoints, 'Endpoints', MaxResults=100)}

    def targets(self):
        return [t['ResourceId'] for t in self._pages(
            self.aas.describe_scalable_targets, 'ScalableTargets', ServiceNamespace='sagemaker')]

    def policies(self):
        return [(p['ResourceId'], p['PolicyName']) for p in self._pages(
            self.aas.describe_scaling_policies, 'ScalingPolicies', ServiceNamespace='sagemaker')]

    def alarms(self):
        return {a['AlarmName']: a for a in self._pages(self.cw.describe_alarms, 'MetricAlarms')
                if not a['AlarmName'].startswith('TargetTracking-')}

    def topics(self):
        return [t['TopicArn'].rsplit(':', 1)[1] for t in self._pages(self.sns.list_topics,
                                                                      'Topics')]

    def sm_tags(self, arn):
        return {t['Key']: t['Value'] for t in self.sm.list_tags(ResourceArn=arn)['Tags']}
