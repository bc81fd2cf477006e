"""SageMaker: models, endpoint configs, endpoints and their tags.

Owns the behaviour of CreateModel / DescribeModel / DeleteModel / ListModels,
Create/Describe/Delete/ListEndpointConfigs, CreateEndpoint / DescribeEndpoint / UpdateEndpoint /
UpdateEndpointWeightsAndCapacities / DeleteEndpoint / ListEndpoints and AddTags / DeleteTags /
ListTags, as AWS answers them:

- names are unique case-insensitively; ARNs carry the lower-cased name;
- "Cannot create already existing ...", "Could not find model/endpoint/endpoint configuration
  \"<arn>\"." as ``ValidationException``;
- endpoint lifecycles computed lazily from timestamps on the emulator clock: Creating -> InService
  (or Failed) after ``create_delay``; Updating -> InService after ``update_delay`` (or Failed, or a
  silent rollback: InService on the old config with FailureReason); Deleting -> gone after
  ``delete_delay``;
- UpdateEndpoint only from InService ("Cannot update in-progress endpoint"), a Failed endpoint only
  accepts DeleteEndpoint, an update may not change the instance type of or remove a variant that is
  a registered scalable target, RetainAllVariantProperties / ExcludeRetainedVariantProperties are
  honoured for DesiredInstanceCount and DesiredWeight;
- DeleteEndpoint deregisters the endpoint's scalable targets (with their policies and
  target-tracking alarms);
- list paging with MaxResults default 10 (max 100), ListTags MaxResults >= 50.
"""

import hashlib

from .. import paging
from ..errors import AwsError
from . import autoscaling
from .common import (check_reserved_tags, output_fields, tag_dict_to_list, tag_list_to_dict,
                     validation_exception as invalid)

DEFAULT_FAILURE = ('The primary container for production variant {variant} did not pass the ping '
                   'health check. Please check CloudWatch logs for this endpoint.')
DEFAULT_ROLLBACK = ('Failed to update endpoint: the new endpoint configuration did not pass '
                    'health checks; the endpoint was rolled back to endpoint configuration '
                    '"{old}".')
IN_PROGRESS = ('Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting')


def _arn(call, kind, name):
    return 'arn:aws:sagemaker:%s:%s:%s/%s' % (call.region, call.account, kind, name.lower())


def _not_found(call, what, kind, name):
    return invalid('Could not find %s "%s".' % (what, _arn(call, kind, name)))


def _exists(call, what, kind, name):
    return invalid('Cannot create already existing %s "%s".' % (what, _arn(call, kind, name)))


def _tags_in(params):
    tags = params.get('Tags') or []
    check_reserved_tags([t['Key'] for t in tags], invalid)
    return tag_list_to_dict(tags)


def _list(call, op, items, params, sort_fields, default_sort='CreationTime'):
    sort_by = params.get('SortBy', default_sort)
    reverse = params.get('SortOrder', 'Descending') == 'Descending'
    field = sort_fields[sort_by]

    def key(item):
        return (item[field], item['name'])
    size = params.get('MaxResults', 10)
    try:
        return paging.page(op + ':' + sort_by + ':' + str(reverse), items, key,
                           params.get('NextToken'), size, reverse)
    except paging.BadToken:
        raise invalid('Invalid pagination token.')


def _time_filters(item, params, created='created', modified='modified'):
    if 'CreationTimeBefore' in params and not item[created] < params['CreationTimeBefore']:
        return False
    if 'CreationTimeAfter' in params and not item[created] > params['CreationTimeAfter']:
        return False
    if 'LastModifiedTimeBefore' in params and not item[modified] < params['LastModifiedTimeBefore']:
        return False
    if 'LastModifiedTimeAfter' in params and not item[modified] > params['LastModifiedTimeAfter']:
        return False
    if 'NameContains' in params and params['NameContains'].lower() not in item['name'].lower():
        return False
    return True


# -- models ----------------------------------------------------------------------------------

