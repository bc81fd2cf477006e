"""Test helpers: raw signed requests (any time, scope, credentials) and SageMaker set-ups."""

import datetime
import http.client
import json
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import client

CREDS = Credentials(client.ACCESS_KEY, client.SECRET_KEY)
JSON11 = 'application/x-amz-json-1.1'
FORM = 'application/x-www-form-urlencoded; charset=utf-8'


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode()

    def __repr__(self):
        return '<Reply %d %s>' % (self.status, self.body[:300])


def signed(url, body, service, target=None, content_type=None, creds=CREDS, region='us-east-1',
           when=None, scope_service=None, extra_headers=None, tamper=None, unsigned=False):
    """Send one POST / with a SigV4 signature computed at ``when`` (default now)."""
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body).encode() if target is None else json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    host = url[len('http://'):]
    headers = {'Host': host,
               'Content-Type': content_type or (JSON11 if target else FORM)}
    if target:
        headers['X-Amz-Target'] = target
    headers.update(extra_headers or {})
    req = AWSRequest(method='POST', url=url + '/', data=body, headers=headers)
    if not unsigned:
        when = when or datetime.datetime.utcnow()
        auth = SigV4Auth(creds, scope_service or service, region)
        req.context['timestamp'] = when.strftime('%Y%m%dT%H%M%SZ')
        auth._modify_request_before_signing(req)
        canonical = auth.canonical_request(req)
        sig = auth.signature(auth.string_to_sign(req, canonical), req)
        auth._inject_signature_to_request(req, sig)
    if tamper:
        body = tamper(body)
    conn = http.client.HTTPConnection(host, timeout=10)
    try:
        conn.request('POST', '/', body=body, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def sm_json(url, op, body, **kw):
    return signed(url, body, 'sagemaker', target='SageMaker.' + op, **kw)


def query(url, service, action, version, params=None, **kw):
    body = dict(params or {})
    body = [('Action', action), ('Version', version)] + list(body.items())
    return signed(url, urllib.parse.urlencode(body).encode(), service, **kw)


def model(sm, name='m1', image='123456789012.dkr.ecr.us-east-1.amazonaws.com/img:1'):
    return sm.create_model(ModelName=name, PrimaryContainer={'Image': image},
                           ExecutionRoleArn='arn:aws:iam::123456789012:role/sm')


def config(sm, name='c1', model_name='m1', instance_type='ml.m5.large', count=1, variants=None,
           **extra):
    variants = variants or [{'VariantName': 'AllTraffic', 'ModelName': model_name,
                             'InstanceType': instance_type, 'InitialInstanceCount': count}]
    return sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants, **extra)


def stack(sm, emu, endpoint='ep1', cfg='c1', model_name='m1', in_service=True, **cfg_kw):
    """Model + config + endpoint, optionally advanced to InService."""
    if model_name.lower() not in [m['ModelName'].lower() for m in
                                  sm.list_models(MaxResults=100)['Models']]:
        model(sm, model_name)
    config(sm, cfg, model_name, **cfg_kw)
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=cfg)
    if in_service:
        settle(emu)
        assert sm.describe_endpoint(EndpointName=endpoint)['EndpointStatus'] == 'InService'


def settle(emu, seconds=31):
    """Move the emulator clock past the fixture's lifecycle delays."""
    emu.advance(seconds)


def error_of(excinfo):
    err = excinfo.value.response['Error']
    return err['Code'], err.get('Message', ''), excinfo.value.response['ResponseMetadata']['HTTPStatusCode']
