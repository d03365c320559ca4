"""`python -m sandbox`: run the sandbox EHR on a local port.

Layer: sandbox (command line).
"""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from sandbox.app import create_sandbox
from sandbox.config import (
    DEFAULT_APP_LAUNCH_URL,
    DEFAULT_CLIENT_ID,
    DEFAULT_REDIRECT_URI,
    SandboxClient,
    SandboxConfig,
)
from sandbox.server import QuietRequestHandler
from sandbox.upstream import load_characters


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Run the local SMART sandbox EHR.")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--app-launch-url", default=DEFAULT_APP_LAUNCH_URL)
    parser.add_argument("--redirect-uri", action="append", help="registered redirect URI (repeatable)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--no-include", action="store_true", help="silently ignore _include/_revinclude")
    parser.add_argument("--upstream-fhir", metavar="BASE",
                        help="do SMART in front of this FHIR server (loading the characters into it)")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    redirects = tuple(args.redirect_uri or (DEFAULT_REDIRECT_URI,))
    return SandboxConfig(
        app_launch_url=args.app_launch_url,
        clients=[SandboxClient(args.client_id, redirects)],
        latency_ms=args.latency_ms,
        include_supported=not args.no_include,
        upstream_fhir=args.upstream_fhir,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = config_from_args(args)
    app = create_sandbox(config)
    if config.upstream_fhir:
        for refused in load_characters(config.upstream_fhir, config.day()):
            print(f"The upstream FHIR server refused {refused}")
    print(f"Sandbox EHR: http://{args.host}:{args.port}/ehr/  (FHIR base http://{args.host}:{args.port}/fhir)")
    run_simple(args.host, args.port, app, threaded=True, request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