def create_model(call, p):
    st = call.state
    key = p['ModelName'].lower()
    if key in st.models:
        raise _exists(call, 'model', 'model', p['ModelName'])
    if 'PrimaryContainer' in p and 'Containers' in p:
        raise invalid('Cannot specify both PrimaryContainer and Containers.')
    tags = _tags_in(p)
    spec = {k: v for k, v in p.items() if k not in ('ModelName', 'Tags')}
    arn = _arn(call, 'model', p['ModelName'])
    st.models[key] = {'name': p['ModelName'], 'arn': arn, 'created': call.now, 'spec': spec,
                      'tags': tags}
    return {'ModelArn': arn}


def _model(call, name):
    m = call.state.models.get(name.lower())
    if m is None:
        raise _not_found(call, 'model', 'model', name)
    return m


def describe_model(call, p):
    m = _model(call, p['ModelName'])
    out = output_fields(call.out_spec, m['spec'])
    out.update(ModelName=m['name'], ModelArn=m['arn'], CreationTime=m['created'])
    return out


def delete_model(call, p):
    _model(call, p['ModelName'])
    del call.state.models[p['ModelName'].lower()]
    return {}


def list_models(call, p):
    items = [m for m in call.state.models.values() if _time_filters(m, p)]
    page, nxt = _list(call, 'ListModels', items, p, {'Name': 'name', 'CreationTime': 'created'})
    out = {'Models': [{'ModelName': m['name'], 'ModelArn': m['arn'], 'CreationTime': m['created']}
                      for m in page]}
    if nxt:
        out['NextToken'] = nxt
    return out


# -- endpoint configs ----------------------------------------------------------------------------

def _check_variants(call, variants, what):
    names = set()
    for v in variants:
        n = v['VariantName'].lower()
        if n in names:
            raise invalid('%s: variant names must be unique; "%s" appears more than once.'
                          % (what, v['VariantName']))
        names.add(n)
        serverless = 'ServerlessConfig' in v
        if serverless and ('InstanceType' in v or 'InitialInstanceCount' in v):
            raise invalid('Invalid %s "%s": specify either ServerlessConfig or InstanceType and '
                          'InitialInstanceCount, not both.' % (what, v['VariantName']))
        if not serverless and 'ModelName' in v and (
                'InstanceType' not in v or 'InitialInstanceCount' not in v):
            raise invalid('Invalid %s "%s": InstanceType and InitialInstanceCount are required '
                          'for instance-based variants.' % (what, v['VariantName']))
        sc = v.get('ServerlessConfig')
        if sc and sc['MemorySizeInMB'] % 1024:
            raise invalid('Invalid ServerlessConfig.MemorySizeInMB %d: must be 1024, 2048, 3072, '
                          '4096, 5120 or 6144.' % sc['MemorySizeInMB'])
        if sc and sc.get('ProvisionedConcurrency', 0) > sc['MaxConcurrency']:
            raise invalid('ProvisionedConcurrency must not exceed MaxConcurrency.')
        if 'ModelName' in v and v['ModelName'].lower() not in call.state.models:
            raise _not_found(call, 'model', 'model', v['ModelName'])


def create_endpoint_config(call, p):
    st = call.state
    name = p['EndpointConfigName']
    if name.lower() in st.endpoint_configs:
        raise _exists(call, 'endpoint configuration', 'endpoint-config', name)
    _check_variants(call, p['ProductionVariants'], 'ProductionVariant')
    shadows = p.get('ShadowProductionVariants')
    if shadows:
        _check_variants(call, shadows, 'ShadowProductionVariant')
        if len(shadows) != 1 or len(p['ProductionVariants']) != 1:
            raise invalid('An endpoint configuration with ShadowProductionVariants must have '
                          'exactly one production variant and one shadow variant.')
    tags = _tags_in(p)
    spec = {k: v for k, v in p.items() if k not in ('EndpointConfigName', 'Tags')}
    arn = _arn(call, 'endpoint-config', name)
    st.endpoint_configs[name.lower()] = {'name': name, 'arn': arn, 'created': call.now,
                                         'spec': spec, 'tags': tags}
    return {'EndpointConfigArn': arn}


