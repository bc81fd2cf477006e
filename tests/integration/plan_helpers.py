"""Helpers for the plan integration tests: run `plumb plan`, and make live state in the emulator
the way a person would — with boto3 calls. `boto3_apply` carries out a JSON plan's actions with
boto3 (each action's `input` is an AWS request), which builds a converged stack before plumb has
an apply of its own, and proves that every request plumb plans is one AWS accepts."""
import json
import os
import shutil
import subprocess
import time

import aws_helpers as H

REPO = H.REPO
EXAMPLES = os.path.join(REPO, 'manifests', 'examples')


def plan(env, manifests, state, *args, output='json', timeout=120):
    """Runs `plumb plan`; returns (exit code, parsed JSON or text, stderr)."""
    cmd = [H.PLUMB, 'plan', '--state', str(state), '--output', output]
    for m in ([manifests] if isinstance(manifests, (str, os.PathLike)) else manifests):
        cmd += ['-f', str(m)]
    p = subprocess.run(cmd + list(args), env=env, capture_output=True, text=True,
                       timeout=timeout)
    out = p.stdout
    if output == 'json' and p.stdout.strip():
        out = json.loads(p.stdout)
    return p.returncode, out, p.stderr


def copy_examples(dst, *names):
    """Copies defaults.yaml and the named example directories (all when none) into dst."""
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(EXAMPLES, 'defaults.yaml'), dst)
    for n in names or [d for d in sorted(os.listdir(EXAMPLES))
                       if os.path.isdir(os.path.join(EXAMPLES, d))]:
        shutil.copytree(os.path.join(EXAMPLES, n), os.path.join(dst, n))
    return dst


def edit(path, old, new, count=1):
    with open(path) as f:
        text = f.read()
    assert old in text, '%r not in %s' % (old, path)
    with open(path, 'w') as f:
        f.write(text.replace(old, new, count))


def actions(p):
    """[(type, address)] of a JSON plan, in order."""
    return [(a['type'], a['address']) for a in p['actions']]


def resources(p, action=None):
    """{address-or-address@physical: resource} of a JSON plan (optionally one action type)."""
    out = {}
    for r in p['resources']:
        if action and r['action'] != action:
            continue
        key = r['address']
        if key in out:
            key = '%s@%s' % (r['address'], r['physical'])
        out[key] = r
    return out


def summary(p):
    return p['summary']


def _resolve(v, arns):
    if isinstance(v, dict):
        if set(v) == {'plumb:ref'}:
            ref = v['plumb:ref']
            assert ref in arns, 'reference %s not known yet (have %s)' % (ref, sorted(arns))
            return arns[ref]
        return {k: _resolve(x, arns) for k, x in v.items()}
    if isinstance(v, list):
        return [_resolve(x, arns) for x in v]
    return v


def _tag_list(tags):
    return [{'Key': k, 'Value': v} for k, v in sorted(tags.items())]


class Clients:
    def __init__(self, emu, region='us-east-1'):
        self.sm = emu.boto3_client('sagemaker', region=region)
        self.aas = emu.boto3_client('application-autoscaling', region=region)
        self.cw = emu.boto3_client('cloudwatch', region=region)
        self.sns = emu.boto3_client('sns', region=region)
        self.region = region

    def arn(self, kind, physical, parent=None):
        if kind == 'Model':
            return self.sm.describe_model(ModelName=physical)['ModelArn']
        if kind == 'EndpointConfig':
            return self.sm.describe_endpoint_config(
                EndpointConfigName=physical)['EndpointConfigArn']
        if kind == 'Endpoint':
            return self.sm.describe_endpoint(EndpointName=physical)['EndpointArn']
        if kind == 'ScalableTarget':
            t = self.aas.describe_scalable_targets(ServiceNamespace='sagemaker',
                                                   ResourceIds=[physical])['ScalableTargets']
            return t[0]['ScalableTargetARN']
        if kind == 'Alarm':
            return self.cw.describe_alarms(AlarmNames=[physical])['MetricAlarms'][0]['AlarmArn']
        if kind == 'Topic':
            return 'arn:aws:sns:%s:123456789012:%s' % (self.region, physical)
        raise AssertionError('no ARN for ' + kind)


