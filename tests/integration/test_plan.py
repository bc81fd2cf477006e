"""`plumb plan` end to end: the real binary against the emulator, with live state made by boto3
as a person would make it, and the emulator's call log as the witness of what plumb read."""
import fcntl
import json
import os
import stat


from plan_helpers import (actions, boto3_apply, copy_examples, edit, per_resource_reads, plan,
                          resources, validate_json, Clients)

SCALE = 'nightly-batch-scorer'  # the scale-to-zero example's names


def converge(w, *examples):
    """Copies examples into the workspace and makes them live with boto3 from plumb's plan."""
    copy_examples(w.m, *examples)
    rc, p, err = plan(w.env, w.m, w.state)
    assert rc == 2, err
    boto3_apply(w.emu, p)
    rc, p2, err = plan(w.env, w.m, w.state)
    assert rc == 0, (err, p2['resources'])
    return p


def changed(p):
    return {a: r for a, r in resources(p).items() if r['action'] not in ('none',)}


# ------------------------------------------------------------------------- empty account

def test_empty_account_plans_every_example(ws, tmp_path):
    copy_examples(ws.m)
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 2, err
    s = p['summary']
    assert s['create'] == len(p['resources']) and s['update'] == s['delete'] == 0
    assert all(r['action'] == 'create' for r in p['resources'])
    validate_json('plan.schema.json', p, tmp_path)
    # every action comes after what it depends on, and references flow forwards
    seen = set()
    for a in p['actions']:
        assert all(d in seen for d in a['depends_on']), a
        seen.add(a['id'])


def test_empty_account_exact_plan_for_scale_to_zero(ws):
    copy_examples(ws.m, 'scale-to-zero')
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 2, err
    assert actions(p) == [
        ('create', 'Model/' + SCALE),
        ('create', 'EndpointConfig/' + SCALE),
        ('create', 'Endpoint/' + SCALE),
        ('wait', 'Endpoint/' + SCALE),
        ('create', 'ScalableTarget/' + SCALE),
        ('create', 'ScalingPolicy/%s/scale-on-backlog' % SCALE),
        ('create', 'ScalingPolicy/%s/scale-from-zero' % SCALE),
        ('create', 'Alarm/%s-scale-from-zero' % SCALE),
    ]
    by = {a['address'] + ':' + a['type']: a for a in p['actions']}
    alarm = by['Alarm/%s-scale-from-zero:create' % SCALE]
    assert alarm['input']['AlarmActions'] == [
        {'plumb:ref': 'ScalingPolicy/%s/scale-from-zero' % SCALE}]
    ep = by['Endpoint/%s:create' % SCALE]
    tags = {t['Key']: t['Value'] for t in ep['input']['Tags']}
    assert tags['plumb:owner'] == 'ml-platform' and tags['plumb:id'] == 'Endpoint/' + SCALE
    assert len(tags['plumb:spec-hash']) == 64
    rc, text, err = plan(ws.env, ws.m, ws.state, '--no-color', output='text')
    assert rc == 2
    assert '+ Model/%s' % SCALE in text
    assert 'Plan: 7 to create, 0 to update, 0 to delete.' in text
    assert '\x1b[' not in text


# ------------------------------------------------------------------------- converged

def test_converged_stack_second_run_reads_no_resource(ws):
    converge(ws)
    ws.emu.clear_calls()
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 0, err
    assert all(r['action'] == 'none' for r in p['resources'])
    assert p['actions'] == []
    assert per_resource_reads(ws.emu) == {}
    total = sum(ws.emu.counts().values())
    assert total <= 12, ws.emu.counts()  # STS + one page of each collection
    rc, text, _ = plan(ws.env, ws.m, ws.state, '--no-color', output='text')
    assert rc == 0 and 'No changes' in text
    st = os.stat(ws.state)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_refresh_full_describes_again(ws):
    converge(ws, 'scale-to-zero')
    ws.emu.clear_calls()
    rc, p, err = plan(ws.env, ws.m, ws.state, '--refresh=full')
    assert rc == 0, err
    reads = per_resource_reads(ws.emu)
    assert reads.get('sagemaker.DescribeEndpoint') == 1
    assert reads.get('sagemaker.DescribeModel') == 1


