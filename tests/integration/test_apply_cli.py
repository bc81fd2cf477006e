"""`plumb apply` end to end against the emulator (issue 6's acceptance list): every example
applied from empty, re-applied as a no-op, changed and applied, removed with prune; confirmation
rules; a saved plan and the fingerprint check; --target; Failed create and silent rollback with
the failure summary, and the failed spec hash that is not retried unless asked; a throttling
storm; the account guard; SIGKILL at 32 random points while applying 10 stacks, each followed
by a restart that must converge with zero duplicates and zero orphans."""
import os
import random
import re
import shutil

import aws_helpers as H
import plan_helpers as P
import apply_cli_helpers as C


def converged(w, *args):
    rc, p, err = P.plan(w.env, w.m, w.state, *args)
    assert rc == 0, (err, [(r['address'], r['action']) for r in p['resources']
                           if r['action'] != 'none'])
    return p


def wanted(w, manifests=None):
    """Every address the manifests want: call it while the account is still empty, when the
    plan creates everything."""
    db = w.tmp / 'want.db'
    rc, p, err = P.plan(w.env, manifests or w.m, db)
    assert rc == 2, err
    os.unlink(db)
    assert all(r['action'] == 'create' for r in p['resources']), 'account not empty'
    return {r['address'] for r in p['resources']}


def exactly(w, addresses):
    C.exactly(w.emu, addresses)


# ------------------------------------------------------------------------- the examples

def test_examples_from_empty_noop_changed_and_pruned(ws):
    P.copy_examples(ws.m)
    want = wanted(ws)
    serverless = wanted(ws, P.copy_examples(str(ws.tmp / 'srv'), 'serverless'))
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    assert 'Apply complete' in out and '0 failed' in out
    assert 'Plan:' in out  # the plan was shown first
    ev = C.events(err)
    assert ev and all(e['event'].startswith('apply.') for e in ev)
    assert any(e['event'] == 'apply.polled' and e.get('endpoint_status') for e in ev)
    converged(ws)
    exactly(ws, want)
    # again: nothing to do, and no AWS call beyond the observation
    ws.emu.clear_calls()
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0 and 'No changes' in out, out + err
    assert not [k for k in ws.emu.counts() if k.split('.')[1].startswith(
        ('Create', 'Update', 'Delete', 'Put', 'Register', 'Deregister', 'Add', 'Tag'))]
    # a changed model image rolls the model and config over; the old ones go
    model_file = os.path.join(ws.m, 'clip-recommender', 'model.yaml')
    with open(model_file) as f:
        text = f.read()
    image = [l for l in text.splitlines() if 'image:' in l][0]
    P.edit(model_file, image, image.rsplit(':', 1)[0] + ':changed-tag')
    before = C.census(ws.emu)
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    converged(ws)
    exactly(ws, want)
    after = C.census(ws.emu)
    assert len(after['Model']) == len(before['Model'])
    assert set(after['Model']) != set(before['Model'])
    # a removed stack, with prune, is deleted; without prune it stays (an orphan)
    shutil.rmtree(os.path.join(ws.m, 'serverless'))
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0 and 'No changes' in out, out + err
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes', '--prune')
    assert rc == 0, out + err
    converged(ws, '--prune')
    exactly(ws, want - serverless)
    assert 'text-classifier' not in C.census(ws.emu)['Endpoint']


def test_needs_a_terminal_or_yes(ws):
    P.copy_examples(ws.m, 'serverless')
    rc, out, err = C.apply(ws.env, ws.m, ws.state)
    assert rc == 1
    assert 'refusing to apply without a terminal' in err and '--yes' in err
    assert C.census(ws.emu)['Endpoint'] == []
    rc, _, err = C.apply(ws.env, ws.m, ws.state, '--cached', '--yes')
    assert rc == 64 and '--cached' in err


def test_terminal_prompt_and_live_progress(ws):
    P.copy_examples(ws.m, 'serverless')
    rc, out = C.apply_on_terminal(ws.env, ws.m, ws.state, 'no')
    assert rc == 1 and 'Apply cancelled' in out
    assert 'Plan:' in out and 'Apply 4 actions?' in out, out
    assert C.census(ws.emu)['Endpoint'] == []
    rc, out = C.apply_on_terminal(ws.env, ws.m, ws.state, 'yes')
    assert rc == 0, out
    assert '\u2713' in out and 'Endpoint/text-classifier' in out  # a line per finished action
    assert '\r\x1b[K' in out  # the status line, redrawn in place
    assert 'Apply complete' in out
    assert 'event=apply.' not in out  # log lines are for non-terminals


