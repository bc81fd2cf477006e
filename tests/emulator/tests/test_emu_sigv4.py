"""SigV4 verification: good, bad, missing, skewed, wrong scope, unknown keys, session tokens."""

import datetime

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import client
from awsemu import accounts, sigv4
from emu_helpers import query, signed, sm_json

STS_V = '2011-06-15'
CW_V = '2010-08-01'
SNS_V = '2010-03-31'


def test_good_signature_json_and_query(emu):
    r = sm_json(emu.url, 'ListEndpoints', {})
    assert r.status == 200, r
    assert r.headers['x-amzn-requestid']
    assert r.json == {'Endpoints': []}
    r = query(emu.url, 'sts', 'GetCallerIdentity', STS_V)
    assert r.status == 200, r
    assert '<Account>123456789012</Account>' in r.text


def test_worked_example_from_reference():
    """Reference §3 example A, verified at the example's own time."""
    acc = accounts.Accounts()
    acc._temporary['AKIDEXAMPLE'] = accounts.Principal(
        'AKIDEXAMPLE', client.SECRET_KEY, '123456789012', 'arn', 'uid',
        session_token='EXAMPLESESSIONTOKEN', expiration=4e9)
    headers = [('Content-Type', 'application/x-amz-json-1.1'),
               ('Host', 'api.sagemaker.us-east-1.amazonaws.com'),
               ('X-Amz-Date', '20240102T030405Z'),
               ('X-Amz-Security-Token', 'EXAMPLESESSIONTOKEN'),
               ('X-Amz-Target', 'SageMaker.DescribeEndpoint'),
               ('Authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/'
                'sagemaker/aws4_request, SignedHeaders=content-type;host;x-amz-date;'
                'x-amz-security-token;x-amz-target, Signature=c573e25c626df7a437d632a7f6510a74c'
                '9c8a490e1db5098e59749f063bf48bf')]
    lower = {k.lower(): v for k, v in headers}
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc).timestamp()
    ident = sigv4.verify('POST', '/', headers, lower, b'{"EndpointName":"my-endpoint"}',
                         'sagemaker', acc, when, when)
    assert ident.region == 'us-east-1' and ident.principal.account == '123456789012'
    with pytest.raises(Exception) as e:
        sigv4.verify('POST', '/', headers, lower, b'{"EndpointName":"other"}', 'sagemaker', acc,
                     when, when)
    assert e.value.code == 'InvalidSignatureException'


def test_bad_signature(emu):
    bad = Credentials(client.ACCESS_KEY, 'wrong-secret')
    r = sm_json(emu.url, 'ListEndpoints', {}, creds=bad)
    assert (r.status, r.json['__type']) == (400, 'InvalidSignatureException')
    assert r.headers['x-amzn-errortype'] == 'InvalidSignatureException'
    assert 'signature we calculated does not match' in r.json['message']
    r = query(emu.url, 'sts', 'GetCallerIdentity', STS_V, creds=bad)
    assert r.status == 403 and '<Code>SignatureDoesNotMatch</Code>' in r.text
    assert '<Type>Sender</Type>' in r.text and '<RequestId>' in r.text


def test_tampered_body_is_rejected(emu):
    r = sm_json(emu.url, 'DescribeEndpoint', {'EndpointName': 'a'},
                tamper=lambda b: b.replace(b'"a"', b'"b"'))
    assert (r.status, r.json['__type']) == (400, 'InvalidSignatureException')


def test_missing_signature(emu):
    r = sm_json(emu.url, 'ListEndpoints', {}, unsigned=True)
    assert (r.status, r.json['__type']) == (400, 'MissingAuthenticationTokenException')
    r = query(emu.url, 'monitoring', 'DescribeAlarms', CW_V, unsigned=True)
    assert r.status == 403 and '<Code>MissingAuthenticationToken</Code>' in r.text


def test_unknown_access_key(emu):
    stranger = Credentials('AKIDUNKNOWN', client.SECRET_KEY)
    r = sm_json(emu.url, 'ListEndpoints', {}, creds=stranger)
    assert (r.status, r.json['__type']) == (400, 'UnrecognizedClientException')
    r = query(emu.url, 'sns', 'ListTopics', SNS_V, creds=stranger)
    assert r.status == 403 and '<Code>InvalidClientTokenId</Code>' in r.text


@pytest.mark.parametrize('minutes', [-6, 6])
def test_skewed_date(emu, minutes):
    when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
    r = sm_json(emu.url, 'ListEndpoints', {}, when=when)
    assert (r.status, r.json['__type']) == (400, 'InvalidSignatureException')
    assert r.json['message'].startswith('Signature expired' if minutes < 0
                                        else 'Signature not yet current')
    r = query(emu.url, 'monitoring', 'DescribeAlarms', CW_V, when=when)
    assert r.status == 400 and '<Code>RequestExpired</Code>' in r.text
    r = query(emu.url, 'sts', 'GetCallerIdentity', STS_V, when=when)
    assert r.status == 403 and '<Code>SignatureDoesNotMatch</Code>' in r.text


