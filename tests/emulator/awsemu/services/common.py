"""Helpers shared by the service modules.

Owns the per-request ``Call`` context handed to every operation handler (who is calling, in which
account and region, the emulator, the operation's output shape, the request's emulator time) and
small utilities used by several services: tag conversions, ARN parsing, page-token errors.
"""

import uuid

from ..errors import AwsError


class Call:
    """Everything an operation handler needs about the request it serves."""

    __slots__ = ('emu', 'info', 'op', 'account', 'region', 'principal', 'request_id', 'now',
                 'out_spec', 'protocol')

    def __init__(self, emu, info, op, account, region, principal, request_id, out_spec,
                 protocol):
        self.emu = emu
        self.info = info
        self.op = op
        self.account = account
        self.region = region
        self.principal = principal
        self.request_id = request_id
        self.now = emu.now()
        self.out_spec = out_spec
        self.protocol = protocol

    @property
    def state(self):
        return self.emu.region(self.account, self.region)


def tag_list_to_dict(tags):
    """[{Key, Value}] -> ordered dict (later keys win, as an upsert)."""
    out = {}
    for t in tags or ():
        out[t['Key']] = t.get('Value', '')
    return out


def tag_dict_to_list(tags):
    return [{'Key': k, 'Value': v} for k, v in tags.items()]


def check_reserved_tags(keys, make_error):
    for k in keys:
        if k.lower().startswith('aws:'):
            raise make_error("Tag keys starting with 'aws:' are reserved for system use. (%s)" % k)


def parse_arn(arn):
    """(partition, service, region, account, resource) or None."""
    parts = arn.split(':', 5)
    if len(parts) != 6 or parts[0] != 'arn':
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def new_uuid():
    return str(uuid.uuid4())


def output_fields(spec, data):
    """The items of ``data`` that the structure ``spec`` defines (for echoing stored input)."""
    members = spec.members
    return {k: v for k, v in data.items() if k in members and v is not None}


def validation_exception(message):
    return AwsError('ValidationException', message, 400)
