"""contrib/: the man page, the bash and zsh completions, the systemd unit and the Kubernetes
manifests, checked against the real binary.

The command line is the source of truth: every command in `plumb --help` and every flag that
`plumb <command> --help` prints must appear in contrib/man/plumb.1 and in both completion
scripts (and the bash completion must actually offer it), so whoever adds a flag is told
where else to add it. A command that still says "not built yet" is skipped, not failed."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRIB = os.path.join(REPO, 'contrib')
MAN = os.path.join(CONTRIB, 'man', 'plumb.1')
BASH = os.path.join(CONTRIB, 'completions', 'plumb.bash')
ZSH = os.path.join(CONTRIB, 'completions', '_plumb')
UNIT = os.path.join(CONTRIB, 'systemd', 'plumb.service')
ENVFILE = os.path.join(CONTRIB, 'systemd', 'plumb.env')
K8S = os.path.join(CONTRIB, 'kubernetes')
PLUMB = os.environ.get('PLUMB_BIN', os.path.join(REPO, 'bin', 'plumb'))

# The metric families `plumb run` serves (pkg/reconcile/daemon.c, plumb__rc_metrics); PromQL
# may also use Prometheus' own `up`. Histogram series add _bucket, _sum and _count.
METRICS = {'plumb_build_info', 'plumb_ready', 'plumb_resources', 'plumb_drifted_resources',
           'plumb_reconcile_duration_seconds', 'plumb_passes_total', 'plumb_actions_total',
           'plumb_aws_calls_total', 'plumb_aws_throttles_total', 'plumb_aws_retries_total',
           'plumb_queue_depth', 'plumb_last_good_pass_timestamp_seconds'}
STATUS_PORT = 9464


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=30, **kw)


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


# ------------------------------------------------------------------ the command line, parsed

def _commands():
    try:
        p = _run([PLUMB, '--help'])
    except OSError:
        return []
    out, cmds, inside = p.stdout, [], False
    for line in out.splitlines():
        if line.strip() == 'commands:':
            inside = True
            continue
        if inside:
            m = re.match(r'^  ([a-z][a-z-]*)\s', line)
            if not m:
                break
            cmds.append(m.group(1))
    return cmds


COMMANDS = _commands()
FLAG_RE = re.compile(r'(?<![\w/.-])(--?[A-Za-z][A-Za-z0-9-]*)')


def _help(cmd):
    """The command's --help text, or None while it is not built yet."""
    p = _run([PLUMB, cmd, '--help'])
    text = p.stdout + p.stderr
    if 'not built yet' in text or p.returncode != 0:
        return None
    return p.stdout


def _help_or_skip(cmd):
    h = _help(cmd)
    if h is None:
        pytest.skip('plumb %s is not built yet ("plumb %s --help" prints "not built yet"): '
                    'its flags are checked once it is' % (cmd, cmd))
    return h


def _flags(help_text):
    """The flags of the usage synopsis and of the option list, not those named in prose
    ("as --refresh full does", "'plumb apply --adopt'")."""
    lines = help_text.splitlines()
    found = set()
    i = 0
    while i < len(lines) and lines[i].strip():  # the usage block, up to the first blank line
        found.update(FLAG_RE.findall(lines[i]))
        i += 1
    for line in lines[i:]:
        # "  -f, --manifests PATH  text" or "      --prune, --no-prune  text": an option
        # line is indented a little; description continuations are indented further.
        m = re.match(r'^ {1,8}(-[^ ].*?)(?:  |$)', line)
        if m:
            found.update(FLAG_RE.findall(m.group(1)))
    return sorted(found)


def _mentions(text, word):
    return re.search(r'(?<![\w-])' + re.escape(word) + r'(?![\w-])', text) is not None


def _man_text():
    # roff escapes: \- is a hyphen-minus, \fB..\fR are fonts.
    s = _read(MAN).replace('\\-', '-')
    return re.sub(r'\\f[BIRP]', '', s)


def test_help_lists_commands():
    assert PLUMB and os.access(PLUMB, os.X_OK), 'no plumb binary at %s (make)' % PLUMB
    assert {'validate', 'plan', 'apply', 'run', 'drift', 'export', 'whoami'} <= set(COMMANDS), \
        COMMANDS