def test_cached_makes_no_aws_call(ws):
    converge(ws, 'async-sns')
    ws.emu.clear_calls()
    rc, p, err = plan(ws.env, ws.m, ws.state, '--cached')
    assert rc == 0, err
    assert sum(ws.emu.counts().values()) == 0


# ------------------------------------------------------------------------- field changes

def test_each_category_of_field_change(ws):
    converge(ws, 'realtime-autoscaling', 'async-sns')
    ra = os.path.join(ws.m, 'realtime-autoscaling')
    auto = os.path.join(ra, 'autoscaling.yaml')
    edit(auto, 'maxCapacity: 8', 'maxCapacity: 12')                    # scalar, upsert kind
    edit(auto, 'evaluationPeriods: 3\n  datapointsToAlarm: 3',
         'evaluationPeriods: 4\n  datapointsToAlarm: 3')                # scalar, alarm
    edit(auto, 'metricIntervalUpperBound: 250000', 'metricIntervalUpperBound: 300000')
    edit(auto, 'metricIntervalLowerBound: 250000', 'metricIntervalLowerBound: 300000')  # list item
    edit(auto, 'treatMissingData: notBreaching', 'treatMissingData: missing')  # back to default
    edit(os.path.join(ws.m, 'async-sns', 'topics.yaml'),
         'DisplayName: async-sns inference succeeded',
         'DisplayName: async-sns inference done')                       # map entry
    edit(os.path.join(ws.m, 'defaults.yaml'), 'cost-center: "4410"', 'cost-center: "4411"')
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 2, err
    res = resources(p)

    def managed(addr):
        return {x['path']: x for x in res[addr]['deltas'] if not x['info']}

    tgt = managed('ScalableTarget/product-ranker')
    assert res['ScalableTarget/product-ranker']['action'] == 'update'
    assert (tgt['maxCapacity']['old'], tgt['maxCapacity']['new']) == (8, 12)
    lat = managed('Alarm/product-ranker-latency-high')
    assert res['Alarm/product-ranker-latency-high']['action'] == 'update'
    assert (lat['evaluationPeriods']['old'], lat['evaluationPeriods']['new']) == (3, 4)
    err5 = managed('Alarm/product-ranker-5xx')
    assert err5['treatMissingData']['old'] == 'notBreaching'
    assert err5['treatMissingData']['new'] in (None, 'missing')
    step = managed('ScalingPolicy/product-ranker/latency-step')
    assert any(k.startswith('stepScalingPolicyConfiguration.stepAdjustments[') for k in step)
    top = managed('Topic/async-sns-success')
    assert res['Topic/async-sns-success']['action'] == 'update'
    assert top['attributes.DisplayName']['old'] == 'async-sns inference succeeded'
    assert top['attributes.DisplayName']['new'] == 'async-sns inference done'
    # tags only: models and configs keep their names (tags are not in the hash)
    for addr in ('Model/product-ranker', 'EndpointConfig/product-ranker',
                 'Endpoint/product-ranker', 'Topic/realtime-alerts'):
        assert res[addr]['action'] == 'tag', (addr, res[addr])
        d = {x['path']: x for x in res[addr]['deltas']}
        assert (d['tags.cost-center']['old'], d['tags.cost-center']['new']) == ('4410', '4411')
    assert not any(r['action'] in ('create', 'delete', 'replace') for r in res.values()), res
    # and boto3 carrying out exactly these actions converges (boto3 is out of band for plumb:
    # topic attributes have no modification time to list, so only a full refresh re-reads them)
    boto3_apply(ws.emu, p)
    rc, p2, err = plan(ws.env, ws.m, ws.state, '--refresh=full')
    assert rc == 0, changed(p2)


