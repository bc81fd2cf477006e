"""Resource Groups Tagging API: GetResources over every taggable emulated resource.

Owns GetResources in the caller's account and region across SageMaker models, endpoint configs and
endpoints, CloudWatch alarms, SNS topics and Application Auto Scaling scalable targets. As in AWS,
only resources carrying at least one tag are returned. Filters: ``TagFilters`` (every filter's key
must be present; a non-empty ``Values`` list must contain the value), ``ResourceTypeFilters``
(``service`` or ``service:type``: ``sagemaker``, ``sagemaker:endpoint``, ``sagemaker:model``,
``sagemaker:endpoint-config``, ``cloudwatch``, ``cloudwatch:alarm``, ``sns``, ``sns:topic``,
``application-autoscaling``, ``application-autoscaling:scalable-target``) and ``ResourceARNList``
(not combinable with the filters). ``ResourcesPerPage`` 1..100 (default 100), ``PaginationToken``
opaque; the last page carries an empty ``PaginationToken`` as AWS does.
"""

from .. import paging
from ..errors import AwsError
from . import autoscaling, cloudwatch, sagemaker, sns


def _invalid(message):
    return AwsError('InvalidParameterException', message, 400)


def _type_matches(rtype, filters):
    if not filters:
        return True
    service = rtype.split(':', 1)[0]
    return any(f == rtype or f == service for f in filters)


def get_resources(call, p):
    if 'ResourceARNList' in p and ('TagFilters' in p or 'ResourceTypeFilters' in p):
        raise _invalid('ResourceARNList cannot be combined with TagFilters or '
                       'ResourceTypeFilters.')
    if 'ResourcesPerPage' in p and 'TagsPerPage' in p:
        raise _invalid('TagsPerPage and ResourcesPerPage cannot be used together.')
    size = p.get('ResourcesPerPage', 100)
    if not 1 <= size <= 100:
        raise _invalid('ResourcesPerPage must be between 1 and 100.')
    for f in p.get('ResourceTypeFilters', []):
        if not f or len(f.split(':')) > 2:
            raise _invalid('Invalid resource type filter: %s' % f)
    resources = (sagemaker.taggable(call) + cloudwatch.taggable(call) + sns.taggable(call)
                 + autoscaling.taggable(call))
    arns = set(p['ResourceARNList']) if 'ResourceARNList' in p else None
    items = []
    for arn, rtype, tags in resources:
        if not tags:
            continue
        if arns is not None and arn not in arns:
            continue
        if not _type_matches(rtype, p.get('ResourceTypeFilters')):
            continue
        ok = True
        for f in p.get('TagFilters', []):
            key = f.get('Key')
            if key not in tags or (f.get('Values') and tags[key] not in f['Values']):
                ok = False
                break
        if ok:
            items.append((arn, tags))
    try:
        page, nxt = paging.page('GetResources', items, lambda x: x[0],
                                p.get('PaginationToken') or None, size)
    except paging.BadToken:
        raise AwsError('PaginationTokenExpiredException', 'The pagination token is invalid or '
                       'has expired.', 400)
    return {'ResourceTagMappingList': [
        {'ResourceARN': arn, 'Tags': [{'Key': k, 'Value': v} for k, v in tags.items()]}
        for arn, tags in page], 'PaginationToken': nxt or ''}


OPERATIONS = {'GetResources': get_resources}
