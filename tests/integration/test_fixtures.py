"""Manifest fixtures against the real `plumb` binary and the JSON Schemas.

For every fixture under tests/fixtures/ and every example under manifests/examples/:

  * `plumb validate -f FIXTURE` exits 0 for valid ones; for invalid ones it exits 1 and prints the
    error at the location and with the message that FIXTURE.expect names;
  * `plumb validate --output json` reports the same error as structured JSON;
  * the JSON Schemas (schema/*.json, checked with ajv by tests/schema/check.mjs) agree: valid
    fixtures and examples are schema-valid, and each invalid fixture gets the verdict its
    `schema:` line states (`valid` only where a per-document schema cannot see the error);
  * `plumb render -f FIXTURE` prints YAML, and the `plumb/spec-hash` annotations of the pairs in
    tests/fixtures/hash-equal/ are equal while those of tests/fixtures/hash-differ/ differ.

An invalid fixture is NAME.yaml (or a directory NAME/ for cross-file cases) with NAME.expect:

    location: FILE:LINE[:COL]   FILE is NAME.yaml, or a path inside NAME/ for directories
    message: SUBSTRING          must appear in the error reported at that location
    schema: invalid | valid     what ajv says of the fixture
    why: ...                    (with `schema: valid`) why the schema cannot see the error

Run with Debian's Python: /usr/bin/python3 -m pytest tests/integration/test_fixtures.py
Environment: PLUMB_BIN (default bin/plumb, relative to the repository).
"""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

try:  # Debian's python3-yaml; only the render checks need it
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    yaml = None

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join("tests", "fixtures")
EXAMPLES = os.path.join("manifests", "examples")
SCHEMA_DIR = os.path.join(REPO, "tests", "schema")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMEOUT = 60
HUGE_BYTES = 20 * 1024 * 1024


# Fixtures where `plumb validate` and the fixture disagree today, with the reason. Each is a
# reported validator issue; remove the entry when it is fixed (the test then runs normally).
KNOWN_MISMATCHES = {
}


def _known(fixtures):
    out = []
    for f in fixtures:
        why = KNOWN_MISMATCHES.get(_id(f))
        out.append(pytest.param(f, marks=pytest.mark.xfail(reason=why, strict=False)) if why else f)
    return out


# ------------------------------------------------------------------------------ discovery

def _entries(rel):
    abs_dir = os.path.join(REPO, rel)
    if not os.path.isdir(abs_dir):
        return []
    return [os.path.join(rel, n) for n in sorted(os.listdir(abs_dir))]


def _is_fixture(rel):
    return os.path.isdir(os.path.join(REPO, rel)) or rel.endswith((".yaml", ".yml"))


def valid_fixtures():
    return [p for p in _entries(os.path.join(FIXTURES, "valid")) if _is_fixture(p)]


def invalid_fixtures():
    return [p for p in _entries(os.path.join(FIXTURES, "invalid")) if _is_fixture(p)]


def examples():
    out = []
    if os.path.isdir(os.path.join(REPO, EXAMPLES)):
        out.append(EXAMPLES)
        out += [p for p in _entries(EXAMPLES) if os.path.isdir(os.path.join(REPO, p))]
    return out


def pairs(kind):
    return [p for p in _entries(os.path.join(FIXTURES, kind)) if os.path.isdir(os.path.join(REPO, p))]


def pair_files():
    out = []
    for kind in ("hash-equal", "hash-differ"):
        for p in pairs(kind):
            out += [f for f in _entries(p) if f.endswith((".yaml", ".yml"))]
    return out


def _id(path):
    return path.replace(os.sep, "/").split("tests/fixtures/", 1)[-1]


def expect_path(fixture):
    base = fixture[:-5] if fixture.endswith(".yaml") else fixture[:-4] if fixture.endswith(".yml") else fixture
    return os.path.join(REPO, base + ".expect")


