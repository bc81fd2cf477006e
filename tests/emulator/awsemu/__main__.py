"""Command line: parse flags, build the Emulator, serve until SIGTERM/SIGINT.

Prints the base URL as the first line of stdout once the socket is listening.
"""

import argparse
import ipaddress
import json
import signal
import sys
import threading

from .accounts import DEFAULT_ACCOUNT, DEFAULT_KEY, DEFAULT_SECRET
from .server import Server
from .state import Emulator, Settings


def parse_args(argv):
    p = argparse.ArgumentParser(prog='tests/emulator/run',
                                description='Local AWS emulator for plumb (loopback only).')
    p.add_argument('--host', default='127.0.0.1', help='loopback address to bind (default 127.0.0.1)')
    p.add_argument('--port', type=int, default=0, help='port; 0 picks a free one (default 0)')
    p.add_argument('--create-delay', type=float, default=2.0,
                   help='seconds an endpoint stays Creating (default 2)')
    p.add_argument('--update-delay', type=float, default=None,
                   help='seconds an endpoint stays Updating (default: --create-delay)')
    p.add_argument('--delete-delay', type=float, default=1.0,
                   help='seconds an endpoint stays Deleting (default 1)')
    p.add_argument('--speed', type=float, default=1.0,
                   help='emulator clock speed factor (default 1)')
    p.add_argument('--silent-rollback', action='store_true',
                   help='every UpdateEndpoint silently rolls back (InService on the old config, '
                        'FailureReason set)')
    p.add_argument('--credentials', metavar='FILE', action='append', default=[],
                   help='file of "KEY SECRET ACCOUNT [USER]" rows to accept (repeatable)')
    p.add_argument('--account', metavar='KEY:SECRET:ACCOUNT', action='append', default=[],
                   help='one more access key to accept (repeatable)')
    p.add_argument('--no-default-credentials', action='store_true',
                   help='do not accept AKIDEXAMPLE (use with --credentials/--account)')
    p.add_argument('--latency-ms', type=float, default=0.0, help='latency added to every call')
    p.add_argument('--latency-jitter-ms', type=float, default=0.0,
                   help='uniform random extra latency 0..N ms')
    p.add_argument('--throttle-rate', type=float, default=None,
                   help='token-bucket rate (calls/s) per operation; throttled calls get the '
                        "service's throttling error")
    p.add_argument('--throttle-burst', type=float, default=None,
                   help='token-bucket capacity (default: max(1, rate))')
    p.add_argument('--error-rate', type=float, default=0.0, help='fraction of calls answered 5xx')
    p.add_argument('--error-status', type=int, default=500, choices=(500, 503),
                   help='status of injected errors (default 500)')
    p.add_argument('--drop-rate', type=float, default=0.0,
                   help='fraction of calls whose connection is closed without a reply')
    p.add_argument('--faults', metavar='FILE',
                   help='JSON file with a full fault configuration (as POST /_emulator/faults)')
    p.add_argument('--seed', type=int, default=None, help='seed for random faults')
    p.add_argument('--call-log-size', type=int, default=200000,
                   help='entries kept in the call log ring (default 200000)')
    return p.parse_args(argv)


def build(args):
    if not ipaddress.ip_address(args.host).is_loopback:
        raise SystemExit('refusing to bind non-loopback address %s' % args.host)
    settings = Settings(args.create_delay, args.update_delay, args.delete_delay,
                        args.silent_rollback)
    emu = Emulator(settings, seed=args.seed, speed=args.speed, call_log_size=args.call_log_size)
    if not args.no_default_credentials:
        emu.accounts.add_static(DEFAULT_KEY, DEFAULT_SECRET, DEFAULT_ACCOUNT)
    for path in args.credentials:
        emu.accounts.load_file(path)
    for spec in args.account:
        fields = spec.split(':')
        if len(fields) not in (3, 4):
            raise SystemExit('--account wants KEY:SECRET:ACCOUNT[:USER], got %r' % spec)
        emu.accounts.add_static(*fields)
    faults = {}
    if args.faults:
        with open(args.faults, encoding='utf-8') as f:
            faults = json.load(f)
    if args.latency_ms or args.latency_jitter_ms:
        faults.setdefault('latency', []).append({'ms': args.latency_ms,
                                                 'jitter_ms': args.latency_jitter_ms})
    if args.throttle_rate is not None:
        rule = {'rate': args.throttle_rate}
        if args.throttle_burst is not None:
            rule['burst'] = args.throttle_burst
        faults.setdefault('throttle', []).append(rule)
    if args.error_rate:
        faults.setdefault('errors', []).append({'rate': args.error_rate,
                                                'status': args.error_status})
    if args.drop_rate:
        faults.setdefault('drop', []).append({'rate': args.drop_rate})
    if args.seed is not None:
        faults.setdefault('seed', args.seed)
    if faults:
        emu.faults.configure(faults)
        # faults given on the command line survive /_emulator/reset
        emu.initial_faults = faults
    return emu


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emu = build(args)
    server = Server(emu, args.host, args.port)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2},
                              daemon=True)
    thread.start()
    sys.stdout.write(server.url + '\n')
    sys.stdout.flush()
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
