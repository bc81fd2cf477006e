"""SigV4 verification.

Owns checking the ``Authorization: AWS4-HMAC-SHA256 ...`` header of every request: its form, the
credential scope (date, region, service, terminator), the access key and session token, the clock
skew (over 5 minutes is refused) and the signature itself. The signature is recomputed with
botocore's ``SigV4Auth`` canonicaliser over the received method, path, query, body and exactly the
headers the client listed in ``SignedHeaders``; signing keys are cached per (secret, date, region,
service). Errors carry the codes each service family uses (see ``errors``).
"""

import datetime
import hashlib
import hmac
import re
import threading

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from . import errors

MAX_SKEW_SECONDS = 300
_REGION_RE = re.compile(r'^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$')
_AMZ_DATE_RE = re.compile(r'^\d{8}T\d{6}Z$')


class _Verifier(SigV4Auth):
    """SigV4Auth that signs exactly the client's SignedHeaders and caches signing keys."""

    _keys = {}
    _keys_lock = threading.Lock()

    def headers_to_sign(self, request):
        wanted = request.context['signed_headers']
        header_map = HTTPHeaders()
        for name, value in request.context['raw_headers']:
            lname = name.lower()
            if lname in wanted:
                header_map[lname] = value
        return header_map

    def signature(self, string_to_sign, request):
        date = request.context['timestamp'][0:8]
        cache_key = (self.credentials.secret_key, date, self._region_name, self._service_name)
        k_signing = self._keys.get(cache_key)
        if k_signing is None:
            k_date = hmac.new(('AWS4' + self.credentials.secret_key).encode(), date.encode(),
                              hashlib.sha256).digest()
            k_region = hmac.new(k_date, self._region_name.encode(), hashlib.sha256).digest()
            k_service = hmac.new(k_region, self._service_name.encode(), hashlib.sha256).digest()
            k_signing = hmac.new(k_service, b'aws4_request', hashlib.sha256).digest()
            with self._keys_lock:
                if len(self._keys) > 10000:
                    self._keys.clear()
                self._keys[cache_key] = k_signing
        return hmac.new(k_signing, string_to_sign.encode('utf-8'), hashlib.sha256).hexdigest()


class Identity:
    """Who signed a request and for which scope."""

    __slots__ = ('principal', 'region', 'service', 'access_key')

    def __init__(self, principal, region, service):
        self.principal = principal
        self.region = region
        self.service = service
        self.access_key = principal.access_key


def parse_authorization(value, service):
    """Split an Authorization header into (credential, signed_headers, signature)."""
    if not value.startswith('AWS4-HMAC-SHA256 '):
        algorithm = value.split(' ', 1)[0]
        raise errors.incomplete_signature(
            service, "Unsupported AWS 'algorithm': '%s'" % algorithm)
    parts = {}
    for item in value[len('AWS4-HMAC-SHA256 '):].split(','):
        k, sep, v = item.strip().partition('=')
        if sep:
            parts[k.strip()] = v.strip()
    missing = [k for k in ('Credential', 'Signature', 'SignedHeaders') if not parts.get(k)]
    if missing:
        raise errors.incomplete_signature(service, ' '.join(
            "Authorization header requires '%s' parameter." % k for k in missing)
            + ' Authorization=' + value.split(' ', 1)[0])
    return parts['Credential'], parts['SignedHeaders'], parts['Signature']


def scope_of(headers):
    """(service, region) from the Authorization header's credential scope, or (None, None)."""
    value = headers.get('authorization')
    if not value:
        return None, None
    m = re.search(r'Credential=([^,\s]+)', value)
    if not m:
        return None, None
    fields = m.group(1).split('/')
    if len(fields) != 5:
        return None, None
    return fields[3], fields[2]


def _fmt(ts):
    return datetime.datetime.utcfromtimestamp(ts).strftime('%Y%m%dT%H%M%SZ')