def _config(call, name):
    c = call.state.endpoint_configs.get(name.lower())
    if c is None:
        raise _not_found(call, 'endpoint configuration', 'endpoint-config', name)
    return c


def _with_defaults(variants):
    out = []
    for v in variants:
        v = dict(v)
        v.setdefault('InitialVariantWeight', 1.0)
        out.append(v)
    return out


def describe_endpoint_config(call, p):
    c = _config(call, p['EndpointConfigName'])
    out = output_fields(call.out_spec, c['spec'])
    out['ProductionVariants'] = _with_defaults(c['spec']['ProductionVariants'])
    if 'ShadowProductionVariants' in out:
        out['ShadowProductionVariants'] = _with_defaults(out['ShadowProductionVariants'])
    if 'DataCaptureConfig' in out:
        dc = dict(out['DataCaptureConfig'])
        dc.setdefault('EnableCapture', True)
        out['DataCaptureConfig'] = dc
    out.update(EndpointConfigName=c['name'], EndpointConfigArn=c['arn'], CreationTime=c['created'])
    return out


def delete_endpoint_config(call, p):
    _config(call, p['EndpointConfigName'])
    del call.state.endpoint_configs[p['EndpointConfigName'].lower()]
    return {}


def list_endpoint_configs(call, p):
    items = [c for c in call.state.endpoint_configs.values() if _time_filters(c, p)]
    page, nxt = _list(call, 'ListEndpointConfigs', items, p,
                      {'Name': 'name', 'CreationTime': 'created'})
    out = {'EndpointConfigs': [{'EndpointConfigName': c['name'], 'EndpointConfigArn': c['arn'],
                                'CreationTime': c['created']} for c in page]}
    if nxt:
        out['NextToken'] = nxt
    return out


# -- endpoints: lifecycle ----------------------------------------------------------------------

def _variant_state(call, v, previous=None, retain=False, exclude=()):
    """Runtime state of one variant from its config entry."""
    desired_count = v.get('InitialInstanceCount')
    desired_weight = float(v.get('InitialVariantWeight', 1.0))
    if retain and previous is not None:
        if 'DesiredInstanceCount' not in exclude and previous.get('desired_count') is not None:
            desired_count = previous['desired_count']
        if 'DesiredWeight' not in exclude:
            desired_weight = previous['desired_weight']
    images = []
    model = call.state.models.get(v.get('ModelName', '').lower())
    if model is not None:
        containers = ([model['spec']['PrimaryContainer']] if 'PrimaryContainer' in model['spec']
                      else model['spec'].get('Containers', []))
        for c in containers:
            if 'Image' in c:
                digest = hashlib.sha256(c['Image'].encode()).hexdigest()
                images.append({'SpecifiedImage': c['Image'],
                               'ResolvedImage': c['Image'].split(':')[0] + '@sha256:' + digest,
                               'ResolutionTime': call.now})
    return {'name': v['VariantName'], 'instance_type': v.get('InstanceType'),
            'desired_count': desired_count,
            'current_count': previous['current_count'] if previous else None,
            'desired_weight': desired_weight,
            'current_weight': previous['current_weight'] if previous else None,
            'serverless': v.get('ServerlessConfig'),
            'current_serverless': previous['current_serverless'] if previous else None,
            'images': images, 'model': v.get('ModelName'),
            'extra': {k: v[k] for k in ('ManagedInstanceScaling', 'RoutingConfig',
                                         'CapacityReservationConfig') if k in v}}


def _missing_model(call, config):
    for v in config['spec']['ProductionVariants']:
        if 'ModelName' in v and v['ModelName'].lower() not in call.state.models:
            return 'Could not find model "%s".' % _arn(call, 'model', v['ModelName'])
    return None


