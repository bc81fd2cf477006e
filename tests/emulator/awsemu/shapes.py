"""Compiled shape specs.

Owns turning botocore model shapes into small, cached ``Spec`` objects (type, members, required
set, length/range bounds, compiled pattern, enum set, wire names) so that validation, Query
de-flattening and reply encoding walk plain Python attributes instead of botocore's model objects
on every request. Also owns translating the models' Java-flavoured regular expressions (``\\p{L}``,
``\\uD800\\uDC00`` surrogate pairs, ...) into Python ``re`` syntax.
"""

import re
import threading

# Approximations of Java Unicode property classes, usable inside [...].
_PROPS = {
    'L': r'a-zA-Z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff'
         r'\u0370-\u03ff\u0400-\u052f\u0531-\u1fff\u2c00-\u2dff'
         r'\u3040-\ud7ff\uf900-\ufdff\ufe70-\ufefc\uff21-\uff3a\uff41-\uff5a'
         r'\uff66-\uffdc',
    'Z': r' \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000',
    'N': r'0-9\u00b2\u00b3\u00b9\u00bc-\u00be\u0660-\u0669\u06f0-\u06f9\u0966-\u096f'
         r'\uff10-\uff19',
    'M': r'\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u20d0-\u20ff',
    'S': r'$+<=>^`|~\u00a2-\u00a9\u00ac\u00ae-\u00b1\u00b4\u00d7\u00f7\u2044\u20a0-\u20cf'
         r'\u2100-\u214f\u2190-\u23ff\u2500-\u27bf',
    'P': r'!-#%-*,-/:;?@\[-\]_{}\u00a1\u00a7\u00ab\u00b6\u00b7\u00bb\u00bf\u2010-\u2027'
         r'\u2030-\u205e\u3001-\u3003',
    'Alnum': r'a-zA-Z0-9',
    'Print': r'\x20-\x7e',
}


def java_regex_to_python(pattern):
    """Best-effort translation of a model (Java) regex into Python syntax."""
    p = pattern
    # Surrogate pairs spelling astral planes: \uD800\uDC00-\uDBFF\uDFFF
    p = p.replace(r'\uD800\uDC00-\uDBFF\uDFFF', r'\U00010000-\U0010FFFF')
    # A quantifier on '$' (e.g. ')${1,128}') is meaningless; drop it.
    p = re.sub(r'\$\{\d+(,\d*)?\}', '$', p)

    def prop(m):
        body = _PROPS.get(m.group(1))
        if body is None:
            return r'\w'
        return body

    # Inside character classes, expand in place; outside, wrap in a class.
    out = []
    i = 0
    in_class = False
    while i < len(p):
        c = p[i]
        if c == '\\' and i + 1 < len(p):
            m = re.match(r'\\p\{(\w+)\}', p[i:])
            if m:
                body = prop(m)
                out.append(body if in_class else '[' + body + ']')
                i += len(m.group(0))
                continue
            out.append(p[i:i + 2])
            i += 2
            continue
        if c == '[' and not in_class:
            in_class = True
        elif c == ']' and in_class:
            in_class = False
        out.append(c)
        i += 1
    return ''.join(out)


_regex_cache = {}


def compile_pattern(pattern):
    """Compiled regex for a model pattern, or None if it cannot be translated."""
    if pattern in _regex_cache:
        return _regex_cache[pattern]
    try:
        rx = re.compile(java_regex_to_python(pattern), re.DOTALL)
    except re.error:
        rx = None
    _regex_cache[pattern] = rx
    return rx


class Spec:
    """A flattened view of one botocore shape."""

    __slots__ = ('name', 'type', 'members', 'required', 'member', 'key', 'value', 'min', 'max',
                 'pattern', 'pattern_text', 'enum', 'enum_text', 'wire_name', 'flattened',
                 'camel', 'error_code', 'error_status', 'sensitive')

    def __init__(self, name, type_):
        self.name = name
        self.type = type_
        self.members = None       # structure: member name -> Spec (member-level, see wire_name)
        self.required = ()
        self.member = None        # list element
        self.key = None           # map key
        self.value = None         # map value
        self.min = None
        self.max = None
        self.pattern = None
        self.pattern_text = None
        self.enum = None
        self.enum_text = None
        self.wire_name = None
        self.flattened = False
        self.camel = None
        self.error_code = None
        self.error_status = None
        self.sensitive = False


_cache = {}
_lock = threading.RLock()


class MemberRef:
    """A structure member: its name on the wire and the target Spec."""

    __slots__ = ('name', 'wire_name', 'camel', 'spec', 'flattened', 'list_member_name')

    def __init__(self, name, wire_name, spec, flattened, list_member_name):
        self.name = name
        self.wire_name = wire_name
        self.camel = name[:1].lower() + name[1:]
        self.spec = spec
        self.flattened = flattened
        self.list_member_name = list_member_name


def compile_shape(service, shape):
    """Spec for a botocore shape (cached by service and shape name; handles recursion)."""
    if shape is None:
        return None
    key = (service, shape.name)
    spec = _cache.get(key)
    if spec is not None:
        return spec
    with _lock:
        spec = _cache.get(key)
        if spec is not None:
            return spec
        spec = Spec(shape.name, shape.type_name)
        _cache[key] = spec
        md = shape.metadata
        spec.min = md.get('min')
        spec.max = md.get('max')
        spec.sensitive = bool(md.get('sensitive'))
        if 'pattern' in md:
            spec.pattern_text = md['pattern']
            spec.pattern = compile_pattern(md['pattern'])
        if 'enum' in md:
            spec.enum = frozenset(md['enum'])
            spec.enum_text = '[' + ', '.join(md['enum']) + ']'
        err = md.get('error') or {}
        spec.error_code = err.get('code') or shape.name
        spec.error_status = err.get('httpStatusCode')
        if shape.type_name == 'structure':
            spec.required = tuple(md.get('required', ()))
            members = {}
            for mname, mshape in shape.members.items():
                ser = mshape.serialization
                list_member_name = 'member'
                if mshape.type_name == 'list':
                    list_member_name = mshape.member.serialization.get('name', 'member')
                members[mname] = MemberRef(mname, ser.get('name', mname),
                                           compile_shape(service, mshape),
                                           bool(ser.get('flattened')), list_member_name)
            spec.members = members
        elif shape.type_name == 'list':
            spec.member = compile_shape(service, shape.member)
            spec.flattened = bool(shape.serialization.get('flattened'))
        elif shape.type_name == 'map':
            spec.key = compile_shape(service, shape.key)
            spec.value = compile_shape(service, shape.value)
            spec.flattened = bool(shape.serialization.get('flattened'))
        return spec


def op_specs(service_name, op_model):
    """(input Spec, output Spec) for an operation model, cached."""
    key = (service_name, '__op__', op_model.name)
    got = _cache.get(key)
    if got is None:
        got = (compile_shape(service_name, op_model.input_shape),
               compile_shape(service_name, op_model.output_shape))
        _cache[key] = got
    return got
