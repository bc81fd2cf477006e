"""Application Auto Scaling: scalable targets, scaling policies, their tags and alarms.

Owns RegisterScalableTarget (upsert; Min/Max required on create; the SageMaker variant must exist;
a current capacity outside [Min, Max] is moved inside, which puts the endpoint through Updating),
DescribeScalableTargets (page 50, the service-linked role ARN reported as RoleARN for SageMaker),
DeregisterScalableTarget (also deletes the target's policies and their target-tracking alarms),
PutScalingPolicy (upsert; PolicyARN ``arn:aws:autoscaling:<region>:<acct>:scalingPolicy:<uuid>:
resource/<ns>/<ResourceId>:policyName/<name>``; target tracking creates the CloudWatch alarms
``TargetTracking-<ResourceId>-AlarmHigh-<uuid>`` / ``-AlarmLow-<uuid>``), DescribeScalingPolicies
(page 10; ``Alarms`` lists the target-tracking alarms, or for step policies the alarms whose actions
name the policy), DeleteScalingPolicy (target-tracking alarms deleted; a step policy's ARN is removed
from its alarms' actions, the alarms stay) and TagResource / UntagResource / ListTagsForResource.
Missing targets and policies answer ``ObjectNotFoundException``; tag calls on unknown ARNs
``ResourceNotFoundException``.
"""

import re
import uuid

from .. import paging
from ..errors import AwsError
from . import cloudwatch
from .common import check_reserved_tags

SAGEMAKER_ROLE = ('arn:aws:iam::%s:role/aws-service-role/sagemaker.application-autoscaling.'
                  'amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint')
VARIANT_DIMENSIONS = ('sagemaker:variant:DesiredInstanceCount',
                      'sagemaker:variant:DesiredProvisionedConcurrency')
SAGEMAKER_METRICS = {
    'SageMakerVariantInvocationsPerInstance': ('InvocationsPerInstance', 'Sum'),
    'SageMakerVariantProvisionedConcurrencyUtilization': ('ServerlessProvisionedConcurrencyUtilization', 'Average'),
    'SageMakerVariantConcurrentRequestsPerModelHighResolution': ('ConcurrentRequestsPerModel', 'Maximum'),
    'SageMakerInferenceComponentInvocationsPerCopy': ('InvocationsPerCopy', 'Sum'),
    'SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution': ('ConcurrentRequestsPerCopy', 'Maximum'),
}
_VARIANT_RE = re.compile(r'^endpoint/([^/]+)/variant/([^/]+)$')


def _invalid(message):
    return AwsError('ValidationException', message, 400)


def _target_missing(ns, rid, dim):
    return AwsError('ObjectNotFoundException', 'No scalable target registered for service '
                    'namespace: %s, resource ID: %s, scalable dimension: %s' % (ns, rid, dim), 400)


def _key(p):
    return (p['ServiceNamespace'], p['ResourceId'], p['ScalableDimension'])


# -- helpers used by SageMaker ------------------------------------------------------------------

def targets_for_endpoint(call, endpoint_name):
    """Registered SageMaker variant targets of an endpoint (name compared case-insensitively)."""
    out = []
    for t in call.state.scalable_targets.values():
        m = _VARIANT_RE.match(t['ResourceId'])
        if t['ServiceNamespace'] == 'sagemaker' and m and m.group(1).lower() == endpoint_name.lower():
            out.append(t)
    return out


def deregister_endpoint(call, endpoint_name):
    for t in targets_for_endpoint(call, endpoint_name):
        _deregister(call, _key(t))


def _deregister(call, key):
    st = call.state
    for pkey in [k for k in st.scaling_policies if k[:3] == key]:
        _delete_policy(call, pkey)
    del st.scalable_targets[key]


# -- scalable targets ----------------------------------------------------------------------------

