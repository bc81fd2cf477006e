"""pkg/observe against the emulator, driven by build/tests/observe_tool: what one pass sees and
owns, that a steady-state pass makes no per-resource call, that an out-of-band change brings back
exactly the moved resource, --refresh full, --adopt, and that a failed read leaves the state
file as it was. Resources are made with boto3 the way a person would."""
import json
import math
import os
import subprocess

import pytest

from aws_helpers import AWS_TOOL, clean_env, emulator

TOOL = os.environ.get('PLUMB_OBSERVE_TOOL',
                      os.path.join(os.path.dirname(AWS_TOOL), 'observe_tool'))
ACCOUNT = '123456789012'
ROLE = 'arn:aws:iam::123456789012:role/plumb-test'
IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1'
TARGET = 'endpoint/ep-a/variant/v1'
DIM = 'sagemaker:variant:DesiredInstanceCount'
OURS = [{'Key': 'plumb:owner', 'Value': 'team-a'}]
THEIRS = [{'Key': 'plumb:owner', 'Value': 'team-b'}]

LISTS = {'sagemaker.ListModels', 'sagemaker.ListEndpointConfigs', 'sagemaker.ListEndpoints',
         'application-autoscaling.DescribeScalableTargets',
         'application-autoscaling.DescribeScalingPolicies', 'monitoring.DescribeAlarms',
         'sns.ListTopics', 'tagging.GetResources'}
READS = {'sagemaker.DescribeModel', 'sagemaker.DescribeEndpointConfig',
         'sagemaker.DescribeEndpoint', 'sns.GetTopicAttributes'}


@pytest.fixture(scope='module')
def emu():
    assert os.access(TOOL, os.X_OK), 'build it first: make build/tests/observe_tool'
    e = emulator.start(create_delay=0)
    yield e
    e.stop()


