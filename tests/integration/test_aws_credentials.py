"""Every credential provider in the chain yields a signed call the emulator accepts, seen through
`plumb whoami`: env, shared credentials file profile, assume-role profile, web identity (env and
profile form), container full URI on loopback, IMDSv2 (and its v1 fallback) on loopback.
Temporary credentials are refreshed ahead of their expiry without a failed or waiting call, and
refetched when AWS answers ExpiredToken anyway;
SSO and credential_process profiles are refused by name."""
import base64
import json
import threading
import time

import pytest

from aws_helpers import FakeServer, clean_env, emulator, tool_call, whoami

ROLE = 'arn:aws:iam::123456789012:role/plumb-deployer'
KEY2, SECRET2 = 'AKIDCONTAINER0001', 'containersecretcontainersecret0000000001'


@pytest.fixture(scope='module')
def emu():
    e = emulator.start()
    e.add_credentials(KEY2, SECRET2, '123456789012')
    yield e
    e.stop()


def jwt(claims):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')
    return '%s.%s.sig' % (enc({'alg': 'RS256'}), enc(claims))


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def test_env(emu, tmp_path):
    rc, out, err = whoami(clean_env(emu, tmp_path, AWS_SESSION_TOKEN=None))
    assert rc == 0, err
    assert out['provider'] == 'env'


def test_shared_credentials_profile(emu, tmp_path):
    (tmp_path / 'credentials').write_text(
        '# comment\n[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n\n'
        '[dev]\naws_access_key_id = %s\n  aws_secret_access_key=%s  \n'
        % (emulator.ACCESS_KEY, emulator.SECRET_KEY))
    env = clean_env(emu, tmp_path, creds=False, AWS_PROFILE='dev')
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['provider'] == 'profile' and out['profile'] == 'dev'
    assert out['account'] == '123456789012'


def test_profile_region_and_missing_profile(emu, tmp_path):
    (tmp_path / 'config').write_text('[profile dev]\nregion = eu-west-1\naws_access_key_id = %s\n'
                                     'aws_secret_access_key = %s\n'
                                     % (emulator.ACCESS_KEY, emulator.SECRET_KEY))
    env = clean_env(emu, tmp_path, creds=False, AWS_PROFILE='dev', AWS_REGION=None)
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['region'] == 'eu-west-1'
    env['AWS_PROFILE'] = 'nope'
    rc, _, err = whoami(env)
    assert rc == 1 and 'profile nope not found' in err


def test_assume_role_profile(emu, tmp_path):
    (tmp_path / 'credentials').write_text('[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n'
                                          % (emulator.ACCESS_KEY, emulator.SECRET_KEY))
    (tmp_path / 'config').write_text('[profile deploy]\nrole_arn = %s\nsource_profile = base\n'
                                     'role_session_name = plumb-it\n' % ROLE)
    env = clean_env(emu, tmp_path, creds=False, AWS_PROFILE='deploy')
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['provider'] == 'assume-role'
    assert 'assumed-role/plumb-deployer/plumb-it' in out['arn']
    assert out['provider_detail'] == ROLE
    assert emu.counts(service='sts', operation='AssumeRole')


def test_web_identity_env(emu, tmp_path):
    tok = tmp_path / 'token'
    tok.write_text(jwt({'sub': 'system:serviceaccount:ml:plumb', 'exp': time.time() + 3600}))
    env = clean_env(emu, tmp_path, creds=False, AWS_WEB_IDENTITY_TOKEN_FILE=str(tok),
                    AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME='irsa')
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['provider'] == 'web-identity'
    assert 'assumed-role/plumb-deployer/irsa' in out['arn']


def test_web_identity_profile_and_expired_token(emu, tmp_path):
    tok = tmp_path / 'token'
    tok.write_text(jwt({'sub': 'x', 'exp': time.time() + 3600}))
    (tmp_path / 'config').write_text('[default]\nrole_arn = %s\nweb_identity_token_file = %s\n'
                                     % (ROLE, tok))
    env = clean_env(emu, tmp_path, creds=False)
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['provider'] == 'web-identity'
    tok.write_text(jwt({'sub': 'x', 'exp': time.time() - 10}))
    rc, _, err = whoami(env)
    assert rc == 1 and 'ExpiredTokenException' in err


def container_handler(token):
    def handle(method, path, headers):
        if headers.get('Authorization') != token:
            return 401, '{"message":"bad token"}'
        return 200, json.dumps({'AccessKeyId': KEY2, 'SecretAccessKey': SECRET2,
                                'Expiration': iso(time.time() + 3600), 'RoleArn': ROLE})
    return handle


