"""`plumb drift` end to end: a stack made live by `plumb apply`, then changed out of band with
boto3 as a person would, and the report checked in every format — JSON against
schema/drift.schema.json, JUnit against tests/schema/junit.xsd (xmllint), markdown and text by
eye — with the exit codes, the first-seen times kept in the state file across runs (each run is
a new process: a restart), --cached making no AWS call, orphans, unmanaged endpoints and -o."""
import json
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import aws_helpers as H
from plan_helpers import REPO, Clients, copy_examples, validate_json

XSD = os.path.join(REPO, 'tests', 'schema', 'junit.xsd')
EXAMPLES = ('realtime-autoscaling', 'async-sns')
ALARM = 'product-ranker-5xx'


def drift(w, *args, output='json', manifests=None, env=None, timeout=120):
    """Runs `plumb drift`; returns (exit code, parsed JSON or text, stderr)."""
    cmd = [H.PLUMB, 'drift', '--state', str(w.state), '-f', manifests or w.m]
    if output:
        cmd += ['--output', output]
    p = subprocess.run(cmd + list(args), env=env or w.env, capture_output=True, text=True,
                       timeout=timeout)
    out = p.stdout
    if output == 'json' and p.stdout.strip():
        out = json.loads(p.stdout)
    return p.returncode, out, p.stderr


def apply(w):
    p = subprocess.run([H.PLUMB, 'apply', '--yes', '--state', str(w.state), '-f', w.m],
                       env=w.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]


def converge(w):
    """The examples made live by plumb apply, and one drift run that caches every resource
    (apply drops the cache rows of what it changed, so the next run describes them)."""
    copy_examples(w.m, *EXAMPLES)
    apply(w)
    rc, rep, err = drift(w)
    assert rc == 0, (err, [r for r in rep['resources'] if r['status'] != 'in_sync'])


def by_address(rep):
    out = {}
    for r in rep['resources']:
        key = r['address'] if r['address'] not in out else r['address'] + '@' + r['physical']
        out[key] = r
    return out


def fields(r):
    return {d['path']: d for d in r['drift']}


