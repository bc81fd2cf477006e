"""Input validation against an operation's input shape.

Owns the checks AWS's front ends apply before an operation runs: required members, JSON types,
string/list/map lengths, numeric ranges, enum values and regular-expression patterns (whole-string
match), recursively. botocore's ``ParamValidator`` checks only required members, types and minimums,
so this is a complete walker of its own over the compiled ``shapes.Spec``. Messages follow AWS's
("1 validation error detected: Value 'x' at 'endpointName' failed to satisfy constraint: Member must
satisfy regular expression pattern: ..."); codes are chosen per service by ``errors.validation``.

Stricter than AWS on one point: members that the model does not know are refused, so a misspelt
member in a client surfaces in tests instead of being silently ignored.
"""

from . import errors

MAX_REPORTED = 10


def _show(value):
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= 200 else s[:200] + '...'


class _Walker:
    def __init__(self):
        self.constraint = []
        self.missing = []
        self.type = []

    def walk(self, spec, value, path):
        t = spec.type
        if t == 'structure':
            if not isinstance(value, dict):
                self.type.append('Expected an object at \'%s\' (%s)' % (path or 'input', spec.name))
                return
            members = spec.members
            for name in spec.required:
                if value.get(name) is None:
                    where = (path + '.' if path else '') + members[name].camel
                    self.missing.append((name, "Value null at '%s' failed to satisfy constraint: "
                                               "Member must not be null" % where))
            for name, v in value.items():
                ref = members.get(name)
                if ref is None:
                    self.type.append("Unknown member '%s' in %s" % (name, spec.name))
                    continue
                if v is None:
                    continue
                self.walk(ref.spec, v, (path + '.' if path else '') + ref.camel)
        elif t == 'list':
            if not isinstance(value, list):
                self.type.append("Expected a list at '%s'" % path)
                return
            self._length(spec, value, path, len(value))
            for i, item in enumerate(value, 1):
                if item is None:
                    self.constraint.append("Value null at '%s.%d.member' failed to satisfy "
                                           "constraint: Member must not be null" % (path, i))
                    continue
                self.walk(spec.member, item, '%s.%d.member' % (path, i))
        elif t == 'map':
            if not isinstance(value, dict):
                self.type.append("Expected a map at '%s'" % path)
                return
            self._length(spec, value, path, len(value))
            for k, v in value.items():
                self.walk(spec.key, k, path + '.key')
                if v is not None:
                    self.walk(spec.value, v, path + '.value')
        elif t == 'string':
            if not isinstance(value, str):
                self.type.append('%s can not be converted to a String (at \'%s\')'
                                 % (_json_kind(value), path))
                return
            self._length(spec, value, path, len(value))
            if spec.enum is not None and value not in spec.enum:
                self.constraint.append("Value '%s' at '%s' failed to satisfy constraint: Member "
                                       "must satisfy enum value set: %s"
                                       % (_show(value), path, spec.enum_text))
            if spec.pattern is not None and not spec.pattern.fullmatch(value):
                self.constraint.append("Value '%s' at '%s' failed to satisfy constraint: Member "
                                       "must satisfy regular expression pattern: %s"
                                       % (_show(value), path, spec.pattern_text))
        elif t in ('integer', 'long'):
            if isinstance(value, bool) or not isinstance(value, int):
                self.type.append('%s can not be converted to an Integer (at \'%s\')'
                                 % (_json_kind(value), path))
                return
            self._range(spec, value, path)
        elif t in ('double', 'float'):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.type.append('%s can not be converted to a Double (at \'%s\')'
                                 % (_json_kind(value), path))
                return
            self._range(spec, value, path)
        elif t == 'boolean':
            if not isinstance(value, bool):
                self.type.append('%s can not be converted to a Boolean (at \'%s\')'
                                 % (_json_kind(value), path))
        elif t == 'timestamp':
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.type.append('%s can not be converted to a Timestamp (at \'%s\')'
                                 % (_json_kind(value), path))
        elif t == 'blob':
            if not isinstance(value, (str, bytes)):
                self.type.append('%s can not be converted to a Blob (at \'%s\')'
                                 % (_json_kind(value), path))

    def _length(self, spec, value, path, n):
        shown = _show(value) if isinstance(value, str) else '[...]' if isinstance(value, list) \
            else '{...}'
        if spec.min is not None and n < spec.min:
            self.constraint.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                                   "have length greater than or equal to %s" % (shown, path, spec.min))
        if spec.max is not None and n > spec.max:
            self.constraint.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                                   "have length less than or equal to %s" % (shown, path, spec.max))

    def _range(self, spec, value, path):
        if spec.min is not None and value < spec.min:
            self.constraint.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                                   "have value greater than or equal to %s" % (value, path, spec.min))
        if spec.max is not None and value > spec.max:
            self.constraint.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                                   "have value less than or equal to %s" % (value, path, spec.max))


def _json_kind(value):
    if isinstance(value, bool):
        return 'BOOLEAN_VALUE'
    if isinstance(value, str):
        return 'STRING_VALUE'
    if isinstance(value, (int, float)):
        return 'NUMBER_VALUE'
    if isinstance(value, list):
        return 'START_ARRAY'
    if isinstance(value, dict):
        return 'START_OBJECT'
    return 'VALUE'


def validate(service, spec, params):
    """Raise the service's validation AwsError if ``params`` do not satisfy ``spec``."""
    if spec is None:
        if params:
            raise errors.validation(service, ['This operation takes no input'], kind='type')
        return
    w = _Walker()
    w.walk(spec, params, '')
    if w.type:
        raise errors.validation(service, w.type[:1], kind='type')
    if w.missing and service == 'monitoring':
        raise errors.validation(service, ['The parameter %s is required.' % w.missing[0][0]],
                                kind='missing')
    problems = [m for _, m in w.missing] + w.constraint
    if problems:
        raise errors.validation(service, problems[:MAX_REPORTED])