def test_container_full_uri(emu, tmp_path):
    srv = FakeServer(container_handler('tok-123'))
    try:
        (tmp_path / 'auth').write_text('tok-123\n')
        env = clean_env(emu, tmp_path, creds=False,
                        AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + '/v1/credentials',
                        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tmp_path / 'auth'))
        rc, out, err = whoami(env)
        assert rc == 0, err
        assert out['provider'] == 'container'
        assert srv.requests[0][1] == '/v1/credentials'
        # token from the environment; CR/LF in it is refused before anything is sent
        del env['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']
        env['AWS_CONTAINER_AUTHORIZATION_TOKEN'] = 'tok-123'
        rc, out, err = whoami(env)
        assert rc == 0, err
        n = len(srv.requests)
        env['AWS_CONTAINER_AUTHORIZATION_TOKEN'] = 'tok-123\r\nX-Evil: 1'
        rc, _, err = whoami(env)
        assert rc == 1 and 'CR or LF' in err
        assert len(srv.requests) == n
    finally:
        srv.close()


def test_container_full_uri_must_be_safe(emu, tmp_path):
    env = clean_env(emu, tmp_path, creds=False,
                    AWS_CONTAINER_CREDENTIALS_FULL_URI='http://10.0.0.5/creds')
    rc, _, err = whoami(env)
    assert rc == 1 and 'loopback' in err


def imds_handler(v2=True):
    def handle(method, path, headers):
        if path == '/latest/api/token':
            if method != 'PUT' or not v2:
                return 403, ''
            assert headers.get('x-aws-ec2-metadata-token-ttl-seconds') == '21600'
            return 200, 'imds-token-1'
        if v2 and headers.get('x-aws-ec2-metadata-token') != 'imds-token-1':
            return 401, ''
        if path == '/latest/meta-data/iam/security-credentials/':
            return 200, 'plumb-node-role'
        if path == '/latest/meta-data/iam/security-credentials/plumb-node-role':
            return 200, json.dumps({'Code': 'Success', 'Type': 'AWS-HMAC',
                                    'AccessKeyId': KEY2, 'SecretAccessKey': SECRET2,
                                    'Token': '', 'Expiration': iso(time.time() + 6 * 3600)})
        return 404, ''
    return handle


@pytest.mark.parametrize('v2', [True, False])
def test_imds(emu, tmp_path, v2):
    srv = FakeServer(imds_handler(v2))
    try:
        env = clean_env(emu, tmp_path, creds=False, AWS_EC2_METADATA_DISABLED=None,
                        AWS_EC2_METADATA_SERVICE_ENDPOINT=srv.url)
        rc, out, err = whoami(env)
        assert rc == 0, err
        assert out['provider'] == 'imds'
        assert 'plumb-node-role' in out['provider_detail']
        methods = [(m, p) for m, p, _ in srv.requests]
        assert methods[0] == ('PUT', '/latest/api/token')
        if not v2:
            assert all('x-aws-ec2-metadata-token' not in {k.lower() for k in h}
                       for m, p, h in srv.requests[1:])
            env['AWS_EC2_METADATA_V1_DISABLED'] = 'true'
            rc, _, err = whoami(env)
            assert rc == 1 and 'V1_DISABLED' in err
    finally:
        srv.close()


def test_no_credentials_anywhere(emu, tmp_path):
    rc, _, err = whoami(clean_env(emu, tmp_path, creds=False))
    assert rc == 1 and 'no AWS credentials' in err


def iso_ms(t):
    """ISO-8601 with milliseconds, rounded down (never later than t)."""
    ms = int(t * 1000)
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms // 1000)) + '.%03dZ' % (ms % 1000)


