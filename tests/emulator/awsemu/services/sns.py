"""SNS: topics, their attributes and tags.

Owns CreateTopic (idempotent for the same name; ``InvalidParameter`` when the request's tags or
attributes differ from the existing topic's), GetTopicAttributes (``NotFound`` 404 for a missing
topic; the default attributes AWS reports: Owner, Policy, EffectiveDeliveryPolicy, subscription
counters, ...), SetTopicAttributes (one attribute per call; read-only and unknown names refused),
DeleteTopic (idempotent), ListTopics (100 per page, opaque NextToken) and TagResource /
UntagResource / ListTagsForResource (``ResourceNotFound`` 404 for unknown topics, at most 50 tags).
Subscriptions and publishing are not emulated.
"""

import json
import re

from .. import paging
from ..errors import AwsError
from .common import check_reserved_tags, tag_dict_to_list, tag_list_to_dict

SETTABLE = {'DisplayName', 'Policy', 'DeliveryPolicy', 'KmsMasterKeyId', 'TracingConfig',
            'SignatureVersion', 'ContentBasedDeduplication', 'ArchivePolicy',
            'FifoThroughputScope', 'DataProtectionPolicy'}
CREATE_ONLY = {'FifoTopic'}
_NAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,256}$')
_FIFO_RE = re.compile(r'^[A-Za-z0-9_-]{1,251}\.fifo$')
DEFAULT_DELIVERY = {'http': {'defaultHealthyRetryPolicy': {
    'minDelayTarget': 20, 'maxDelayTarget': 20, 'numRetries': 3, 'numMaxDelayRetries': 0,
    'numNoDelayRetries': 0, 'numMinDelayRetries': 0, 'backoffFunction': 'linear'},
    'disableSubscriptionOverrides': False, 'defaultRequestPolicy': {'headerContentType': 'text/plain; charset=UTF-8'}}}


def _invalid(what, reason=None):
    msg = 'Invalid parameter: %s' % what
    if reason:
        msg += ' Reason: %s' % reason
    return AwsError('InvalidParameter', msg, 400)


def _arn(call, name):
    return 'arn:aws:sns:%s:%s:%s' % (call.region, call.account, name)


def _default_policy(call, arn):
    return json.dumps({
        'Version': '2008-10-17', 'Id': '__default_policy_ID',
        'Statement': [{
            'Sid': '__default_statement_ID', 'Effect': 'Allow', 'Principal': {'AWS': '*'},
            'Action': ['SNS:GetTopicAttributes', 'SNS:SetTopicAttributes', 'SNS:AddPermission',
                       'SNS:RemovePermission', 'SNS:DeleteTopic', 'SNS:Subscribe',
                       'SNS:ListSubscriptionsByTopic', 'SNS:Publish'],
            'Resource': arn, 'Condition': {'StringEquals': {'AWS:SourceOwner': call.account}}}]},
        separators=(',', ':'))


def _check_attribute(name, value, fifo):
    if name not in SETTABLE:
        raise _invalid('AttributeName', 'Invalid attribute name: %s' % name)
    if name in ('Policy', 'DeliveryPolicy', 'ArchivePolicy', 'DataProtectionPolicy') and value:
        try:
            if not isinstance(json.loads(value), dict):
                raise ValueError
        except ValueError:
            raise _invalid(name, 'Policy Error: null' if name == 'Policy' else
                           '%s is not a valid JSON object' % name)
    if name == 'TracingConfig' and value not in ('PassThrough', 'Active'):
        raise _invalid('TracingConfig', 'Invalid value for TracingConfig: %s' % value)
    if name == 'SignatureVersion' and value not in ('1', '2'):
        raise _invalid('SignatureVersion', 'Invalid value for SignatureVersion: %s' % value)
    if name in ('ContentBasedDeduplication', 'FifoThroughputScope') and not fifo:
        raise _invalid('Attributes', '%s is only valid for FIFO topics' % name)


