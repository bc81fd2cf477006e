"""The pkg/apply executor end to end, through the test-only driver apply_tool: hand-written JSON
plans (the format of `plumb plan --output json`) run against the emulator over real HTTP, with
the emulator's lists and call log as witnesses. Covers stacks from empty with tags and filled-in
references, re-runs as replays, waits (Failed create, silent rollback, success on the new
config before the superseded config and model go), failure isolation, --target, a throttling
storm, the journal (rows finished, secrets kept out, failed spec hashes) and SIGKILL at many
points followed by recovery and a re-run: no duplicates, no orphans."""
import pytest

import apply_helpers as A



def expect_stacks(inv, names, extra_models=(), extra_configs=()):
    """The emulator holds exactly these stacks: nothing more, nothing twice."""
    eps = inv.endpoints()
    assert sorted(eps) == sorted(names), eps
    assert all(s == 'InService' for s in eps.values()), eps
    models, configs = inv.models(), inv.configs()
    assert len(models) == len(set(models)) and len(configs) == len(set(configs))
    assert sorted(m.split('-m-')[0] for m in models) == sorted(list(names) + list(extra_models))
    assert sorted(c.split('-c-')[0] for c in configs) == sorted(list(names) + list(extra_configs))
    targets, policies = inv.targets(), inv.policies()
    assert sorted(targets) == sorted('endpoint/%s/variant/v1' % n for n in names)
    assert sorted(policies) == sorted(('endpoint/%s/variant/v1' % n, 'wake') for n in names)
    assert sorted(inv.alarms()) == sorted(n + '-wake' for n in names)
    topics = inv.topics()
    assert sorted(topics) == sorted(n + '-done' for n in names)


# ------------------------------------------------------------------------- from empty

def test_stacks_from_empty_then_replay(ws):
    p = A.Plan()
    ids = {n: A.stack(p, n) for n in ('s1', 's2', 's3')}
    path = A.write(ws.tmp, p.doc())
    rc, out, events, other = A.run(ws.env, path, ws.state)
    assert rc == 0, (out, other)
    res = out['result']
    assert res['ok'] and res['totals']['done'] == 24 and res['totals']['failed'] == 0
    inv = A.Inventory(ws.emu)
    expect_stacks(inv, ['s1', 's2', 's3'])
    # tags given at creation, references filled from the replies of earlier actions
    s1 = ids['s1']
    arn = res['outputs']['Model/s1']
    assert arn == 'arn:aws:sagemaker:us-east-1:123456789012:model/' + s1['model_name']
    t = inv.sm_tags(arn)
    assert t['plumb:owner'] == A.OWNER and t['plumb:id'] == 'Model/s1'
    assert t['plumb:spec-hash'] == s1['hash']
    policy_arn = res['outputs']['ScalingPolicy/s1/wake']
    assert policy_arn.startswith('arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:')
    assert inv.alarms()['s1-wake']['AlarmActions'] == [policy_arn]
    cfg = inv.sm.describe_endpoint_config(EndpointConfigName=s1['config_name'])
    note = cfg['AsyncInferenceConfig']['OutputConfig']['NotificationConfig']
    assert note['SuccessTopic'] == 'arn:aws:sns:us-east-1:123456789012:s1-done'
    # events: every action started and finished; waits report status and elapsed time
    kinds = [(e['event'], e['address']) for e in events]
    assert kinds.count(('started', 'Model/s2')) == 1 and kinds.count(('done', 'Model/s2')) == 1
    polls = [e for e in events if e['event'] == 'polled']
    assert polls and all(e['endpoint_status'] for e in polls)
    assert polls[-1]['endpoint_status'] == 'InService' and polls[-1]['elapsed_ms'] > 0
    wait = A.by_address(res, 'Endpoint/s1', 'wait')
    assert wait['status'] == 'done' and wait['polls'] >= 2
    # the journal: every mutating call has a finished row, without the container's secret
    rows = A.journal(ws.state)
    assert len(rows) == 24 - 3  # every action but the waits is one call
    assert all(r['status'] == 'done' and r['finished_ms'] >= r['started_ms'] for r in rows)
    assert {r['operation'] for r in rows} == {
        'CreateTopic', 'CreateModel', 'CreateEndpointConfig', 'CreateEndpoint',
        'RegisterScalableTarget', 'PutScalingPolicy', 'PutMetricAlarm'}
    assert not any('hunter2' in (r['request_json'] or '') for r in rows)
    assert all(r['run_id'] == res['run_id'] and r['account'] == '123456789012' for r in rows)
    # the same plan again is a replay: creates find their own resources, upserts repeat
    ws.emu.clear_calls()
    rc, out2, _, other = A.run(ws.env, path, ws.state)
    assert rc == 0, (out2, other)
    r2 = out2['result']
    assert A.by_address(r2, 'Model/s1')['detail'] == 'already existed (ours)'
    assert A.by_address(r2, 'Endpoint/s3', 'create')['detail'] == 'already existed (ours)'
    expect_stacks(inv, ['s1', 's2', 's3'])


