"""Access keys the emulator accepts.

Owns the static credentials (default ``AKIDEXAMPLE`` for account ``123456789012``, more from
``--credentials FILE`` or ``--account KEY:SECRET:ACCOUNT``) and the temporary credentials issued by
STS (``ASIA...`` key, secret, session token, expiration on the emulator clock, the assumed-role
identity). Lookups are by access key id and are thread-safe.
"""

import base64
import os
import secrets
import threading

DEFAULT_KEY = 'AKIDEXAMPLE'
DEFAULT_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
DEFAULT_ACCOUNT = '123456789012'

_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'


def random_id(prefix, n=16):
    return prefix + ''.join(secrets.choice(_ALNUM) for _ in range(n))


class Principal:
    """One access key and who it belongs to."""

    __slots__ = ('access_key', 'secret_key', 'account', 'arn', 'user_id', 'session_token',
                 'expiration', 'temporary')

    def __init__(self, access_key, secret_key, account, arn, user_id, session_token=None,
                 expiration=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.account = account
        self.arn = arn
        self.user_id = user_id
        self.session_token = session_token
        self.expiration = expiration      # emulator-clock epoch seconds, temporary only
        self.temporary = session_token is not None


class Accounts:
    """Registry of static and temporary credentials."""

    def __init__(self):
        self._lock = threading.Lock()
        self._static = {}
        self._temporary = {}

    def add_static(self, access_key, secret_key, account, user='emulator'):
        if not (len(account) == 12 and account.isdigit()):
            raise ValueError('account id must be 12 digits: %r' % account)
        arn = 'arn:aws:iam::%s:user/%s' % (account, user)
        uid = 'AIDA' + base64.b32encode(access_key.encode()).decode().rstrip('=')[:17].upper()
        with self._lock:
            self._static[access_key] = Principal(access_key, secret_key, account, arn, uid)

    def load_file(self, path):
        """Rows ``KEY SECRET ACCOUNT [USER]`` (whitespace or comma separated, ``#`` comments)."""
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.split('#', 1)[0].strip()
                if not line:
                    continue
                fields = line.replace(',', ' ').split()
                if len(fields) < 3:
                    raise ValueError('credentials row needs KEY SECRET ACCOUNT: %r' % line)
                self.add_static(*fields[:4])

    def issue(self, account, role_arn, session_name, duration, now):
        """Create temporary credentials for an assumed role; returns the Principal."""
        role_name = role_arn.rsplit('/', 1)[-1]
        role_id = 'AROA' + base64.b32encode(role_arn.encode()).decode().rstrip('=')[-17:].upper()
        p = Principal(
            access_key=random_id('ASIA'),
            secret_key=base64.b64encode(os.urandom(30)).decode(),
            account=account,
            arn='arn:aws:sts::%s:assumed-role/%s/%s' % (account, role_name, session_name),
            user_id='%s:%s' % (role_id, session_name),
            session_token='IQoJb3JpZ2luX2VjE' + base64.b64encode(os.urandom(96)).decode(),
            expiration=now + duration)
        with self._lock:
            self._temporary[p.access_key] = p
        return p

    def lookup(self, access_key):
        p = self._static.get(access_key)
        if p is None:
            p = self._temporary.get(access_key)
        return p

    def reset_temporary(self):
        with self._lock:
            self._temporary.clear()

    def static_accounts(self):
        return sorted({p.account for p in self._static.values()})