def test_model_change_rolls_over_and_collects_the_old(ws):
    converge(ws, 'scale-to-zero')
    c = Clients(ws.emu)
    old_cfg = c.sm.describe_endpoint(EndpointName=SCALE)['EndpointConfigName']
    old_models = [m['ModelName'] for m in c.sm.list_models()['Models']]
    edit(os.path.join(ws.m, 'scale-to-zero', 'stack.yaml'), 'batch-scorer:0.9.3',
         'batch-scorer:0.9.4')
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 2, err
    acts = actions(p)
    assert acts[:4] == [('create', 'Model/' + SCALE), ('create', 'EndpointConfig/' + SCALE),
                        ('update', 'Endpoint/' + SCALE), ('wait', 'Endpoint/' + SCALE)]
    # the endpoint's plumb:spec-hash tag follows its new spec
    assert set(acts[4:]) == {('delete', 'EndpointConfig/' + SCALE), ('delete', 'Model/' + SCALE),
                             ('tag', 'Endpoint/' + SCALE)}
    assert acts.index(('delete', 'EndpointConfig/' + SCALE)) < acts.index(
        ('delete', 'Model/' + SCALE))
    by_id = {a['id']: a for a in p['actions']}
    wait = next(a for a in p['actions'] if a['type'] == 'wait')
    for a in p['actions']:
        if a['type'] == 'delete':
            assert _after(by_id, a, wait['id']), a
            assert a['physical'] in (old_cfg, *old_models)
    upd = next(a for a in p['actions'] if a['type'] == 'update')
    assert upd['input']['RetainAllVariantProperties'] is True
    assert p['summary']['create'] == 2 and p['summary']['update'] == 1
    assert p['summary']['delete'] == 2
    boto3_apply(ws.emu, p)
    rc, p2, err = plan(ws.env, ws.m, ws.state)
    assert rc == 0, changed(p2)
    names = [m['ModelName'] for m in c.sm.list_models()['Models']]
    assert not set(old_models) & set(names)


def _after(by_id, a, target):
    todo, seen = list(a['depends_on']), set()
    while todo:
        x = todo.pop()
        if x == target:
            return True
        if x not in seen:
            seen.add(x)
            todo += by_id[x]['depends_on']
    return False


def test_instance_type_change_under_autoscaling_is_choreographed(ws):
    converge(ws, 'realtime-autoscaling')
    edit(os.path.join(ws.m, 'realtime-autoscaling', 'endpoint.yaml'),
         'instanceType: ml.c5.2xlarge', 'instanceType: ml.c5.4xlarge')
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 2, err
    seq = [(t, a.split('/')[0]) for t, a in actions(p)]
    kinds = [k for _, k in seq]
    i_upd = seq.index(('update', 'Endpoint'))
    # policies deleted and the target deregistered before the update...
    assert ('delete', 'ScalableTarget') in seq[:i_upd]
    assert ('delete', 'ScalingPolicy') in seq[:i_upd]
    assert seq.index(('delete', 'ScalingPolicy')) < seq.index(('delete', 'ScalableTarget'))
    # ...then wait, re-register, re-put the policies and re-point the alarms
    after = seq[i_upd + 1:]
    assert after[0] == ('wait', 'Endpoint')
    assert after.index(('create', 'ScalableTarget')) < after.index(('create', 'ScalingPolicy'))
    assert 'Alarm' in kinds[i_upd:]
    whys = [a.get('why') or '' for a in p['actions']]
    assert any('instance type' in w for w in whys), whys
    # the emulator refuses a plain UpdateEndpoint here; the choreography goes through
    boto3_apply(ws.emu, p)
    rc, p2, err = plan(ws.env, ws.m, ws.state)
    assert rc == 0, changed(p2)


# ------------------------------------------------------------------------- out of band

def test_out_of_band_edits_are_planned_back(ws):
    converge(ws, 'realtime-autoscaling')
    c = Clients(ws.emu)
    alarms = [a for a in c.cw.describe_alarms()['MetricAlarms']
              if not a['AlarmName'].startswith('TargetTracking-')]
    a = alarms[0]
    keep = {k: a[k] for k in ('AlarmName', 'MetricName', 'Namespace', 'Statistic', 'Period',
                              'EvaluationPeriods', 'ComparisonOperator', 'Dimensions',
                              'AlarmActions', 'OKActions', 'TreatMissingData')
            if k in a}
    keep['Threshold'] = a['Threshold'] + 123
    c.cw.put_metric_alarm(**keep)
    t = c.aas.describe_scalable_targets(ServiceNamespace='sagemaker')['ScalableTargets'][0]
    c.aas.register_scalable_target(ServiceNamespace='sagemaker', ResourceId=t['ResourceId'],
                                   ScalableDimension=t['ScalableDimension'],
                                   MaxCapacity=t['MaxCapacity'] + 5)
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 2, err
    res = resources(p)
    ra = [r for r in res.values() if r['kind'] == 'Alarm' and r['physical'] == a['AlarmName']][0]
    assert ra['action'] == 'update'
    d = {x['path']: x for x in ra['deltas'] if not x['info']}
    assert d['threshold']['old'] == a['Threshold'] + 123
    assert d['threshold']['new'] == a['Threshold']
    rt = [r for r in res.values() if r['kind'] == 'ScalableTarget'][0]
    d = {x['path']: x for x in rt['deltas'] if not x['info']}
    assert d['maxCapacity']['old'] == t['MaxCapacity'] + 5
    assert d['maxCapacity']['new'] == t['MaxCapacity']