def _sagemaker_variant(call, rid, dim):
    from . import sagemaker  # late import: sagemaker imports this module
    m = _VARIANT_RE.match(rid)
    if dim not in VARIANT_DIMENSIONS:
        raise _invalid('Unsupported scalable dimension %s for resource %s' % (dim, rid))
    if not m:
        raise _invalid('Unsupported resource ID format %s for service namespace sagemaker; '
                       'expected endpoint/<endpoint-name>/variant/<variant-name>' % rid)
    ep = sagemaker.get_endpoint(call, m.group(1))
    if ep is None or ep['status'] == 'Deleting':
        raise _invalid('The endpoint %s does not exist.' % m.group(1))
    variants = ep['variants'] or (ep['op'] or {}).get('variants') or []
    variant = next((v for v in variants if v['name'] == m.group(2)), None)
    if variant is None:
        raise _invalid('The variant %s does not exist in endpoint %s.' % (m.group(2), m.group(1)))
    return ep, variant


def register_scalable_target(call, p):
    st = call.state
    key = _key(p)
    ns, rid, dim = key
    existing = st.scalable_targets.get(key)
    ep = variant = None
    if ns == 'sagemaker':
        if dim.startswith('sagemaker:variant:'):
            ep, variant = _sagemaker_variant(call, rid, dim)
        elif not rid.startswith('inference-component/'):
            raise _invalid('Unsupported resource ID %s for dimension %s' % (rid, dim))
    if existing is None:
        if 'MinCapacity' not in p or 'MaxCapacity' not in p:
            raise _invalid('MinCapacity and MaxCapacity are required to register a new scalable '
                           'target.')
        target = {'ServiceNamespace': ns, 'ResourceId': rid, 'ScalableDimension': dim,
                  'CreationTime': call.now,
                  'RoleARN': (SAGEMAKER_ROLE % call.account if ns == 'sagemaker'
                              else p.get('RoleARN', 'arn:aws:iam::%s:role/aws-service-role/'
                                         'AWSServiceRoleForApplicationAutoScaling' % call.account)),
                  'ScalableTargetARN': 'arn:aws:application-autoscaling:%s:%s:scalable-target/%s'
                                       % (call.region, call.account,
                                          ('0' + uuid.uuid4().hex + uuid.uuid4().hex)[:36]),
                  'SuspendedState': {'DynamicScalingInSuspended': False,
                                     'DynamicScalingOutSuspended': False,
                                     'ScheduledScalingSuspended': False},
                  'tags': dict(p.get('Tags') or {})}
        check_reserved_tags(target['tags'], _invalid)
    else:
        target = dict(existing)
    for k in ('MinCapacity', 'MaxCapacity'):
        if k in p:
            target[k] = p[k]
    if target['MinCapacity'] < 0:
        raise _invalid('MinCapacity must be >= 0')
    if target['MinCapacity'] > target['MaxCapacity']:
        raise _invalid('Minimum capacity cannot be greater than maximum capacity')
    if 'SuspendedState' in p:
        target['SuspendedState'] = dict(target['SuspendedState'], **p['SuspendedState'])
    if 'RoleARN' in p and ns != 'sagemaker':
        target['RoleARN'] = p['RoleARN']
    st.scalable_targets[key] = target
    if variant is not None and dim == 'sagemaker:variant:DesiredInstanceCount' \
            and ep['status'] == 'InService' and variant['desired_count'] is not None:
        clamped = min(max(variant['desired_count'], target['MinCapacity']), target['MaxCapacity'])
        if clamped != variant['desired_count']:
            from . import sagemaker
            variant['desired_count'] = clamped
            sagemaker.start_capacity_change(call, ep)
    return {'ScalableTargetARN': target['ScalableTargetARN']}


def _public_target(t):
    return {k: v for k, v in t.items() if k != 'tags'}


def _page(call, op, items, key, p, size_max):
    size = p.get('MaxResults', size_max)
    if size < 1 or size > size_max:
        raise _invalid('MaxResults must be between 1 and %d' % size_max)
    try:
        return paging.page(op, items, key, p.get('NextToken'), size)
    except paging.BadToken:
        raise AwsError('InvalidNextTokenException', 'Invalid token', 400)


