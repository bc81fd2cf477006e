"""Security checks.

- Secrets: plumb runs here (and in every test of this suite: rel.run / rel.start record and
  check all output) with temporary credentials — a secret key and a session token — at debug
  log level, through whoami, plan, apply, failures and credential refreshes: neither string
  ever appears in stdout, stderr, or the state file.
- The state file is 0600 (its -wal, -shm and lock file too) in a 0700 directory, whatever the
  umask.
- TLS: with AWS_ENDPOINT_URL=https://127.0.0.1:PORT served with a self-signed certificate
  (made with the openssl CLI at test time), plumb refuses: certificate error, no request
  served. pkg/http verifies peer and host for every https URL, loopback included; plain http
  is allowed to loopback only (a non-loopback address is never used in a test).
- No shell commands: strace -f -e trace=execve over whoami, plan, apply and the daemon shows
  one execve, plumb itself; and pkg/ and cmd/ call no system/popen/exec*/posix_spawn/fork."""
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time

import pytest

import rel as R

C = R.C


def test_secrets_never_in_output_or_state(ws):
    names = C.stacks(ws.m, 2)
    env = dict(ws.env, PLUMB_LOG_LEVEL='debug')
    assert env['AWS_SESSION_TOKEN'] and env['AWS_SECRET_ACCESS_KEY'] in R.SECRETS
    outputs = []
    for args in (['whoami'], ['whoami', '--output', 'json'], ['plan', '-f', ws.m, '--state',
                                                            ws.state]):
        rc, out, err = R.run(env, *args)
        outputs.append(out + err)
    rc, out, err = R.apply(env, ws.m, ws.state)
    assert rc == 0, err[-2000:]
    outputs.append(out + err)
    # failures print AWS errors, request ids and the signing context: still no secret
    ws.emu.set_faults({'errors': [{'rate': 1.0, 'status': 500}]})
    C.set_version(ws.m, '9.0.0')
    rc, out, err = R.apply(dict(env, AWS_MAX_ATTEMPTS='2'), ws.m, ws.state, timeout=120)
    ws.emu.clear_faults()
    assert rc == 1
    outputs.append(out + err)
    # a wrong secret: the signature error the emulator sends back is printed
    bad = dict(env, AWS_SECRET_ACCESS_KEY=env['AWS_SECRET_ACCESS_KEY'][:-4] + 'XXXX')
    R.note_secret(bad['AWS_SECRET_ACCESS_KEY'])
    rc, out, err = R.run(bad, 'whoami')
    assert rc == 1 and ('SignatureDoesNotMatch' in err or 'Signature' in err), err
    outputs.append(out + err)
    # an expired session: plumb says so, without the token
    ws.emu.advance(13 * 3600)
    rc, out, err = R.run(env, 'whoami')
    assert rc == 1, err
    outputs.append(out + err)
    for text in outputs:
        assert not R.leaks_in(text)
    assert 'level=debug' in ''.join(outputs)
    # the state file holds no credential either
    for f in os.listdir(os.path.dirname(ws.state)):
        with open(os.path.join(os.path.dirname(ws.state), f), 'rb') as fh:
            blob = fh.read()
        for s in R.SECRETS:
            assert s.encode() not in blob, f
    del names


@pytest.mark.parametrize('umask', [0o022, 0o000])
def test_state_file_modes(ws, umask):
    C.stacks(ws.m, 1)
    rc, out, err = R.apply(ws.env, ws.m, ws.state, preexec_fn=lambda: os.umask(umask))
    assert rc == 0, err[-2000:]
    # leave the WAL in place: a daemon-like reader sees the sidecars too
    d = os.path.dirname(ws.state)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, oct(os.stat(d).st_mode)
    for f in os.listdir(d):
        mode = stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode)
        assert mode == 0o600, (f, oct(mode))
    assert os.path.exists(ws.state)


class TLSServer:
    """A loopback TLS server with a self-signed certificate; records whether any HTTP request
    got through the handshake."""

    def __init__(self, tmp):
        self.cert = os.path.join(str(tmp), 'cert.pem')
        self.key = os.path.join(str(tmp), 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', self.key, '-out', self.cert], check=True,
                       capture_output=True, timeout=60)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, self.key)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handshakes_failed = 0
        self.requests = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(5)
                with self.ctx.wrap_socket(conn, server_side=True) as s:
                    data = s.recv(65536)
                    if data:
                        self.requests += 1
                        s.sendall(b'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n'
                                  b'Connection: close\r\n\r\n')
            except (ssl.SSLError, OSError):
                self.handshakes_failed += 1

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