def verify(method, path, raw_headers, headers, body, service, accounts, real_now, emu_now):
    """Verify a request for ``service``; returns an Identity or raises AwsError.

    ``raw_headers`` is the list of (name, value) as received; ``headers`` a case-insensitive
    mapping of the same (lower-case keys). ``real_now`` is wall-clock time (for skew),
    ``emu_now`` the emulator clock (for temporary credential expiry).
    """
    authz = headers.get('authorization')
    if not authz:
        raise errors.missing_auth(service)
    credential, signed_headers, signature = parse_authorization(authz, service)
    fields = credential.split('/')
    if len(fields) != 5:
        raise errors.incomplete_signature(
            service, "Credential should be scoped to a valid region, not '%s'. "
            % (fields[2] if len(fields) > 2 else ''))
    access_key, scope_date, region, scope_service, terminator = fields

    amz_date = headers.get('x-amz-date')
    if not amz_date:
        raise errors.incomplete_signature(
            service, "Authorization header requires existence of either a 'X-Amz-Date' or a "
                     "'Date' header. Authorization=AWS4-HMAC-SHA256")
    if not _AMZ_DATE_RE.match(amz_date):
        raise errors.incomplete_signature(service, "Date must be in ISO-8601 'basic format'. "
                                          "Got '%s'." % amz_date)
    if terminator != 'aws4_request':
        raise errors.bad_signature(service, "Credential should be scoped with a valid terminator: "
                                            "'aws4_request', not '%s'." % terminator)
    if scope_service != service:
        raise errors.bad_signature(service, "Credential should be scoped to correct service: "
                                            "'%s'. " % service)
    if not _REGION_RE.match(region):
        raise errors.bad_signature(service, "Credential should be scoped to a valid region. ")
    if scope_date != amz_date[:8]:
        raise errors.bad_signature(
            service, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                     "date from HTTP: '%s' != '%s', from '%s'." % (scope_date, amz_date[:8], amz_date))

    signed = [h.strip().lower() for h in signed_headers.split(';') if h.strip()]
    if 'host' not in signed:
        raise errors.bad_signature(service, "'Host' or ':authority' must be a 'SignedHeader' in "
                                            "the AWS Authorization.")
    for name in signed:
        if name not in headers:
            raise errors.bad_signature(service)

    principal = accounts.lookup(access_key)
    if principal is None:
        raise errors.unknown_key(service)

    when = datetime.datetime.strptime(amz_date, '%Y%m%dT%H%M%SZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()
    if when < real_now - MAX_SKEW_SECONDS:
        raise errors.signature_expired(
            service, 'Signature expired: %s is now earlier than %s (%s - 5 min.)'
            % (amz_date, _fmt(real_now - MAX_SKEW_SECONDS), _fmt(real_now)))
    if when > real_now + MAX_SKEW_SECONDS:
        raise errors.signature_expired(
            service, 'Signature not yet current: %s is still later than %s (%s + 5 min.)'
            % (amz_date, _fmt(real_now + MAX_SKEW_SECONDS), _fmt(real_now)))

    token = headers.get('x-amz-security-token')
    if principal.temporary:
        if token != principal.session_token:
            raise errors.unknown_key(service)
        if emu_now >= principal.expiration:
            raise errors.expired_token(service)
    elif token:
        raise errors.unknown_key(service)

    request = AWSRequest(method=method, url='http://emulator' + path, data=body)
    request.context['timestamp'] = amz_date
    request.context['signed_headers'] = frozenset(signed)
    request.context['raw_headers'] = raw_headers
    verifier = _Verifier(Credentials(access_key, principal.secret_key, token), service, region)
    canonical = verifier.canonical_request(request)
    if verifier.signed_headers(verifier.headers_to_sign(request)) != ';'.join(sorted(set(signed))):
        raise errors.bad_signature(service)
    expected = verifier.signature(verifier.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        raise errors.bad_signature(service)
    return Identity(principal, region, service)