def xml_valid(text, tmp):
    path = os.path.join(str(tmp), 'report.xml')
    with open(path, 'w') as f:
        f.write(text)
    p = subprocess.run(['xmllint', '--noout', '--schema', XSD, path], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr + text[:3000]
    return ET.fromstring(text.encode())


def junit_cases(root):
    out = {}
    for suite in root.findall('testsuite'):
        for tc in suite.findall('testcase'):
            out[tc.get('name')] = tc
    return out


def change_alarm(c, name, **changes):
    """PutMetricAlarm with the alarm's current settings and some changed, as the console does."""
    a = c.cw.describe_alarms(AlarmNames=[name])['MetricAlarms'][0]
    keep = ('AlarmName', 'AlarmDescription', 'ActionsEnabled', 'OKActions', 'AlarmActions',
            'InsufficientDataActions', 'MetricName', 'Namespace', 'Statistic',
            'ExtendedStatistic', 'Dimensions', 'Period', 'Unit', 'EvaluationPeriods',
            'DatapointsToAlarm', 'Threshold', 'ComparisonOperator', 'TreatMissingData')
    req = {k: a[k] for k in keep if k in a}
    req.update(changes)
    c.cw.put_metric_alarm(**req)


# ------------------------------------------------------------------------- in sync

def test_in_sync_every_format_exits_0(ws, tmp_path):
    converge(ws)
    rc, rep, err = drift(ws)
    assert rc == 0, err
    validate_json('drift.schema.json', rep, tmp_path)
    assert rep['in_sync'] is True and rep['summary']['with_drift'] == 0
    assert rep['account'] == '123456789012' and rep['owner'] == 'ml-platform'
    assert rep['cached'] is False and rep['oldest_drift'] is None
    n = len(rep['resources'])
    assert n == rep['summary']['in_sync'] >= 15
    assert all(r['status'] == 'in_sync' and r['drift'] == [] for r in rep['resources'])
    ep = by_address(rep)['Endpoint/product-ranker']
    assert ep['last_modified'] and ep['last_modified'].endswith('Z')
    rc, text, err = drift(ws, output=None)  # text is the default
    assert rc == 0, err
    assert 'No drift: %d resources match the manifests.' % n in text
    rc, md, _ = drift(ws, output='markdown')
    assert rc == 0 and md.startswith('## plumb drift: no drift')
    rc, xml, _ = drift(ws, output='junit')
    assert rc == 0
    root = xml_valid(xml, tmp_path)
    cases = junit_cases(root)
    assert len(cases) == n and not root.findall('.//failure')
    assert int(root.find('testsuite').get('tests')) == n


# ------------------------------------------------------------------------- drift found

def test_out_of_band_changes_in_every_format(ws, tmp_path):
    converge(ws)
    c = Clients(ws.emu)
    change_alarm(c, ALARM, Threshold=17.0)
    ep_arn = c.sm.describe_endpoint(EndpointName='product-ranker')['EndpointArn']
    c.sm.delete_tags(ResourceArn=ep_arn, TagKeys=['cost-center'])
    topic = 'arn:aws:sns:us-east-1:123456789012:async-sns-success'
    c.sns.set_topic_attributes(TopicArn=topic, AttributeName='DisplayName',
                               AttributeValue='changed | by `hand`')
    c.aas.register_scalable_target(ServiceNamespace='sagemaker',
                                   ResourceId='endpoint/product-ranker/variant/primary',
                                   ScalableDimension='sagemaker:variant:DesiredInstanceCount',
                                   MaxCapacity=3)

    rc, rep, err = drift(ws)
    assert rc == 2, err
    validate_json('drift.schema.json', rep, tmp_path)
    res = by_address(rep)
    al = res['Alarm/' + ALARM]
    assert al['status'] == 'drifted'
    f = fields(al)
    assert f['threshold']['wanted'] == 10 and f['threshold']['live'] == 17
    assert f['threshold']['aws_path'] == 'Threshold'
    assert f['threshold']['first_seen'] and al['first_seen'] == f['threshold']['first_seen']
    assert al['last_modified']
    ep = fields(res['Endpoint/product-ranker'])
    assert ep['tags.cost-center']['wanted'] == '4410' and ep['tags.cost-center']['live'] is None
    tgt = fields(res['ScalableTarget/product-ranker'])
    assert tgt['maxCapacity']['live'] == 3
    # SNS lists carry no modification time: the auto refresh keeps the cached attributes
    assert res['Topic/async-sns-success']['status'] == 'in_sync'
    assert rep['in_sync'] is False and rep['summary']['drifted'] == 3
    assert rep['oldest_drift'] is not None

    rc, rep, err = drift(ws, '--refresh', 'full')
    assert rc == 2, err
    top = by_address(rep)['Topic/async-sns-success']
    assert top['status'] == 'drifted'
    assert fields(top)['attributes.DisplayName'] == {
        'path': 'attributes.DisplayName', 'aws_path': 'Attributes.DisplayName',
        'wanted': 'async-sns inference succeeded', 'live': 'changed | by `hand`',
        'forces_replace': False, 'first_seen': fields(top)['attributes.DisplayName']['first_seen']}

    rc, xml, _ = drift(ws, output='junit')
    assert rc == 2
    root = xml_valid(xml, tmp_path)
    cases = junit_cases(root)
    assert len(cases) == len(rep['resources'])
    failed = {n for n, tc in cases.items() if tc.find('failure') is not None}
    assert failed == {'Alarm/' + ALARM, 'Endpoint/product-ranker',
                      'ScalableTarget/product-ranker', 'Topic/async-sns-success'}
    fail = cases['Alarm/' + ALARM].find('failure')
    assert fail.get('type') == 'drifted'
    assert re.search(r'threshold: wanted 10(\.0)?, live 17\.0 \(first seen ', fail.text)

    rc, md, _ = drift(ws, output='markdown')
    assert rc == 2
    assert md.startswith('## plumb drift: 4 resources out of sync')
    assert re.search(r'\| `Alarm/%s` \| us-east-1 \| drifted \| `threshold` \| `10(\.0)?` \| '
                     r'`17\.0` \| 20\d\d-' % ALARM, md), md
    # the pipe is escaped and the backticks fenced, so the row keeps its 8 cells
    row = next(l for l in md.splitlines() if 'attributes.DisplayName' in l)
    assert '``"changed \\| by `hand`"``' in row
    assert row.replace('\\|', '').count('|') == 9

    rc, text, _ = drift(ws, '--no-color', output='text')
    assert rc == 2
    assert '~ Alarm/%s  drifted' % ALARM in text
    assert re.search(r'threshold: wanted 10(\.0)?, live 17\.0 \(since ', text)
    assert 'Drift: 4 drifted (4 fields), 0 missing' in text


def test_endpoint_moved_to_another_config_and_missing_alarm(ws, tmp_path):
    converge(ws)
    c = Clients(ws.emu)
    d = c.sm.describe_endpoint(EndpointName='product-ranker')
    cfg = c.sm.describe_endpoint_config(EndpointConfigName=d['EndpointConfigName'])
    variants = cfg['ProductionVariants']
    for v in variants:
        v['InstanceType'] = 'ml.c5.2xlarge'
    c.sm.create_endpoint_config(EndpointConfigName='hand-made', ProductionVariants=variants)
    c.sm.update_endpoint(EndpointName='product-ranker', EndpointConfigName='hand-made')
    end = time.monotonic() + 20
    while c.sm.describe_endpoint(EndpointName='product-ranker')['EndpointStatus'] != 'InService':
        assert time.monotonic() < end
        time.sleep(0.1)
    c.cw.delete_alarms(AlarmNames=['product-ranker-latency-high'])
    rc, rep, err = drift(ws)
    assert rc == 2, err
    validate_json('drift.schema.json', rep, tmp_path)
    res = by_address(rep)
    ep = fields(res['Endpoint/product-ranker'])
    assert ep['endpointConfigName']['wanted'] == d['EndpointConfigName']
    assert ep['endpointConfigName']['live'] == 'hand-made'
    missing = res['Alarm/product-ranker-latency-high']
    assert missing['status'] == 'missing' and missing['drift'] == []
    assert missing['last_modified'] is None and missing['first_seen']
    assert rep['summary']['missing'] == 1


# ------------------------------------------------------------------------- history

def test_first_seen_survives_restart_and_resets_when_fixed(ws, tmp_path):
    converge(ws)
    c = Clients(ws.emu)
    change_alarm(c, ALARM, Threshold=17.0)
    rc, r1, err = drift(ws)
    assert rc == 2, err
    t1 = by_address(r1)['Alarm/' + ALARM]['first_seen']
    time.sleep(1.1)
    rc, r2, err = drift(ws)  # a new process: only the state file remembers
    assert rc == 2, err
    assert r2['generated'] > r1['generated']
    assert by_address(r2)['Alarm/' + ALARM]['first_seen'] == t1
    assert fields(by_address(r2)['Alarm/' + ALARM])['threshold']['first_seen'] == t1
    # --cached reads the same history, and makes no AWS call
    ws.emu.clear_calls()
    rc, r3, err = drift(ws, '--cached')
    assert rc == 2, err
    assert sum(ws.emu.counts().values()) == 0, ws.emu.counts()
    assert r3['cached'] is True
    assert by_address(r3)['Alarm/' + ALARM]['first_seen'] == t1
    validate_json('drift.schema.json', r3, tmp_path)
    # fixed: in sync, and the episode is closed
    change_alarm(c, ALARM, Threshold=10.0)
    rc, r4, err = drift(ws)
    assert rc == 0, err
    assert by_address(r4)['Alarm/' + ALARM]['first_seen'] is None
    time.sleep(1.1)
    change_alarm(c, ALARM, Threshold=12.0)
    rc, r5, err = drift(ws)
    assert rc == 2, err
    assert by_address(r5)['Alarm/' + ALARM]['first_seen'] > t1


def test_cached_without_state_is_an_error(ws):
    copy_examples(ws.m, *EXAMPLES)
    rc, out, err = drift(ws, '--cached', output='text')
    assert rc == 1
    assert 'run without --cached' in err


# ------------------------------------------------------------------------- leftovers

def test_orphans_and_unmanaged_endpoints(ws, tmp_path):
    converge(ws)
    shutil.rmtree(os.path.join(ws.m, 'async-sns'))
    c = Clients(ws.emu)
    model = c.sm.list_models()['Models'][0]['ModelName']
    c.sm.create_endpoint_config(EndpointConfigName='stray-cfg', ProductionVariants=[{
        'VariantName': 'v', 'ModelName': model, 'InitialInstanceCount': 1,
        'InstanceType': 'ml.m5.large'}])
    c.sm.create_endpoint(EndpointName='stray-endpoint', EndpointConfigName='stray-cfg')
    rc, rep, err = drift(ws)
    assert rc == 2, err
    validate_json('drift.schema.json', rep, tmp_path)
    res = by_address(rep)
    orphans = {a for a, r in res.items() if r['status'] == 'orphan'}
    assert {'Topic/async-sns-success', 'Topic/async-sns-errors', 'Endpoint/async-sns'} <= orphans
    assert 'no manifest names it' in res['Topic/async-sns-success']['reason']
    assert not any(r['status'] == 'unmanaged' for r in rep['resources'])

    rc, rep, err = drift(ws, '--include-unmanaged')
    assert rc == 2, err
    validate_json('drift.schema.json', rep, tmp_path)
    un = [r for r in rep['resources'] if r['status'] == 'unmanaged']
    assert [r['address'] for r in un] == ['Endpoint/stray-endpoint']
    assert un[0]['last_modified'] and un[0]['first_seen']
    assert rep['include_unmanaged'] is True and rep['summary']['unmanaged'] == 1
    rc, xml, _ = drift(ws, '--include-unmanaged', output='junit')
    cases = junit_cases(xml_valid(xml, tmp_path))
    assert cases['Endpoint/stray-endpoint'].find('failure').get('type') == 'unmanaged'
    assert cases['Topic/async-sns-errors'].find('failure').get('type') == 'orphan'


# ------------------------------------------------------------------------- output and errors

def test_out_file_written_atomically(ws, tmp_path):
    converge(ws)
    change_alarm(Clients(ws.emu), ALARM, Threshold=17.0)
    out = tmp_path / 'out' / 'report.md'
    out.parent.mkdir()
    rc, stdout, err = drift(ws, '-o', str(out), output='markdown')
    assert rc == 2, err
    assert stdout == ''
    assert out.read_text().startswith('## plumb drift: 1 resource out of sync')
    assert os.listdir(out.parent) == ['report.md']
    rc, _, err = drift(ws, '--out=%s' % (tmp_path / 'out' / 'r.json'))
    assert rc == 2
    validate_json('drift.schema.json', json.loads((tmp_path / 'out' / 'r.json').read_text()),
                  tmp_path)


def test_errors_and_usage(ws, tmp_path):
    copy_examples(ws.m, 'async-sns')
    with open(os.path.join(ws.m, 'bad.yaml'), 'w') as f:
        f.write('apiVersion: plumb/v1\nkind: Alarm\nmetadata: {name: x}\nspec: {bogus: 1}\n')
    rc, out, err = drift(ws, output='text')
    assert rc == 1 and 'bogus' in err and out == ''
    os.remove(os.path.join(ws.m, 'bad.yaml'))
    down = dict(ws.env, AWS_ENDPOINT_URL='http://127.0.0.1:9', AWS_MAX_ATTEMPTS='1')
    rc, out, err = drift(ws, output='text', env=down)
    assert rc == 1 and out == '' and 'plumb drift:' in err
    rc, _, err = drift(ws, output='xml')
    assert rc == 64 and 'text, markdown, json or junit' in err
    rc, _, err = drift(ws, '--adopt', output='text')
    assert rc == 64
    rc, _, err = drift(ws, '--cached', '--refresh=full', output='text')
    assert rc == 64
    p = subprocess.run([H.PLUMB, 'drift', '--help'], capture_output=True, text=True)
    assert p.returncode == 0
    for flag in ('-f, --manifests', '--state', '--cached', '--refresh', '--output', 'markdown',
                 'junit', '-o, --out', '--include-unmanaged', 'Exit status: 0 no drift, 2 drift'):
        assert flag in p.stdout, flag


# ------------------------------------------------------------------------- contrib/cron

class Recorder:
    """A loopback HTTP server that records each POST's path, headers and JSON body."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        import threading
        self.posts = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get('Content-Length', '0'))
                outer.posts.append((self.path, dict(self.headers), json.loads(self.rfile.read(n))))
                self.send_response(201)
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'{}')

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_cron_script_posts_markdown_only_on_drift(ws, tmp_path):
    converge(ws)
    script = os.path.join(REPO, 'contrib', 'cron', 'plumb-drift-report')
    rec = Recorder()
    try:
        (tmp_path / 'token').write_text('s3cret-token\n')
        (tmp_path / 'hook').write_text(rec.url + '/hooks/abc\n')
        env = dict(ws.env, PLUMB=H.PLUMB, PLUMB_MANIFESTS=ws.m, PLUMB_STATE=str(ws.state),
                   GITHUB_REPOSITORY='acme/infra', GITHUB_ISSUE='7', GITHUB_API_URL=rec.url,
                   GITHUB_TOKEN_FILE=str(tmp_path / 'token'),
                   DRIFT_WEBHOOK_URL_FILE=str(tmp_path / 'hook'))

        def run(e):
            return subprocess.run(['sh', script], env=e, capture_output=True, text=True,
                                  timeout=60)

        p = run(env)
        assert p.returncode == 0, p.stderr
        assert rec.posts == []  # in sync: silence
        change_alarm(Clients(ws.emu), ALARM, Threshold=17.0)
        p = run(env)
        assert p.returncode == 0, p.stderr
        assert [x[0] for x in rec.posts] == ['/repos/acme/infra/issues/7/comments', '/hooks/abc']
        gh, hook = rec.posts
        assert gh[1]['Authorization'] == 'Bearer s3cret-token'
        assert gh[2]['body'].startswith('## plumb drift: 1 resource out of sync')
        assert '`threshold`' in gh[2]['body']
        assert hook[2] == {'text': gh[2]['body']}
        assert 's3cret' not in p.stdout + p.stderr
        # nowhere to post: exit 2 with the report on stderr; plumb failing: exit 1
        bare = {k: v for k, v in env.items() if not k.startswith(('GITHUB', 'DRIFT'))}
        p = run(bare)
        assert p.returncode == 2 and '## plumb drift' in p.stderr
        p = run(dict(bare, PLUMB_MANIFESTS=str(tmp_path / 'nothing-here')))
        assert p.returncode == 1 and 'plumb drift failed' in p.stderr
        p = run(dict(bare, GITHUB_ISSUE='7'))
        assert p.returncode == 64
    finally:
        rec.close()