def test_small_skew_is_accepted(emu):
    when = datetime.datetime.utcnow() - datetime.timedelta(minutes=4)
    assert sm_json(emu.url, 'ListEndpoints', {}, when=when).status == 200


def test_wrong_scope_service_region(emu):
    r = sm_json(emu.url, 'ListEndpoints', {}, scope_service='api.sagemaker')
    assert (r.status, r.json['__type']) == (400, 'InvalidSignatureException')
    assert "scoped to correct service: 'sagemaker'" in r.json['message']
    r = query(emu.url, 'sns', 'ListTopics', SNS_V, scope_service='sqs')
    assert r.status == 403 and 'correct service' in r.text
    r = sm_json(emu.url, 'ListEndpoints', {}, region='moon')
    assert r.status == 400 and 'valid region' in r.json['message']


def test_scope_date_mismatch(emu):
    good = sm_json(emu.url, 'ListEndpoints', {})
    assert good.status == 200
    import emu_helpers as helpers
    from botocore.auth import SigV4Auth

    class OtherDate(SigV4Auth):
        def credential_scope(self, request):
            return '19990101/us-east-1/sagemaker/aws4_request'

        def scope(self, request):
            return client.ACCESS_KEY + '/' + self.credential_scope(request)
    orig = helpers.SigV4Auth
    helpers.SigV4Auth = OtherDate
    try:
        r = sm_json(emu.url, 'ListEndpoints', {})
    finally:
        helpers.SigV4Auth = orig
    assert r.status == 400 and 'Date in Credential scope does not match' in r.json['message']


def test_regions_are_separate(emu, aws):
    aws('sns', region='us-east-1').create_topic(Name='t')
    assert aws('sns', region='eu-west-1').list_topics()['Topics'] == []
    assert len(aws('sns', region='us-east-1').list_topics()['Topics']) == 1


def test_session_tokens(emu, aws):
    creds = aws('sts').assume_role(RoleArn='arn:aws:iam::210987654321:role/deployer',
                                   RoleSessionName='plumb')['Credentials']
    assert creds['AccessKeyId'].startswith('ASIA')
    temp = aws('sts', aws_access_key_id=creds['AccessKeyId'],
               aws_secret_access_key=creds['SecretAccessKey'],
               aws_session_token=creds['SessionToken'])
    ident = temp.get_caller_identity()
    assert ident['Account'] == '210987654321'
    assert ident['Arn'] == 'arn:aws:sts::210987654321:assumed-role/deployer/plumb'
    # resources made with the temporary credentials live in the role's account
    sm_temp = aws('sagemaker', aws_access_key_id=creds['AccessKeyId'],
                  aws_secret_access_key=creds['SecretAccessKey'],
                  aws_session_token=creds['SessionToken'])
    arn = sm_temp.create_model(ModelName='x', PrimaryContainer={'Image': 'i'})['ModelArn']
    assert ':210987654321:model/x' in arn
    assert aws('sagemaker').list_models()['Models'] == []

    no_token = Credentials(creds['AccessKeyId'], creds['SecretAccessKey'])
    r = sm_json(emu.url, 'ListEndpoints', {}, creds=no_token)
    assert (r.status, r.json['__type']) == (400, 'UnrecognizedClientException')
    wrong = Credentials(creds['AccessKeyId'], creds['SecretAccessKey'], 'not-the-token')
    r = query(emu.url, 'sts', 'GetCallerIdentity', STS_V, creds=wrong)
    assert r.status == 403 and 'InvalidClientTokenId' in r.text
    static_with_token = Credentials(client.ACCESS_KEY, client.SECRET_KEY, 'token')
    assert sm_json(emu.url, 'ListEndpoints', {}, creds=static_with_token).status == 400

    emu.advance(3601)
    good = Credentials(creds['AccessKeyId'], creds['SecretAccessKey'], creds['SessionToken'])
    r = sm_json(emu.url, 'ListEndpoints', {}, creds=good)
    assert (r.status, r.json['__type']) == (400, 'ExpiredTokenException')
    r = query(emu.url, 'sts', 'GetCallerIdentity', STS_V, creds=good)
    assert r.status == 403 and '<Code>ExpiredToken</Code>' in r.text


def test_incomplete_authorization_header(emu):
    r = sm_json(emu.url, 'ListEndpoints', {}, unsigned=True,
                extra_headers={'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x'})
    assert (r.status, r.json['__type']) == (400, 'IncompleteSignatureException')


def test_boto3_error_parsing(emu, sm):
    with pytest.raises(ClientError) as e:
        sm.describe_endpoint(EndpointName='nope')
    assert e.value.response['Error']['Code'] == 'ValidationException'