@pytest.mark.parametrize('cmd', COMMANDS or ['<plumb --help printed no commands>'])
def test_man_and_completions_cover_every_flag(cmd):
    """Every command and every flag of `plumb CMD --help` is in plumb.1, plumb.bash, _plumb."""
    assert COMMANDS, 'plumb --help printed no command list'
    man, bash, zsh = _man_text(), _read(BASH), _read(ZSH)
    missing = []
    if not re.search(r'^\.SS plumb %s$' % re.escape(cmd), man, re.M):
        missing.append('plumb.1: no ".SS plumb %s" section' % cmd)
    if not re.search(r"^_plumb_commands='[^']*\b%s\b" % re.escape(cmd), bash, re.M):
        missing.append('plumb.bash: %s not in _plumb_commands' % cmd)
    if not re.search(r"^\s+'%s:" % re.escape(cmd), zsh, re.M):
        missing.append("_plumb: no '%s:description' in _plumb_commands" % cmd)
    if not re.search(r'^\s+%s\)' % re.escape(cmd), zsh, re.M):
        missing.append('_plumb: no "%s)" case for its options' % cmd)
    h = _help_or_skip(cmd)
    flags = _flags(h)
    assert flags or cmd == 'render', 'no flags found in plumb %s --help' % cmd
    for f in flags:
        if not _mentions(man, f):
            missing.append('plumb.1: %s %s' % (cmd, f))
        if not _mentions(bash, f):
            missing.append('plumb.bash: %s %s' % (cmd, f))
        if not _mentions(zsh, f):
            missing.append('_plumb: %s %s' % (cmd, f))
    assert not missing, ('flags/commands of `plumb %s --help` missing from contrib/ '
                         '(add them there):\n  ' % cmd) + '\n  '.join(missing)


# ------------------------------------------------------------------ man page

def _groff_warnings(*extra):
    p = _run(['groff', '-man', '-Tutf8', '-ww', '-z', *extra, MAN])
    return p.returncode, p.stderr.strip()


@pytest.mark.skipif(not shutil.which('groff'), reason='groff not installed (groff-base)')
def test_man_renders_without_warnings():
    for extra in ([], ['-rLL=70n'], ['-rLL=100n']):
        rc, err = _groff_warnings(*extra)
        assert rc == 0 and not err, 'groff %s: %s' % (extra, err)
    if shutil.which('man'):
        for width in ('80', '100'):
            env = dict(os.environ, MANWIDTH=width, LC_ALL='C.UTF-8')
            p = _run(['man', '--warnings', '-l', MAN], env=env)
            assert p.returncode == 0 and not p.stderr.strip(), \
                'man --warnings (MANWIDTH=%s): %s' % (width, p.stderr)
            assert 'plumb validate' in p.stdout


def test_man_sections_exit_codes_env_files():
    man = _man_text()
    for sec in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'ENVIRONMENT', 'FILES',
                'EXIT STATUS', 'EXAMPLES', 'SEE ALSO'):
        assert re.search(r'^\.SH "?%s"?$' % sec, man, re.M), 'plumb.1 lacks section %s' % sec
    exits = man.split('.SH EXIT STATUS', 1)[1].split('.SH ', 1)[0]
    for code in ('0', '1', '2', '64'):
        assert re.search(r'^\.B %s$' % code, exits, re.M), 'EXIT STATUS lacks %s' % code
    for var in ('PLUMB_OWNER', 'PLUMB_LOG_LEVEL', 'PLUMB_LOG_FORMAT', 'PLUMB_SYNC_TOKEN',
                'NO_COLOR', 'AWS_REGION', 'AWS_PROFILE', 'AWS_ENDPOINT_URL',
                'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_MAX_ATTEMPTS'):
        assert var in man, 'plumb.1 ENVIRONMENT lacks %s' % var
    assert '.plumb/state.db' in man and '.plumb/state.db.lock' in man
    for path in ('/healthz', '/readyz', '/metrics', '/status', '/sync'):
        assert path in man
    for m in METRICS:
        assert m in man, 'plumb.1 does not list the metric %s' % m


def test_man_version_matches_binary():
    v = _run([PLUMB, '--version']).stdout.split()[-1]
    th = re.search(r'^\.TH PLUMB 1 "[^"]*" "plumb ([^"]+)"', _read(MAN), re.M)
    assert th, 'no .TH line'
    assert th.group(1) == v, 'plumb.1 says version %s, plumb --version %s' % (th.group(1), v)


# ------------------------------------------------------------------ bash completion

BASH_DRIVER = r'''
source "$1"
shift
# One case per argument: the words of the line, separated by \x1f; the last one is the word
# being completed. Prints one line per case: the candidates separated by spaces.
for line in "$@"; do
	IFS=$'\x1f' read -r -a COMP_WORDS <<<"$line"
	[[ $line == *$'\x1f' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=${COMP_WORDS[*]}
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_plumb plumb "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
	echo "${COMPREPLY[*]}"
done
'''