def test_foreign_resources_are_never_touched(ws):
    converge(ws, 'scale-to-zero')
    c = Clients(ws.emu)
    c.sm.create_model(ModelName='someone-elses-model',
                      PrimaryContainer={'Image': '1.dkr.ecr.us-east-1.amazonaws.com/x:1'},
                      ExecutionRoleArn='arn:aws:iam::123456789012:role/x')
    c.cw.put_metric_alarm(AlarmName='other-team-alarm', MetricName='CPUUtilization',
                          Namespace='AWS/EC2', Statistic='Average', Period=60,
                          EvaluationPeriods=1, Threshold=1.0,
                          ComparisonOperator='GreaterThanThreshold',
                          Tags=[{'Key': 'plumb:owner', 'Value': 'other-team'},
                                {'Key': 'plumb:id', 'Value': 'Alarm/other-team-alarm'}])
    for extra in ([], ['--prune']):
        rc, p, err = plan(ws.env, ws.m, ws.state, *extra)
        assert rc == 0, (extra, err, changed(p))
        phys = {r['physical'] for r in p['resources']}
        assert 'someone-elses-model' not in phys and 'other-team-alarm' not in phys


def test_wanted_name_owned_by_another_owner_is_a_conflict(ws):
    copy_examples(ws.m, 'async-sns')
    c = Clients(ws.emu)
    c.sns.create_topic(Name='async-sns-success',
                       Tags=[{'Key': 'plumb:owner', 'Value': 'other-team'}])
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 1
    r = resources(p)['Topic/async-sns-success']
    assert r['action'] == 'conflict' and 'other-team' in r['reason']
    assert not any(a['address'] == 'Topic/async-sns-success' for a in p['actions'])


def test_untagged_wanted_name_needs_adopt(ws):
    copy_examples(ws.m, 'async-sns')
    c = Clients(ws.emu)
    c.sns.create_topic(Name='async-sns-success')
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 1
    r = resources(p)['Topic/async-sns-success']
    assert r['action'] == 'conflict' and '--adopt' in r['reason']
    rc, text, err = plan(ws.env, ws.m, ws.state, output='text')
    assert rc == 1 and '--adopt' in text + err
    rc, p, err = plan(ws.env, ws.m, ws.state, '--adopt')
    assert rc == 2, err
    r = resources(p)['Topic/async-sns-success']
    assert r['action'] == 'adopt'
    tag = [a for a in p['actions'] if a['address'] == 'Topic/async-sns-success'
           and (a.get('add_tags') or {}).get('plumb:owner')]
    assert tag and tag[0]['add_tags']['plumb:owner'] == 'ml-platform'


# ------------------------------------------------------------------------- prune