def _settle(call, ep):
    """Advance ``ep`` to the emulator clock. Returns the endpoint, or None once deleted."""
    op = ep['op']
    if op is None or call.now < op['ready']:
        return ep
    ep['op'] = None
    ep['modified'] = op['ready']
    kind = op['kind']
    if kind == 'delete':
        call.state.endpoints.pop(ep['name'].lower(), None)
        return None
    failure = op.get('failure')
    if kind == 'create':
        if failure:
            ep['status'] = 'Failed'
            ep['failure_reason'] = failure
            ep['variants'] = []
        else:
            ep['status'] = 'InService'
            ep['variants'] = _activate(op['variants'])
        return ep
    if kind == 'update':
        if failure and op.get('mode') == 'fail':
            ep['status'] = 'Failed'
            ep['failure_reason'] = failure
            return ep
        ep['status'] = 'InService'
        if failure:  # silent rollback: stays on the old config
            ep['failure_reason'] = failure
            return ep
        ep['config_name'] = op['config_name']
        ep['variants'] = _activate(op['variants'])
        ep['last_deployment_config'] = op.get('deployment_config')
        return ep
    if kind == 'capacity':
        ep['status'] = 'InService'
        for v in ep['variants']:
            v['current_count'] = v['desired_count']
            v['current_weight'] = v['desired_weight']
            if v['serverless'] is not None:
                v['current_serverless'] = dict(v['serverless'])
        return ep
    raise AssertionError(kind)


def _activate(variants):
    for v in variants:
        v['current_count'] = v['desired_count']
        v['current_weight'] = v['desired_weight']
        v['current_serverless'] = dict(v['serverless']) if v['serverless'] else None
    return variants


def get_endpoint(call, name):
    """The settled endpoint record, or None (used by Application Auto Scaling too)."""
    ep = call.state.endpoints.get(name.lower())
    if ep is None:
        return None
    return _settle(call, ep)


def _endpoint(call, name):
    ep = get_endpoint(call, name)
    if ep is None:
        raise _not_found(call, 'endpoint', 'endpoint', name)
    return ep


def _take_failure(call, name, action):
    """(mode, reason or None) of an injected deployment failure, or (None, None)."""
    got = call.emu.faults.take_endpoint_failure(name, action)
    if got is None and action == 'update' and call.emu.settings.silent_rollback:
        got = {'mode': 'rollback', 'reason': None}
    if got is None:
        return None, None
    return (got['mode'] if action == 'update' else 'fail'), got['reason']


def create_endpoint(call, p):
    st = call.state
    name = p['EndpointName']
    existing = get_endpoint(call, name)
    if existing is not None:
        raise _exists(call, 'endpoint', 'endpoint', name)
    config = _config(call, p['EndpointConfigName'])
    tags = _tags_in(p)
    variants = config['spec']['ProductionVariants']
    mode, failure = _take_failure(call, name, 'create')
    if mode and not failure:
        failure = DEFAULT_FAILURE.format(variant=variants[0]['VariantName'])
    missing = _missing_model(call, config)
    if missing:
        mode, failure = 'fail', missing
    arn = _arn(call, 'endpoint', name)
    now = call.now
    st.endpoints[name.lower()] = {
        'name': name, 'arn': arn, 'created': now, 'modified': now, 'status': 'Creating',
        'failure_reason': None, 'config_name': config['name'], 'variants': [],
        'tags': tags, 'deployment_config': p.get('DeploymentConfig'),
        'last_deployment_config': p.get('DeploymentConfig'),
        'op': {'kind': 'create', 'start': now, 'ready': now + call.emu.settings.create_delay,
               'variants': [_variant_state(call, v) for v in variants], 'failure': failure,
               'mode': mode, 'config_name': config['name']},
    }
    return {'EndpointArn': arn}


def _require_in_service(call, ep):
    if ep['status'] == 'Failed':
        raise invalid('Cannot update endpoint "%s" in status Failed; an endpoint in Failed status '
                      'can only be deleted.' % ep['arn'])
    if ep['status'] != 'InService':
        raise invalid('Cannot update in-progress endpoint "%s".' % ep['arn'])


