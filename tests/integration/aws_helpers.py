"""Helpers for the pkg/aws integration tests (test_aws_*.py): start the emulator, run
`plumb whoami` and the test-only driver build/tests/aws_tool with a clean environment, and serve
fake IMDS / container-credential endpoints on loopback."""
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'tests', 'emulator'))
import client as emulator  # noqa: E402

PLUMB = os.environ.get('PLUMB_BIN', os.path.join(REPO, 'bin', 'plumb'))
AWS_TOOL = os.environ.get('PLUMB_AWS_TOOL', os.path.join(REPO, 'build', 'tests', 'aws_tool'))


def clean_env(emu, home, creds=True, **extra):
    """Only what the test sets: no stray AWS_* from the machine, IMDS off unless asked."""
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(home), 'AWS_REGION': 'us-east-1',
           'AWS_ENDPOINT_URL': emu.url, 'AWS_EC2_METADATA_DISABLED': 'true',
           'AWS_CONFIG_FILE': os.path.join(str(home), 'config'),
           'AWS_SHARED_CREDENTIALS_FILE': os.path.join(str(home), 'credentials')}
    if creds:
        env['AWS_ACCESS_KEY_ID'] = emulator.ACCESS_KEY
        env['AWS_SECRET_ACCESS_KEY'] = emulator.SECRET_KEY
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def whoami(env, *args):
    p = subprocess.run([PLUMB, 'whoami', '--output', 'json', *args], env=env,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def tool_call(env, op, payload, *args, timeout=300):
    p = subprocess.run([AWS_TOOL, 'call', op, json.dumps(payload), *map(str, args)], env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert p.stdout, 'aws_tool printed nothing: ' + p.stderr
    return p.returncode, json.loads(p.stdout), p.stderr


class FakeServer:
    """A loopback HTTP server whose handler is a function (method, path, headers) ->
    (status, body). Records every request."""

    def __init__(self, handler):
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def _do(self):
                outer.requests.append((self.command, self.path, dict(self.headers)))
                status, body = handler(self.command, self.path, self.headers)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _do

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