def test_tls_verification_on_an_https_endpoint(ws, tmp_path):
    srv = TLSServer(tmp_path)
    try:
        env = dict(ws.env, AWS_ENDPOINT_URL='https://127.0.0.1:%d' % srv.port,
                   AWS_MAX_ATTEMPTS='1')
        rc, out, err = R.run(env, 'whoami', timeout=120)
        assert rc == 1, (out, err)
        assert re.search(r'certificate|SSL|TLS', err, re.I), err
        C.stacks(ws.m, 1)
        rc, out, err = R.run(env, 'plan', '-f', ws.m, '--state', ws.state, timeout=120)
        assert rc == 1 and re.search(r'certificate|SSL|TLS', err, re.I), err
        assert srv.requests == 0, 'a request went over an unverified TLS connection'
        assert srv.handshakes_failed >= 1
    finally:
        srv.close()


def tracee(pid):
    """The first child of strace: plumb."""
    for _ in range(50):
        for t in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/children' % (pid, t)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        time.sleep(0.1)
    raise AssertionError('strace started no child')


def strace_execs(env, args, tmp, run_for=None):
    """execve calls made by plumb ARGS under strace -f; returns [(path, result)]."""
    if not shutil.which('strace'):
        pytest.skip('strace is not installed (tools/deps.sh installs it)')
    log = os.path.join(str(tmp), 'strace-%d.log' % time.monotonic_ns())
    cmd = ['strace', '-f', '-qq', '-e', 'trace=execve,execveat', '-o', log, R.PLUMB] + args
    if run_for is None:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        R._record(cmd, p.stdout, p.stderr)
    else:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        run_for(p)
        out, err = p.communicate(timeout=60)
        R._record(cmd, out, err)
    with open(log) as f:
        text = f.read()
    return re.findall(r'execve(?:at)?\((?:[^,]*, )?"([^"]*)".*= (-?\d+)', text)


def test_no_shell_commands(ws, tmp_path):
    C.stacks(ws.m, 2)
    runs = [['whoami'], ['plan', '-f', ws.m, '--state', ws.state],
            ['apply', '--yes', '-f', ws.m, '--state', ws.state]]
    seen = []
    for args in runs:
        execs = strace_execs(ws.env, args, tmp_path)
        seen.append((args[0], execs))
        assert execs and all(path == R.PLUMB for path, _ in execs), (args, execs)
    ok, why = R.daemon_available()
    if ok:
        def drive(p):
            time.sleep(3)
            child = tracee(p.pid)
            os.kill(child, signal.SIGHUP)
            time.sleep(2)
            os.kill(child, signal.SIGTERM)
        C.set_version(ws.m, '4.0.0')
        execs = strace_execs(ws.env, ['run', '-f', ws.m, '--state', ws.state, '--listen',
                                      '127.0.0.1:0', '--resync', '1s'], tmp_path, drive)
        assert execs and all(path == R.PLUMB for path, _ in execs), execs
    else:
        R.FIGURES['skipped'].append(why)


SHELL_CALLS = re.compile(r'\b(system|popen|execl|execlp|execle|execv|execvp|execvpe|fexecve|'
                         r'posix_spawnp?|fork|vfork|wordexp)\s*\(')


def test_source_runs_no_commands():
    hits = []
    for top in ('pkg', 'cmd'):
        for root, _, files in os.walk(os.path.join(R.REPO, top)):
            for f in files:
                if not f.endswith(('.c', '.h')):
                    continue
                path = os.path.join(root, f)
                with open(path, errors='replace') as fh:
                    for i, line in enumerate(fh, 1):
                        code = line.split('//')[0]
                        if SHELL_CALLS.search(code) and not code.lstrip().startswith('*'):
                            hits.append('%s:%d: %s' % (os.path.relpath(path, R.REPO), i,
                                                       line.strip()))
    assert not hits, hits
