"""SageMaker behaviour: lifecycles, errors AWS gives, paging, tags."""

import time

import pytest
from botocore.exceptions import ClientError

from emu_helpers import config, error_of, model, settle, sm_json, stack

ARN = 'arn:aws:sagemaker:us-east-1:123456789012:'


def test_create_lifecycle_and_describe(emu, sm):
    model(sm)
    config(sm, count=2, AsyncInferenceConfig={'OutputConfig': {
        'S3OutputPath': 's3://b/out', 'S3FailurePath': 's3://b/fail'}})
    arn = sm.create_endpoint(EndpointName='My-Endpoint', EndpointConfigName='c1',
                             Tags=[{'Key': 'team', 'Value': 'ml'}])['EndpointArn']
    assert arn == ARN + 'endpoint/my-endpoint'
    d = sm.describe_endpoint(EndpointName='my-endpoint')
    assert d['EndpointStatus'] == 'Creating' and d['EndpointName'] == 'My-Endpoint'
    assert 'ProductionVariants' not in d
    created = d['LastModifiedTime']
    settle(emu)
    d = sm.describe_endpoint(EndpointName='My-Endpoint')
    assert d['EndpointStatus'] == 'InService' and 'FailureReason' not in d
    assert d['LastModifiedTime'] > created
    v = d['ProductionVariants'][0]
    assert (v['VariantName'], v['CurrentInstanceCount'], v['DesiredInstanceCount'],
            v['CurrentWeight'], v['DesiredWeight']) == ('AllTraffic', 2, 2, 1.0, 1.0)
    assert v['DeployedImages'][0]['SpecifiedImage'].endswith('img:1')
    assert d['AsyncInferenceConfig']['OutputConfig']['S3FailurePath'] == 's3://b/fail'


def test_real_time_delay(emu, sm):
    emu.configure(create_delay=0.2)
    stack(sm, emu, in_service=False)
    assert sm.describe_endpoint(EndpointName='ep1')['EndpointStatus'] == 'Creating'
    time.sleep(0.3)
    assert sm.describe_endpoint(EndpointName='ep1')['EndpointStatus'] == 'InService'


def test_clock_speed(emu, sm):
    stack(sm, emu, in_service=False)
    emu.set_speed(1000)  # 30 s of emulator time in 30 ms
    time.sleep(0.1)
    assert sm.describe_endpoint(EndpointName='ep1')['EndpointStatus'] == 'InService'


def test_duplicates_and_not_found(emu, sm):
    model(sm, 'Model-A')
    with pytest.raises(ClientError) as e:
        model(sm, 'model-a')
    assert error_of(e) == ('ValidationException', 'Cannot create already existing model "'
                           + ARN + 'model/model-a".', 400)
    config(sm, 'c1', 'Model-A')
    with pytest.raises(ClientError) as e:
        config(sm, 'C1', 'Model-A')
    assert 'Cannot create already existing endpoint configuration' in error_of(e)[1]
    sm.create_endpoint(EndpointName='ep1', EndpointConfigName='c1')
    with pytest.raises(ClientError) as e:
        sm.create_endpoint(EndpointName='EP1', EndpointConfigName='c1')
    assert error_of(e)[1] == 'Cannot create already existing endpoint "' + ARN + 'endpoint/ep1".'
    for call, kw, msg in [
            (sm.describe_model, {'ModelName': 'nope'}, 'Could not find model "%smodel/nope".'),
            (sm.delete_model, {'ModelName': 'nope'}, 'Could not find model "%smodel/nope".'),
            (sm.describe_endpoint_config, {'EndpointConfigName': 'nope'},
             'Could not find endpoint configuration "%sendpoint-config/nope".'),
            (sm.delete_endpoint_config, {'EndpointConfigName': 'nope'},
             'Could not find endpoint configuration "%sendpoint-config/nope".'),
            (sm.describe_endpoint, {'EndpointName': 'nope'},
             'Could not find endpoint "%sendpoint/nope".'),
            (sm.delete_endpoint, {'EndpointName': 'nope'},
             'Could not find endpoint "%sendpoint/nope".'),
            (sm.create_endpoint, {'EndpointName': 'x', 'EndpointConfigName': 'nope'},
             'Could not find endpoint configuration "%sendpoint-config/nope".')]:
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert error_of(e) == ('ValidationException', msg % ARN, 400)