def _bash_complete(lines, env=None):
    cases = ['\x1f'.join(words) for words in lines]
    p = subprocess.run(['bash', '--norc', '--noprofile', '-c', BASH_DRIVER, 'drv', BASH, *cases],
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode == 0, p.stderr
    out = p.stdout.split('\n')[:len(lines)]
    return [set(o.split()) for o in out]


def test_bash_syntax():
    p = _run(['bash', '-n', BASH])
    assert p.returncode == 0, p.stderr


def test_bash_completes_commands_and_values(tmp_path):
    cfg = tmp_path / 'config'
    cfg.write_text('[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n'
                   '[sso-session corp]\nsso_region = us-east-1\n')
    (tmp_path / 'creds').write_text('[ci]\naws_access_key_id = x\n')
    (tmp_path / 'manifests').mkdir()
    env = dict(os.environ, AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / 'creds'))
    cases = [
        ['plumb', ''],
        ['plumb', 'p'],
        ['plumb', 'plan', '--o'],
        ['plumb', 'plan', '--refresh', ''],
        ['plumb', 'plan', '--refresh', '=', 'f'],
        ['plumb', 'validate', '-o', ''],
        ['plumb', 'drift', '--output', ''],
        ['plumb', 'run', '--mode', 'o'],
        ['plumb', 'run', '--log-level', ''],
        ['plumb', 'apply', '--target', 'End'],
        ['plumb', 'whoami', '--profile', ''],
        ['plumb', 'whoami', '--region', 'eu-west-'],
        ['plumb', 'plan', '-f', str(tmp_path / 'man')],
        ['plumb', '--'],
    ]
    got = _bash_complete(cases, env=env)
    assert got[0] >= set(COMMANDS), got[0]
    assert got[1] == {'plan'}
    assert got[2] == {'--output', '--out'}, got[2]
    assert got[3] == {'auto', 'full'}
    assert got[4] == {'full'}
    assert got[5] == {'text', 'json'}
    assert got[6] == {'text', 'markdown', 'json', 'junit'}
    assert got[7] == {'observe'}
    assert got[8] == {'debug', 'info', 'warn', 'error'}
    assert got[9] == {'Endpoint/', 'EndpointConfig/'}
    assert got[10] == {'default', 'prod', 'ci'}, got[10]
    assert {'eu-west-1', 'eu-west-2', 'eu-west-3'} <= got[11]
    assert got[12] == {str(tmp_path / 'manifests')}
    assert got[13] == {'--help', '--version'}


@pytest.mark.parametrize('cmd', COMMANDS or ['<none>'])
def test_bash_offers_every_flag(cmd):
    """`plumb CMD -<TAB>` offers every flag of `plumb CMD --help`, and nothing it rejects."""
    h = _help_or_skip(cmd)
    offered = _bash_complete([['plumb', cmd, '-']])[0]
    want = set(_flags(h)) | {'--help'}
    assert want <= offered, 'plumb %s -<TAB> lacks %s' % (cmd, sorted(want - offered))
    # Accepted by every command's shared parser (cmd/plumb/cli.c) even when --help omits them.
    shared = {'-h', '--help', '--color', '--no-color', '-o', '--output', '-f', '--manifests'}
    extra = offered - want - shared
    assert not extra, 'plumb %s -<TAB> offers flags its --help does not list: %s' % (
        cmd, sorted(extra))


# ------------------------------------------------------------------ zsh completion

ZSH_DRIVER = r'''
# One interactive zsh on a pseudo-terminal: for each line, type it, TAB TAB, print what the
# terminal showed, a \x1e separator, then Ctrl-C to drop the line.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "PROMPT='%% '; RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null; LISTMAX=10000; setopt no_beep"
zpty -w z "print -- READY"
local line out idle
while zpty -r -t z line || { sleep 0.05; true }; do [[ $line == *READY* ]] && break; done
shift
for l in "$@"; do
  zpty -n -w z "$l"$'\t\t'
  out='' idle=0
  while (( idle < 10 )); do
    if zpty -r -t z line; then out+=$line; idle=0; else sleep 0.05; (( idle++ )); fi
  done
  print -r -- "$out"
  print -r -- $'\x1e'
  zpty -n -w z $'\x03'
  idle=0
  while (( idle < 4 )); do
    if zpty -r -t z line; then idle=0; else sleep 0.05; (( idle++ )); fi
  done
done
zpty -d z
'''


