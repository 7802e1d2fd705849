"""``pynenc-dynamodb``: the embedded local endpoint and the demo."""

import argparse
import contextlib
import signal
import threading
from collections.abc import Sequence

from pynenc_dynamodb.local import DEFAULT_PORT, LocalEndpoint, create_table, point_app_at


def _local(args: argparse.Namespace) -> int:
    endpoint = LocalEndpoint(args.host, args.port).start()
    create_table(endpoint.url, args.table)
    if not args.quiet:
        exports = "\n".join(
            f"  export {k}={v}" for k, v in point_app_at(endpoint.url, args.table).items()
        )
        print(
            f"DynamoDB-compatible endpoint (moto) on {endpoint.url}, table {args.table!r}.\n"
            f"Point a pynenc app at it with:\n{exports}\n"
            "or config_values={'state_backend_cls': 'DynamoDBStateBackend', "
            f"'dynamodb_endpoint_url': '{endpoint.url}'}}.\n"
            "Data lives in memory until this process stops (Ctrl-C).",
            flush=True,
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    endpoint.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pynenc_dynamodb.demo.run import run_demo

    return run_demo()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pynenc-dynamodb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the embedded local DynamoDB endpoint")
    local.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    local.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free one)")
    local.add_argument("--table", default="pynenc-state", help="table to create")
    local.add_argument("--quiet", action="store_true", help="print nothing once started")
    local.set_defaults(handler=_local)
    demo = commands.add_parser("demo", help="run a pynenc app on the local endpoint")
    demo.set_defaults(handler=_demo)
    args = parser.parse_args(argv)
    return int(args.handler(args))
