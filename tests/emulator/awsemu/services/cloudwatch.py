"""CloudWatch: metric alarms and their tags.

Owns PutMetricAlarm (create, or full overwrite of the configuration keeping state and tags; Tags are
ignored when the alarm exists), DescribeAlarms (AlarmNames xor AlarmNamePrefix, StateValue,
ActionPrefix, AlarmTypes defaulting to metric alarms, MaxRecords 1..100 default 100, opaque
NextToken), DeleteAlarms (names that do not exist are skipped) and TagResource / UntagResource /
ListTagsForResource (``ResourceNotFoundException`` for unknown alarm ARNs). Also the internal calls
Application Auto Scaling uses for the target-tracking alarms it owns and for step-policy actions.
New alarms start in ``INSUFFICIENT_DATA``; alarm state never changes (no metrics are emulated).
"""

from .. import paging
from ..errors import AwsError
from .common import check_reserved_tags, tag_dict_to_list, tag_list_to_dict

CONFIG_FIELDS = ('AlarmDescription', 'ActionsEnabled', 'OKActions', 'AlarmActions',
                 'InsufficientDataActions', 'MetricName', 'Namespace', 'Statistic',
                 'ExtendedStatistic', 'Dimensions', 'Period', 'Unit', 'EvaluationPeriods',
                 'DatapointsToAlarm', 'Threshold', 'ComparisonOperator', 'TreatMissingData',
                 'EvaluateLowSampleCountPercentile', 'Metrics', 'ThresholdMetricId')
METRIC_FORM = ('MetricName', 'Namespace', 'Statistic', 'ExtendedStatistic', 'Dimensions',
               'Period', 'Unit')


def alarm_arn(call, name):
    return 'arn:aws:cloudwatch:%s:%s:alarm:%s' % (call.region, call.account, name)


def _err(code, message, status=400):
    return AwsError(code, message, status)


def _check(p):
    if 'Metrics' in p:
        both = [k for k in METRIC_FORM if k in p]
        if both:
            raise _err('InvalidParameterCombination', 'The parameters Metrics and %s cannot be '
                       'specified together.' % both[0])
    else:
        if 'MetricName' not in p or 'Namespace' not in p:
            raise _err('ValidationError', 'Either MetricName and Namespace, or Metrics, must be '
                       'specified.')
        if ('Statistic' in p) == ('ExtendedStatistic' in p):
            raise _err('InvalidParameterCombination', 'Exactly one of Statistic and '
                       'ExtendedStatistic must be specified.')
        if 'Period' not in p:
            raise _err('MissingParameter', 'The parameter Period is required.')
    if 'Period' in p:
        period = p['Period']
        if period not in (10, 20, 30) and period % 60:
            raise _err('InvalidParameterValue', 'The parameter Period must be 10, 20, 30 or a '
                       'multiple of 60.')
        evals = p.get('EvaluationPeriods', 1)
        limit = 7 * 86400 if period >= 3600 else 86400
        if period * evals > limit:
            raise _err('ValidationError', 'The evaluation period (Period x EvaluationPeriods) '
                       'must not exceed %s.' % ('7 days' if limit > 86400 else '1 day'))
    if 'EvaluationPeriods' not in p:
        raise _err('MissingParameter', 'The parameter EvaluationPeriods is required.')
    if 'ComparisonOperator' not in p:
        raise _err('MissingParameter', 'The parameter ComparisonOperator is required.')
    if p.get('DatapointsToAlarm', 0) > p['EvaluationPeriods']:
        raise _err('ValidationError', 'DatapointsToAlarm must be less than or equal to '
                   'EvaluationPeriods.')
    if 'Threshold' not in p and 'ThresholdMetricId' not in p:
        raise _err('ValidationError', 'Either Threshold or ThresholdMetricId must be specified.')


def put_alarm_internal(call, p, tags=None):
    """Create or fully overwrite an alarm (configuration only; state and tags are kept)."""
    st = call.state
    name = p['AlarmName']
    existing = st.alarms.get(name)
    alarm = {'AlarmName': name, 'AlarmArn': alarm_arn(call, name),
             'AlarmConfigurationUpdatedTimestamp': call.now, 'ActionsEnabled': True,
             'OKActions': [], 'AlarmActions': [], 'InsufficientDataActions': [],
             'Dimensions': []}
    for k in CONFIG_FIELDS:
        if k in p:
            alarm[k] = p[k]
    if existing is None:
        alarm.update(StateValue='INSUFFICIENT_DATA', StateReason='Unchecked: Initial alarm '
                     'creation', StateUpdatedTimestamp=call.now, tags=dict(tags or {}))
    else:
        for k in ('StateValue', 'StateReason', 'StateUpdatedTimestamp', 'tags'):
            alarm[k] = existing[k]
    st.alarms[name] = alarm
    return alarm