def create_topic(call, p):
    st = call.state
    name = p['Name']
    attrs = dict(p.get('Attributes') or {})
    fifo = attrs.get('FifoTopic', 'false').lower() == 'true'
    if not (_FIFO_RE.match(name) if fifo else _NAME_RE.match(name)):
        raise _invalid('Topic Name')
    if 'DataProtectionPolicy' in p:
        attrs['DataProtectionPolicy'] = p['DataProtectionPolicy']
    for k, v in attrs.items():
        if k in CREATE_ONLY:
            if v.lower() not in ('true', 'false'):
                raise _invalid('Attributes', 'Invalid value for FifoTopic')
            continue
        _check_attribute(k, v, fifo)
    tags = tag_list_to_dict(p.get('Tags'))
    check_reserved_tags(tags, lambda m: _invalid('Tags', m))
    existing = st.topics.get(name)
    if existing is not None:
        if 'Tags' in p and tags != existing['tags']:
            raise _invalid('Tags', 'Topic already exists with different tags')
        for k, v in attrs.items():
            have = existing['attributes'].get(k, 'false' if k == 'FifoTopic' else '')
            if have != v:
                raise _invalid('Attributes', 'Topic already exists with different attributes')
        return {'TopicArn': existing['arn']}
    arn = _arn(call, name)
    topic_attrs = {'Policy': _default_policy(call, arn), 'DisplayName': ''}
    if fifo:
        topic_attrs.update(FifoTopic='true', ContentBasedDeduplication='false')
    topic_attrs.update({k: v for k, v in attrs.items() if k != 'FifoTopic' or fifo})
    st.topics[name] = {'name': name, 'arn': arn, 'attributes': topic_attrs, 'tags': tags,
                       'created': call.now}
    return {'TopicArn': arn}


def _topic(call, arn, not_found=('NotFound', 'Topic does not exist', 404)):
    if not re.match(r'^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$', arn):
        raise _invalid('TopicArn')
    _, _, _, region, account, name = arn.split(':', 5)
    topic = call.state.topics.get(name) if (region, account) == (call.region, call.account) \
        else None
    if topic is None:
        raise AwsError(*not_found)
    return topic


def get_topic_attributes(call, p):
    t = _topic(call, p['TopicArn'])
    attrs = {'TopicArn': t['arn'], 'Owner': call.account,
             'SubscriptionsConfirmed': '0', 'SubscriptionsPending': '0',
             'SubscriptionsDeleted': '0',
             'EffectiveDeliveryPolicy': json.dumps(DEFAULT_DELIVERY, separators=(',', ':'))}
    attrs.update(t['attributes'])
    return {'Attributes': attrs}


def set_topic_attributes(call, p):
    t = _topic(call, p['TopicArn'])
    name = p['AttributeName']
    value = p.get('AttributeValue', '')
    _check_attribute(name, value, t['attributes'].get('FifoTopic') == 'true')
    if name == 'Policy' and not value:
        value = _default_policy(call, t['arn'])
    t['attributes'][name] = value
    return {}


def delete_topic(call, p):
    arn = p['TopicArn']
    try:
        t = _topic(call, arn)
    except AwsError as e:
        if e.code == 'NotFound':
            return {}
        raise
    del call.state.topics[t['name']]
    return {}


def list_topics(call, p):
    try:
        page, nxt = paging.page('ListTopics', list(call.state.topics.values()),
                                lambda t: t['arn'], p.get('NextToken'), 100)
    except paging.BadToken:
        raise _invalid('NextToken')
    out = {'Topics': [{'TopicArn': t['arn']} for t in page]}
    if nxt:
        out['NextToken'] = nxt
    return out


_RNF = ('ResourceNotFound', 'Resource does not exist', 404)


def tag_resource(call, p):
    t = _topic(call, p['ResourceArn'], _RNF)
    new = tag_list_to_dict(p['Tags'])
    check_reserved_tags(new, lambda m: _invalid('Tags', m))
    merged = dict(t['tags'], **new)
    if len(merged) > 50:
        raise AwsError('TagLimitExceeded', 'Could not complete request: tag quota of per resource '
                       'exceeded', 400)
    t['tags'] = merged
    return {}


def untag_resource(call, p):
    t = _topic(call, p['ResourceArn'], _RNF)
    for k in p['TagKeys']:
        t['tags'].pop(k, None)
    return {}


def list_tags_for_resource(call, p):
    return {'Tags': tag_dict_to_list(_topic(call, p['ResourceArn'], _RNF)['tags'])}


def taggable(call):
    return [(t['arn'], 'sns:topic', t['tags']) for t in call.state.topics.values()]


OPERATIONS = {
    'CreateTopic': create_topic,
    'GetTopicAttributes': get_topic_attributes,
    'SetTopicAttributes': set_topic_attributes,
    'DeleteTopic': delete_topic,
    'ListTopics': list_topics,
    'TagResource': tag_resource,
    'UntagResource': untag_resource,
    'ListTagsForResource': list_tags_for_resource,
}