def _zsh_complete(lines):
    p = subprocess.run(['timeout', '60', 'zsh', '-f', '-c', ZSH_DRIVER, 'drv',
                        os.path.dirname(ZSH), *lines],
                       capture_output=True, text=True, timeout=90,
                       env=dict(os.environ, TERM='dumb', HOME=tempfile.gettempdir()))
    out = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', p.stdout).split('\x1e')
    assert len(out) >= len(lines), 'zsh driver: %r %s' % (p.stdout[-500:], p.stderr)
    return out[:len(lines)]


@pytest.mark.skipif(not shutil.which('zsh'), reason='zsh not installed')
def test_zsh_syntax():
    p = _run(['zsh', '-n', ZSH])
    assert p.returncode == 0, p.stderr


@pytest.mark.skipif(not shutil.which('zsh'), reason='zsh not installed')
def test_zsh_completes():
    '''Through a pseudo-terminal: commands, `plumb plan --o`, a value list, and for every
    built command `plumb CMD -<TAB>` lists every flag of its --help.'''
    built = {c: _help(c) for c in COMMANDS}
    cmds = [c for c in COMMANDS if built[c] is not None]
    lines = ['plumb ', 'plumb plan --o', 'plumb drift --output '] + \
        ['plumb %s -' % c for c in cmds]
    got = _zsh_complete(lines)
    for c in COMMANDS:
        assert re.search(r'\b%s\s+-- ' % c, got[0]), 'zsh: plumb <TAB> lacks %s:\n%s' % (c, got[0])
    assert re.search(r'--output\s+-- ', got[1]) and re.search(r'--out\s+-- ', got[1]), got[1]
    assert all(w in got[2] for w in ('text', 'markdown', 'json', 'junit')), got[2]
    missing = []
    for c, out in zip(cmds, got[3:]):
        missing += ['%s %s' % (c, f) for f in _flags(built[c]) if not _mentions(out, f)]
    assert not missing, 'zsh: plumb CMD -<TAB> does not list: %s' % missing


# ------------------------------------------------------------------ systemd unit

def _unit():
    """[(section, key, value)] with continuation lines joined."""
    out, section, buf = [], None, ''
    for raw in _read(UNIT).splitlines():
        line = buf + raw.strip() if buf else raw.strip()
        if line.endswith('\\'):
            buf = line[:-1] + ' '
            continue
        buf = ''
        if not line or line.startswith(('#', ';')):
            continue
        if line.startswith('['):
            section = line.strip('[]')
            continue
        k, _, v = line.partition('=')
        out.append((section, k.strip(), v.strip()))
    return out


def _dur_s(s):
    m = re.fullmatch(r'(\d+)(ms|s|min|m|h)?', s.strip())
    assert m, 'duration %r' % s
    n, u = int(m.group(1)), m.group(2) or 's'
    return n * {'ms': 0.001, 's': 1, 'm': 60, 'min': 60, 'h': 3600}[u]


def test_systemd_unit_hardening():
    kv = {}
    for sec, k, v in _unit():
        kv.setdefault((sec, k), []).append(v)
    svc = {k: v[-1] for (s, k), v in kv.items() if s == 'Service'}
    want = {
        'DynamicUser': 'yes', 'StateDirectory': 'plumb', 'ProtectSystem': 'strict',
        'ProtectHome': 'yes', 'PrivateTmp': 'yes', 'PrivateDevices': 'yes',
        'NoNewPrivileges': 'yes', 'CapabilityBoundingSet': '', 'MemoryDenyWriteExecute': 'yes',
        'LockPersonality': 'yes', 'RestrictNamespaces': 'yes', 'ProtectKernelTunables': 'yes',
        'ProtectKernelModules': 'yes', 'ProtectKernelLogs': 'yes', 'ProtectControlGroups': 'yes',
        'UMask': '0077', 'KillSignal': 'SIGTERM', 'Restart': 'on-failure',
        'RestrictAddressFamilies': 'AF_INET AF_INET6 AF_UNIX',
        'ExecReload': '/bin/kill -HUP $MAINPID',
    }
    for k, v in want.items():
        assert svc.get(k) == v, '%s=%r, want %r' % (k, svc.get(k), v)
    assert '@system-service' in kv[('Service', 'SystemCallFilter')]
    ex = svc['ExecStart'].split()
    assert ex[1] == 'run', ex
    assert ex[ex.index('--state') + 1] == '${STATE_DIRECTORY}/state.db'
    # SIGTERM must get its whole --shutdown-timeout before systemd escalates.
    envs = dict(v.split('=', 1) for v in kv[('Service', 'Environment')] if '=' in v)
    timeout = ex[ex.index('--shutdown-timeout') + 1]
    if timeout.startswith('${'):
        timeout = envs[timeout[2:-1]]
    assert _dur_s(svc['TimeoutStopSec']) > _dur_s(timeout), (svc['TimeoutStopSec'], timeout)
    env = dict(line.split('=', 1) for line in _read(ENVFILE).splitlines()
               if line and not line.startswith('#'))
    assert _dur_s(svc['TimeoutStopSec']) > _dur_s(env['PLUMB_SHUTDOWN_TIMEOUT'])
    # Every flag the unit and the env file pass to plumb run exists.
    h = _help('run')
    if h is not None:
        known = set(_flags(h))
        used = [w for w in ex[2:] if w.startswith('-')]
        used += [w for w in env['PLUMB_RUN_ARGS'].split() if w.startswith('-')]
        for line in _read(ENVFILE).splitlines():
            if line.startswith('#PLUMB_RUN_ARGS='):
                used += [w for w in line.split('=', 1)[1].split() if w.startswith('-')]
        unknown = [w for w in used if w.split('=')[0] not in known]
        assert not unknown, 'plumb run does not take %s' % unknown