def put_metric_alarm(call, p):
    _check(p)
    tags = tag_list_to_dict(p.get('Tags'))
    check_reserved_tags(tags, lambda m: _err('InvalidParameterValue', m))
    put_alarm_internal(call, p, tags)
    return {}


def delete_alarms_internal(call, names):
    for n in names:
        call.state.alarms.pop(n, None)


def alarms_with_action(call, arn):
    return sorted(a['AlarmName'] for a in call.state.alarms.values()
                  if arn in a['AlarmActions'] or arn in a['OKActions']
                  or arn in a['InsufficientDataActions'])


def remove_action(call, arn):
    for a in call.state.alarms.values():
        for k in ('AlarmActions', 'OKActions', 'InsufficientDataActions'):
            if arn in a[k]:
                a[k] = [x for x in a[k] if x != arn]


def _public(spec, alarm):
    members = spec.members
    return {k: v for k, v in alarm.items() if k in members}


def describe_alarms(call, p):
    if 'AlarmNames' in p and 'AlarmNamePrefix' in p:
        raise _err('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be '
                   'specified together.')
    types = p.get('AlarmTypes') or ['MetricAlarm']
    items = []
    if 'MetricAlarm' in types and 'ChildrenOfAlarmName' not in p and 'ParentsOfAlarmName' not in p:
        names = set(p['AlarmNames']) if 'AlarmNames' in p else None
        prefix = p.get('AlarmNamePrefix')
        action = p.get('ActionPrefix')
        for a in call.state.alarms.values():
            if names is not None and a['AlarmName'] not in names:
                continue
            if prefix is not None and not a['AlarmName'].startswith(prefix):
                continue
            if 'StateValue' in p and a['StateValue'] != p['StateValue']:
                continue
            if action is not None and not any(
                    x.startswith(action) for x in a['AlarmActions'] + a['OKActions']
                    + a['InsufficientDataActions']):
                continue
            items.append(a)
    try:
        page, nxt = paging.page('DescribeAlarms', items, lambda a: a['AlarmName'],
                                p.get('NextToken'), p.get('MaxRecords', 100))
    except paging.BadToken:
        raise _err('InvalidNextToken', 'The service couldn\'t process the NextToken.')
    spec = call.out_spec.members['MetricAlarms'].spec.member
    out = {'MetricAlarms': [_public(spec, a) for a in page]}
    if 'CompositeAlarm' in types:
        out['CompositeAlarms'] = []
    if nxt:
        out['NextToken'] = nxt
    return out


def delete_alarms(call, p):
    delete_alarms_internal(call, p['AlarmNames'])
    return {}


def _by_arn(call, arn):
    prefix = 'arn:aws:cloudwatch:'
    if not arn.startswith(prefix) or ':alarm:' not in arn:
        if arn.startswith(prefix):
            raise _err('ResourceNotFoundException', 'The resource %s does not exist.' % arn, 404)
        raise _err('InvalidParameterValue', 'Invalid ARN: %s' % arn)
    own = 'arn:aws:cloudwatch:%s:%s:alarm:' % (call.region, call.account)
    alarm = call.state.alarms.get(arn[len(own):]) if arn.startswith(own) else None
    if alarm is None:
        raise _err('ResourceNotFoundException', 'The alarm %s does not exist.' % arn, 404)
    return alarm


def tag_resource(call, p):
    a = _by_arn(call, p['ResourceARN'])
    new = tag_list_to_dict(p['Tags'])
    check_reserved_tags(new, lambda m: _err('InvalidParameterValue', m))
    merged = dict(a['tags'], **new)
    if len(merged) > 50:
        raise _err('LimitExceededException', 'A resource can have at most 50 tags.')
    a['tags'] = merged
    return {}


def untag_resource(call, p):
    a = _by_arn(call, p['ResourceARN'])
    for k in p['TagKeys']:
        a['tags'].pop(k, None)
    return {}


def list_tags_for_resource(call, p):
    return {'Tags': tag_dict_to_list(_by_arn(call, p['ResourceARN'])['tags'])}


def taggable(call):
    return [(a['AlarmArn'], 'cloudwatch:alarm', a['tags']) for a in call.state.alarms.values()]


OPERATIONS = {
    'PutMetricAlarm': put_metric_alarm,
    'DescribeAlarms': describe_alarms,
    'DeleteAlarms': delete_alarms,
    'TagResource': tag_resource,
    'UntagResource': untag_resource,
    'ListTagsForResource': list_tags_for_resource,
}