def test_describe_model_and_config_echo(emu, sm):
    sm.create_model(ModelName='m1', PrimaryContainer={
        'Image': 'img:1', 'Environment': {'A': '1'},
        'ModelDataSource': {'S3DataSource': {'S3Uri': 's3://b/m/', 'S3DataType': 'S3Prefix',
                                             'CompressionType': 'None'}}},
        ExecutionRoleArn='arn:aws:iam::123456789012:role/r', Tags=[{'Key': 'k', 'Value': 'v'}])
    d = sm.describe_model(ModelName='m1')
    assert d['PrimaryContainer']['ModelDataSource']['S3DataSource']['S3Uri'] == 's3://b/m/'
    assert d['ModelArn'] == ARN + 'model/m1' and 'Tags' not in d
    config(sm, DataCaptureConfig={'InitialSamplingPercentage': 10, 'DestinationS3Uri': 's3://b/c',
                                  'CaptureOptions': [{'CaptureMode': 'Input'}]})
    c = sm.describe_endpoint_config(EndpointConfigName='c1')
    assert c['ProductionVariants'][0]['InitialVariantWeight'] == 1.0
    assert c['DataCaptureConfig']['EnableCapture'] is True


def test_update_lifecycle_and_retain(emu, sm):
    stack(sm, emu, count=2)
    sm.update_endpoint_weights_and_capacities(EndpointName='ep1', DesiredWeightsAndCapacities=[
        {'VariantName': 'AllTraffic', 'DesiredInstanceCount': 4}])
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'Updating'
    assert d['ProductionVariants'][0]['CurrentInstanceCount'] == 2
    assert d['ProductionVariants'][0]['DesiredInstanceCount'] == 4
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['ProductionVariants'][0][
        'CurrentInstanceCount'] == 4
    config(sm, 'c2', count=1)
    before = sm.describe_endpoint(EndpointName='ep1')['LastModifiedTime']
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2',
                       RetainAllVariantProperties=True)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'Updating' and d['EndpointConfigName'] == 'c1'
    assert d['LastModifiedTime'] > before
    pending = d['PendingDeploymentSummary']
    assert pending['EndpointConfigName'] == 'c2'
    assert pending['ProductionVariants'][0]['DesiredInstanceCount'] == 4  # retained
    assert pending['ProductionVariants'][0]['InstanceType'] == 'ml.m5.large'
    with pytest.raises(ClientError) as e:
        sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2')
    assert error_of(e)[1] == 'Cannot update in-progress endpoint "%sendpoint/ep1".' % ARN
    settle(emu)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'InService' and d['EndpointConfigName'] == 'c2'
    assert 'PendingDeploymentSummary' not in d
    assert d['ProductionVariants'][0]['CurrentInstanceCount'] == 4
    # ExcludeRetainedVariantProperties takes the count from the new config
    config(sm, 'c3', count=1)
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c3',
                       RetainAllVariantProperties=True,
                       ExcludeRetainedVariantProperties=[{'VariantPropertyType':
                                                          'DesiredInstanceCount'}])
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['ProductionVariants'][0][
        'CurrentInstanceCount'] == 1
    # without RetainAll the new config's InitialInstanceCount wins
    config(sm, 'c4', count=3)
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c4')
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['ProductionVariants'][0][
        'CurrentInstanceCount'] == 3


def test_update_refused_while_creating(emu, sm):
    stack(sm, emu, in_service=False)
    config(sm, 'c2')
    with pytest.raises(ClientError) as e:
        sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2')
    assert 'Cannot update in-progress endpoint' in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        sm.delete_endpoint(EndpointName='ep1')
    assert 'Cannot update in-progress endpoint' in error_of(e)[1]


def test_create_failure(emu, sm):
    emu.fail_endpoint('ep1', on='create', reason='Image pull failed')
    stack(sm, emu, in_service=False)
    settle(emu)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'Failed' and d['FailureReason'] == 'Image pull failed'
    assert 'ProductionVariants' not in d
    config(sm, 'c2')
    with pytest.raises(ClientError) as e:
        sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2')
    assert 'Failed' in error_of(e)[1]
    with pytest.raises(ClientError):
        sm.update_endpoint_weights_and_capacities(EndpointName='ep1', DesiredWeightsAndCapacities=[
            {'VariantName': 'AllTraffic', 'DesiredWeight': 2}])
    sm.delete_endpoint(EndpointName='ep1')  # the only thing a Failed endpoint accepts
    # the rule was used up: the next create succeeds
    settle(emu)
    sm.create_endpoint(EndpointName='ep1', EndpointConfigName='c1')
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['EndpointStatus'] == 'InService'


def test_update_failure_and_silent_rollback(emu, sm):
    stack(sm, emu)
    config(sm, 'c2')
    emu.fail_endpoint('EP1', on='update', mode='rollback')
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2')
    settle(emu)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'InService' and d['EndpointConfigName'] == 'c1'
    assert 'rolled back' in d['FailureReason']
    # global silent-rollback mode
    emu.configure(silent_rollback=True)
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2')
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['EndpointConfigName'] == 'c1'
    emu.configure(silent_rollback=False)
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c2')
    d = sm.describe_endpoint(EndpointName='ep1')
    assert 'FailureReason' not in d  # cleared when a new update starts
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['EndpointConfigName'] == 'c2'
    # an update that fails outright
    emu.fail_endpoint('ep1', on='update', mode='fail', reason='boom')
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='c1')
    settle(emu)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert (d['EndpointStatus'], d['FailureReason']) == ('Failed', 'boom')