def read_expect(fixture):
    """The .expect of an invalid fixture as a dict (location, message, schema, why)."""
    out = {}
    with open(expect_path(fixture), encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            assert sep, "%s: not a `key: value` line: %r" % (expect_path(fixture), line)
            out[key.strip()] = value.strip()
    return out


def location_prefix(fixture, location):
    """`PATH:LINE:COL:` (or `PATH:LINE:`) as plumb prints it for the fixture given as `fixture`."""
    m = re.match(r"^(.+?):(\d+)(?::(\d+))?$", location)
    assert m, "bad location %r" % location
    file, line, col = m.group(1), m.group(2), m.group(3)
    if os.path.isdir(os.path.join(REPO, fixture)):
        path = fixture + "/" + file
    else:
        assert file == os.path.basename(fixture), "location names %s, fixture is %s" % (file, fixture)
        path = fixture
    return path + ":" + line + (":" + col if col else "") + ":", file, int(line), int(col) if col else None


# ------------------------------------------------------------------------------ running plumb

def plumb_bin():
    b = os.environ.get("PLUMB_BIN", "bin/plumb")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


@pytest.fixture(scope="session")
def plumb():
    b = plumb_bin()
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        pytest.skip("plumb binary not built (%s); run `make` or set PLUMB_BIN" % b)

    def run(*args, timeout=TIMEOUT):
        env = dict(os.environ, NO_COLOR="1", TERM="dumb", AWS_EC2_METADATA_DISABLED="true")
        t0 = time.monotonic()
        p = subprocess.run([b] + list(args), cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        p.elapsed = time.monotonic() - t0
        p.out = ANSI.sub("", p.stdout.decode("utf-8", "replace"))
        p.err = ANSI.sub("", p.stderr.decode("utf-8", "replace"))
        p.text = p.out + ("\n" if p.out and not p.out.endswith("\n") else "") + p.err
        return p
    return run


def describe(p):
    return "exit %s\n--- stdout\n%s\n--- stderr\n%s" % (p.returncode, p.out[-6000:], p.err[-6000:])


def error_blocks(text, path_root):
    """Error reports in plumb's text output: a line naming a location under path_root plus any
    continuation lines up to the next such line."""
    blocks, cur = [], None
    for line in text.splitlines():
        if path_root in line and re.search(re.escape(path_root) + r"[^:\s]*:\d+:", line):
            cur = [line]
            blocks.append(cur)
        elif cur is not None:
            cur.append(line)
    return ["\n".join(b) for b in blocks]


def assert_reports(p, fixture, exp):
    prefix, _, _, _ = location_prefix(fixture, exp["location"])
    blocks = error_blocks(p.text, fixture)
    at = [b for b in blocks if prefix in b.splitlines()[0]]
    assert at, "no error reported at %s\n%s" % (prefix, describe(p))
    assert any(exp["message"] in b for b in at), \
        "error at %s does not say %r\n%s" % (prefix, exp["message"], describe(p))


# ------------------------------------------------------------------------------ ajv

@pytest.fixture(scope="session")
def ajv():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not installed (tools/deps.sh installs them)")
    if not os.path.isdir(os.path.join(SCHEMA_DIR, "node_modules")):
        p = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SCHEMA_DIR,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        assert p.returncode == 0, "npm ci in tests/schema failed:\n" + p.stdout.decode("utf-8", "replace")

    def check(*paths):
        p = subprocess.run([node, os.path.join(SCHEMA_DIR, "check.mjs")] + list(paths), cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        assert p.returncode == 0, "check.mjs failed:\n" + p.stderr.decode("utf-8", "replace")
        return {r["fixture"]: r for r in map(json.loads, p.stdout.decode("utf-8").splitlines())}
    return check


@pytest.fixture(scope="session")
def ajv_results(ajv):
    return ajv()


# ------------------------------------------------------------------------------ structure

def test_fixture_inventory():
    """Every invalid fixture has a well-formed .expect and every .expect a fixture."""
    assert len(valid_fixtures()) >= 20
    assert len(invalid_fixtures()) >= 80
    inv_dir = os.path.join(REPO, FIXTURES, "invalid")
    names = {os.path.splitext(os.path.basename(f))[0] if not os.path.isdir(os.path.join(REPO, f))
             else os.path.basename(f) for f in invalid_fixtures()}
    expects = {n[:-7] for n in os.listdir(inv_dir) if n.endswith(".expect")}
    assert names == expects, "fixtures without .expect: %s; .expect without fixture: %s" % (
        sorted(names - expects), sorted(expects - names))
    for f in invalid_fixtures():
        exp = read_expect(f)
        assert {"location", "message", "schema"} <= set(exp), f
        assert exp["schema"] in ("valid", "invalid"), f
        if exp["schema"] == "valid":
            assert exp.get("why"), "%s: `schema: valid` needs a `why:` line" % f
        location_prefix(f, exp["location"])
    for kind in ("hash-equal", "hash-differ"):
        assert pairs(kind), "no %s pairs" % kind
        for p in pairs(kind):
            for f in ("a.yaml", "b.yaml"):
                assert os.path.isfile(os.path.join(REPO, p, f)), "%s lacks %s" % (p, f)


# ------------------------------------------------------------------------------ schema agreement

@pytest.mark.parametrize("fixture", valid_fixtures() + examples() + pair_files(), ids=_id)
def test_schema_accepts(ajv_results, fixture):
    r = ajv_results.get(fixture)
    assert r is not None, "check.mjs did not report %s" % fixture
    assert r["valid"], "schema rejects %s:\n  %s" % (fixture, "\n  ".join(r["errors"][:20]))


@pytest.mark.parametrize("fixture", invalid_fixtures(), ids=_id)
def test_schema_verdict(ajv_results, fixture):
    exp = read_expect(fixture)
    r = ajv_results.get(fixture)
    assert r is not None, "check.mjs did not report %s" % fixture
    want = exp["schema"] == "valid"
    assert r["valid"] == want, "schema says %s, %s.expect says schema: %s\n  %s" % (
        "valid" if r["valid"] else "invalid", fixture, exp["schema"], "\n  ".join(r["errors"][:20]))


# ------------------------------------------------------------------------------ plumb validate

@pytest.mark.parametrize("fixture", valid_fixtures() + examples() + pair_files(), ids=_id)
def test_validate_accepts(plumb, fixture):
    p = plumb("validate", "-f", fixture)
    assert p.returncode == 0, "plumb validate rejects %s\n%s" % (fixture, describe(p))


@pytest.mark.parametrize("fixture", _known(invalid_fixtures()), ids=_id)
def test_validate_rejects(plumb, fixture):
    exp = read_expect(fixture)
    p = plumb("validate", "-f", fixture)
    assert p.returncode == 1, "plumb validate should exit 1 for %s\n%s" % (fixture, describe(p))
    assert_reports(p, fixture, exp)


@pytest.mark.parametrize("fixture", _known(invalid_fixtures()), ids=_id)
def test_validate_json(plumb, fixture):
    exp = read_expect(fixture)
    p = plumb("validate", "--output", "json", "-f", fixture)
    assert p.returncode == 1, describe(p)
    try:
        doc = json.loads(p.out)
    except ValueError as e:
        pytest.fail("--output json is not JSON (%s)\n%s" % (e, describe(p)))
    assert doc.get("valid") is False, describe(p)
    errors = doc.get("errors")
    assert isinstance(errors, list) and errors, describe(p)
    for e in errors:
        missing = {"file", "line", "column", "path", "message"} - set(e)
        assert not missing, "error lacks %s: %r" % (sorted(missing), e)
        assert isinstance(e["line"], int) and isinstance(e["column"], int), e
        assert isinstance(e["message"], str) and isinstance(e["file"], str), e
    _, file, line, col = location_prefix(fixture, exp["location"])
    want_file = fixture + "/" + file if os.path.isdir(os.path.join(REPO, fixture)) else fixture
    hits = [e for e in errors if e["file"].replace(os.sep, "/").endswith(want_file.replace(os.sep, "/"))
            and e["line"] == line and (col is None or e["column"] == col)]
    assert hits, "no JSON error at %s\n%s" % (exp["location"], json.dumps(errors, indent=1)[:6000])
    assert any(exp["message"] in e["message"] or exp["message"] in e["path"] for e in hits), \
        "JSON errors at %s do not say %r:\n%s" % (exp["location"], exp["message"], json.dumps(hits, indent=1))


def test_validate_json_valid(plumb):
    p = plumb("validate", "--output", "json", "-f", EXAMPLES)
    assert p.returncode == 0, describe(p)
    doc = json.loads(p.out)
    assert doc.get("valid") is True and doc.get("errors") == [], doc


def test_huge_file(plumb, ajv, tmp_path):
    """A 20 MiB manifest (one huge string) is refused promptly, without a crash."""
    path = tmp_path / "huge.yaml"
    with open(path, "w") as f:
        f.write("apiVersion: plumb/v1\nkind: Topic\nmetadata:\n  name: huge\nspec:\n"
                "  attributes:\n    DisplayName: ")
        chunk = "x" * (1 << 20)
        for _ in range(HUGE_BYTES >> 20):
            f.write(chunk)
        f.write("\n")
    p = plumb("validate", "-f", str(path), timeout=120)
    assert p.returncode == 1, describe(p)
    assert p.elapsed < TIMEOUT, "took %.1fs" % p.elapsed
    assert str(path) + ":" in p.text, describe(p)
    assert re.search(r"too (long|large|big)|larger than", p.text), describe(p)
    r = ajv(str(path))[str(path)]
    assert not r["valid"]


# ------------------------------------------------------------------------------ plumb render

def _need_yaml():
    if yaml is None:
        pytest.skip("Debian's python3-yaml is not installed: cannot parse `plumb render` output")


def render(plumb, path):
    p = plumb("render", "-f", path)
    assert p.returncode == 0, "plumb render fails on %s\n%s" % (path, describe(p))
    try:
        docs = [d for d in yaml.safe_load_all(p.out) if d is not None]
    except yaml.YAMLError as e:
        pytest.fail("plumb render output of %s is not YAML: %s\n%s" % (path, e, describe(p)))
    return docs


def spec_hashes(docs, path):
    out = {}
    for d in docs:
        assert isinstance(d, dict), "rendered document is not a mapping: %r" % (d,)
        meta = d.get("metadata") or {}
        h = (meta.get("annotations") or {}).get("plumb/spec-hash")
        if h is None:
            continue
        key = "%s/%s" % (d.get("kind"), meta.get("name"))
        assert key not in out, "%s rendered twice from %s" % (key, path)
        out[key] = h
    assert out, "no resource of %s carries a plumb/spec-hash annotation" % path
    return out


@pytest.mark.parametrize("fixture", valid_fixtures() + examples(), ids=_id)
def test_render(plumb, fixture):
    _need_yaml()
    docs = render(plumb, fixture)
    assert docs, "plumb render printed no documents for %s" % fixture


@pytest.mark.parametrize("pair", pairs("hash-equal"), ids=_id)
def test_hash_equal(plumb, pair):
    _need_yaml()
    a = spec_hashes(render(plumb, pair + "/a.yaml"), pair + "/a.yaml")
    b = spec_hashes(render(plumb, pair + "/b.yaml"), pair + "/b.yaml")
    assert a == b, "spec hashes differ:\n a: %s\n b: %s" % (a, b)


@pytest.mark.parametrize("pair", pairs("hash-differ"), ids=_id)
def test_hash_differ(plumb, pair):
    _need_yaml()
    a = spec_hashes(render(plumb, pair + "/a.yaml"), pair + "/a.yaml")
    b = spec_hashes(render(plumb, pair + "/b.yaml"), pair + "/b.yaml")
    assert set(a) == set(b), "a and b render different resources: %s vs %s" % (sorted(a), sorted(b))
    same = sorted(k for k in a if a[k] == b[k])
    assert not same, "spec hashes should differ but are equal for %s" % same
