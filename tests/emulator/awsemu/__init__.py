"""plumb's local AWS emulator.

A loopback-only HTTP server that speaks the wire protocols of the AWS services plumb uses
(SageMaker, Application Auto Scaling, CloudWatch, SNS, STS, Resource Groups Tagging API), checks
every request the way AWS does (SigV4 signature, input shape of the real service model) and keeps
per-account, per-region resource state with AWS-like lifecycles. Faults (latency, throttling, 5xx,
dropped connections, failing deployments) and a call log are driven through ``/_emulator/``.

Module map (one concern each):

- ``models``     botocore service models (AWS_DATA_PATH) and the per-service protocol facts
- ``errors``     the ``AwsError`` exception and per-service error-code conventions
- ``sigv4``      SigV4 verification with botocore's canonicaliser
- ``accounts``   access keys: static credentials and STS-issued temporary credentials
- ``shapes``     compiled, cached shape specs and Java-regex translation
- ``validate``   input validation against a model shape (required, types, lengths, patterns, enums, ranges)
- ``wire``       JSON / Query request decoding and JSON / XML reply encoding guided by the model
- ``paging``     opaque pagination tokens
- ``clock``      the emulator clock (speed factor, advance)
- ``faults``     latency, throttling token buckets, 5xx, dropped connections, deployment failures
- ``calllog``    the record of every AWS request served
- ``state``      per (account, region) stores and the global lock
- ``services/``  one module per service's behaviour
- ``control``    the ``/_emulator/`` control API
- ``server``     HTTP server, request pipeline and routing
"""
