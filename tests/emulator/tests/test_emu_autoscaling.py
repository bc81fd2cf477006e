"""Application Auto Scaling, its alarms, and the interplay with UpdateEndpoint/DeleteEndpoint."""

import re

import pytest
from botocore.exceptions import ClientError

from emu_helpers import config, error_of, settle, stack

NS = 'sagemaker'
DIM = 'sagemaker:variant:DesiredInstanceCount'
RID = 'endpoint/ep1/variant/AllTraffic'
TT = {'TargetValue': 70.0, 'PredefinedMetricSpecification': {
    'PredefinedMetricType': 'SageMakerVariantInvocationsPerInstance'},
    'ScaleInCooldown': 300, 'ScaleOutCooldown': 60}
STEP = {'AdjustmentType': 'ChangeInCapacity', 'Cooldown': 300, 'MetricAggregationType': 'Average',
        'StepAdjustments': [{'MetricIntervalLowerBound': 0, 'ScalingAdjustment': 1}]}


@pytest.fixture
def aas(aws):
    return aws('application-autoscaling')


@pytest.fixture
def cw(aws):
    return aws('cloudwatch')


def register(aas, rid=RID, lo=1, hi=4, **kw):
    return aas.register_scalable_target(ServiceNamespace=NS, ResourceId=rid,
                                        ScalableDimension=DIM, MinCapacity=lo, MaxCapacity=hi, **kw)


def test_register_describe_deregister(emu, sm, aas):
    with pytest.raises(ClientError) as e:
        register(aas)
    assert error_of(e)[0] == 'ValidationException'  # no such endpoint
    stack(sm, emu)
    arn = register(aas, Tags={'team': 'ml'})['ScalableTargetARN']
    assert re.match(r'^arn:aws:application-autoscaling:us-east-1:123456789012:'
                    r'scalable-target/[0-9a-f]{36}$', arn)
    t = aas.describe_scalable_targets(ServiceNamespace=NS)['ScalableTargets'][0]
    assert t['RoleARN'] == ('arn:aws:iam::123456789012:role/aws-service-role/sagemaker.'
                            'application-autoscaling.amazonaws.com/AWSServiceRoleForApplication'
                            'AutoScaling_SageMakerEndpoint')
    assert (t['MinCapacity'], t['MaxCapacity'], t['ScalableTargetARN']) == (1, 4, arn)
    # upsert keeps omitted members
    aas.register_scalable_target(ServiceNamespace=NS, ResourceId=RID, ScalableDimension=DIM,
                                 MaxCapacity=6)
    t = aas.describe_scalable_targets(ServiceNamespace=NS, ResourceIds=[RID])['ScalableTargets'][0]
    assert (t['MinCapacity'], t['MaxCapacity']) == (1, 6)
    assert aas.list_tags_for_resource(ResourceARN=arn)['Tags'] == {'team': 'ml'}
    aas.tag_resource(ResourceARN=arn, Tags={'env': 'dev'})
    aas.untag_resource(ResourceARN=arn, TagKeys=['team'])
    assert aas.list_tags_for_resource(ResourceARN=arn)['Tags'] == {'env': 'dev'}
    assert aas.describe_scalable_targets(ServiceNamespace=NS, ResourceIds=['x'])[
        'ScalableTargets'] == []
    aas.deregister_scalable_target(ServiceNamespace=NS, ResourceId=RID, ScalableDimension=DIM)
    with pytest.raises(ClientError) as e:
        aas.deregister_scalable_target(ServiceNamespace=NS, ResourceId=RID, ScalableDimension=DIM)
    assert error_of(e) == ('ObjectNotFoundException', 'No scalable target registered for service '
                           'namespace: sagemaker, resource ID: endpoint/ep1/variant/AllTraffic, '
                           'scalable dimension: sagemaker:variant:DesiredInstanceCount', 400)
    with pytest.raises(ClientError) as e:
        aas.list_tags_for_resource(ResourceARN=arn)
    assert error_of(e)[0] == 'ResourceNotFoundException'


def test_register_validation(emu, sm, aas):
    stack(sm, emu)
    with pytest.raises(ClientError) as e:
        aas.register_scalable_target(ServiceNamespace=NS, ResourceId=RID, ScalableDimension=DIM)
    assert 'required' in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        register(aas, lo=5, hi=2)
    assert 'Minimum capacity cannot be greater than maximum capacity' in error_of(e)[1]
    with pytest.raises(ClientError):
        register(aas, rid='endpoint/ep1/variant/Nope')


def test_register_moves_capacity_inside_range(emu, sm, aas):
    stack(sm, emu, count=1)
    register(aas, lo=2, hi=4)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointStatus'] == 'Updating'
    assert d['ProductionVariants'][0]['DesiredInstanceCount'] == 2
    settle(emu)
    assert sm.describe_endpoint(EndpointName='ep1')['ProductionVariants'][0][
        'CurrentInstanceCount'] == 2