def _wait(c, a, deadline_s=60):
    name = a['physical']
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            d = c.sm.describe_endpoint(EndpointName=name)
        except c.sm.exceptions.ClientError as e:
            if 'Could not find' in str(e) and a['wait_for'] in ('deleted', 'DELETED', 'gone'):
                return
            raise
        if a['wait_for'] not in ('deleted', 'DELETED', 'gone') and \
                d['EndpointStatus'] == 'InService' and \
                (not a.get('wait_config') or d['EndpointConfigName'] == a['wait_config']):
            return
        if d['EndpointStatus'] == 'Failed':
            raise AssertionError('endpoint %s failed: %s' % (name, d.get('FailureReason')))
        time.sleep(0.1)
    raise AssertionError('endpoint %s: wait %s timed out' % (name, a['wait_for']))


def _tag(c, a):
    kind, add, remove = a['kind'], a.get('add_tags') or {}, a.get('remove_tags') or []
    arn = c.arn(kind, a['physical'], a.get('parent'))
    if kind in ('Model', 'EndpointConfig', 'Endpoint'):
        if add:
            c.sm.add_tags(ResourceArn=arn, Tags=_tag_list(add))
        if remove:
            c.sm.delete_tags(ResourceArn=arn, TagKeys=remove)
    elif kind == 'ScalableTarget':
        if add:
            c.aas.tag_resource(ResourceARN=arn, Tags=add)
        if remove:
            c.aas.untag_resource(ResourceARN=arn, TagKeys=remove)
    elif kind == 'Alarm':
        if add:
            c.cw.tag_resource(ResourceARN=arn, Tags=_tag_list(add))
        if remove:
            c.cw.untag_resource(ResourceARN=arn, TagKeys=remove)
    elif kind == 'Topic':
        if add:
            c.sns.tag_resource(ResourceArn=arn, Tags=_tag_list(add))
        if remove:
            c.sns.untag_resource(ResourceArn=arn, TagKeys=remove)


def boto3_apply(emu, p, region='us-east-1'):
    """Carries out the actions of JSON plan p with boto3, in order, resolving references."""
    c = Clients(emu, region)
    arns = {}
    for a in p['actions']:
        t, kind, inp = a['type'], a['kind'], _resolve(a.get('input'), arns)
        if t == 'wait':
            _wait(c, a)
            continue
        if t == 'tag':
            _tag(c, a)
            continue
        if kind == 'Model':
            {'create': c.sm.create_model, 'delete': c.sm.delete_model}[t](**inp)
        elif kind == 'EndpointConfig':
            {'create': c.sm.create_endpoint_config,
             'delete': c.sm.delete_endpoint_config}[t](**inp)
        elif kind == 'Endpoint':
            {'create': c.sm.create_endpoint, 'update': c.sm.update_endpoint,
             'delete': c.sm.delete_endpoint}[t](**inp)
        elif kind == 'ScalableTarget':
            if t == 'delete':
                c.aas.deregister_scalable_target(**inp)
            else:
                c.aas.register_scalable_target(**inp)
        elif kind == 'ScalingPolicy':
            if t == 'delete':
                c.aas.delete_scaling_policy(**inp)
            else:
                arns[a['address']] = c.aas.put_scaling_policy(**inp)['PolicyARN']
        elif kind == 'Alarm':
            if t == 'delete':
                c.cw.delete_alarms(**inp)
            else:
                c.cw.put_metric_alarm(**inp)
        elif kind == 'Topic':
            if t == 'create':
                arns[a['address']] = c.sns.create_topic(**inp)['TopicArn']
            elif t == 'update':
                for k, v in inp['Attributes'].items():
                    c.sns.set_topic_attributes(TopicArn=inp['TopicArn'], AttributeName=k,
                                               AttributeValue=v)
            else:
                c.sns.delete_topic(**inp)
        else:
            raise AssertionError('unknown kind ' + kind)
        if a.get('add_tags') or a.get('remove_tags'):
            _tag(c, a)
    return c


def validate_json(schema, doc, tmp):
    """Validates doc against schema/<schema> with the pinned ajv of tests/schema."""
    path = os.path.join(str(tmp), 'doc.json')
    with open(path, 'w') as f:
        json.dump(doc, f)
    p = subprocess.run(['node', os.path.join(REPO, 'tests', 'schema', 'validate.mjs'),
                        os.path.join(REPO, 'schema', schema), path],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


DESCRIBES = ('DescribeModel', 'DescribeEndpointConfig', 'DescribeEndpoint', 'ListTags',
             'GetTopicAttributes', 'ListTagsForResource')


def per_resource_reads(emu):
    """Count of per-resource read calls in the emulator's log since it was last cleared."""
    counts = emu.counts()
    return {k: v for k, v in counts.items() if k.split('.', 1)[1] in DESCRIBES}
