// AWS SDK for JavaScript v3 against the emulator (SageMaker, SNS, STS over their usual protocols;
// CloudWatch over AWS JSON 1.0 with awsQueryCompatible, which is what this SDK speaks).
// Clients are pointed at the emulator through AWS_ENDPOINT_URL, as plumb's users would do.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

import { SageMakerClient, CreateModelCommand, CreateEndpointConfigCommand, CreateEndpointCommand,
  DescribeEndpointCommand, ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { SNSClient, CreateTopicCommand, ListTopicsCommand, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { CloudWatchClient, PutMetricAlarmCommand, DescribeAlarmsCommand,
  ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';

const here = path.dirname(fileURLToPath(import.meta.url));
const runScript = path.resolve(here, '..', '..', 'run');
let proc;
let url;

async function control(method, route, body) {
  const res = await fetch(url + '/_emulator' + route, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

before(async () => {
  proc = spawn(runScript, ['--port', '0', '--create-delay', '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: proc.stdout });
  url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('emulator did not start')), 20000);
    rl.once('line', (line) => { clearTimeout(timer); resolve(line.trim()); });
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
});

after(async () => {
  if (proc) {
    const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});

beforeEach(async () => { await control('POST', '/reset'); });

test('STS identity and assumed role', async () => {
  const sts = new STSClient({});
  const id = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Account, '123456789012');
  const role = await sts.send(new AssumeRoleCommand({
    RoleArn: 'arn:aws:iam::210987654321:role/deployer', RoleSessionName: 'js' }));
  assert.match(role.Credentials.AccessKeyId, /^ASIA/);
  assert.ok(role.Credentials.Expiration instanceof Date);
  const temp = new STSClient({ credentials: {
    accessKeyId: role.Credentials.AccessKeyId, secretAccessKey: role.Credentials.SecretAccessKey,
    sessionToken: role.Credentials.SessionToken } });
  const who = await temp.send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, 'arn:aws:sts::210987654321:assumed-role/deployer/js');
});

test('SageMaker endpoint lifecycle and errors', async () => {
  const sm = new SageMakerClient({});
  await sm.send(new CreateModelCommand({ ModelName: 'm1', PrimaryContainer: { Image: 'img:1' } }));
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c1', ProductionVariants: [{
    VariantName: 'AllTraffic', ModelName: 'm1', InstanceType: 'ml.m5.large', InitialInstanceCount: 2 }] }));
  const { EndpointArn } = await sm.send(new CreateEndpointCommand({ EndpointName: 'Ep1', EndpointConfigName: 'c1' }));
  assert.equal(EndpointArn, 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep1');
  let d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'ep1' }));
  assert.equal(d.EndpointStatus, 'Creating');
  assert.ok(d.CreationTime instanceof Date);
  await control('POST', '/clock', { advance: 31 });
  d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'ep1' }));
  assert.equal(d.EndpointStatus, 'InService');
  assert.equal(d.ProductionVariants[0].CurrentInstanceCount, 2);
  const list = await sm.send(new ListEndpointsCommand({}));
  assert.equal(list.Endpoints.length, 1);
  await assert.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: 'nope' })), (err) => {
    assert.equal(err.name, 'ValidationException');
    assert.match(err.message, /^Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint\/nope"\.$/);
    assert.equal(err.$metadata.httpStatusCode, 400);
    return true;
  });
  await assert.rejects(sm.send(new CreateModelCommand({ ModelName: 'bad_name' })),
    (err) => err.name === 'ValidationException' && /regular expression pattern/.test(err.message));
});

test('SNS topics', async () => {
  const sns = new SNSClient({});
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 't1', Tags: [{ Key: 'a', Value: 'b' }] }));
  assert.equal(TopicArn, 'arn:aws:sns:us-east-1:123456789012:t1');
  assert.deepEqual((await sns.send(new ListTopicsCommand({}))).Topics, [{ TopicArn }]);
  await assert.rejects(sns.send(new GetTopicAttributesCommand({ TopicArn: TopicArn + 'x' })),
    (err) => err.name === 'NotFoundException' || err.name === 'NotFound');
});

test('CloudWatch over JSON 1.0 (awsQueryCompatible)', async () => {
  const cw = new CloudWatchClient({});
  await cw.send(new PutMetricAlarmCommand({ AlarmName: 'a1', MetricName: 'm', Namespace: 'AWS/SageMaker',
    Statistic: 'Average', Period: 60, EvaluationPeriods: 2, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold',
    Dimensions: [{ Name: 'EndpointName', Value: 'ep1' }], Tags: [{ Key: 'owner', Value: 'plumb' }] }));
  const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['a1'] }));
  assert.equal(out.MetricAlarms.length, 1);
  assert.equal(out.MetricAlarms[0].StateValue, 'INSUFFICIENT_DATA');
  assert.ok(out.MetricAlarms[0].StateUpdatedTimestamp instanceof Date);
  const tags = await cw.send(new ListTagsForResourceCommand({ ResourceARN: out.MetricAlarms[0].AlarmArn }));
  assert.deepEqual(tags.Tags, [{ Key: 'owner', Value: 'plumb' }]);
  await assert.rejects(cw.send(new ListTagsForResourceCommand({
    ResourceARN: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:nope' })),
    (err) => err.name === 'ResourceNotFoundException' && err.$metadata.httpStatusCode === 404);
  const counts = (await control('GET', '/calls/counts?service=cloudwatch')).counts;
  assert.deepEqual(counts, { 'monitoring.DescribeAlarms': 1, 'monitoring.ListTagsForResource': 2,
    'monitoring.PutMetricAlarm': 1 });
});

test('bad signature, throttling', async () => {
  const bad = new SageMakerClient({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wrong' } });
  await assert.rejects(bad.send(new ListEndpointsCommand({})), (err) => err.name === 'InvalidSignatureException');
  await control('POST', '/faults', { throttle: [{ service: 'sagemaker', rate: 0.001, burst: 1 }] });
  const sm = new SageMakerClient({ maxAttempts: 1 });
  await sm.send(new ListEndpointsCommand({}));
  await assert.rejects(sm.send(new ListEndpointsCommand({})), (err) => err.name === 'ThrottlingException');
});
