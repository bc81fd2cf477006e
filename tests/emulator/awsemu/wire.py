"""Wire formats: request decoding and reply encoding, guided by the model.

Owns
- JSON request bodies -> params (AWS JSON 1.0/1.1);
- Query form bodies -> params: de-flattening ``X.member.N``, ``X.entry.N.key/value`` and nested
  ``A.B`` by walking the input shape, converting scalars to the member's type (integers, doubles,
  booleans, ISO-8601 or epoch timestamps); an empty ``X=`` is an empty list;
- replies: JSON bodies (timestamps as epoch numbers) and Query XML
  (``<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata><RequestId>``, ISO-8601
  timestamps, ``<member>`` lists, ``<entry><key><value>`` maps);
- error bodies for both protocols.

Reply encoding is strict: a member the output shape does not define, or a required output member that
is missing, is a bug in the emulator and raises ``ReplyShapeError`` (answered as a 500).
"""

import datetime
import json
import math
from xml.sax.saxutils import escape

from . import errors


class ReplyShapeError(Exception):
    """The emulator built a reply that does not match the output shape."""


# -- decoding ---------------------------------------------------------------------------------

def decode_json(service, body):
    if not body or not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.AwsError('SerializationException', 'Unable to parse the request body as JSON',
                              400)
    if not isinstance(value, dict):
        raise errors.AwsError('SerializationException', 'Start of structure or map found where '
                              'not expected.' if isinstance(value, list) else
                              'Expected a JSON object', 400)
    return value


def parse_timestamp(text):
    """Epoch seconds from ISO-8601 (with or without fraction/offset) or an epoch number."""
    t = text.strip()
    try:
        return float(t)
    except ValueError:
        pass
    if t.endswith('Z'):
        t = t[:-1] + '+00:00'
    dt = datetime.datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def _convert(service, spec, text, key):
    t = spec.type
    try:
        if t == 'string':
            return text
        if t in ('integer', 'long'):
            return int(text)
        if t in ('double', 'float'):
            v = float(text)
            return v
        if t == 'boolean':
            low = text.lower()
            if low in ('true', 'false'):
                return low == 'true'
            raise ValueError(text)
        if t == 'timestamp':
            return parse_timestamp(text)
        if t == 'blob':
            return text
    except (ValueError, OverflowError):
        pass
    raise errors.validation(service, ["Value '%s' for parameter %s is invalid." % (text, key)],
                            kind='type')


def decode_query(service, spec, pairs):
    """Params for ``spec`` from the form pairs (Action/Version already removed).

    Raises the service's validation error for unknown parameters and unconvertible values.
    """
    flat = {}
    for k, v in pairs:
        if k in flat:
            raise errors.validation(service, ["Parameter %s is specified more than once." % k],
                                    kind='type')
        flat[k] = v
    if spec is None:
        if flat:
            raise errors.validation(service, ['Unknown parameter %s' % next(iter(flat))],
                                    kind='type')
        return {}
    used = set()
    result = _decode_struct(service, spec, '', flat, used)
    unknown = [k for k in flat if k not in used]
    if unknown:
        raise errors.validation(service, ["Unknown parameter %s" % sorted(unknown)[0]],
                                kind='type')
    return result


def _present(prefix, flat):
    if prefix in flat:
        return True
    dotted = prefix + '.'
    return any(k.startswith(dotted) for k in flat)


def _decode_value(service, spec, prefix, flat, used, list_member_name='member'):
    t = spec.type
    if t == 'structure':
        return _decode_struct(service, spec, prefix, flat, used)
    if t == 'list':
        if prefix in flat and flat[prefix] == '':
            used.add(prefix)
            return []
        head = prefix + '.' + list_member_name + '.'
        indices = set()
        for k in flat:
            if k.startswith(head):
                idx = k[len(head):].split('.', 1)[0]
                if not idx.isdigit() or idx.startswith('0'):
                    raise errors.validation(service, ['Invalid list index in parameter %s' % k],
                                            kind='type')
                indices.add(int(idx))
        out = []
        for i in sorted(indices):
            out.append(_decode_value(service, spec.member, '%s%d' % (head, i), flat, used))
        return out
    if t == 'map':
        head = prefix + '.entry.'
        indices = set()
        for k in flat:
            if k.startswith(head):
                idx = k[len(head):].split('.', 1)[0]
                if not idx.isdigit():
                    raise errors.validation(service, ['Invalid map index in parameter %s' % k],
                                            kind='type')
                indices.add(int(idx))
        out = {}
        for i in sorted(indices):
            kp = '%s%d.key' % (head, i)
            vp = '%s%d.value' % (head, i)
            if kp not in flat:
                raise errors.validation(service, ['Missing map key %s' % kp], kind='type')
            used.add(kp)
            key = flat[kp]
            out[key] = _decode_value(service, spec.value, vp, flat, used) if _present(vp, flat) \
                else None
        return out
    used.add(prefix)
    if prefix not in flat:
        raise errors.validation(service, ['Unknown parameter %s' % prefix], kind='type')
    return _convert(service, spec, flat[prefix], prefix)