def test_deletes_of_what_is_gone_are_done(ws):
    p = A.Plan()
    p.add('delete', 'Model', 'm', 'nope-m-1', {'ModelName': 'nope-m-1'})
    p.add('delete', 'Endpoint', 'e', 'nope', {'EndpointName': 'nope'})
    p.add('wait', 'Endpoint', 'e', 'nope', None, deps=[1], wait_for='deleted',
          wait_deadline_s=30)
    p.add('delete', 'ScalingPolicy', 'e/p', 'p',
          {'PolicyName': 'p', 'ServiceNamespace': 'sagemaker',
           'ResourceId': 'endpoint/nope/variant/v1', 'ScalableDimension': A.DIM},
          parent='endpoint/nope/variant/v1')
    p.add('delete', 'Topic', 't', 'nope-t',
          {'TopicArn': 'arn:aws:sns:us-east-1:123456789012:nope-t'})
    p.add('delete', 'Alarm', 'a', 'nope-a', {'AlarmNames': ['nope-a']})
    rc, out, _, other = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state)
    assert rc == 0, (out, other)
    assert out['result']['totals']['done'] == 6
    assert A.by_address(out['result'], 'Model/m')['detail'] == 'already gone'


# ------------------------------------------------------------------------- waits

def test_failed_create_fails_its_branch_only(ws):
    ws.emu.fail_endpoint('bad', on='create', reason='Image pull failed: manifest unknown')
    p = A.Plan()
    A.stack(p, 'bad')
    A.stack(p, 'good')
    rc, out, _, other = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state)
    assert rc == 1
    res = out['result']
    wait = A.by_address(res, 'Endpoint/bad', 'wait')
    assert wait['status'] == 'failed'
    assert 'Failed: Image pull failed: manifest unknown' in wait['detail']
    assert wait['endpoint_status'] == 'Failed'
    assert wait['error']['operation'] == 'DescribeEndpoint'
    for addr in ('ScalableTarget/bad', 'ScalingPolicy/bad/wake', 'Alarm/bad-wake'):
        a = A.by_address(res, addr)
        assert a['status'] == 'skipped' and a['detail'] == 'skipped: needs Endpoint/bad', a
    assert all(a['status'] == 'done' for a in res['actions'] if 'good' in a['address'])
    assert res['totals'] == dict(res['totals'], done=8 + 4, failed=1, skipped=3)
    # the failed spec hash is remembered: the same plan is refused by the CLI's check
    rc, refused, err = A.tool(ws.env, 'failed', A.write(ws.tmp, p.doc()), '--state', ws.state)
    assert rc == 0, err
    assert [r['address'] for r in refused] == ['Endpoint/bad']
    assert refused[0]['failures'] == 1