@pytest.mark.skipif(not shutil.which('systemd-analyze'), reason='systemd-analyze not installed')
def test_systemd_analyze(tmp_path):
    unit = tmp_path / 'plumb.service'
    unit.write_text(_read(UNIT).replace('/usr/local/bin/plumb', os.path.abspath(PLUMB)))
    p = _run(['systemd-analyze', 'verify', '--man=no', str(unit)])
    assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    p = _run(['systemd-analyze', 'security', '--offline=yes', '--threshold=20', str(unit)])
    score = re.search(r'Overall exposure level for plumb.service: ([\d.]+)', p.stdout)
    assert p.returncode == 0, 'exposure above 2.0: ' + (score.group(1) if score else p.stdout[-500:])


# ------------------------------------------------------------------ Kubernetes

try:
    import yaml
except ImportError:  # python3-yaml: not in tools/deps.sh; Debian's python3 usually has it
    yaml = None
need_yaml = pytest.mark.skipif(yaml is None, reason='python3-yaml not installed')


def _k8s_docs():
    docs = {}
    for name in sorted(os.listdir(K8S)):
        if name.endswith(('.yaml', '.yml')):
            with open(os.path.join(K8S, name)) as f:
                docs[name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return docs


def _by_kind(kind):
    found = [d for docs in _k8s_docs().values() for d in docs if d.get('kind') == kind]
    assert len(found) == 1, '%d %s documents' % (len(found), kind)
    return found[0]


@need_yaml
def test_k8s_yaml_parses_and_is_namespace_free():
    docs = _k8s_docs()
    kust = docs.pop('kustomization.yaml')[0]
    assert set(kust['resources']) == set(docs), 'kustomization resources vs files'
    for name, ds in docs.items():
        assert ds, name + ' is empty'
        for d in ds:
            assert d.get('apiVersion') and d.get('kind') and d['metadata'].get('name'), name
            assert 'namespace' not in d['metadata'], name + ' sets a namespace'
    with open(os.path.join(K8S, 'iam-policy.json')) as f:
        json.load(f)


def _containers(dep):
    spec = dep['spec']['template']['spec']
    return spec.get('initContainers', []) + spec['containers']


def _env(c):
    return {e['name']: e.get('value') for e in c.get('env', [])}


def _arg(args, *names):
    for i, a in enumerate(args):
        for n in names:
            if a == n:
                return args[i + 1]
            if a.startswith(n + '='):
                return a.split('=', 1)[1]
    return None


@need_yaml
def test_k8s_deployment():
    dep = _by_kind('Deployment')
    spec = dep['spec']['template']['spec']
    assert dep['spec']['replicas'] == 1 and dep['spec']['strategy']['type'] == 'Recreate'
    sa = _by_kind('ServiceAccount')
    assert spec['serviceAccountName'] == sa['metadata']['name']
    assert re.fullmatch(r'arn:aws:iam::\d{12}:role/.+',
                        sa['metadata']['annotations']['eks.amazonaws.com/role-arn'])
    assert spec['securityContext']['runAsNonRoot'] is True
    for c in _containers(dep):
        r = c.get('resources', {})
        assert r.get('requests', {}).get('cpu') and r['requests'].get('memory'), c['name']
        assert r.get('limits', {}).get('memory'), c['name'] + ': no memory limit'
        sc = c.get('securityContext', {})
        assert sc.get('runAsNonRoot') is True, c['name']
        assert sc.get('readOnlyRootFilesystem') is True, c['name']
        assert sc.get('allowPrivilegeEscalation') is False, c['name']
        assert sc.get('capabilities', {}).get('drop') == ['ALL'], c['name']

    plumb = next(c for c in spec['containers'] if c['name'] == 'plumb')
    syncs = [c for c in _containers(dep) if 'git-sync' in c['image']]
    assert len(syncs) == 2, 'git-sync: one init container (first clone) and one sidecar'
    sidecar = next(c for c in spec['containers'] if 'git-sync' in c['image'])
    assert re.search(r':v4\.\d+\.\d+$', sidecar['image']), sidecar['image']
    for c in syncs:
        assert not any(k.startswith('GIT_SYNC_') for k in _env(c)), 'v3 variable names'
    assert _env(syncs[0]).get('GITSYNC_ONE_TIME') == 'true'

    # plumb reads through the git-sync link: <GITSYNC_ROOT>/<GITSYNC_LINK>/...
    e = _env(sidecar)
    link = e['GITSYNC_ROOT'].rstrip('/') + '/' + e['GITSYNC_LINK']
    args = plumb['args']
    assert args[0] == 'run', args
    m = _arg(args, '-f', '--manifests')
    assert m == link or m.startswith(link + '/'), (m, link)
    # ... from a shared emptyDir, read-only for plumb.
    vols = {v['name']: v for v in spec['volumes']}
    gm = [vm for vm in sidecar['volumeMounts'] if link.startswith(vm['mountPath'].rstrip('/') + '/')]
    assert gm, 'the sidecar does not mount %s' % e['GITSYNC_ROOT']
    assert 'emptyDir' in vols[gm[0]['name']]
    pm = [vm for vm in plumb['volumeMounts'] if vm['name'] == gm[0]['name']]
    assert pm and pm[0]['mountPath'] == gm[0]['mountPath'] and pm[0].get('readOnly') is True
    state = _arg(args, '--state')
    assert any(state.startswith(vm['mountPath'] + '/') for vm in plumb['volumeMounts']
               if not vm.get('readOnly')), 'state file not on a writable volume'

    # The status port: listened on beyond loopback, probed on the right paths.
    listen = _arg(args, '--listen')
    assert listen and listen.rsplit(':', 1)[1] == str(STATUS_PORT) and \
        not listen.startswith('127.'), listen
    ports = {p['name']: p['containerPort'] for p in plumb['ports']}
    assert STATUS_PORT in ports.values()

    def port(probe):
        p = probe['httpGet']['port']
        return ports.get(p, p)
    assert plumb['livenessProbe']['httpGet']['path'] == '/healthz'
    assert plumb['readinessProbe']['httpGet']['path'] == '/readyz'
    assert port(plumb['livenessProbe']) == STATUS_PORT == port(plumb['readinessProbe'])
    grace = spec['terminationGracePeriodSeconds']
    assert grace > _dur_s(_arg(args, '--shutdown-timeout') or '30s')

    h = _help('run')
    if h is not None:
        known = set(_flags(h))
        unknown = [a for a in args[1:] if a.startswith('-') and a.split('=')[0] not in known]
        assert not unknown, 'plumb run does not take %s' % unknown


@need_yaml
def test_k8s_service_and_servicemonitor():
    svc, sm = _by_kind('Service'), _by_kind('ServiceMonitor')
    dep = _by_kind('Deployment')
    labels = dep['spec']['template']['metadata']['labels']
    assert all(labels.get(k) == v for k, v in svc['spec']['selector'].items())
    p = svc['spec']['ports'][0]
    assert p['port'] == STATUS_PORT
    assert all(svc['metadata']['labels'].get(k) == v
               for k, v in sm['spec']['selector']['matchLabels'].items())
    ep = sm['spec']['endpoints'][0]
    assert ep['port'] == p['name'] and ep['path'] == '/metrics'


PROMQL_WORDS = {'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or',
                'unless', 'bool', 'offset'}


def _metric_names(expr):
    e = re.sub(r'\{[^}]*\}', '', expr)               # label matchers
    e = re.sub(r'\b(by|without|on|ignoring)\s*\([^)]*\)', '', e)
    e = re.sub(r'\[[^\]]*\]', '', e)                  # ranges
    e = re.sub(r'"[^"]*"', '', e)
    names = set()
    for m in re.finditer(r'\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?', e):
        if m.group(2) or m.group(1) in PROMQL_WORDS:
            continue                                  # a function, or a keyword
        names.add(m.group(1))
    return names


def _rule_metrics():
    rules = [r for g in _by_kind('PrometheusRule')['spec']['groups'] for r in g['rules']]
    return rules, set().union(*(_metric_names(r['expr']) for r in rules))


@need_yaml
def test_k8s_prometheus_rules():
    rules, used = _rule_metrics()
    names = {r['alert'] for r in rules}
    assert {'PlumbDown', 'PlumbNoGoodPass', 'PlumbResourcesDrifted',
            'PlumbReconcileErrors'} <= names, names
    for r in rules:
        assert r.get('for') and r['labels'].get('severity') and r['annotations'].get('summary'), r
    hist = {m + s for m in METRICS for s in ('_bucket', '_sum', '_count')}
    unknown = used - METRICS - hist - {'up'}
    assert not unknown, 'PrometheusRule uses metrics plumb run does not serve: %s' % unknown
    drift = next(r for r in rules if r['alert'] == 'PlumbResourcesDrifted')
    assert 'plumb_drifted_resources' in drift['expr'] and drift['for'] == '30m'


@need_yaml
@pytest.mark.skipif(not shutil.which('kubectl'), reason='kubectl not installed')
def test_k8s_kustomize_builds():
    p = _run(['kubectl', 'kustomize', K8S])
    assert p.returncode == 0, p.stderr
    out = list(yaml.safe_load_all(p.stdout))
    dep = next(d for d in out if d['kind'] == 'Deployment')
    cms = {d['metadata']['name'] for d in out if d['kind'] == 'ConfigMap'}
    for c in _containers(dep):
        for ef in c.get('envFrom', []):
            assert ef['configMapRef']['name'] in cms, ef


class Daemon:
    """`plumb run --mode observe` on loopback against the emulator; .get(path) -> (status, body)."""

    def __init__(self, emu, tmp_path, roots, *extra):
        import aws_helpers as H
        self.errpath = tmp_path / 'daemon.stderr'
        self.err = open(self.errpath, 'w+')
        args = [PLUMB, 'run']
        for r in roots:
            args += ['-f', str(r)]
        args += ['--state', str(tmp_path / 'state' / 'state.db'), '--mode', 'observe',
                 '--listen', '127.0.0.1:0', *extra]
        self.p = subprocess.Popen(args, env=H.clean_env(emu, tmp_path),
                                  stdout=subprocess.DEVNULL, stderr=self.err)
        addr, deadline = None, time.time() + 20
        while not addr and time.time() < deadline:
            m = re.search(r'event=listen\b.*?\baddr=(\S+)', self.log())
            addr = m and m.group(1)
            assert self.p.poll() is None or addr, 'plumb run exited: ' + self.log()
            time.sleep(0.05)
        assert addr, 'no event=listen line: ' + self.log()
        self.base = 'http://' + addr

    def log(self):
        return _read(self.errpath)

    def get(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait(self, what, cond, timeout=20):
        deadline = time.time() + timeout
        while not cond():
            assert time.time() < deadline, '%s: not within %ss:\n%s' % (what, timeout, self.log())
            time.sleep(0.05)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=35)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.err.close()


@pytest.fixture(scope='module')
def emu_plain():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import aws_helpers as H
    e = H.emulator.start()
    yield e
    e.stop()


TOPIC = 'apiVersion: plumb/v1\nkind: Topic\nmetadata: {name: %s}\nspec: {}\n'


@need_yaml
def test_daemon_serves_the_alerted_metrics(emu_plain, tmp_path):
    """A running `plumb run` serves exactly the metric families listed here (and in plumb.1),
    every one the alerts use, and /healthz and /readyz."""
    if _help('run') is None:
        pytest.skip('plumb run is not built yet: the lead checks /metrics once it is')
    (tmp_path / 'm').mkdir()
    (tmp_path / 'm' / 'topic.yaml').write_text(TOPIC % 'contrib-test')
    d = Daemon(emu_plain, tmp_path, [tmp_path / 'm'])
    try:
        assert d.get('/healthz')[0] == 200
        d.wait('/readyz 200', lambda: d.get('/readyz')[0] == 200)
        status, text = d.get('/metrics')
        assert status == 200
        families = {f for f in re.findall(r'^# TYPE (\S+) ', text, re.M) if f.startswith('plumb_')}
        _, used = _rule_metrics()
        missing = {m for m in used if m != 'up'} - families
        assert not missing, 'alerts use metrics /metrics lacks: %s' % missing
        assert METRICS == families, \
            'families served vs METRICS here (and in plumb.1): %s' % (METRICS ^ families)
        # The label values the alerts match on exist.
        rules, _ = _rule_metrics()
        for r in rules:
            for name, vals in re.findall(r'(result|state)=~"([^"]+)"', r['expr']):
                for v in vals.split('|'):
                    assert '%s="%s"' % (name, v) in text, (r['alert'], name, v)
    finally:
        d.stop()


def _gitsync_publish(root, link, rev, files):
    """Lays out one sync the way git-sync v4 does: a worktree .worktrees/<hash> whose .git file
    points into root/.git/worktrees/<hash> (HEAD detached at the hash), then the link swapped
    to it atomically (symlink + rename)."""
    wt = root / '.worktrees' / rev
    for rel, text in files.items():
        (wt / rel).parent.mkdir(parents=True, exist_ok=True)
        (wt / rel).write_text(text)
    gd = root / '.git' / 'worktrees' / rev
    gd.mkdir(parents=True)
    (gd / 'HEAD').write_text(rev + '\n')
    (gd / 'commondir').write_text('../..\n')
    (wt / '.git').write_text('gitdir: %s\n' % gd)
    tmp = root / (link + '.tmp')
    os.symlink(os.path.join('.worktrees', rev), tmp)
    os.rename(tmp, root / link)


@need_yaml
@pytest.mark.parametrize('layout', ['link', 'subdir'])
def test_daemon_follows_gitsync_swaps(emu_plain, tmp_path, layout):
    """deployment.yaml's layout: plumb reads through git-sync's link; a new commit published
    by a link swap starts a pass that reads it and records its hash as the revision.
    'link' is the shipped --manifests (the link itself, swap alone); 'subdir' is
    <link>/manifests, which sees the swap once git-sync removes the old worktree (its default)."""
    if _help('run') is None:
        pytest.skip('plumb run is not built yet')
    dep = _by_kind('Deployment')
    spec = dep['spec']['template']['spec']
    plumb = next(c for c in spec['containers'] if c['name'] == 'plumb')
    sidecar = next(c for c in spec['containers'] if 'git-sync' in c['image'])
    e = _env(sidecar)
    rel = os.path.relpath(_arg(plumb['args'], '-f', '--manifests'), e['GITSYNC_ROOT'])
    if layout == 'subdir':
        rel = os.path.join(e['GITSYNC_LINK'], 'manifests')
    root = tmp_path / 'git'
    root.mkdir()
    sub = os.path.relpath(rel, e['GITSYNC_LINK'])
    sub = '' if sub == '.' else sub + '/'
    rev1, rev2 = 'a' * 40, 'b' * 40
    _gitsync_publish(root, e['GITSYNC_LINK'], rev1, {sub + 'topic.yaml': TOPIC % 'one'})
    d = Daemon(emu_plain, tmp_path, [root / rel], '--debounce', '100ms')
    try:
        def status():
            return json.loads(d.get('/status')[1])
        d.wait('first pass', lambda: status()['revision'] == rev1)
        _gitsync_publish(root, e['GITSYNC_LINK'], rev2, {sub + 'topic.yaml': TOPIC % 'two'})
        if layout == 'subdir':
            shutil.rmtree(root / '.worktrees' / rev1)
        d.wait('a pass at the new commit', lambda: status()['revision'] == rev2, timeout=10)
        assert [r['name'] for r in status()['resources'] if r['kind'] == 'Topic'] == ['two']
    finally:
        d.stop()


# ------------------------------------------------------------------ install and README

def test_make_install(tmp_path):
    dest = tmp_path / 'dest'
    p = subprocess.run(['make', '-s', '-o', 'all', 'install', 'DESTDIR=' + str(dest), 'PREFIX=/usr',
                        'PLUMB=' + os.path.abspath(PLUMB)],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    files = {
        'usr/bin/plumb': 0o755,
        'usr/share/man/man1/plumb.1': 0o644,
        'usr/share/bash-completion/completions/plumb': 0o644,
        'usr/share/zsh/site-functions/_plumb': 0o644,
    }
    for rel, mode in files.items():
        st = os.stat(dest / rel)
        assert st.st_mode & 0o777 == mode, (rel, oct(st.st_mode))


def test_readme_points_at_contrib():
    readme = _read(os.path.join(REPO, 'README.md'))
    if 'contrib/' not in readme:
        pytest.skip('README has no Deploying section yet (text in /work/notes/readme-contrib.md)')
    for path in ('contrib/systemd', 'contrib/kubernetes', 'contrib/man/plumb.1',
                 'contrib/completions'):
        assert path in readme, 'README.md does not mention ' + path