def _decode_struct(service, spec, prefix, flat, used):
    out = {}
    for name, ref in spec.members.items():
        key = (prefix + '.' + ref.wire_name) if prefix else ref.wire_name
        if _present(key, flat):
            out[name] = _decode_value(service, ref.spec, key, flat, used, ref.list_member_name)
    return out


# -- encoding ---------------------------------------------------------------------------------

def _check_struct(spec, data, path):
    members = spec.members
    for k in data:
        if k not in members:
            raise ReplyShapeError('%s: member %r not in output shape %s' % (path, k, spec.name))
    for r in spec.required:
        if data.get(r) is None:
            raise ReplyShapeError('%s: required output member %r missing (%s)'
                                  % (path, r, spec.name))


def _json_value(spec, value, path):
    t = spec.type
    if t == 'structure':
        if not isinstance(value, dict):
            raise ReplyShapeError('%s: expected structure %s' % (path, spec.name))
        _check_struct(spec, value, path)
        out = {}
        for k, v in value.items():
            if v is not None:
                out[k] = _json_value(spec.members[k].spec, v, path + '.' + k)
        return out
    if t == 'list':
        return [_json_value(spec.member, v, path + '[]') for v in value]
    if t == 'map':
        return {k: _json_value(spec.value, v, path + '{}') for k, v in value.items()}
    if t == 'timestamp':
        return round(float(value), 3)
    if t in ('double', 'float'):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return 'NaN' if math.isnan(v) else ('Infinity' if v > 0 else '-Infinity')
        return v
    if t in ('integer', 'long'):
        return int(value)
    if t == 'boolean':
        return bool(value)
    return value


def encode_json(spec, data):
    if spec is None:
        return b'{}'
    return json.dumps(_json_value(spec, data or {}, spec.name), separators=(',', ':')).encode()


def iso8601(ts):
    dt = datetime.datetime.fromtimestamp(float(ts), datetime.timezone.utc)
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (dt.microsecond // 1000)


def _xml_scalar(spec, value):
    t = spec.type
    if t == 'timestamp':
        return iso8601(value)
    if t == 'boolean':
        return 'true' if value else 'false'
    if t in ('double', 'float'):
        v = float(value)
        if math.isnan(v):
            return 'NaN'
        if math.isinf(v):
            return 'Infinity' if v > 0 else '-Infinity'
        return repr(v)
    if t in ('integer', 'long'):
        return str(int(value))
    return escape(str(value))


def _xml_value(spec, value, path, out):
    t = spec.type
    if t == 'structure':
        if not isinstance(value, dict):
            raise ReplyShapeError('%s: expected structure %s' % (path, spec.name))
        _check_struct(spec, value, path)
        for k, v in value.items():
            if v is None:
                continue
            ref = spec.members[k]
            if ref.spec.type == 'list' and ref.flattened:
                for item in v:
                    out.append('<%s>' % ref.wire_name)
                    _xml_value(ref.spec.member, item, path + '.' + k, out)
                    out.append('</%s>' % ref.wire_name)
                continue
            out.append('<%s>' % ref.wire_name)
            _xml_value(ref.spec, v, path + '.' + k, out)
            out.append('</%s>' % ref.wire_name)
        return
    if t == 'list':
        for item in value:
            out.append('<member>')
            _xml_value(spec.member, item, path + '[]', out)
            out.append('</member>')
        return
    if t == 'map':
        for k, v in value.items():
            out.append('<entry><key>%s</key><value>' % escape(str(k)))
            _xml_value(spec.value, v, path + '{}', out)
            out.append('</value></entry>')
        return
    out.append(_xml_scalar(spec, value))


def encode_query(op_name, xmlns, spec, data, request_id):
    out = ['<%sResponse xmlns="%s">' % (op_name, xmlns)]
    if spec is not None:
        out.append('<%sResult>' % op_name)
        _xml_value(spec, data or {}, op_name, out)
        out.append('</%sResult>' % op_name)
    out.append('<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>' % request_id)
    out.append('</%sResponse>' % op_name)
    return ''.join(out).encode('utf-8')


def encode_json_error(code, message, type_name=None):
    return json.dumps({'__type': type_name or code, 'message': message}).encode()


def encode_query_error(xmlns, err, request_id):
    return ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
            '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
            % (xmlns, 'Sender' if err.sender else 'Receiver', escape(err.code),
               escape(err.message), request_id)).encode('utf-8')