def update_plan(p, name, old, new, deadline=30):
    """Rolls stack `name` from version old to new: model + config, UpdateEndpoint, wait, then
    the superseded config and model go (after the wait)."""
    model, cfg = '%s-m-%s' % (name, new['hash'][:8]), '%s-c-%s' % (name, new['hash'][:8])
    m = p.add('create', 'Model', name, model,
              {'ModelName': model, 'ExecutionRoleArn': A.ROLE,
               'PrimaryContainer': {'Image': A.IMAGE.replace(':1', ':2')},
               'Tags': A.tags('Model', name, new['hash'])})
    c = p.add('create', 'EndpointConfig', name, cfg,
              {'EndpointConfigName': cfg,
               'ProductionVariants': [{'VariantName': 'v1', 'ModelName': model,
                                       'InitialInstanceCount': 1,
                                       'InstanceType': 'ml.m5.large'}],
               'Tags': A.tags('EndpointConfig', name, new['hash'])}, deps=[m])
    u = p.add('update', 'Endpoint', name, name,
              {'EndpointName': name, 'EndpointConfigName': cfg,
               'RetainAllVariantProperties': True}, deps=[c],
              add_tags={'plumb:spec-hash': new['hash']})
    w = p.add('wait', 'Endpoint', name, name, None, deps=[u], wait_for='in_service',
              wait_config=cfg, wait_deadline_s=deadline)
    dc = p.add('delete', 'EndpointConfig', name, old['config_name'],
               {'EndpointConfigName': old['config_name']}, deps=[w])
    p.add('delete', 'Model', name, old['model_name'], {'ModelName': old['model_name']},
          deps=[dc])
    return model, cfg


def test_update_then_superseded_deleted(ws):
    p = A.Plan()
    v1 = A.stack(p, 'u1')
    rc, _, _, other = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state)
    assert rc == 0, other
    q = A.Plan()
    v2 = A.stack(A.Plan(), 'u1', version='2')
    model, cfg = update_plan(q, 'u1', v1, v2)
    rc, out, events, other = A.run(ws.env, A.write(ws.tmp, q.doc(), 'update.json'), ws.state)
    assert rc == 0, (out, other)
    inv = A.Inventory(ws.emu)
    d = inv.sm.describe_endpoint(EndpointName='u1')
    assert d['EndpointStatus'] == 'InService' and d['EndpointConfigName'] == cfg
    assert inv.models() == [model] and inv.configs() == [cfg]
    # the superseded config went only after the wait said InService on the new one
    order = [(e['event'], e['address'], e['id']) for e in events]
    wait_done = order.index(('done', 'Endpoint/u1', 3))
    del_start = order.index(('started', 'EndpointConfig/u1', 4))
    assert wait_done < del_start
    t = inv.sm_tags(inv.sm.describe_endpoint(EndpointName='u1')['EndpointArn'])
    assert t['plumb:spec-hash'] == v2['hash']


def test_silent_rollback_is_a_failure_with_the_reason(ws):
    p = A.Plan()
    v1 = A.stack(p, 'rb')
    rc, _, _, other = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state)
    assert rc == 0, other
    ws.emu.fail_endpoint('rb', on='update', mode='rollback',
                         reason='Container health check failed on the new fleet')
    q = A.Plan()
    v2 = A.stack(A.Plan(), 'rb', version='2')
    model, cfg = update_plan(q, 'rb', v1, v2)
    rc, out, _, other = A.run(ws.env, A.write(ws.tmp, q.doc(), 'update.json'), ws.state)
    assert rc == 1
    res = out['result']
    wait = A.by_address(res, 'Endpoint/rb', 'wait')
    assert wait['status'] == 'failed'
    assert 'silent rollback' in wait['detail']
    assert 'Container health check failed on the new fleet' in wait['detail']
    assert v1['config_name'] in wait['detail']
    # nothing superseded was deleted: the endpoint still runs on it
    for a in res['actions']:
        if a['type'] == 'delete':
            assert a['status'] == 'skipped' and a['detail'] == 'skipped: needs Endpoint/rb'
    inv = A.Inventory(ws.emu)
    assert inv.sm.describe_endpoint(EndpointName='rb')['EndpointConfigName'] == v1['config_name']
    assert sorted(inv.configs()) == sorted([v1['config_name'], cfg])
    # the update's hash is remembered as failed (not the old version's)
    rc, refused, err = A.tool(ws.env, 'failed', A.write(ws.tmp, q.doc(), 'u2.json'),
                              '--state', ws.state)
    assert rc == 0, err
    assert {r['address'] for r in refused} == {'Endpoint/rb'}
    assert refused[0]['spec_hash'] == v2['hash']