def test_saved_plan_applies_only_while_live_state_is_unchanged(ws):
    P.copy_examples(ws.m, 'realtime-autoscaling')
    want = wanted(ws)
    saved = str(ws.tmp / 'plan.json')
    rc, _, err = P.plan(ws.env, ws.m, ws.state, '-o', saved)
    assert rc == 2, err
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes', saved)
    assert rc == 0, out + err
    assert 'Actions:' in out
    converged(ws)
    exactly(ws, want)
    # a plan saved, then live state moves (someone deletes an alarm): refused
    # a plan saved, then live state moves under it (someone edits the target): refused
    P.edit(os.path.join(ws.m, 'realtime-autoscaling', 'autoscaling.yaml'), 'maxCapacity: 8',
           'maxCapacity: 10')
    rc, _, err = P.plan(ws.env, ws.m, ws.state, '-o', saved)
    assert rc == 2, err
    aas = ws.emu.boto3_client('application-autoscaling')
    aas.register_scalable_target(ServiceNamespace='sagemaker',
                                 ResourceId='endpoint/product-ranker/variant/primary',
                                 ScalableDimension='sagemaker:variant:DesiredInstanceCount',
                                 MinCapacity=2, MaxCapacity=9)
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes', saved)
    assert rc == 1 and 'live state has changed' in err, out + err
    # planned again, it applies
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    converged(ws)
    exactly(ws, want)


def test_target_applies_a_resource_and_what_it_needs(ws):
    P.copy_examples(ws.m, 'async-sns', 'serverless')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes', '--target', 'Endpoint/async-sns')
    assert rc == 0, out + err
    c = C.census(ws.emu)
    assert c['Endpoint'] == ['async-sns']
    assert c['Alarm'] == []  # the alarm on it is not needed by it
    rc, _, err = C.apply(ws.env, ws.m, ws.state, '--yes', '--target', 'Endpoint/nope')
    assert rc == 1 and 'no such resource' in err


# ------------------------------------------------------------------------- failures

def test_failed_create_summary_and_isolation(ws):
    P.copy_examples(ws.m, 'clip-recommender', 'serverless')
    ws.emu.fail_endpoint('clip-recommender', on='create',
                         reason='Image pull failed: manifest unknown')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 1, out + err
    assert 'Apply failed' in out and 'Failures:' in out
    fail = out.split('Failures:')[1]
    assert 'Endpoint/clip-recommender' in fail
    assert 'Image pull failed: manifest unknown' in fail
    assert 'seen by sagemaker DescribeEndpoint' in fail
    assert 'Not started:' in out and 'needs Endpoint/clip-recommender' in out
    c = C.census(ws.emu)
    assert 'text-classifier' in c['Endpoint']  # the other stack went on
    # the spec that failed is not retried in a loop
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 1


def test_aws_error_summary_and_internal_errors_retried_next_time(ws):
    P.copy_examples(ws.m, 'async-sns')
    want = wanted(ws)
    ws.emu.add_fault('errors', {'operation': 'PutMetricAlarm', 'status': 500, 'count': 20})
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 1, out + err
    fail = out.split('Failures:')[1]
    m = re.search(r'service (\S+), operation PutMetricAlarm, code (\S+), HTTP 500, '
                  r'request id (\S+)', fail)
    assert m, fail
    assert m.group(1) == 'monitoring' and m.group(2) == 'InternalServiceError'
    assert m.group(3) != '-'
    ws.emu.clear_faults()
    # an internal AWS error does not condemn the spec: the next apply just does it
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    converged(ws)
    exactly(ws, want)