def test_target_tracking_policy_alarms(emu, sm, aas, cw):
    stack(sm, emu)
    register(aas)
    with pytest.raises(ClientError) as e:
        aas.put_scaling_policy(PolicyName='p', ServiceNamespace=NS, ResourceId='endpoint/x/variant/y',
                               ScalableDimension=DIM, PolicyType='TargetTrackingScaling',
                               TargetTrackingScalingPolicyConfiguration=TT)
    assert error_of(e)[0] == 'ObjectNotFoundException'
    out = aas.put_scaling_policy(PolicyName='tt', ServiceNamespace=NS, ResourceId=RID,
                                 ScalableDimension=DIM, PolicyType='TargetTrackingScaling',
                                 TargetTrackingScalingPolicyConfiguration=TT)
    assert re.match(r'^arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:[0-9a-f-]{36}:'
                    r'resource/sagemaker/endpoint/ep1/variant/AllTraffic:policyName/tt$',
                    out['PolicyARN'])
    names = sorted(a['AlarmName'] for a in out['Alarms'])
    assert len(names) == 2
    assert re.match(r'^TargetTracking-endpoint/ep1/variant/AllTraffic-AlarmHigh-[0-9a-f-]{36}$',
                    names[0])
    assert names[1].startswith('TargetTracking-endpoint/ep1/variant/AllTraffic-AlarmLow-')
    alarms = cw.describe_alarms(AlarmNamePrefix='TargetTracking-')['MetricAlarms']
    high = [a for a in alarms if 'AlarmHigh' in a['AlarmName']][0]
    assert high['AlarmActions'] == [out['PolicyARN']]
    assert high['MetricName'] == 'InvocationsPerInstance' and high['Threshold'] == 70.0
    # update keeps the ARN and the alarm names
    again = aas.put_scaling_policy(PolicyName='tt', ServiceNamespace=NS, ResourceId=RID,
                                   ScalableDimension=DIM, PolicyType='TargetTrackingScaling',
                                   TargetTrackingScalingPolicyConfiguration=dict(TT, TargetValue=50.0))
    assert again['PolicyARN'] == out['PolicyARN']
    assert sorted(a['AlarmName'] for a in again['Alarms']) == names
    pol = aas.describe_scaling_policies(ServiceNamespace=NS)['ScalingPolicies'][0]
    assert pol['TargetTrackingScalingPolicyConfiguration']['TargetValue'] == 50.0
    assert sorted(a['AlarmName'] for a in pol['Alarms']) == names
    aas.delete_scaling_policy(PolicyName='tt', ServiceNamespace=NS, ResourceId=RID,
                              ScalableDimension=DIM)
    assert cw.describe_alarms(AlarmNamePrefix='TargetTracking-')['MetricAlarms'] == []
    with pytest.raises(ClientError) as e:
        aas.delete_scaling_policy(PolicyName='tt', ServiceNamespace=NS, ResourceId=RID,
                                  ScalableDimension=DIM)
    code, msg, _ = error_of(e)
    assert code == 'ObjectNotFoundException' and msg.startswith('No scaling policy found for')


def test_step_policy_and_its_alarm(emu, sm, aas, cw):
    stack(sm, emu)
    register(aas, lo=0)
    arn = aas.put_scaling_policy(PolicyName='step', ServiceNamespace=NS, ResourceId=RID,
                                 ScalableDimension=DIM, PolicyType='StepScaling',
                                 StepScalingPolicyConfiguration=STEP)['PolicyARN']
    cw.put_metric_alarm(AlarmName='ep1-backlog', MetricName='HasBacklogWithoutCapacity',
                        Namespace='AWS/SageMaker', Statistic='Average', Period=60,
                        EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=1,
                        ComparisonOperator='GreaterThanOrEqualToThreshold',
                        AlarmActions=[arn], Dimensions=[{'Name': 'EndpointName', 'Value': 'ep1'}])
    pol = aas.describe_scaling_policies(ServiceNamespace=NS, PolicyNames=['step'])[
        'ScalingPolicies'][0]
    assert pol['Alarms'] == [{'AlarmName': 'ep1-backlog', 'AlarmARN':
                              'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ep1-backlog'}]
    aas.delete_scaling_policy(PolicyName='step', ServiceNamespace=NS, ResourceId=RID,
                              ScalableDimension=DIM)
    alarm = cw.describe_alarms(AlarmNames=['ep1-backlog'])['MetricAlarms'][0]
    assert alarm['AlarmActions'] == []  # the action goes, the alarm stays