def describe_scalable_targets(call, p):
    ids = set(p.get('ResourceIds') or ())
    items = [t for t in call.state.scalable_targets.values()
             if t['ServiceNamespace'] == p['ServiceNamespace']
             and (not ids or t['ResourceId'] in ids)
             and ('ScalableDimension' not in p or t['ScalableDimension'] == p['ScalableDimension'])]
    page, nxt = _page(call, 'DescribeScalableTargets', items,
                      lambda t: (t['CreationTime'], t['ResourceId'], t['ScalableDimension']), p, 50)
    out = {'ScalableTargets': [_public_target(t) for t in page]}
    if nxt:
        out['NextToken'] = nxt
    return out


def deregister_scalable_target(call, p):
    key = _key(p)
    if key not in call.state.scalable_targets:
        raise _target_missing(*key)
    _deregister(call, key)
    return {}


# -- scaling policies ----------------------------------------------------------------------------

def _alarm_metric(call, policy, cfg):
    """CloudWatch metric fields of a target-tracking alarm."""
    ns, rid = policy['ServiceNamespace'], policy['ResourceId']
    pre = cfg.get('PredefinedMetricSpecification')
    if pre:
        metric, stat = SAGEMAKER_METRICS.get(pre['PredefinedMetricType'],
                                             (pre['PredefinedMetricType'], 'Average'))
        dims = []
        m = _VARIANT_RE.match(rid)
        if m:
            dims = [{'Name': 'EndpointName', 'Value': m.group(1)},
                    {'Name': 'VariantName', 'Value': m.group(2)}]
        elif rid.startswith('inference-component/'):
            dims = [{'Name': 'InferenceComponentName', 'Value': rid.split('/', 1)[1]}]
        return {'Namespace': 'AWS/SageMaker' if ns == 'sagemaker' else 'AWS/' + ns,
                'MetricName': metric, 'Dimensions': dims, 'Statistic': stat, 'Period': 60}
    cust = cfg['CustomizedMetricSpecification']
    if 'Metrics' in cust:
        queries = []
        for q in cust['Metrics']:
            item = {k: q[k] for k in ('Id', 'Expression', 'Label', 'ReturnData') if k in q}
            if 'MetricStat' in q:
                ms = q['MetricStat']
                item['MetricStat'] = {'Metric': ms['Metric'], 'Period': 60, 'Stat': ms['Stat']}
                if 'Unit' in ms:
                    item['MetricStat']['Unit'] = ms['Unit']
            queries.append(item)
        return {'Metrics': queries}
    out = {'Namespace': cust['Namespace'], 'MetricName': cust['MetricName'],
           'Dimensions': cust.get('Dimensions', []), 'Statistic': cust['Statistic'], 'Period': 60}
    if 'Unit' in cust:
        out['Unit'] = cust['Unit']
    return out


def _make_tt_alarms(call, policy):
    cfg = policy['TargetTrackingScalingPolicyConfiguration']
    suffix = policy.get('alarm_suffix') or str(uuid.uuid4())
    policy['alarm_suffix'] = suffix
    base = 'TargetTracking-%s-Alarm' % policy['ResourceId']
    metric = _alarm_metric(call, policy, cfg)
    target = float(cfg['TargetValue'])
    wanted = [('High', 'GreaterThanThreshold', 3, target)]
    if not cfg.get('DisableScaleIn'):
        wanted.append(('Low', 'LessThanThreshold', 15, target * 0.9))
    names = []
    for which, op, periods, threshold in wanted:
        name = '%s%s-%s' % (base, which, suffix)
        alarm = dict(metric)
        alarm.update(AlarmName=name, ComparisonOperator=op, EvaluationPeriods=periods,
                     DatapointsToAlarm=periods, Threshold=threshold, ActionsEnabled=True,
                     AlarmActions=[policy['PolicyARN']],
                     AlarmDescription='DO NOT EDIT OR DELETE. For TargetTrackingScaling policy '
                                      '%s.' % policy['PolicyARN'])
        cloudwatch.put_alarm_internal(call, alarm)
        names.append(name)
    stale = [n for n in policy.get('alarm_names', []) if n not in names]
    cloudwatch.delete_alarms_internal(call, stale)
    policy['alarm_names'] = names