def test_temporary_credentials_refreshed_ahead_of_expiry(tmp_path):
    """A container endpoint hands out STS credentials that live 900 emulator seconds — 9 s of
    wall time on an emulator clock running 100x, so the emulator itself answers ExpiredToken to
    any call signed with them after that. The endpoint takes 1 s to answer. 180 calls, one every
    100 ms (two lifetimes), must all succeed; none may wait for a fetch (the slowest call stays
    well under the endpoint's 1 s), and the endpoint must be asked again before each expiry."""
    speed = 100
    e = emulator.start(extra_args=['--speed', str(speed)])
    sts = e.boto3_client('sts')
    issued = []

    def handle(method, path, headers):
        t0 = time.time()
        emu_now = e.clock()['now']
        c = sts.assume_role(RoleArn=ROLE, RoleSessionName='refresh', DurationSeconds=900)
        c = c['Credentials']
        # the emulator's expiry in wall time; emu_now was read after t0, so this is not late
        expires = t0 + (c['Expiration'].timestamp() - emu_now) / speed
        issued.append(expires - time.time())
        time.sleep(1.0)
        return 200, json.dumps({'AccessKeyId': c['AccessKeyId'],
                                'SecretAccessKey': c['SecretAccessKey'],
                                'Token': c['SessionToken'], 'Expiration': iso_ms(expires),
                                'RoleArn': ROLE})

    srv = FakeServer(handle)
    try:
        env = clean_env(e, tmp_path, creds=False,
                        AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + '/v1/credentials')
        e.clear_calls()
        rc, out, err = tool_call(env, 'GetCallerIdentity', {}, '--count', 180,
                                 '--interval', 100)
        out.pop('last_reply', None) if rc else None
        assert rc == 0, (out, err)
        assert out['ok'] == 180 and out['errors'] == {}
        assert 'assumed-role/plumb-deployer/refresh' in out['last_reply']['Arn']
        # the first fetch plus at least one refresh per lifetime
        assert out['cred_fetches'] >= 3, out
        # a background refresh may be on its way to the server when the run ends
        assert len(srv.requests) == len(issued)
        assert out['cred_fetches'] - len(issued) in (0, 1), (out, issued)
        assert all(8 < left < 9.5 for left in issued), issued
        assert e.counts(error='ExpiredToken') == {}
        assert e.counts(service='sts', operation='GetCallerIdentity') == \
            {'sts.GetCallerIdentity': 180}
        assert out['max_call_ms'] < 700, out
        print('9 s credentials: 180 calls over %d ms, %d fetches, slowest call %d ms' %
              (out['elapsed_ms'], out['cred_fetches'], out['max_call_ms']))
    finally:
        srv.close()
        e.stop()


@pytest.mark.parametrize('config,profile,key', [
    ('[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n'
     'sso_role_name = Admin\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n'
     'sso_region = us-east-1\n', 'dev', 'sso_session'),
    ('[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n'
     'sso_account_id = 123456789012\nsso_role_name = Admin\n', 'legacy', 'sso_start_url'),
    ('[profile proc]\ncredential_process = /usr/local/bin/get-creds --json\n', 'proc',
     'credential_process'),
])
def test_sso_and_credential_process_refused(emu, tmp_path, config, profile, key):
    (tmp_path / 'config').write_text(config)
    env = clean_env(emu, tmp_path, creds=False, AWS_PROFILE=profile)
    rc, _, err = whoami(env)
    assert rc == 1
    assert 'profile %s: %s is not supported' % (profile, key) in err, err
    # environment credentials come first in the chain, as in the SDKs
    env = clean_env(emu, tmp_path, AWS_PROFILE=profile)
    rc, out, err = whoami(env)
    assert rc == 0, err
    assert out['provider'] == 'env'


def test_expired_token_answer_refetches_and_resends(tmp_path):
    """Our clock says the assumed-role credentials are good for an hour, AWS's says they have
    expired (here: the emulator clock jumps 3700 s mid-run). The call that gets ExpiredToken
    makes plumb fetch new credentials and is sent once more: no call fails."""
    e = emulator.start()
    try:
        (tmp_path / 'credentials').write_text('[base]\naws_access_key_id = %s\n'
                                              'aws_secret_access_key = %s\n'
                                              % (emulator.ACCESS_KEY, emulator.SECRET_KEY))
        (tmp_path / 'config').write_text('[profile deploy]\nrole_arn = %s\nsource_profile = base\n'
                                         % ROLE)
        env = clean_env(e, tmp_path, creds=False, AWS_PROFILE='deploy')
        jump = threading.Timer(1.0, lambda: e.advance(3700))
        jump.start()
        rc, out, err = tool_call(env, 'GetCallerIdentity', {}, '--count', 30, '--interval', 100)
        jump.join()
        assert rc == 0, out
        assert out['ok'] == 30
        # exactly one refetch reaches STS (calls in flight with the old key only resend); the
        # fetch counter may also count reading the source profile's static keys
        assert e.counts(service='sts', operation='AssumeRole') == {'sts.AssumeRole': 2}
        assert out['cred_fetches'] in (2, 3), out
        expired = e.counts(error='ExpiredToken')
        assert 1 <= expired.get('sts.GetCallerIdentity', 0) <= 3, expired
    finally:
        e.stop()