class World:
    """One account as a person left it, a state file, and the tool."""

    def __init__(self, emu, tmp_path):
        self.emu = emu
        self.env = clean_env(emu, tmp_path)
        self.state = str(tmp_path / 'state.db')
        self.sm = emu.boto3_client('sagemaker')
        self.aas = emu.boto3_client('application-autoscaling')
        self.cw = emu.boto3_client('cloudwatch')
        self.sns = emu.boto3_client('sns')

    def build(self):
        sm, aas, cw, sns = self.sm, self.aas, self.cw, self.sns
        # ours (team-a): the async endpoint stack with autoscaling, an alarm and a topic
        sm.create_model(ModelName='Model-A', ExecutionRoleArn=ROLE,
                        PrimaryContainer={'Image': IMAGE}, Tags=OURS)
        sm.create_endpoint_config(
            EndpointConfigName='cfg-a', Tags=OURS,
            ProductionVariants=[{'VariantName': 'v1', 'ModelName': 'Model-A',
                                 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.large'}],
            AsyncInferenceConfig={'OutputConfig': {'S3OutputPath': 's3://bucket/out'}})
        sm.create_endpoint(EndpointName='ep-a', EndpointConfigName='cfg-a', Tags=OURS)
        aas.register_scalable_target(ServiceNamespace='sagemaker', ResourceId=TARGET,
                                     ScalableDimension=DIM, MinCapacity=0, MaxCapacity=4,
                                     Tags={'plumb:owner': 'team-a'})
        aas.put_scaling_policy(
            PolicyName='backlog', ServiceNamespace='sagemaker', ResourceId=TARGET,
            ScalableDimension=DIM, PolicyType='TargetTrackingScaling',
            TargetTrackingScalingPolicyConfiguration={
                'TargetValue': 5.0,
                'CustomizedMetricSpecification': {
                    'MetricName': 'ApproximateBacklogSizePerInstance',
                    'Namespace': 'AWS/SageMaker', 'Statistic': 'Average',
                    'Dimensions': [{'Name': 'EndpointName', 'Value': 'ep-a'}]}})
        step = aas.put_scaling_policy(
            PolicyName='from-zero', ServiceNamespace='sagemaker', ResourceId=TARGET,
            ScalableDimension=DIM, PolicyType='StepScaling',
            StepScalingPolicyConfiguration={
                'AdjustmentType': 'ChangeInCapacity',
                'StepAdjustments': [{'MetricIntervalLowerBound': 0, 'ScalingAdjustment': 1}]})
        cw.put_metric_alarm(AlarmName='ep-a-backlog', Namespace='AWS/SageMaker',
                            MetricName='HasBacklogWithoutCapacity', Statistic='Average',
                            Period=60, EvaluationPeriods=2, Threshold=1,
                            ComparisonOperator='GreaterThanOrEqualToThreshold',
                            Dimensions=[{'Name': 'EndpointName', 'Value': 'ep-a'}],
                            AlarmActions=[step['PolicyARN']], Tags=OURS)
        sns.create_topic(Name='alerts-a', Tags=OURS)
        # nobody's: an untagged model and topic
        sm.create_model(ModelName='loose-model', ExecutionRoleArn=ROLE,
                        PrimaryContainer={'Image': IMAGE})
        sns.create_topic(Name='loose-topic')
        # another plumb owner's
        sm.create_endpoint_config(
            EndpointConfigName='cfg-b', Tags=THEIRS,
            ProductionVariants=[{'VariantName': 'v1', 'ModelName': 'loose-model',
                                 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.large'}])
        cw.put_metric_alarm(AlarmName='b-alarm', Namespace='N', MetricName='M',
                            Statistic='Sum', Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator='GreaterThanThreshold', Tags=THEIRS)

    def run(self, *args, owner='team-a', account=ACCOUNT, env=None, ok=True):
        """One pass; returns (stats, rows by (kind, name)) or, with ok=False, the error.
        account None: the tool asks STS."""
        acct = ['--account', account] if account else []
        p = subprocess.run([TOOL, '--state', self.state, '--owner', owner, *acct, *args],
                           env=env or self.env, capture_output=True, text=True, timeout=60)
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        if not ok:
            assert p.returncode == 1, p.stdout + p.stderr
            assert len(lines) == 1 and 'error' in lines[0], p.stdout
            return lines[0]['error']
        assert p.returncode == 0, p.stdout + p.stderr
        return lines[0]['stats'], {(r['kind'], r['name']): r for r in lines[1:]}

    def cached(self):
        """The state file as the library reads it back: (observed_at, rows)."""
        p = subprocess.run([TOOL, '--state', self.state, '--account', ACCOUNT, '--cached'],
                           env=self.env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        return lines[0]['observed_at'], {(r['kind'], r['name']): r for r in lines[1:]}

    def counts(self):
        return self.emu.counts()

    def reads(self):
        return {k: v for k, v in self.counts().items() if k in READS or 'ListTags' in k}


@pytest.fixture
def world(emu, tmp_path):
    emu.reset()
    w = World(emu, tmp_path)
    w.build()
    emu.clear_calls()
    return w


WANT = ['--want', 'Model/loose-model', '--want', 'EndpointConfig/cfg-b']


def test_first_pass_sees_owns_and_reads_only_ours_or_wanted(world):
    stats, rows = world.run(*WANT, account=None)
    kinds = {}
    for kind, name in rows:
        kinds.setdefault(kind, set()).add(name)
    assert kinds['Model'] == {'Model-A', 'loose-model'}
    assert kinds['EndpointConfig'] == {'cfg-a', 'cfg-b'}
    assert kinds['Endpoint'] == {'ep-a'}
    assert kinds['ScalableTarget'] == {TARGET}
    assert kinds['ScalingPolicy'] == {'backlog', 'from-zero'}
    assert kinds['Topic'] == {'alerts-a', 'loose-topic'}
    # two target-tracking alarms made by Application Auto Scaling, plus ours and theirs
    assert {'ep-a-backlog', 'b-alarm'} <= kinds['Alarm'] and len(kinds['Alarm']) == 4

    # ours: tags from the tagging API, live from describes or whole from lists
    for key in [('Model', 'Model-A'), ('EndpointConfig', 'cfg-a'), ('Endpoint', 'ep-a'),
                ('ScalableTarget', TARGET), ('Alarm', 'ep-a-backlog'), ('Topic', 'alerts-a')]:
        assert rows[key]['tags'] == {'plumb:owner': 'team-a'}, key
        assert rows[key]['live'], key
        assert rows[key]['region'] == 'us-east-1'
    assert rows[('Model', 'Model-A')]['live']['ModelName'] == 'Model-A'
    assert rows[('Model', 'Model-A')]['arn'].endswith(':model/model-a')  # lower-cased by AWS
    ep = rows[('Endpoint', 'ep-a')]
    assert ep['status'] == 'InService' and ep['live']['EndpointStatus'] == 'InService'
    assert ep['live']['AsyncInferenceConfig']['OutputConfig']['S3OutputPath'] == 's3://bucket/out'
    assert ep['created_ms'] > 0 and ep['modified_ms'] >= ep['created_ms']
    assert rows[('EndpointConfig', 'cfg-a')]['live']['ProductionVariants'][0]['VariantName'] == 'v1'
    assert rows[('ScalableTarget', TARGET)]['live']['MaxCapacity'] == 4
    assert rows[('Alarm', 'ep-a-backlog')]['modified_ms'] > 0
    assert rows[('Topic', 'alerts-a')]['live']['TopicArn'].endswith(':alerts-a')
    # policies: no tags, ours through their target, parent = ResourceId
    for name in ('backlog', 'from-zero'):
        pol = rows[('ScalingPolicy', name)]
        assert pol['parent'] == TARGET and pol['tags'] is None and pol['live']
        assert pol['live']['PolicyName'] == name
    # wanted: read whatever their owner; new to the cache and not in the tagging reply, so its
    # tags are read one by one (the Tagging API may lag behind a resource just created)
    assert rows[('Model', 'loose-model')]['live'] and rows[('Model', 'loose-model')]['tags'] == {}
    assert rows[('EndpointConfig', 'cfg-b')]['live']
    assert rows[('EndpointConfig', 'cfg-b')]['tags'] == {'plumb:owner': 'team-b'}
    # neither wanted nor ours: the list entry only
    assert rows[('Alarm', 'b-alarm')]['live'] is None
    assert rows[('Alarm', 'b-alarm')]['tags'] == {'plumb:owner': 'team-b'}
    assert rows[('Topic', 'loose-topic')]['live'] is None
    assert rows[('Topic', 'loose-topic')]['tags'] is None
    tt = [r for (k, n), r in rows.items() if k == 'Alarm' and n.startswith('TargetTracking-')]
    assert len(tt) == 2 and all(r['live'] is None and r['tags'] is None for r in tt)

    counts = world.counts()
    assert {k for k in counts if k in LISTS} == LISTS and all(counts[k] == 1 for k in LISTS)
    assert world.reads() == {'sagemaker.DescribeModel': 2, 'sagemaker.DescribeEndpointConfig': 2,
                             'sagemaker.DescribeEndpoint': 1, 'sns.GetTopicAttributes': 1,
                             'sagemaker.ListTags': 1}
    assert stats['describe_calls'] == 6 and stats['tag_calls'] == 1
    assert stats['list_calls'] == 8 and stats['unchanged'] == 0 and stats['removed'] == 0
    assert stats['resources'] == len(rows) == 14

    observed_at, cached = world.cached()
    assert observed_at and set(cached) == set(rows)
    assert cached[('Endpoint', 'ep-a')]['live'] == ep['live']


def test_steady_state_reads_nothing_and_moves_are_read_again(world):
    world.run(*WANT)
    _, before = world.cached()

    # second pass: lists only
    world.emu.clear_calls()
    stats, rows = world.run(*WANT)
    assert world.reads() == {}
    assert set(world.counts()) == LISTS
    assert stats['describe_calls'] == 0 and stats['unchanged'] == 6
    assert set(rows) == set(before)
    assert rows[('Endpoint', 'ep-a')]['live'] == before[('Endpoint', 'ep-a')]['live']
    assert rows[('Model', 'loose-model')]['live']  # wanted, served from the cache

    # out of band: the endpoint moves to a new config, a model goes away, a wanted model is
    # deleted and made again under the same name
    world.sm.create_endpoint_config(
        EndpointConfigName='cfg-a2', ProductionVariants=[{
            'VariantName': 'v1', 'ModelName': 'loose-model', 'InitialInstanceCount': 1,
            'InstanceType': 'ml.m5.large'}])
    world.sm.update_endpoint(EndpointName='ep-a', EndpointConfigName='cfg-a2')
    world.sm.delete_model(ModelName='Model-A')
    world.sm.delete_model(ModelName='loose-model')
    world.emu.advance(1)
    world.sm.create_model(ModelName='loose-model', ExecutionRoleArn=ROLE,
                          PrimaryContainer={'Image': IMAGE + '-2'})
    world.emu.clear_calls()
    stats, rows = world.run(*WANT)
    assert world.reads() == {'sagemaker.DescribeEndpoint': 1, 'sagemaker.DescribeModel': 1}
    assert stats['describe_calls'] == 2 and stats['removed'] == 1
    ep = rows[('Endpoint', 'ep-a')]
    assert ep['live']['EndpointConfigName'] == 'cfg-a2'
    assert ep['modified_ms'] > before[('Endpoint', 'ep-a')]['modified_ms']
    assert rows[('Model', 'loose-model')]['live']['PrimaryContainer']['Image'] == IMAGE + '-2'
    assert ('Model', 'Model-A') not in rows
    assert rows[('EndpointConfig', 'cfg-a2')]['live'] is None  # nobody's, not wanted
    observed_at, cached = world.cached()
    assert ('Model', 'Model-A') not in cached
    assert cached[('Endpoint', 'ep-a')]['live']['EndpointConfigName'] == 'cfg-a2'

    # and steady again
    world.emu.clear_calls()
    stats, _ = world.run(*WANT)
    assert world.reads() == {} and stats['describe_calls'] == 0


def test_refresh_full_reads_every_ours_or_wanted(world):
    world.run(*WANT)
    world.emu.clear_calls()
    stats, rows = world.run('--refresh', 'full', *WANT)
    assert world.reads() == {'sagemaker.DescribeModel': 2, 'sagemaker.DescribeEndpointConfig': 2,
                             'sagemaker.DescribeEndpoint': 1, 'sns.GetTopicAttributes': 1}
    assert stats['describe_calls'] == 6 and stats['unchanged'] == 0
    # another owner: its resources come from the same cache, the rest shrink to list entries
    world.emu.clear_calls()
    stats, rows = world.run(owner='team-b')
    assert world.reads() == {} and stats['unchanged'] == 1  # cfg-b
    assert rows[('EndpointConfig', 'cfg-b')]['live']
    assert rows[('Alarm', 'b-alarm')]['live']
    assert rows[('Endpoint', 'ep-a')]['live'] is None


def test_adopt_reads_tags_of_wanted_untagged(world):
    world.sns.tag_resource(ResourceArn='arn:aws:sns:us-east-1:%s:loose-topic' % ACCOUNT,
                           Tags=[{'Key': 'team', 'Value': 'x'}])
    want = ['--want', 'Model/loose-model', '--want', 'Topic/loose-topic',
            '--want', 'EndpointConfig/cfg-b', '--want', 'Endpoint/ep-a']
    stats, rows = world.run(*want)
    # new to the cache: their tags are read once even without --adopt (observe.h, step 3)
    assert stats['tag_calls'] == 2 and rows[('Model', 'loose-model')]['tags'] == {}
    world.emu.clear_calls()
    stats, rows = world.run(*want)
    assert stats['tag_calls'] == 0 and world.reads() == {}  # cached: no read
    world.emu.clear_calls()
    stats, rows = world.run('--adopt', *want)
    # only the two wanted resources the tagging API did not return are read one by one
    assert stats['tag_calls'] == 2
    assert {k: v for k, v in world.counts().items() if 'Tags' in k} == {
        'sagemaker.ListTags': 1, 'sns.ListTagsForResource': 1}
    assert rows[('Model', 'loose-model')]['tags'] == {}
    assert rows[('Topic', 'loose-topic')]['tags'] == {'team': 'x'}
    assert rows[('Topic', 'loose-topic')]['live']['TopicArn'].endswith(':loose-topic')
    assert rows[('EndpointConfig', 'cfg-b')]['tags'] == {'plumb:owner': 'team-b'}


def test_scaling_policy_wanted_by_name_and_parent(world):
    stats, rows = world.run('--want', 'ScalingPolicy/backlog/' + TARGET, owner='team-c')
    assert rows[('ScalingPolicy', 'backlog')]['live']['PolicyType'] == 'TargetTrackingScaling'
    assert rows[('ScalingPolicy', 'from-zero')]['live'] is None  # neither wanted nor ours
    assert rows[('ScalableTarget', TARGET)]['live'] is None


def test_tags_missing_from_tagging_reply_are_read_once(world):
    """A resource the cache knew as ours that GetResources no longer lists (the Tagging API lags
    behind new tags; here someone removed them) gets one tag read, then is taken for what it is."""
    world.run(*WANT)
    world.sm.delete_tags(ResourceArn='arn:aws:sagemaker:us-east-1:%s:model/model-a' % ACCOUNT,
                         TagKeys=['plumb:owner'])
    target_arn = world.aas.describe_scalable_targets(
        ServiceNamespace='sagemaker')['ScalableTargets'][0]['ScalableTargetARN']
    world.aas.untag_resource(ResourceARN=target_arn, TagKeys=['plumb:owner'])
    world.emu.clear_calls()
    stats, rows = world.run(*WANT)
    assert stats['tag_calls'] == 2
    assert {k: v for k, v in world.counts().items() if 'Tags' in k} == {
        'sagemaker.ListTags': 1, 'application-autoscaling.ListTagsForResource': 1}
    assert not READS & set(world.counts())  # and no describe
    assert rows[('Model', 'Model-A')]['tags'] == {} and rows[('Model', 'Model-A')]['live'] is None
    assert rows[('ScalableTarget', TARGET)]['tags'] == {}
    assert rows[('ScalableTarget', TARGET)]['live'] is None
    for name in ('backlog', 'from-zero'):  # their target is nobody's now
        assert rows[('ScalingPolicy', name)]['live'] is None
    assert rows[('Endpoint', 'ep-a')]['live']  # still ours
    world.emu.clear_calls()
    stats, rows = world.run(*WANT)
    assert stats['tag_calls'] == 0 and world.reads() == {}


@pytest.mark.parametrize('fault', [
    {'service': 'sagemaker', 'operation': 'DescribeEndpoint', 'status': 500, 'count': 1},
    {'service': 'tagging', 'operation': 'GetResources', 'status': 503, 'count': 1},
])
def test_failed_read_fails_the_pass_and_leaves_the_state(world, fault):
    world.run(*WANT)
    before = world.cached()
    world.sm.create_endpoint_config(
        EndpointConfigName='cfg-a2', ProductionVariants=[{
            'VariantName': 'v1', 'ModelName': 'Model-A', 'InitialInstanceCount': 1,
            'InstanceType': 'ml.m5.large'}])
    world.sm.update_endpoint(EndpointName='ep-a', EndpointConfigName='cfg-a2')
    world.sm.delete_model(ModelName='loose-model')
    world.emu.add_fault('errors', fault)
    env = dict(world.env, AWS_MAX_ATTEMPTS='1')
    try:
        err = world.run(*WANT, env=env, ok=False)
    finally:
        world.emu.clear_faults()
    assert err['operation'] == fault['operation'] and err['service'] == fault['service']
    assert err['status'] == fault['status'] and err['rc'] == 'aws error'
    assert err['code'] in ('InternalFailure', 'ServiceUnavailable') and err['message']
    assert world.cached() == before  # rows and the observed time untouched
    # the next pass (no fault) catches up
    stats, rows = world.run(*WANT)
    assert rows[('Endpoint', 'ep-a')]['live']['EndpointConfigName'] == 'cfg-a2'
    assert ('Model', 'loose-model') not in rows and stats['removed'] == 1


def test_steady_state_cost_is_pages_not_resources(world):
    """N resources: a steady pass costs the list pages, whatever N is."""
    nmodels, nalarms = 230, 130
    for i in range(nmodels):
        world.sm.create_model(ModelName='bulk-%03d' % i, ExecutionRoleArn=ROLE,
                              PrimaryContainer={'Image': IMAGE}, Tags=OURS)
    for i in range(nalarms):
        world.cw.put_metric_alarm(AlarmName='bulk-alarm-%03d' % i, Namespace='N',
                                  MetricName='M', Statistic='Sum', Period=60,
                                  EvaluationPeriods=1, Threshold=1,
                                  ComparisonOperator='GreaterThanThreshold', Tags=OURS)
    world.emu.clear_calls()
    stats, rows = world.run()
    models = nmodels + 2
    assert world.reads()['sagemaker.DescribeModel'] == nmodels + 1  # bulk + Model-A
    assert stats['describe_calls'] == nmodels + 1 + 3  # + cfg-a, ep-a, alerts-a
    world.emu.clear_calls()
    stats, rows = world.run()
    counts = world.counts()
    assert world.reads() == {}
    tagged = nmodels + nalarms + 8  # bulk + Model-A cfg-a ep-a target alarm topic cfg-b b-alarm
    alarms = nalarms + 4
    assert counts['sagemaker.ListModels'] == math.ceil(models / 100)
    assert counts['monitoring.DescribeAlarms'] == math.ceil(alarms / 100)
    assert counts['tagging.GetResources'] == math.ceil(tagged / 100)
    assert stats['list_calls'] == sum(v for k, v in counts.items() if k in LISTS)
    assert stats['resources'] == len(rows) == 14 + nmodels + nalarms
    print('\nsteady pass over %d rows: %d calls (%s)' % (len(rows), sum(counts.values()),
                                                        json.dumps(counts, sort_keys=True)))


def test_resource_gone_between_list_and_read_is_dropped(world):
    """Deleted after the lists answered, before DescribeModel ran: not an error, just gone."""
    import time
    world.emu.add_fault('latency', {'service': 'sagemaker', 'operation': 'DescribeModel',
                                    'ms': 1500})
    try:
        p = subprocess.Popen([TOOL, '--state', world.state, '--owner', 'team-a', '--account',
                              ACCOUNT], env=world.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while world.counts().get('tagging.GetResources', 0) == 0 and time.time() < deadline:
            time.sleep(0.02)  # the lists are in: DescribeModel is now waiting out its latency
        world.sm.delete_model(ModelName='Model-A')
        out, err = p.communicate(timeout=30)
    finally:
        world.emu.clear_faults()
    assert p.returncode == 0, out + err
    lines = [json.loads(x) for x in out.splitlines()]
    rows = {(r['kind'], r['name']) for r in lines[1:]}
    assert world.counts()['sagemaker.DescribeModel'] == 1  # tried, found gone
    assert ('Model', 'Model-A') not in rows and ('Endpoint', 'ep-a') in rows
    assert lines[0]['stats']['resources'] == len(rows) == 13
    assert ('Model', 'Model-A') not in world.cached()[1]


def test_rows_come_in_the_order_a_load_from_the_state_gives(world):
    """The pass hands its rows over in the state's order (kind, name case-folded for SageMaker
    kinds, parent), not in list order: export prints in set order, and a live export must
    equal an export from the cache. A policy created last with the first name, and a model
    whose capital sorts it elsewhere than its folded name, tell the two orders apart."""
    world.aas.put_scaling_policy(
        PolicyName='aaa-created-last', ServiceNamespace='sagemaker', ResourceId=TARGET,
        ScalableDimension=DIM, PolicyType='StepScaling',
        StepScalingPolicyConfiguration={
            'AdjustmentType': 'ChangeInCapacity',
            'StepAdjustments': [{'MetricIntervalLowerBound': 0, 'ScalingAdjustment': 1}]})
    world.sm.create_model(ModelName='Zulu', ExecutionRoleArn=ROLE,
                          PrimaryContainer={'Image': IMAGE}, Tags=OURS)

    def order(args):
        p = subprocess.run([TOOL, '--state', world.state, '--owner', 'team-a', '--account',
                            ACCOUNT, *args], env=world.env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        return [(r['kind'], r['name'], r.get('parent')) for r in
                map(json.loads, p.stdout.splitlines()[1:])]
    live = order([])
    assert live == order(['--cached'])
    policies = [n for k, n, _ in live if k == 'ScalingPolicy']
    assert policies == sorted(policies) and policies[0] == 'aaa-created-last'
    models = [n for k, n, _ in live if k == 'Model']
    assert models == sorted(models, key=str.lower), models