def update_endpoint(call, p):
    ep = _endpoint(call, p['EndpointName'])
    _require_in_service(call, ep)
    config = _config(call, p['EndpointConfigName'])
    new_variants = config['spec']['ProductionVariants']
    by_name = {v['VariantName']: v for v in new_variants}
    for target in autoscaling.targets_for_endpoint(call, ep['name']):
        vname = target['ResourceId'].split('/', 3)[3]
        current = next((v for v in ep['variants'] if v['name'] == vname), None)
        new = by_name.get(vname)
        if new is None or (current is not None and new.get('InstanceType') != current['instance_type']):
            raise invalid(
                'The variant "%s" of endpoint "%s" is registered as a scalable target with '
                'Application Auto Scaling (resource ID %s); an update may not remove the variant '
                'or change its instance type. Deregister the scalable target first.'
                % (vname, ep['name'], target['ResourceId']))
    retain = p.get('RetainAllVariantProperties', False)
    exclude = {e['VariantPropertyType'] for e in p.get('ExcludeRetainedVariantProperties', [])}
    if exclude and not retain:
        raise invalid('ExcludeRetainedVariantProperties requires RetainAllVariantProperties to '
                      'be true.')
    current = {v['name']: v for v in ep['variants']}
    pending = [_variant_state(call, v, current.get(v['VariantName']), retain, exclude)
               for v in new_variants]
    mode, failure = _take_failure(call, ep['name'], 'update')
    if mode == 'fail' and not failure:
        failure = DEFAULT_FAILURE.format(variant=new_variants[0]['VariantName'])
    elif mode == 'rollback' and not failure:
        failure = DEFAULT_ROLLBACK.format(old=ep['config_name'])
    missing = _missing_model(call, config)
    if missing and not mode:
        mode, failure = 'rollback', missing
    deployment = p.get('DeploymentConfig')
    if deployment is None and p.get('RetainDeploymentConfig'):
        deployment = ep.get('last_deployment_config')
    now = call.now
    ep['status'] = 'Updating'
    ep['modified'] = now
    ep['failure_reason'] = None
    ep['op'] = {'kind': 'update', 'start': now, 'ready': now + call.emu.settings.update_delay,
                'config_name': config['name'], 'variants': pending, 'failure': failure,
                'mode': mode, 'deployment_config': deployment}
    return {'EndpointArn': ep['arn']}


def update_endpoint_weights_and_capacities(call, p):
    ep = _endpoint(call, p['EndpointName'])
    _require_in_service(call, ep)
    current = {v['name']: v for v in ep['variants']}
    changes = []
    for d in p['DesiredWeightsAndCapacities']:
        v = current.get(d['VariantName'])
        if v is None:
            raise invalid('The variant name(s) "%s" is/are not present in the endpoint "%s".'
                          % (d['VariantName'], ep['arn']))
        if not any(k in d for k in ('DesiredWeight', 'DesiredInstanceCount',
                                    'ServerlessUpdateConfig')):
            raise invalid('Either DesiredWeight, DesiredInstanceCount or ServerlessUpdateConfig '
                          'must be specified for variant "%s".' % d['VariantName'])
        if 'DesiredInstanceCount' in d and v['serverless'] is not None:
            raise invalid('DesiredInstanceCount cannot be set for serverless variant "%s".'
                          % d['VariantName'])
        if 'ServerlessUpdateConfig' in d and v['serverless'] is None:
            raise invalid('ServerlessUpdateConfig can only be set for serverless variant "%s".'
                          % d['VariantName'])
        changes.append((v, d))
    for v, d in changes:
        if 'DesiredWeight' in d:
            v['desired_weight'] = float(d['DesiredWeight'])
        if 'DesiredInstanceCount' in d:
            v['desired_count'] = d['DesiredInstanceCount']
        if 'ServerlessUpdateConfig' in d:
            v['serverless'] = dict(v['serverless'], **d['ServerlessUpdateConfig'])
    start_capacity_change(call, ep)
    return {'EndpointArn': ep['arn']}


