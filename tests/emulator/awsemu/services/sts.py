"""STS: caller identity and temporary credentials.

Owns GetCallerIdentity (the caller's account, ARN and user id; assumed-role ARNs for temporary
credentials), AssumeRole and AssumeRoleWithWebIdentity (unsigned). Both issue ``ASIA...``
credentials with a session token that the emulator then accepts for signing in the role's account
(the account in RoleArn, so cross-account setups work) until Expiration on the emulator clock
(DurationSeconds, default 3600; role chaining is capped at 3600). AssumeRoleWithWebIdentity needs a
JWT-shaped token (header.payload.signature, payload JSON); ``exp`` in the past answers
``ExpiredTokenException``; the JWT signature and the role's trust policy are not checked.
"""

import base64
import json
import re
import time

from ..errors import AwsError

_ROLE_RE = re.compile(r'^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@/-]+/)?([\w+=,.@-]+)$')


def _role(arn):
    m = _ROLE_RE.match(arn)
    if not m:
        raise AwsError('ValidationError', '%s is invalid' % arn, 400)
    return m.group(1)


def _credentials(call, p, chained):
    account = _role(p['RoleArn'])
    duration = p.get('DurationSeconds', 3600)
    if chained and duration > 3600:
        raise AwsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session '
                       'limit for roles assumed by role chaining.', 400)
    if 'Policy' in p:
        try:
            if not isinstance(json.loads(p['Policy']), dict):
                raise ValueError
        except ValueError:
            raise AwsError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.',
                           400)
    pr = call.emu.accounts.issue(account, p['RoleArn'], p['RoleSessionName'], duration, call.now)
    out = {'Credentials': {'AccessKeyId': pr.access_key, 'SecretAccessKey': pr.secret_key,
                           'SessionToken': pr.session_token, 'Expiration': pr.expiration},
           'AssumedRoleUser': {'AssumedRoleId': pr.user_id, 'Arn': pr.arn}}
    if 'Policy' in p or p.get('PolicyArns') or p.get('Tags'):
        out['PackedPolicySize'] = 6
    if 'SourceIdentity' in p:
        out['SourceIdentity'] = p['SourceIdentity']
    return out


def get_caller_identity(call, p):
    pr = call.principal
    return {'UserId': pr.user_id, 'Account': pr.account, 'Arn': pr.arn}


def assume_role(call, p):
    return _credentials(call, p, chained=call.principal.temporary)


def _jwt_claims(token):
    parts = token.split('.')
    if len(parts) != 3:
        raise AwsError('InvalidIdentityToken', 'The ID Token provided is not a valid JWT. (You may '
                       'see this error if you sent an Access Token)', 400)
    try:
        raw = base64.urlsafe_b64decode(parts[1] + '=' * (-len(parts[1]) % 4))
        claims = json.loads(raw)
        if not isinstance(claims, dict):
            raise ValueError
    except ValueError:
        raise AwsError('InvalidIdentityToken', 'Couldn\'t parse the ID Token payload.', 400)
    return claims


def assume_role_with_web_identity(call, p):
    claims = _jwt_claims(p['WebIdentityToken'])
    exp = claims.get('exp')
    if isinstance(exp, (int, float)) and exp < time.time():
        raise AwsError('ExpiredTokenException', 'Token expired: current date/time %d must be '
                       'before the expiration date/time %d' % (time.time(), exp), 400)
    out = _credentials(call, p, chained=False)
    out['SubjectFromWebIdentityToken'] = str(claims.get('sub', 'unknown'))
    aud = claims.get('aud', 'sts.amazonaws.com')
    out['Audience'] = aud[0] if isinstance(aud, list) and aud else str(aud)
    iss = str(claims.get('iss', p.get('ProviderId', 'oidc.example')))
    out['Provider'] = re.sub(r'^https?://', '', iss)
    return out


OPERATIONS = {
    'GetCallerIdentity': get_caller_identity,
    'AssumeRole': assume_role,
    'AssumeRoleWithWebIdentity': assume_role_with_web_identity,
}

UNSIGNED = frozenset(['AssumeRoleWithWebIdentity'])
