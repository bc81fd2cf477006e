"""A strict parser of the Prometheus text exposition format, version 0.0.4.

Stricter than Prometheus' own scraper on purpose, so /metrics is checked against the rules of
the format as written (https://prometheus.io/docs/instrumenting/exposition_formats/):

- every line is a comment (`# HELP`, `# TYPE`, other `#` text) or a sample; no blank lines
  inside, the text ends with a newline;
- metric and label names match their regular expressions; label values use only the escapes
  \\\\, \\" and \\n; no label name twice in a sample; values are Go floats (NaN, +Inf, -Inf);
- at most one HELP and one TYPE per family, TYPE before its first sample, a family's samples
  together (no interleaving of families), no sample (name + labels) twice;
- counters have non-negative values; histograms have `_bucket` samples with an `le` label in
  increasing order ending with `+Inf`, cumulative counts that never decrease, `_count` equal to
  the `+Inf` bucket, and a `_sum`.

parse(text) returns {family: {"type", "help", "samples": [(name, labels dict, value)]}} or
raises ValueError naming the line.
"""
import math
import re

METRIC = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
FLOAT = re.compile(r'[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|[+-]?Inf$|NaN$')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def _value(s, where):
    if not FLOAT.match(s):
        raise ValueError(f'{where}: bad value {s!r}')
    return float(s.replace('Inf', 'inf'))


def _labels(s, i, where):
    """Parses {a="b",...} starting at s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ValueError(f'{where}: bad label name at column {i + 1}')
        name = m.group(0)
        if name in labels:
            raise ValueError(f'{where}: label {name} twice')
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError(f'{where}: expected =" after label {name}')
        i += 2
        out = []
        while True:
            if i >= len(s):
                raise ValueError(f'{where}: unterminated label value')
            c = s[i]
            if c == '\\':
                nxt = s[i + 1:i + 2]
                if nxt == 'n':
                    out.append('\n')
                elif nxt in ('\\', '"'):
                    out.append(nxt)
                else:
                    raise ValueError(f'{where}: bad escape \\{nxt} in label {name}')
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ValueError(f'{where}: raw newline in label value')
            else:
                out.append(c)
                i += 1
        labels[name] = ''.join(out)
        if i < len(s) and s[i] == ',':
            i += 1
        elif i < len(s) and s[i] == '}':
            continue
        else:
            raise ValueError(f'{where}: expected , or }} after label {name}')


def _family_of(name, families):
    for suffix in ('_bucket', '_count', '_sum'):
        if name.endswith(suffix) and name[:-len(suffix)] in families and \
                families[name[:-len(suffix)]]['type'] in ('histogram', 'summary'):
            return name[:-len(suffix)]
    return name


def parse(text):
    if not text.endswith('\n'):
        raise ValueError('the text does not end with a newline')
    families = {}
    order = []
    seen_samples = set()
    for n, line in enumerate(text[:-1].split('\n'), 1):
        where = f'line {n}'
        if line == '':
            raise ValueError(f'{where}: blank line')
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ('HELP', 'TYPE'):
                if len(parts) < 3 or not METRIC.fullmatch(parts[2]):
                    raise ValueError(f'{where}: bad metric name in {parts[1]}')
                fam = families.setdefault(parts[2], {'type': None, 'help': None, 'samples': []})
                if fam['samples']:
                    raise ValueError(f'{where}: {parts[1]} after samples of {parts[2]}')
                key = parts[1].lower()
                if fam[key] is not None:
                    raise ValueError(f'{where}: second {parts[1]} for {parts[2]}')
                if parts[1] == 'TYPE':
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError(f'{where}: bad TYPE')
                    fam['type'] = parts[3]
                else:
                    fam['help'] = parts[3] if len(parts) == 4 else ''
                if parts[2] not in order:
                    order.append(parts[2])
            continue
        m = METRIC.match(line)
        if not m:
            raise ValueError(f'{where}: bad metric name')
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == '{':
            labels, i = _labels(line, i, where)
        if i >= len(line) or line[i] != ' ':
            raise ValueError(f'{where}: expected a space before the value')
        rest = line[i + 1:].split(' ')
        if len(rest) not in (1, 2):
            raise ValueError(f'{where}: expected value [timestamp]')
        value = _value(rest[0], where)
        if len(rest) == 2 and not re.fullmatch(r'-?\d+', rest[1]):
            raise ValueError(f'{where}: bad timestamp')
        fam_name = _family_of(name, families)
        fam = families.setdefault(fam_name, {'type': None, 'help': None, 'samples': []})
        if fam_name not in order:
            order.append(fam_name)
        if order[-1] != fam_name:
            raise ValueError(f'{where}: samples of {fam_name} are not together')
        key = (name, tuple(sorted(labels.items())))
        if key in seen_samples:
            raise ValueError(f'{where}: sample {name}{labels} twice')
        seen_samples.add(key)
        if fam['type'] == 'counter' and (value < 0 or math.isnan(value)):
            raise ValueError(f'{where}: counter {name} is negative')
        fam['samples'].append((name, labels, value))
    for name, fam in families.items():
        if fam['type'] == 'histogram':
            _check_histogram(name, fam)
    return families


def _check_histogram(name, fam):
    groups = {}
    for sname, labels, value in fam['samples']:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
        groups.setdefault(rest, []).append((sname, labels, value))
    for rest, samples in groups.items():
        buckets = [(s[1].get('le'), s[2]) for s in samples if s[0] == name + '_bucket']
        if not buckets or any(le is None for le, _ in buckets):
            raise ValueError(f'{name}: buckets missing or without le')
        bounds = [_value(le, name) for le, _ in buckets]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError(f'{name}: le bounds not increasing')
        if not math.isinf(bounds[-1]):
            raise ValueError(f'{name}: no +Inf bucket')
        counts = [v for _, v in buckets]
        if any(b < a for a, b in zip(counts, counts[1:])):
            raise ValueError(f'{name}: bucket counts decrease')
        count = [s[2] for s in samples if s[0] == name + '_count']
        total = [s[2] for s in samples if s[0] == name + '_sum']
        if len(count) != 1 or len(total) != 1:
            raise ValueError(f'{name}: needs exactly one _count and one _sum')
        if count[0] != counts[-1]:
            raise ValueError(f'{name}: _count {count[0]} != +Inf bucket {counts[-1]}')