def test_silent_rollback_then_refused_then_retried(ws):
    P.copy_examples(ws.m, 'scale-to-zero')
    want = wanted(ws)
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    old_cfg = C.census(ws.emu)['EndpointConfig']
    P.edit(os.path.join(ws.m, 'scale-to-zero', 'stack.yaml'), 'batch-scorer:0.9.3',
           'batch-scorer:0.9.4')
    ws.emu.fail_endpoint('nightly-batch-scorer', on='update', mode='rollback',
                         reason='Container health check failed on the new fleet')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 1, out + err
    fail = out.split('Failures:')[1]
    assert 'silent rollback' in fail
    assert 'Container health check failed on the new fleet' in fail
    sm = ws.emu.boto3_client('sagemaker')
    live = sm.describe_endpoint(EndpointName='nightly-batch-scorer')
    assert live['EndpointConfigName'] == old_cfg[0]  # still serving, superseded config kept
    assert old_cfg[0] in C.census(ws.emu)['EndpointConfig']
    # the same spec again: refused, with the way out named
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 1 and 'failed 1 time before' in err and '--retry-failed' in err
    # asked to retry (the fault fired once): converges
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes', '--retry-failed')
    assert rc == 0, out + err
    converged(ws)
    exactly(ws, want)


def test_throttling_storm(ws):
    P.copy_examples(ws.m)
    want = wanted(ws)
    ws.emu.set_faults({'throttle': [{'service': 'sagemaker', 'rate': 5, 'burst': 2},
                                    {'service': 'application-autoscaling', 'rate': 5,
                                     'burst': 2},
                                    {'service': 'monitoring', 'rate': 5, 'burst': 2}]})
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes', timeout=300)
    throttled = [c for c in ws.emu.calls() if c['error'] in ('ThrottlingException',
                                                               'Throttling')]
    ws.emu.clear_faults()
    assert rc == 0, out + err
    assert len(throttled) >= 5
    converged(ws)
    exactly(ws, want)


def test_account_guard(ws):
    P.copy_examples(ws.m, 'serverless')
    ws.emu.add_credentials('AKIDOTHERACCOUNT', 'other-secret', '111122223333')
    env = dict(ws.env, AWS_ACCESS_KEY_ID='AKIDOTHERACCOUNT', AWS_SECRET_ACCESS_KEY='other-secret')
    rc, out, err = C.apply(env, ws.m, ws.state, '--yes')
    assert rc == 1 and '111122223333' in err and '123456789012' in err
    assert 'refusing' in err
    assert not [k for k in ws.emu.counts() if not k.startswith('sts.')]