def start_capacity_change(call, ep):
    now = call.now
    ep['status'] = 'Updating'
    ep['modified'] = now
    ep['op'] = {'kind': 'capacity', 'start': now, 'ready': now + call.emu.settings.update_delay}


def delete_endpoint(call, p):
    ep = _endpoint(call, p['EndpointName'])
    if ep['status'] in IN_PROGRESS:
        raise invalid('Cannot update in-progress endpoint "%s".' % ep['arn'])
    autoscaling.deregister_endpoint(call, ep['name'])
    now = call.now
    ep['status'] = 'Deleting'
    ep['modified'] = now
    ep['op'] = {'kind': 'delete', 'start': now, 'ready': now + call.emu.settings.delete_delay}
    _settle(call, ep)
    return {}


# -- endpoints: reads ----------------------------------------------------------------------------

def _summary(v, pending=False, start=None, status=None):
    s = {'VariantName': v['name']}
    if v['images']:
        s['DeployedImages'] = v['images']
    if v['current_weight'] is not None and not pending:
        s['CurrentWeight'] = v['current_weight']
    s['DesiredWeight'] = v['desired_weight']
    if v['serverless'] is not None:
        if v['current_serverless'] is not None and not pending:
            s['CurrentServerlessConfig'] = v['current_serverless']
        s['DesiredServerlessConfig'] = v['serverless']
    else:
        if v['current_count'] is not None and not pending:
            s['CurrentInstanceCount'] = v['current_count']
        s['DesiredInstanceCount'] = v['desired_count']
    if pending:
        if v['instance_type']:
            s['InstanceType'] = v['instance_type']
        s['VariantStatus'] = [{'Status': 'Creating', 'StartTime': start}]
    elif status:
        s['VariantStatus'] = [{'Status': status, 'StartTime': start}]
    s.update(v['extra'])
    return s


def describe_endpoint(call, p):
    ep = _endpoint(call, p['EndpointName'])
    out = {'EndpointName': ep['name'], 'EndpointArn': ep['arn'],
           'EndpointConfigName': ep['config_name'], 'EndpointStatus': ep['status'],
           'CreationTime': ep['created'], 'LastModifiedTime': ep['modified']}
    if ep['failure_reason']:
        out['FailureReason'] = ep['failure_reason']
    op = ep['op']
    if ep['variants'] and ep['status'] not in ('Creating', 'Failed'):
        status = 'Updating' if op and op['kind'] == 'capacity' else None
        out['ProductionVariants'] = [_summary(v, start=op and op['start'], status=status)
                                     for v in ep['variants']]
    if op and op['kind'] == 'update':
        out['PendingDeploymentSummary'] = {
            'EndpointConfigName': op['config_name'], 'StartTime': op['start'],
            'ProductionVariants': [_summary(v, pending=True, start=op['start'])
                                   for v in op['variants']]}
    config = call.state.endpoint_configs.get((ep['config_name'] or '').lower())
    if config is not None:
        spec = config['spec']
        if 'AsyncInferenceConfig' in spec:
            out['AsyncInferenceConfig'] = spec['AsyncInferenceConfig']
        if 'DataCaptureConfig' in spec:
            dc = spec['DataCaptureConfig']
            enabled = dc.get('EnableCapture', True)
            out['DataCaptureConfig'] = {
                'EnableCapture': enabled, 'CaptureStatus': 'Started' if enabled else 'Stopped',
                'CurrentSamplingPercentage': dc['InitialSamplingPercentage'],
                'DestinationS3Uri': dc['DestinationS3Uri'], 'KmsKeyId': dc.get('KmsKeyId', '')}
        for k in ('ExplainerConfig', 'MetricsConfig'):
            if k in spec and k in call.out_spec.members:
                out[k] = spec[k]
    if ep.get('last_deployment_config'):
        out['LastDeploymentConfig'] = ep['last_deployment_config']
    return out


