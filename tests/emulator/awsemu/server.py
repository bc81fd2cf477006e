"""HTTP server, request pipeline and routing.

Owns the loopback HTTP/1.1 (keep-alive) threaded server and the pipeline each AWS request goes
through:

1. route: ``X-Amz-Target`` prefix (JSON) or the Query ``Version`` picks the service, with the
   SigV4 credential scope's service as fallback; the target suffix or ``Action`` the operation;
2. latency fault (if any);
3. SigV4 verification (``sigv4``), except for operations the model marks unsigned;
4. drop / throttle / 5xx faults;
5. decoding (``wire``) and validation (``validate``) against the operation's input shape;
6. the service handler (under the emulator lock), then reply encoding against the output shape;
7. drop / 5xx faults marked ``after`` (the operation's effect stays, its reply is lost);
8. a call-log entry.

``/_emulator/...`` paths go to the control API (``control``) instead.
"""

import http.server
import json
import socket
import sys
import time
import traceback
import urllib.parse
from email.utils import formatdate

from . import control, errors, models, shapes, sigv4, validate, wire
from .errors import AwsError, DropConnection
from .services import HANDLERS, UNSIGNED
from .services.common import Call
from .state import request_id

_REASONS = {code: msg for code, (msg, _) in http.server.BaseHTTPRequestHandler.responses.items()}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'plumb-aws-emulator'
    sys_version = ''

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # quiet: the call log is the record
        pass

    def do_POST(self):
        self._dispatch('POST')

    def do_GET(self):
        self._dispatch('GET')

    def do_DELETE(self):
        self._dispatch('DELETE')

    def do_PUT(self):
        self._dispatch('PUT')

    # -- plumbing -------------------------------------------------------------------------------

    def _read_body(self):
        te = (self.headers.get('Transfer-Encoding') or '').lower()
        if 'chunked' in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b';', 1)[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b''.join(chunks)
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n > 0 else b''

    def _send(self, status, body, content_type, extra=None):
        lines = ['HTTP/1.1 %d %s' % (status, _REASONS.get(status, 'Unknown')),
                 'Server: plumb-aws-emulator',
                 'Date: ' + formatdate(usegmt=True),
                 'Content-Type: ' + content_type,
                 'Content-Length: %d' % len(body)]
        if extra:
            lines.extend('%s: %s' % kv for kv in extra.items())
        if self.close_connection:
            lines.append('Connection: close')
        self.wfile.write(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body)

    def _dispatch(self, method):
        path, _, query = self.path.partition('?')
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path == '/_emulator' or path.startswith('/_emulator/'):
            status, payload = control.handle(self.server.emu, method, path, query, body)
            self._send(status, json.dumps(payload).encode(), 'application/json')
            return
        self._aws(method, path, query, body)

    # -- AWS requests ---------------------------------------------------------------------------

    def _route(self, method, query, headers, body):
        """(service, protocol, operation, query pairs or None)."""
        scope_service, _ = sigv4.scope_of(headers)
        target = headers.get('x-amz-target')
        if target:
            prefix, _, op = target.rpartition('.')
            entry = models.TARGET_PREFIXES.get(prefix)
            if entry is None:
                svc = scope_service if scope_service in models.SERVICES else 'sagemaker'
                raise _Routed(svc, 'json', op or target,
                              errors.unknown_operation(svc, target))
            return entry[0], 'json', op, None
        text = query if method == 'GET' else body.decode('utf-8', 'replace')
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
        if method != 'GET' and query:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True) + pairs
        action = version = None
        rest = []
        for k, v in pairs:
            if k == 'Action':
                action = v
            elif k == 'Version':
                version = v
            else:
                rest.append((k, v))
        svc = models.QUERY_VERSIONS.get(version)
        if svc is None and scope_service in models.SERVICES:
            svc = scope_service
        if svc is None:
            raise _Routed('sts', 'query', action or 'Unknown', AwsError(
                'InvalidAction', 'Could not find operation %s for version %s'
                % (action, version or 'NO_VERSION_SPECIFIED'), 400))
        info = models.SERVICES[svc]
        if info.protocol == 'json':
            raise _Routed(svc, 'json', action or 'Unknown',
                          errors.unknown_operation(svc, action or 'Unknown'))
        if not action:
            raise _Routed(svc, 'query', 'Unknown',
                          AwsError('MissingAction', 'Missing Action', 400))
        if version != info.api_version:
            raise _Routed(svc, 'query', action, errors.unknown_operation(svc, action, version))
        return svc, 'query', action, rest

    def _aws(self, method, path, query, body):
        emu = self.server.emu
        t0 = time.perf_counter()
        not_before = None  # a latency floor: the reply leaves no sooner
        rid = request_id()
        raw_headers = self.headers.items()
        headers = {k.lower(): v for k, v in raw_headers}
        svc, protocol, op = 'unknown', 'json', 'unknown'
        account = region = None
        status, code = 200, None
        reply = None  # (status, body, content type, extra headers); None drops the connection
        try:
            try:
                svc, protocol, op, pairs = self._route(method, query, headers, body)
            except _Routed as r:
                svc, protocol, op = r.service, r.protocol, r.op
                raise r.error
            info = models.SERVICES[svc]
            op_model = info.operation(op)
            if op_model is None or op not in HANDLERS[svc]:
                raise errors.unknown_operation(svc, op, info.api_version)
            delay, floor = emu.faults.latency(svc, op)
            if delay and not floor:
                time.sleep(delay)
            elif delay:
                not_before = t0 + delay
            principal = None
            _, region = sigv4.scope_of(headers)
            if op in UNSIGNED.get(svc, ()):
                region = region or 'us-east-1'
            else:
                ident = sigv4.verify(method, self.path, raw_headers, headers, body, svc,
                                     emu.accounts, time.time(), emu.now())
                principal, account, region = ident.principal, ident.principal.account, ident.region
            if emu.faults.should_drop(svc, op):
                raise DropConnection()
            if emu.faults.throttled(svc, op):
                raise errors.throttled(info)
            injected = emu.faults.error(svc, op)
            if injected:
                raise errors.internal(info, injected[0], injected[1])
            in_spec, out_spec = shapes.op_specs(info.botocore_name, op_model)
            if protocol == 'json':
                params = wire.decode_json(svc, body)
            else:
                params = wire.decode_query(svc, in_spec, pairs)
            validate.validate(svc, in_spec, params)
            call = Call(emu, info, op, account, region, principal, rid, out_spec, protocol)
            with emu.lock:
                out = HANDLERS[svc][op](call, params)
                if protocol == 'json':
                    reply = (200, wire.encode_json(out_spec, out), self._json_type(info),
                             {'x-amzn-RequestId': rid})
                else:
                    reply = (200, wire.encode_query(op, info.xmlns, out_spec, out, rid),
                             'text/xml', {'x-amzn-RequestId': rid})
            if emu.faults.should_drop(svc, op, after=True):
                raise DropConnection()
            injected = emu.faults.error(svc, op, after=True)
            if injected:
                raise errors.internal(info, injected[0], injected[1])
        except DropConnection:
            status, code = 0, 'ConnectionDropped'
            reply = None  # also when an "after" drop follows a reply already built
        except AwsError as e:
            status, code = e.status, e.code
            reply = self._error_reply(svc, protocol, e, rid)
        except Exception:  # a bug in the emulator: answer 500 and say why on stderr
            traceback.print_exc(file=sys.stderr)
            e = errors.internal(models.SERVICES.get(svc) or models.SERVICES['sagemaker'])
            status, code = e.status, e.code
            reply = self._error_reply(svc, protocol, e, rid)
        wait = not_before - time.perf_counter() if not_before is not None else 0
        if wait > 0:
            time.sleep(wait)
        # log before answering, so a client that reads the call log right after its reply
        # always finds its call there
        emu.calls.record(svc, op, status, code, (time.perf_counter() - t0) * 1000.0,
                         account, region)
        if reply is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(*reply)

    @staticmethod
    def _json_type(info):
        return 'application/x-amz-json-%s' % info.model.metadata.get('jsonVersion', '1.0')

    def _error_reply(self, svc, protocol, e, rid):
        info = models.SERVICES.get(svc) or models.SERVICES['sagemaker']
        extra = {'x-amzn-RequestId': rid}
        extra.update(e.headers)
        if protocol == 'json':
            extra['x-amzn-ErrorType'] = e.code
            if info.protocol == 'query':  # CloudWatch over JSON (awsQueryCompatible)
                extra['x-amzn-query-error'] = '%s;%s' % (e.code,
                                                         'Sender' if e.sender else 'Receiver')
            return (e.status, wire.encode_json_error(e.code, e.message), self._json_type(info),
                    extra)
        return (e.status, wire.encode_query_error(info.xmlns, e, rid), 'text/xml', extra)


class _Routed(Exception):
    """A routing failure that already knows which service/protocol should answer it."""

    def __init__(self, service, protocol, op, error):
        super().__init__(error.message)
        self.service, self.protocol, self.op, self.error = service, protocol, op, error


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, emu, host='127.0.0.1', port=0):
        self.emu = emu
        models.load()
        super().__init__((host, port), Handler)

    @property
    def url(self):
        host, port = self.server_address[:2]
        return 'http://%s:%d' % (host, port)
