#!/usr/bin/python3
"""bench/gen.py — write N asynchronous endpoint stacks as plumb manifests.

Owns the benchmark's manifest set: one Defaults document at the root and one file per stack,
stacks/sNNNN.yaml, each with 6 documents that expand (plumb render) to 9 AWS resources:

  Model, EndpointConfig (async, errors notified on the stack's Topic), Endpoint,
  ScalableTarget with scaleToZero (-> a target-tracking policy, a step policy and the
  <target>-scale-from-zero Alarm that fires it), one error Alarm (Invocation5XXErrors, actions
  to the Topic) and the Topic.

Usage: bench/gen.py --n 100 --out DIR [--owner bench] [--prefix bench-]
The output is deterministic for given arguments. `bin/plumb validate -f DIR` must accept it.
"""

import argparse
import os
import shutil
import sys

ACCOUNT = '123456789012'
KINDS_PER_STACK = {'Model': 1, 'EndpointConfig': 1, 'Endpoint': 1, 'ScalableTarget': 1,
                   'ScalingPolicy': 2, 'Alarm': 2, 'Topic': 1}
RESOURCES_PER_STACK = sum(KINDS_PER_STACK.values())

DEFAULTS = """\
# Benchmark stacks (bench/gen.py). Everything here is owned by `{owner}`.
apiVersion: plumb/v1
kind: Defaults
metadata:
  name: bench
spec:
  region: us-east-1
  accountId: "{account}"
  owner: {owner}
  namePrefix: {prefix}
  prune: false
  tags:
    team: bench
    cost-center: "4410"
"""

STACK = """\
# Stack {i} of {n}: an async endpoint that scales to zero, its error alarm and topic.
apiVersion: plumb/v1
kind: Topic
metadata:
  name: {s}-errors
spec:
  attributes:
    DisplayName: {s} inference failed
---
apiVersion: plumb/v1
kind: Model
metadata:
  name: {s}
spec:
  executionRoleArn: arn:aws:iam::{account}:role/bench-sagemaker-execution
  primaryContainer:
    image: {account}.dkr.ecr.us-east-1.amazonaws.com/bench/scorer:1.{v}.0
    modelDataUrl: s3://bench-{account}/models/{s}/model.tar.gz
    environment:
      SAGEMAKER_PROGRAM: inference.py
---
apiVersion: plumb/v1
kind: EndpointConfig
metadata:
  name: {s}
spec:
  productionVariants:
    - variantName: AllTraffic
      modelRef: {s}
      instanceType: ml.g4dn.xlarge
      initialInstanceCount: 1
  asyncInferenceConfig:
    clientConfig:
      maxConcurrentInvocationsPerInstance: 4
    outputConfig:
      s3OutputPath: s3://bench-{account}/{s}/output/
      s3FailurePath: s3://bench-{account}/{s}/failures/
      notificationConfig:
        errorTopicRef: {s}-errors
---
apiVersion: plumb/v1
kind: Endpoint
metadata:
  name: {s}
spec:
  endpointConfigRef: {s}
---
apiVersion: plumb/v1
kind: ScalableTarget
metadata:
  name: {s}
spec:
  endpointRef: {s}
  variantName: AllTraffic
  maxCapacity: 2
  scaleToZero:
    backlogPerInstance: 5
---
apiVersion: plumb/v1
kind: Alarm
metadata:
  name: {s}-5xx
spec:
  alarmDescription: {s} returns 5XX errors
  endpointRef: {s}
  variantName: AllTraffic
  expression: "Invocation5XXErrors sum >= 10"
  period: 5m
  evaluationPeriods: 1
  treatMissingData: notBreaching
  alarmActions:
    - topicRef: {s}-errors
"""


def stack_name(i):
    return 's%04d' % i


def physical(prefix, i):
    """Physical names of stack i's resources that do not carry a hash suffix."""
    s = stack_name(i)
    return {'endpoint': prefix + s, 'target': prefix + s, 'topic': prefix + s + '-errors',
            'alarm': prefix + s + '-5xx',
            'sfz_alarm': prefix + s + '-scale-from-zero'}


def generate(n, out, owner='bench', prefix='bench-'):
    if os.path.isdir(os.path.join(out, 'stacks')):
        shutil.rmtree(os.path.join(out, 'stacks'))
    os.makedirs(os.path.join(out, 'stacks'), exist_ok=True)
    with open(os.path.join(out, 'defaults.yaml'), 'w') as f:
        f.write(DEFAULTS.format(owner=owner, account=ACCOUNT, prefix=prefix))
    for i in range(1, n + 1):
        with open(os.path.join(out, 'stacks', stack_name(i) + '.yaml'), 'w') as f:
            f.write(STACK.format(i=i, n=n, s=stack_name(i), v=i % 7, account=ACCOUNT))
    return n * RESOURCES_PER_STACK


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, required=True, help='number of stacks')
    ap.add_argument('--out', required=True, help='output directory (stacks/ is replaced)')
    ap.add_argument('--owner', default='bench')
    ap.add_argument('--prefix', default='bench-')
    a = ap.parse_args(argv)
    if a.n < 1 or a.n > 9999:
        ap.error('--n must be within 1..9999')
    total = generate(a.n, a.out, a.owner, a.prefix)
    print('%d stacks, %d resources -> %s' % (a.n, total, a.out))


if __name__ == '__main__':
    sys.exit(main())