def test_sigterm_stops_cleanly(ws):
    """SIGTERM during a wait: pending actions are skipped, the wait stops, calls in flight
    finish and are journaled; exit 1 with the summary."""
    import signal
    import sqlite3
    import subprocess
    P.copy_examples(ws.m, 'realtime-autoscaling')
    ws.emu.configure(create_delay=30)
    cmd = [H.PLUMB, 'apply', '--yes', '--state', str(ws.state), '-f', ws.m]
    p = subprocess.Popen(cmd, env=ws.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if 'event=apply.polled' in line:
            p.send_signal(signal.SIGTERM)
            break
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1, out + err
    assert 'stopping (signal 15)' in err
    assert 'Apply failed' in out and 'cancelled' in out
    db = sqlite3.connect(str(ws.state))
    open_rows = db.execute("select count(*) from journal where status = 'open'").fetchone()[0]
    db.close()
    assert open_rows == 0


# ------------------------------------------------------------------------- crash safety

def test_sigkill_at_32_points_while_applying_10_stacks(ws):
    """Every fourth round starts from an empty account (state file deleted too); the others
    roll all 10 stacks to a new image (new models and configs, UpdateEndpoint, waits, deletes
    of the superseded). In each round plumb is SIGKILLed at a random event, then restarted:
    the restart must converge, and the emulator must hold exactly what the manifests want."""
    names = C.stacks(ws.m, 10)
    want = wanted(ws)
    assert len(want) == 70  # 7 resources a stack
    rnd = random.Random(20261124)
    kills = 0
    for i in range(32):
        if i % 4 == 0:
            ws.emu.reset()
            ws.emu.configure(create_delay=0.2, update_delay=0.2, delete_delay=0.1)
            if os.path.exists(ws.state):
                os.unlink(ws.state)
            events_in_run = 200
        else:
            C.set_version(ws.m, '1.%d.0' % i)
            events_in_run = 180
        point = rnd.randint(1, events_in_run)
        killed, _ = C.apply_until(ws.env, ws.m, ws.state, point)
        kills += killed
        rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
        assert rc == 0, (i, point, out[-3000:], err[-3000:])
        converged(ws)
        exactly(ws, want)
        c = C.census(ws.emu)
        assert c['Endpoint'] == names and len(c['Model']) == 10
    assert kills >= 30


# ------------------------------------------------------------------------- the state cache

def test_changed_topic_attribute_then_plan_is_clean_from_the_cache(ws):
    """SNS lists carry no modification time: without apply dropping the topic's cached row, the
    plan after a changed attribute would compare with the cached old value and show the change
    again."""
    P.copy_examples(ws.m, 'async-sns')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    converged(ws)
    topics = os.path.join(ws.m, 'async-sns', 'topics.yaml')
    P.edit(topics, 'DisplayName: async-sns inference succeeded',
           'DisplayName: async-sns inference succeeded (v2)')
    P.edit(topics, '    severity: page', '    severity: page\n    team: search')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    assert 'Apply complete' in out, out
    sns = ws.emu.boto3_client('sns')
    arn = 'arn:aws:sns:us-east-1:123456789012:async-sns-success'
    assert sns.get_topic_attributes(TopicArn=arn)['Attributes']['DisplayName'] == \
        'async-sns inference succeeded (v2)'
    ws.emu.clear_calls()
    converged(ws)  # no --refresh: from the list and the cache
    reads = P.per_resource_reads(ws.emu)
    assert reads.get('sns.GetTopicAttributes') == 2, reads  # the two changed topics, afresh
    rc, out, err = P.plan(ws.env, ws.m, ws.state, output='text')
    assert rc == 0 and 'No changes' in out, out + err


def test_steady_state_after_apply_makes_no_per_resource_read(ws):
    """apply drops the rows of what it changed; the next plan describes those once, and the one
    after that reads nothing but the lists."""
    P.copy_examples(ws.m, 'async-sns', 'realtime-autoscaling')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    ws.emu.clear_calls()
    converged(ws)
    first = P.per_resource_reads(ws.emu)
    assert first.get('sagemaker.DescribeEndpoint') == 2, first
    assert not [k for k in first if 'Tags' in k], first  # the emulator's tagging API is current
    ws.emu.clear_calls()
    converged(ws)
    assert P.per_resource_reads(ws.emu) == {}
    calls = ws.emu.counts()
    assert set(k.split('.', 1)[1] for k in calls) <= {
        'ListModels', 'ListEndpointConfigs', 'ListEndpoints', 'DescribeScalableTargets',
        'DescribeScalingPolicies', 'DescribeAlarms', 'ListTopics', 'GetResources',
        'GetCallerIdentity'}, calls


def test_alarm_update_that_meets_a_deleted_alarm_creates_it_owned(ws):
    """PutMetricAlarm creates what is not there. A plan that updates an alarm, carried out
    after the alarm was deleted (a stale plan: the daemon's passes overlap with their
    executors), must not leave it untagged: nobody's, a conflict for every later plan."""
    import apply_helpers as A
    P.copy_examples(ws.m, 'realtime-autoscaling')
    rc, out, err = C.apply(ws.env, ws.m, ws.state, '--yes')
    assert rc == 0, out + err
    P.edit(os.path.join(ws.m, 'realtime-autoscaling', 'autoscaling.yaml'),
           'Invocation5XXErrors sum >= 10', 'Invocation5XXErrors sum >= 20')
    saved = str(ws.tmp / 'plan.json')
    rc, p, err = P.plan(ws.env, ws.m, ws.state, '-o', saved)
    assert rc == 2, err
    assert [(r['address'], r['action']) for r in p['resources'] if r['action'] != 'none'] == \
        [('Alarm/product-ranker-5xx', 'update')]
    cw = ws.emu.boto3_client('cloudwatch')
    cw.delete_alarms(AlarmNames=['product-ranker-5xx'])
    # the executor runs the saved actions as they are (the CLI would refuse a moved state)
    rc, res, _, other = A.run(ws.env, saved, ws.state)
    assert rc == 0, (res, other)
    alarm = cw.describe_alarms(AlarmNames=['product-ranker-5xx'])['MetricAlarms'][0]
    assert alarm['Threshold'] == 20
    tags = {t['Key']: t['Value'] for t in
            cw.list_tags_for_resource(ResourceARN=alarm['AlarmArn'])['Tags']}
    assert tags.get('plumb:id') == 'Alarm/product-ranker-5xx', tags
    assert tags.get('plumb:owner'), tags
    converged(ws)