def test_delete_endpoint_deregisters_targets(emu, sm, aas, cw):
    stack(sm, emu)
    register(aas)
    aas.put_scaling_policy(PolicyName='tt', ServiceNamespace=NS, ResourceId=RID,
                           ScalableDimension=DIM, PolicyType='TargetTrackingScaling',
                           TargetTrackingScalingPolicyConfiguration=TT)
    step = aas.put_scaling_policy(PolicyName='step', ServiceNamespace=NS, ResourceId=RID,
                                  ScalableDimension=DIM, PolicyType='StepScaling',
                                  StepScalingPolicyConfiguration=STEP)['PolicyARN']
    cw.put_metric_alarm(AlarmName='step-alarm', MetricName='m', Namespace='n',
                        Statistic='Average', Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator='GreaterThanThreshold', AlarmActions=[step])
    assert len(cw.describe_alarms()['MetricAlarms']) == 3
    sm.delete_endpoint(EndpointName='ep1')
    assert aas.describe_scalable_targets(ServiceNamespace=NS)['ScalableTargets'] == []
    assert aas.describe_scaling_policies(ServiceNamespace=NS)['ScalingPolicies'] == []
    assert [a['AlarmName'] for a in cw.describe_alarms()['MetricAlarms']] == ['step-alarm']


def test_update_endpoint_vs_autoscaling(emu, sm, aas):
    stack(sm, emu, count=2)
    register(aas)
    config(sm, 'bigger', instance_type='ml.m5.xlarge')
    with pytest.raises(ClientError) as e:
        sm.update_endpoint(EndpointName='ep1', EndpointConfigName='bigger')
    code, msg, _ = error_of(e)
    assert code == 'ValidationException' and 'scalable target' in msg
    config(sm, 'renamed', variants=[{'VariantName': 'Other', 'ModelName': 'm1',
                                     'InstanceType': 'ml.m5.large', 'InitialInstanceCount': 1}])
    with pytest.raises(ClientError):
        sm.update_endpoint(EndpointName='ep1', EndpointConfigName='renamed')
    # changing only the model is allowed
    sm.create_model(ModelName='m2', PrimaryContainer={'Image': 'img:2'})
    config(sm, 'newmodel', model_name='m2', count=1)
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='newmodel',
                       RetainAllVariantProperties=True)
    settle(emu)
    d = sm.describe_endpoint(EndpointName='ep1')
    assert d['EndpointConfigName'] == 'newmodel'
    assert d['ProductionVariants'][0]['CurrentInstanceCount'] == 2
    # after deregistering, the instance type may change
    aas.deregister_scalable_target(ServiceNamespace=NS, ResourceId=RID, ScalableDimension=DIM)
    sm.update_endpoint(EndpointName='ep1', EndpointConfigName='bigger')


def test_paging(emu, sm, aas):
    variants = [{'VariantName': 'v%d' % i, 'ModelName': 'm1', 'InstanceType': 'ml.m5.large',
                 'InitialInstanceCount': 1} for i in range(10)]
    stack(sm, emu, variants=variants)
    for e in range(2, 7):
        sm.create_endpoint(EndpointName='ep%d' % e, EndpointConfigName='c1')
    settle(emu)
    rids = ['endpoint/ep%d/variant/v%d' % (e, i) for e in range(1, 7) for i in range(10)]
    for rid in rids:
        register(aas, rid=rid)
    first = aas.describe_scalable_targets(ServiceNamespace=NS)
    assert len(first['ScalableTargets']) == 50 and first['NextToken']
    second = aas.describe_scalable_targets(ServiceNamespace=NS, NextToken=first['NextToken'])
    assert len(second['ScalableTargets']) == 10 and 'NextToken' not in second
    got = {t['ResourceId'] for t in first['ScalableTargets'] + second['ScalableTargets']}
    assert got == set(rids)
    with pytest.raises(ClientError) as e:
        aas.describe_scalable_targets(ServiceNamespace=NS, MaxResults=51)
    assert error_of(e)[0] == 'ValidationException'
    with pytest.raises(ClientError) as e:
        aas.describe_scalable_targets(ServiceNamespace=NS, NextToken='bogus')
    assert error_of(e)[0] == 'InvalidNextTokenException'
    for i in range(12):
        aas.put_scaling_policy(PolicyName='p%02d' % i, ServiceNamespace=NS, ResourceId=rids[0],
                               ScalableDimension=DIM, PolicyType='StepScaling',
                               StepScalingPolicyConfiguration=STEP)
    page = aas.describe_scaling_policies(ServiceNamespace=NS)
    assert len(page['ScalingPolicies']) == 10
    rest = aas.describe_scaling_policies(ServiceNamespace=NS, NextToken=page['NextToken'])
    assert len(rest['ScalingPolicies']) == 2 and 'NextToken' not in rest
    with pytest.raises(ClientError):
        aas.describe_scaling_policies(ServiceNamespace=NS, MaxResults=11)