def _alarms_of(call, policy):
    if policy['PolicyType'] == 'TargetTrackingScaling':
        names = policy.get('alarm_names', [])
    else:
        names = cloudwatch.alarms_with_action(call, policy['PolicyARN'])
    return [{'AlarmName': n, 'AlarmARN': cloudwatch.alarm_arn(call, n)} for n in names]


def put_scaling_policy(call, p):
    st = call.state
    tkey = _key(p)
    if tkey not in st.scalable_targets:
        raise _target_missing(*tkey)
    pkey = tkey + (p['PolicyName'],)
    existing = st.scaling_policies.get(pkey)
    ptype = p.get('PolicyType') or (existing and existing['PolicyType'])
    if not ptype:
        raise _invalid('PolicyType is required when creating a scaling policy.')
    if ptype == 'PredictiveScaling' and tkey[0] != 'ecs':
        raise _invalid('PredictiveScaling policies are only supported for service namespace ecs.')
    if ptype == 'TargetTrackingScaling':
        cfg = p.get('TargetTrackingScalingPolicyConfiguration') or (existing or {}).get(
            'TargetTrackingScalingPolicyConfiguration')
        if cfg is None:
            raise _invalid('TargetTrackingScalingPolicyConfiguration is required for policy type '
                           'TargetTrackingScaling.')
        if ('PredefinedMetricSpecification' in cfg) == ('CustomizedMetricSpecification' in cfg):
            raise _invalid('Exactly one of PredefinedMetricSpecification and '
                           'CustomizedMetricSpecification must be specified.')
        pre = cfg.get('PredefinedMetricSpecification')
        if pre and tkey[0] == 'sagemaker' and pre['PredefinedMetricType'] not in SAGEMAKER_METRICS:
            raise _invalid('Unsupported metric type %s for service namespace sagemaker.'
                           % pre['PredefinedMetricType'])
        cust = cfg.get('CustomizedMetricSpecification')
        if cust and 'Metrics' not in cust and not all(
                k in cust for k in ('MetricName', 'Namespace', 'Statistic')):
            raise _invalid('CustomizedMetricSpecification needs MetricName, Namespace and '
                           'Statistic, or Metrics.')
    elif ptype == 'StepScaling':
        cfg = p.get('StepScalingPolicyConfiguration')
        if cfg is None and existing is None:
            raise _invalid('StepScalingPolicyConfiguration is required for policy type '
                           'StepScaling.')
        if cfg is not None and not cfg.get('StepAdjustments'):
            raise _invalid('At least one step adjustment is required for a step scaling policy.')
    if existing is None:
        arn = ('arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/%s/%s:policyName/%s'
               % (call.region, call.account, uuid.uuid4(), tkey[0], tkey[1], p['PolicyName']))
        policy = {'PolicyARN': arn, 'PolicyName': p['PolicyName'], 'ServiceNamespace': tkey[0],
                  'ResourceId': tkey[1], 'ScalableDimension': tkey[2], 'CreationTime': call.now}
    else:
        policy = existing
    if existing is not None and existing['PolicyType'] == 'TargetTrackingScaling' \
            and ptype != 'TargetTrackingScaling':
        cloudwatch.delete_alarms_internal(call, existing.get('alarm_names', []))
        policy['alarm_names'] = []
    policy['PolicyType'] = ptype
    for k in ('TargetTrackingScalingPolicyConfiguration', 'StepScalingPolicyConfiguration',
              'PredictiveScalingPolicyConfiguration'):
        if k.startswith(ptype) and k in p:
            policy[k] = p[k]
        elif not k.startswith(ptype):
            policy.pop(k, None)
    st.scaling_policies[pkey] = policy
    out = {'PolicyARN': policy['PolicyARN']}
    if ptype == 'TargetTrackingScaling':
        _make_tt_alarms(call, policy)
        out['Alarms'] = _alarms_of(call, policy)
    return out


