"""``pynenc-dynamodb``: the embedded local endpoint and the demo."""

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Sequence

from pynenc_dynamodb.local.endpoint import (
    DEFAULT_PORT,
    LocalEndpoint,
    LoopbackServer,
    create_table,
    point_app_at,
)

# What each command imports beyond the base install, and the extra that installs it.
LOCAL_EXTRA = {"moto": "local", "werkzeug": "local"}
API_EXTRA = {"werkzeug": "local", "aws_lambda_powertools": "api"}


def _missing_extra(modules: dict[str, str]) -> tuple[str, str] | None:
    """The first of ``modules`` that cannot be imported, and the extra that provides it."""
    for module, extra in modules.items():
        try:
            importlib.import_module(module)
        except ImportError:
            return module, extra
    return None


def _needs(args: argparse.Namespace) -> dict[str, str]:
    if args.command == "api":
        return {**({} if args.dynamodb_url else LOCAL_EXTRA), **API_EXTRA}
    return LOCAL_EXTRA


def _announce(what: str, environment: dict[str, str], tail: str) -> None:
    exports = "\n".join(f"  export {k}={v}" for k, v in environment.items())
    print(f"{what}\nPoint a pynenc app at it with:\n{exports}\n{tail}", flush=True)


def _serve_until_stopped(*servers: LoopbackServer) -> None:
    """Block until SIGTERM or Ctrl-C, then stop ``servers`` in order."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for server in servers:
        server.stop()


def _local(args: argparse.Namespace) -> int:
    endpoint = LocalEndpoint(args.host, args.port).start()
    create_table(endpoint.url, args.table)
    if not args.quiet:
        _announce(
            f"DynamoDB-compatible endpoint (moto) on {endpoint.url}, table {args.table!r}.",
            point_app_at(endpoint.url, args.table),
            "or the same settings in config_values (dynamodb_endpoint_url, ...).\n"
            "Data lives in memory until this process stops (Ctrl-C).",
        )
    _serve_until_stopped(endpoint)
    return 0


def _api(args: argparse.Namespace) -> int:
    from pynenc_dynamodb.local.api_server import LocalApiServer, point_app_at_api

    endpoint: LocalEndpoint | None = None
    dynamodb_url = args.dynamodb_url
    if not dynamodb_url:
        endpoint = LocalEndpoint(args.host, 0).start()
        dynamodb_url = endpoint.url
        create_table(dynamodb_url, args.table)
    server = LocalApiServer(dynamodb_url, args.table, args.host, args.port).start()
    if not args.quiet:
        _announce(
            f"State API (the Lambda handler behind a local HTTP API) on {server.url}, "
            f"storing into table {args.table!r} at {dynamodb_url}.",
            point_app_at_api(server.url),
            "Requests must be SigV4-signed; the signature is not verified locally.",
        )
    _serve_until_stopped(server, *([endpoint] if endpoint else []))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pynenc_dynamodb.pynenc_version import PYNENC_01

    if PYNENC_01:
        from pynenc_dynamodb.plugin.demo.run import run_demo

        return run_demo()
    from pynenc_dynamodb.demo.run import run_demo as run_demo_0024

    return run_demo_0024()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pynenc-dynamodb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the embedded local DynamoDB endpoint")
    local.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    local.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free one)")
    local.add_argument("--table", default="pynenc-state", help="table to create")
    local.add_argument("--quiet", action="store_true", help="print nothing once started")
    local.set_defaults(handler=_local)
    api = commands.add_parser("api", help="run the state API locally (handler + endpoint)")
    api.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    api.add_argument("--port", type=int, default=8766, help="port (0: any free one)")
    api.add_argument("--table", default="pynenc-state", help="state table")
    api.add_argument(
        "--dynamodb-url", default="", help="DynamoDB endpoint; default: start an embedded one"
    )
    api.add_argument("--quiet", action="store_true", help="print nothing once started")
    api.set_defaults(handler=_api)
    demo = commands.add_parser("demo", help="run a pynenc app on the local endpoint")
    demo.set_defaults(handler=_demo)
    args = parser.parse_args(argv)
    missing = _missing_extra(_needs(args))
    if missing is not None:
        module, extra = missing
        print(
            f"pynenc-dynamodb {args.command} needs {module}, which is not installed: "
            f"pip install 'pynenc-dynamodb[{extra}]'",
            file=sys.stderr,
        )
        return 2
    return int(args.handler(args))