def test_invalid_request_fails_its_branch_and_is_remembered(ws):
    p = A.Plan()
    ids = A.stack(p, 'inv')
    cfg = p.actions[ids['config']]
    cfg['input']['ProductionVariants'][0]['InstanceType'] = 'ml.bogus.large'
    A.stack(p, 'fine')
    rc, out, _, _ = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state)
    assert rc == 1
    res = out['result']
    a = A.by_address(res, 'EndpointConfig/inv')
    assert a['status'] == 'failed'
    e = a['error']
    assert e['service'] == 'sagemaker' and e['operation'] == 'CreateEndpointConfig'
    assert e['code'] == 'ValidationException' and 'instanceType' in e['message']
    assert e['request_id'] and e['http_status'] == 400
    assert res['totals']['done'] == 8 + 2 and res['totals']['skipped'] == 5
    rc, refused, _ = A.tool(ws.env, 'failed', A.write(ws.tmp, p.doc()), '--state', ws.state)
    assert [r['address'] for r in refused] == ['EndpointConfig/inv']


# ------------------------------------------------------------------------- --target, throttling

def test_target_runs_a_resource_and_what_it_needs(ws):
    p = A.Plan()
    A.stack(p, 't1')
    A.stack(p, 't2')
    rc, out, _, other = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state,
                              '--target', 'ScalableTarget/t1')
    assert rc == 0, other
    assert {a['address'] for a in out['result']['actions']} == {
        'Topic/t1-done', 'Model/t1', 'EndpointConfig/t1', 'Endpoint/t1', 'ScalableTarget/t1'}
    inv = A.Inventory(ws.emu)
    assert list(inv.endpoints()) == ['t1'] and inv.policies() == [] and inv.alarms() == {}


def test_throttling_storm_delays_but_does_not_fail(ws):
    # a token bucket per operation: 4 calls/s with a burst of 1
    ws.emu.set_faults({'throttle': [{'service': 'sagemaker', 'rate': 4, 'burst': 1},
                                    {'service': 'application-autoscaling', 'rate': 4,
                                     'burst': 1}]})
    p = A.Plan()
    names = ['th%d' % i for i in range(5)]
    for n in names:
        A.stack(p, n)
    rc, out, _, other = A.run(ws.env, A.write(ws.tmp, p.doc()), ws.state, timeout=180)
    assert rc == 0, (out and out['result']['totals'], other)
    throttled = [c for c in ws.emu.calls() if c['error'] in
                 ('ThrottlingException',)]
    assert len(throttled) >= 5
    ws.emu.clear_faults()
    expect_stacks(A.Inventory(ws.emu), names)


# ------------------------------------------------------------------------- crash safety

KILL_POINTS = [1, 3, 6, 9, 13, 17, 22, 28, 35, 43]


@pytest.mark.parametrize('point', KILL_POINTS)
def test_sigkill_then_recover_and_rerun_converges(ws, point):
    """SIGKILL apply_tool after `point` events (mid-call, mid-wait, between actions), then a
    recovery pass finishes every open journal row and a re-run of the same plan converges:
    exactly the wanted resources, none twice, nothing left over."""
    names = ['k1', 'k2', 'k3']
    p = A.Plan()
    for n in names:
        A.stack(p, n)
    path = A.write(ws.tmp, p.doc())
    killed, events = A.run_until(ws.env, path, ws.state, lambda ev: len(ev) >= point)
    assert killed or len(events) < point
    rc, rec, err = A.tool(ws.env, 'recover', '--state', ws.state)
    assert rc == 0, err
    assert rec['left'] == 0
    assert not [r for r in A.journal(ws.state) if r['status'] == 'open']
    rc, out, _, other = A.run(ws.env, path, ws.state)
    assert rc == 0, (out and [a for a in out['result']['actions'] if a['status'] != 'done'],
                     other)
    assert out['recovery']['open'] == 0
    expect_stacks(A.Inventory(ws.emu), names)
    # every create call the emulator accepted once per resource (re-runs find them)
    counts = ws.emu.counts()
    assert counts.get('sagemaker.CreateEndpoint', 0) <= 2 * len(names)