def test_missing_model_fails_create(emu, sm):
    model(sm)
    config(sm)
    sm.delete_model(ModelName='m1')
    sm.create_endpoint(EndpointName='ep1', EndpointConfigName='c1')
    settle(emu)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'Failed' and 'Could not find model' in d['FailureReason']


def test_delete_lifecycle(emu, sm):
    stack(sm, emu)
    sm.delete_endpoint(EndpointName='ep1')
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'Deleting'
    with pytest.raises(ClientError):
        sm.delete_endpoint(EndpointName='ep1')
    settle(emu)
    with pytest.raises(ClientError) as e:
        sm.describe_endpoint(EndpointName='ep1')
    assert error_of(e)[1].startswith('Could not find endpoint "')
    assert sm.list_endpoints()['Endpoints'] == []


def test_weights_and_capacities_errors(emu, sm):
    stack(sm, emu)
    with pytest.raises(ClientError) as e:
        sm.update_endpoint_weights_and_capacities(EndpointName='ep1', DesiredWeightsAndCapacities=[
            {'VariantName': 'nope', 'DesiredWeight': 1}])
    assert 'not present' in error_of(e)[1]
    with pytest.raises(ClientError):
        sm.update_endpoint_weights_and_capacities(EndpointName='ep1', DesiredWeightsAndCapacities=[
            {'VariantName': 'AllTraffic'}])