def _public_policy(call, pol):
    out = {k: v for k, v in pol.items() if k not in ('alarm_names', 'alarm_suffix')}
    alarms = _alarms_of(call, pol)
    if alarms:
        out['Alarms'] = alarms
    return out


def describe_scaling_policies(call, p):
    names = set(p.get('PolicyNames') or ())
    items = [pol for pol in call.state.scaling_policies.values()
             if pol['ServiceNamespace'] == p['ServiceNamespace']
             and (not names or pol['PolicyName'] in names)
             and ('ResourceId' not in p or pol['ResourceId'] == p['ResourceId'])
             and ('ScalableDimension' not in p or pol['ScalableDimension'] == p['ScalableDimension'])]
    page, nxt = _page(call, 'DescribeScalingPolicies', items,
                      lambda x: (x['CreationTime'], x['PolicyARN']), p, 10)
    out = {'ScalingPolicies': [_public_policy(call, x) for x in page]}
    if nxt:
        out['NextToken'] = nxt
    return out


def _delete_policy(call, pkey):
    pol = call.state.scaling_policies.pop(pkey)
    if pol['PolicyType'] == 'TargetTrackingScaling':
        cloudwatch.delete_alarms_internal(call, pol.get('alarm_names', []))
    else:
        cloudwatch.remove_action(call, pol['PolicyARN'])


def delete_scaling_policy(call, p):
    pkey = _key(p) + (p['PolicyName'],)
    if pkey not in call.state.scaling_policies:
        raise AwsError('ObjectNotFoundException', 'No scaling policy found for service namespace: '
                       '%s, resource ID: %s, scalable dimension: %s, policy name: %s' % pkey, 400)
    _delete_policy(call, pkey)
    return {}


# -- tags ----------------------------------------------------------------------------------------

def _target_by_arn(call, arn):
    for t in call.state.scalable_targets.values():
        if t['ScalableTargetARN'] == arn:
            return t
    raise AwsError('ResourceNotFoundException', 'Scalable target with ARN %s not found.' % arn,
                   400)


def tag_resource(call, p):
    t = _target_by_arn(call, p['ResourceARN'])
    check_reserved_tags(p['Tags'], _invalid)
    merged = dict(t['tags'], **p['Tags'])
    if len(merged) > 50:
        raise AwsError('TooManyTagsException', 'A scalable target can have at most 50 tags.', 400)
    t['tags'] = merged
    return {}


def untag_resource(call, p):
    t = _target_by_arn(call, p['ResourceARN'])
    for k in p['TagKeys']:
        t['tags'].pop(k, None)
    return {}


def list_tags_for_resource(call, p):
    return {'Tags': dict(_target_by_arn(call, p['ResourceARN'])['tags'])}


def taggable(call):
    return [(t['ScalableTargetARN'], 'application-autoscaling:scalable-target', t['tags'])
            for t in call.state.scalable_targets.values()]


OPERATIONS = {
    'RegisterScalableTarget': register_scalable_target,
    'DescribeScalableTargets': describe_scalable_targets,
    'DeregisterScalableTarget': deregister_scalable_target,
    'PutScalingPolicy': put_scaling_policy,
    'DescribeScalingPolicies': describe_scaling_policies,
    'DeleteScalingPolicy': delete_scaling_policy,
    'TagResource': tag_resource,
    'UntagResource': untag_resource,
    'ListTagsForResource': list_tags_for_resource,
}