def list_endpoints(call, p):
    items = []
    for ep in list(call.state.endpoints.values()):
        ep = _settle(call, ep)
        if ep is None or not _time_filters(ep, p):
            continue
        if 'StatusEquals' in p and ep['status'] != p['StatusEquals']:
            continue
        items.append(ep)
    page, nxt = _list(call, 'ListEndpoints', items, p,
                      {'Name': 'name', 'CreationTime': 'created', 'Status': 'status'})
    out = {'Endpoints': [{'EndpointName': e['name'], 'EndpointArn': e['arn'],
                          'CreationTime': e['created'], 'LastModifiedTime': e['modified'],
                          'EndpointStatus': e['status']} for e in page]}
    if nxt:
        out['NextToken'] = nxt
    return out


# -- tags ----------------------------------------------------------------------------------------

def resource_by_arn(call, arn):
    """The tag-carrying record for a SageMaker ARN in the caller's account/region, or None."""
    prefix = 'arn:aws:sagemaker:%s:%s:' % (call.region, call.account)
    if not arn.startswith(prefix):
        return None
    kind, _, name = arn[len(prefix):].partition('/')
    table = {'model': call.state.models, 'endpoint-config': call.state.endpoint_configs,
             'endpoint': call.state.endpoints}.get(kind)
    if table is None or name != name.lower():
        return None
    rec = table.get(name)
    if rec is not None and kind == 'endpoint':
        rec = _settle(call, rec)
    return rec


def _tagged(call, arn):
    rec = resource_by_arn(call, arn)
    if rec is None:
        raise invalid('Resource "%s" does not exist or is not taggable.' % arn)
    return rec


def add_tags(call, p):
    rec = _tagged(call, p['ResourceArn'])
    new = tag_list_to_dict(p['Tags'])
    check_reserved_tags(new, invalid)
    merged = dict(rec['tags'], **new)
    if len(merged) > 50:
        raise AwsError('ResourceLimitExceeded', 'Tag limit exceeded: a resource can have at most '
                       '50 tags.', 400)
    rec['tags'] = merged
    return {'Tags': p['Tags']}


def delete_tags(call, p):
    rec = _tagged(call, p['ResourceArn'])
    for k in p['TagKeys']:
        rec['tags'].pop(k, None)
    return {}


def list_tags(call, p):
    rec = _tagged(call, p['ResourceArn'])
    try:
        page, nxt = paging.page('ListTags', list(rec['tags'].items()), lambda kv: kv[0],
                                p.get('NextToken'), p.get('MaxResults', 50))
    except paging.BadToken:
        raise invalid('Invalid pagination token.')
    out = {'Tags': tag_dict_to_list(dict(page))}
    if nxt:
        out['NextToken'] = nxt
    return out


def taggable(call):
    """(arn, resource type, tags) of every SageMaker resource, for the tagging API."""
    st = call.state
    out = []
    for m in st.models.values():
        out.append((m['arn'], 'sagemaker:model', m['tags']))
    for c in st.endpoint_configs.values():
        out.append((c['arn'], 'sagemaker:endpoint-config', c['tags']))
    for ep in list(st.endpoints.values()):
        ep = _settle(call, ep)
        if ep is not None:
            out.append((ep['arn'], 'sagemaker:endpoint', ep['tags']))
    return out


OPERATIONS = {
    'CreateModel': create_model,
    'DescribeModel': describe_model,
    'DeleteModel': delete_model,
    'ListModels': list_models,
    'CreateEndpointConfig': create_endpoint_config,
    'DescribeEndpointConfig': describe_endpoint_config,
    'DeleteEndpointConfig': delete_endpoint_config,
    'ListEndpointConfigs': list_endpoint_configs,
    'CreateEndpoint': create_endpoint,
    'DescribeEndpoint': describe_endpoint,
    'UpdateEndpoint': update_endpoint,
    'UpdateEndpointWeightsAndCapacities': update_endpoint_weights_and_capacities,
    'DeleteEndpoint': delete_endpoint,
    'ListEndpoints': list_endpoints,
    'AddTags': add_tags,
    'DeleteTags': delete_tags,
    'ListTags': list_tags,
}