@pytest.mark.parametrize('op,key,create', [
    ('list_models', 'Models', lambda sm, i: model(sm, 'm%03d' % i)),
    ('list_endpoint_configs', 'EndpointConfigs', lambda sm, i: config(sm, 'c%03d' % i, 'base')),
    ('list_endpoints', 'Endpoints', lambda sm, i: sm.create_endpoint(
        EndpointName='e%03d' % i, EndpointConfigName='base')),
])
def test_list_paging(emu, sm, op, key, create):
    model(sm, 'base')
    config(sm, 'base', 'base')
    n = 23
    for i in range(n):
        create(sm, i)
    fn = getattr(sm, op)
    first = fn()
    assert len(first[key]) == 10 and 'NextToken' in first  # default page size 10
    seen, token, pages = [], None, 0
    while pages < 10:
        kw = {'MaxResults': 7, 'SortBy': 'Name', 'SortOrder': 'Ascending'}
        if token:
            kw['NextToken'] = token
        page = fn(**kw)
        seen += [x[key[:-1] + 'Name'] for x in page[key]]
        pages += 1
        token = page.get('NextToken')
        if not token:
            break
    expected_extra = 1 if op != 'list_endpoints' else 0
    assert len(seen) == n + expected_extra and seen == sorted(seen)
    assert pages == -(-(n + expected_extra) // 7)
    assert len(fn(MaxResults=100)[key]) == n + expected_extra
    with pytest.raises(ClientError):
        fn(NextToken='garbage')
    assert fn(NameContains='01')[key]


def test_list_endpoints_filters(emu, sm):
    stack(sm, emu)
    sm.create_endpoint(EndpointName='ep2', EndpointConfigName='c1')
    assert [e['EndpointName'] for e in sm.list_endpoints(StatusEquals='Creating')['Endpoints']] \
        == ['ep2']
    names = [e['EndpointName'] for e in sm.list_endpoints(SortBy='Name',
                                                          SortOrder='Descending')['Endpoints']]
    assert names == ['ep2', 'ep1']


def test_tags(emu, sm):
    model(sm)
    arn = ARN + 'model/m1'
    sm.add_tags(ResourceArn=arn, Tags=[{'Key': 'k%02d' % i, 'Value': 'v'} for i in range(50)])
    page = sm.list_tags(ResourceArn=arn, MaxResults=50)
    assert len(page['Tags']) == 50 and 'NextToken' not in page
    r = sm_json(emu.url, 'ListTags', {'ResourceArn': arn, 'MaxResults': 49})  # boto3 checks min
    assert r.status == 400 and 'greater than or equal to 50' in r.json['message']
    with pytest.raises(ClientError) as e:
        sm.add_tags(ResourceArn=arn, Tags=[{'Key': 'one-too-many', 'Value': 'v'}])
    assert error_of(e)[0] == 'ResourceLimitExceeded'
    sm.delete_tags(ResourceArn=arn, TagKeys=['k00', 'k01'])
    assert len(sm.list_tags(ResourceArn=arn)['Tags']) == 48
    with pytest.raises(ClientError) as e:
        sm.list_tags(ResourceArn=ARN + 'model/M1')  # wrongly cased ARN
    assert error_of(e)[0] == 'ValidationException'
    with pytest.raises(ClientError):
        sm.add_tags(ResourceArn=arn, Tags=[{'Key': 'aws:reserved', 'Value': 'x'}])


def test_timestamps_are_epoch_numbers(emu):
    r = sm_json(emu.url, 'CreateModel', {'ModelName': 'm1', 'PrimaryContainer': {'Image': 'i'}})
    assert r.status == 200
    d = sm_json(emu.url, 'DescribeModel', {'ModelName': 'm1'}).json
    assert isinstance(d['CreationTime'], float)


def test_describe_shapes_of_less_common_configs(emu, sm):
    """Serverless, data capture, shadow variants, async notifications: replies match the model."""
    model(sm)
    sm.create_endpoint_config(EndpointConfigName='sls', ProductionVariants=[{
        'VariantName': 'v', 'ModelName': 'm1',
        'ServerlessConfig': {'MemorySizeInMB': 2048, 'MaxConcurrency': 5,
                             'ProvisionedConcurrency': 1}}])
    sm.create_endpoint(EndpointName='sls', EndpointConfigName='sls')
    config(sm, 'cap', DataCaptureConfig={'InitialSamplingPercentage': 50,
                                          'DestinationS3Uri': 's3://b/capture',
                                          'CaptureOptions': [{'CaptureMode': 'InputAndOutput'}]},
           AsyncInferenceConfig={'ClientConfig': {'MaxConcurrentInvocationsPerInstance': 4},
                                 'OutputConfig': {'S3OutputPath': 's3://b/o', 'NotificationConfig': {
                                     'SuccessTopic': 'arn:aws:sns:us-east-1:123456789012:ok',
                                     'IncludeInferenceResponseIn': ['SUCCESS_NOTIFICATION_TOPIC']}}})
    sm.create_endpoint(EndpointName='cap', EndpointConfigName='cap')
    config(sm, 'shadow', variants=[
        {'VariantName': 'prod', 'ModelName': 'm1', 'InstanceType': 'ml.m5.large',
         'InitialInstanceCount': 1, 'RoutingConfig': {'RoutingStrategy': 'RANDOM'}}],
        ShadowProductionVariants=[{'VariantName': 'shadow', 'ModelName': 'm1',
                                   'InstanceType': 'ml.m5.large', 'InitialInstanceCount': 1,
                                   'InitialVariantWeight': 0.5}])
    assert sm.describe_endpoint_config(EndpointConfigName='shadow')[
        'ShadowProductionVariants'][0]['InitialVariantWeight'] == 0.5
    settle(emu)
    d = sm.describe_endpoint(EndpointName='sls')
    assert d['ProductionVariants'][0]['CurrentServerlessConfig']['MemorySizeInMB'] == 2048
    sm.update_endpoint_weights_and_capacities(EndpointName='sls', DesiredWeightsAndCapacities=[
        {'VariantName': 'v', 'ServerlessUpdateConfig': {'MaxConcurrency': 10}}])
    d = sm.describe_endpoint(EndpointName='sls')
    assert d['ProductionVariants'][0]['DesiredServerlessConfig']['MaxConcurrency'] == 10
    assert d['ProductionVariants'][0]['VariantStatus'][0]['Status'] == 'Updating'
    d = sm.describe_endpoint(EndpointName='cap')
    assert d['DataCaptureConfig']['CaptureStatus'] == 'Started'
    assert d['AsyncInferenceConfig']['OutputConfig']['NotificationConfig']['SuccessTopic']
    sm.update_endpoint(EndpointName='cap', EndpointConfigName='shadow',
                       DeploymentConfig={'BlueGreenUpdatePolicy': {'TrafficRoutingConfiguration': {
                           'Type': 'ALL_AT_ONCE', 'WaitIntervalInSeconds': 0}},
                           'AutoRollbackConfiguration': {'Alarms': [{'AlarmName': 'a'}]}})
    d = sm.describe_endpoint(EndpointName='cap')
    assert d['PendingDeploymentSummary']['ProductionVariants'][0]['RoutingConfig'] == {
        'RoutingStrategy': 'RANDOM'}
    settle(emu)
    d = sm.describe_endpoint(EndpointName='cap')
    assert d['LastDeploymentConfig']['BlueGreenUpdatePolicy']['TrafficRoutingConfiguration'][
        'Type'] == 'ALL_AT_ONCE'
    with pytest.raises(ClientError):
        sm.create_endpoint_config(EndpointConfigName='both', ProductionVariants=[{
            'VariantName': 'v', 'ModelName': 'm1', 'InstanceType': 'ml.m5.large',
            'InitialInstanceCount': 1, 'ServerlessConfig': {'MemorySizeInMB': 1024,
                                                            'MaxConcurrency': 1}}])