def test_prune_off_lists_orphans_and_on_deletes_them(ws):
    converge(ws, 'async-sns', 'scale-to-zero')
    import shutil
    shutil.rmtree(os.path.join(ws.m, 'scale-to-zero'))
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 0, (err, changed(p))
    orphans = {r['address'] for r in p['resources'] if r['action'] == 'orphan'}
    assert orphans == {'Model/' + SCALE, 'EndpointConfig/' + SCALE, 'Endpoint/' + SCALE,
                       'ScalableTarget/' + SCALE, 'ScalingPolicy/%s/scale-on-backlog' % SCALE,
                       'ScalingPolicy/%s/scale-from-zero' % SCALE,
                       'Alarm/%s-scale-from-zero' % SCALE}
    assert p['actions'] == [] and p['summary']['orphan'] == 7
    rc, text, _ = plan(ws.env, ws.m, ws.state, '--no-color', output='text')
    assert 'Endpoint/' + SCALE in text and 'prune' in text
    rc, p, err = plan(ws.env, ws.m, ws.state, '--prune')
    assert rc == 2, err
    dels = [a for t, a in actions(p) if t == 'delete']
    assert dels.index('Alarm/%s-scale-from-zero' % SCALE) < dels.index('ScalableTarget/' + SCALE)
    assert dels.index('ScalableTarget/' + SCALE) < dels.index('Endpoint/' + SCALE)
    assert dels.index('Endpoint/' + SCALE) < dels.index('EndpointConfig/' + SCALE)
    assert dels.index('EndpointConfig/' + SCALE) < dels.index('Model/' + SCALE)
    assert ('wait', 'Endpoint/' + SCALE) in actions(p)
    assert p['summary']['delete'] == 7
    # deleting the endpoint removes its target and policies in AWS; the plan still works
    boto3_apply(ws.emu, p)
    rc, p, err = plan(ws.env, ws.m, ws.state, '--prune')
    assert rc == 0, changed(p)


# ------------------------------------------------------------------------- the state file

def test_deleted_state_file_loses_nothing(ws):
    converge(ws, 'async-sns')
    os.remove(ws.state)
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 0, (err, changed(p))


def test_corrupt_state_file_is_rebuilt(ws):
    converge(ws, 'async-sns')
    with open(ws.state, 'wb') as f:
        f.write(os.urandom(8192))
    for suffix in ('-wal', '-shm'):
        if os.path.exists(str(ws.state) + suffix):
            os.remove(str(ws.state) + suffix)
    rc, p, err = plan(ws.env, ws.m, ws.state)
    assert rc == 0, (err, changed(p))
    assert 'corrupt' in err
    moved = [f for f in os.listdir(os.path.dirname(ws.state)) if '.corrupt-' in f]
    assert moved, os.listdir(os.path.dirname(ws.state))


def test_second_writer_is_refused_naming_the_holder(ws):
    copy_examples(ws.m, 'async-sns')
    os.makedirs(os.path.dirname(ws.state), exist_ok=True)
    with open(str(ws.state) + '.lock', 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        f.write('plumb run pid=4242 host=ci since=2026-11-24T00:00:00Z\n')
        f.flush()
        rc, p, err = plan(ws.env, ws.m, ws.state)
        assert rc == 1
        assert 'pid=4242' in err, err


def test_plan_out_file(ws, tmp_path):
    copy_examples(ws.m, 'serverless')
    out = tmp_path / 'plan.json'
    rc, text, err = plan(ws.env, ws.m, ws.state, '-o', str(out), output='text')
    assert rc == 2, err
    assert 'plumb apply ' + str(out) in text
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    doc = json.load(open(out))
    assert doc['format_version'] == 1
    assert len(doc['meta']['fingerprint']) == 64 and doc['meta']['account'] == '123456789012'
    validate_json('plan.schema.json', doc, tmp_path)


def test_account_guard(ws):
    copy_examples(ws.m, 'serverless')
    edit(os.path.join(ws.m, 'defaults.yaml'), '"123456789012"', '"210987654321"')
    ws.emu.clear_calls()
    rc, out, err = plan(ws.env, ws.m, ws.state, output='text')
    assert rc == 1
    assert '210987654321' in err and '123456789012' in err
    ops = set(ws.emu.counts())
    assert ops == {'sts.GetCallerIdentity'}, ops


def test_invalid_manifest_makes_no_call(ws):
    os.makedirs(ws.m)
    with open(os.path.join(ws.m, 'bad.yaml'), 'w') as f:
        f.write('apiVersion: plumb/v1\nkind: Topic\nmetadata: {name: "bad name"}\nspec: {}\n')
    ws.emu.clear_calls()
    rc, out, err = plan(ws.env, ws.m, ws.state, output='text')
    assert rc == 1 and 'bad.yaml:3:' in err
    assert sum(ws.emu.counts().values()) == 0
