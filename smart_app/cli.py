"""The `spoc` command: demo, serve, db upgrade, tenants check, keys.

Layer: composition root. Starts servers; never imports the sandbox (it runs as `python -m sandbox`).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from werkzeug.serving import WSGIRequestHandler

from .clock import Clock
from .config import Settings
from .security import redact_log_handlers, redact_path
from .tenants import check_tenants_file



class DemoRequestHandler(WSGIRequestHandler):
    """The demo's access log: method, redacted path and status (R64)."""

    def log_request(self, code="-", size="-"):
        # No path when the request line was refused (over 64 KB: 414); reading it here raised and the
        # client got no reply at all.
        path = getattr(self, "path", "-")
        logging.getLogger("smart_app.access").info('"%s %s" %s', self.command or "-", redact_path(path), code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spoc", description="Shared Plan of Care SMART app")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the app with the bundled sandbox EHR on this machine")
    demo.add_argument("--data-dir", default="instance", help="where the demo keeps its SQLite file and keys")
    demo.add_argument("--ehr-port", type=int, default=8200)
    demo.add_argument("--app-port", type=int, default=8100)
    demo.add_argument("--latency-ms", type=int, default=0, help="slow the sandbox EHR down, to see loading states")

    serve = sub.add_parser("serve", help="production server (gunicorn); settings from the environment")
    serve.add_argument("--bind", default=os.environ.get("SPOC_BIND", "127.0.0.1:8000"))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("SPOC_WORKERS", "2")))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("SPOC_THREADS", "8")))

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])

    tenants = sub.add_parser("tenants", help="tenants file")
    tenants.add_argument("action", choices=["check"])
    tenants.add_argument("file", type=Path)

    keys = sub.add_parser("keys", help="generate keys")
    keys.add_argument("kind", choices=["token-key", "client-jwks"])
    keys.add_argument("--alg", choices=["ES384", "RS384"], default="ES384")
    keys.add_argument("--kid", default=None)

    args = parser.parse_args(argv)
    return {"demo": _demo, "serve": _serve, "db": _db, "tenants": _tenants, "keys": _keys}[args.command](args)


def _tenants(args) -> int:
    problems, tenants = check_tenants_file(args.file)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return 1
    print(f"OK: {len(tenants)} tenant(s): " + ", ".join(t.name for t in tenants))
    return 0


def _db(args) -> int:
    from .store import upgrade

    url = os.environ.get("DATABASE_URL") or os.environ.get("SPOC_DATABASE_URL") or Settings.__dataclass_fields__["database_url"].default
    upgrade(url)
    print("Database schema is up to date.")
    return 0


def _keys(args) -> int:
    if args.kind == "token-key":
        print(Fernet.generate_key().decode())
        return 0
    from joserfc.jwk import ECKey, KeySet, RSAKey

    kid = args.kid or f"spoc-{Clock().today():%Y%m%d}"
    key = ECKey.generate_key("P-384", {"kid": kid, "alg": "ES384"}) if args.alg == "ES384" else \
        RSAKey.generate_key(2048, {"kid": kid, "alg": "RS384"})
    print(json.dumps(KeySet([key]).as_dict(private=True), indent=2))
    return 0


def _serve(args) -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from . import create_app, serving

    class RedactingLogger(Logger):
        """Access and error lines without query strings, launch handles or link tokens (R64): gunicorn's
        own "Error handling request <uri>" included."""

        def setup(self, cfg):
            super().setup(cfg)
            redact_log_handlers(self.error_log, self.access_log)

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            atoms["r"] = f"{environ.get('REQUEST_METHOD')} {redact_path(environ.get('PATH_INFO', ''))}"
            atoms["U"] = redact_path(environ.get("PATH_INFO", ""))
            atoms["q"] = ""
            atoms["f"] = "-"
            return atoms

    app = create_app(Settings.from_env())

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", args.bind)
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", serving.BalancedThreadWorker)
            self.cfg.set("pre_fork", serving.pre_fork)
            self.cfg.set("child_exit", serving.child_exit)
            self.cfg.set("logger_class", RedactingLogger)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms')
            self.cfg.set("control_socket_disable", True)  # several instances on one host must not share it

        def load(self):
            return app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    redact_log_handlers()
    settle_heap()
    Server().run()
    return 0


def settle_heap() -> None:
    """Move every object alive now (modules, the app, its tenants and templates) out of the garbage
    collector's reach, before the workers fork: a full collection scanned ~130,000 of them and held
    the interpreter for up to 114 ms in the middle of someone's launch; frozen, at most ~26 ms
    (bench/README.md, section 4). The forked workers also keep sharing those pages with the master."""
    gc.collect()
    gc.freeze()


def _demo(args) -> int:
    from werkzeug.serving import make_server

    from . import create_app
    from .store import upgrade

    check_demo_ports(args.ehr_port, args.app_port)
    data = Path(args.data_dir).resolve()
    continued = (data / "spoc.db").exists()
    data.mkdir(parents=True, exist_ok=True, mode=0o700)  # the store and the token key live here
    ehr = f"http://localhost:{args.ehr_port}"
    app_url = f"http://127.0.0.1:{args.app_port}"
    key_file = data / "demo-token.key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    tenants_file = data / "demo-tenants.toml"
    tenants_file.write_text(demo_tenants_toml(ehr, app_url))
    database_url = f"sqlite:///{data / 'spoc.db'}"
    upgrade(database_url)
    settings = Settings(tenants_file=tenants_file, token_keys=(key_file.read_text().strip(),),
                        database_url=database_url)

    sandbox = subprocess.Popen([
        sys.executable, "-m", "sandbox", "--host", "localhost", "--port", str(args.ehr_port),
        "--app-launch-url", f"{app_url}/launch", "--redirect-uri", f"{app_url}/callback",
        "--client-id", "spoc-demo", "--latency-ms", str(args.latency_ms),
    ])
    try:
        _wait_for(f"{ehr}/fhir/metadata", sandbox)

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        redact_log_handlers()  # werkzeug's "Error on request" tracebacks and the app's error lines too
        server = make_server("127.0.0.1", args.app_port, create_app(settings), threaded=True,
                             request_handler=DemoRequestHandler)
        def stop(*_):  # shutdown() from serve_forever's own thread would deadlock
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        print(
            "\n  Shared Plan of Care demo is running.\n"
            f"  Open the sandbox EHR:  {ehr}/ehr/\n"
            "  Pick a patient: the chart launches the app in its frame (SMART EHR launch).\n"
            f"  The family's door: sign in at the patient portal {ehr}/portal/ (SMART standalone launch).\n"
            f"  App: {app_url}   Data: {data}\n{demo_data_notice(data, continued)}  Press Ctrl+C to stop.\n",
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    return 0


def check_demo_ports(ehr_port: int, app_port: int) -> None:
    """Raise SystemExit naming each demo port something already listens on, and the flags that move it."""
    if ehr_port == app_port:
        raise SystemExit(f"The sandbox EHR and the app cannot share port {ehr_port}: give --ehr-port and "
                         "--app-port different ports.")
    busy = {port: what for port, what in ((ehr_port, "the sandbox EHR"), (app_port, "the app")) if _taken(port)}
    if not busy:
        return
    ehr = _free_port_after(ehr_port, {app_port}) if ehr_port in busy else ehr_port
    app = _free_port_after(app_port, {ehr_port, ehr}) if app_port in busy else app_port
    flags = f"--ehr-port {ehr} --app-port {app}"
    said = " ".join(f"Port {port} ({what}) is already in use, perhaps by another demo." for port, what in busy.items())
    raise SystemExit(f'{said} Stop what uses it, or choose free ports: spoc demo {flags} '
                     f'(with make: make demo DEMO_ARGS="{flags}").')


def _taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no obstacle
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _free_port_after(port: int, avoid: set[int]) -> int:
    return next((p for p in range(port + 1, min(port + 100, 65536)) if p not in avoid and not _taken(p)), port + 1)


def demo_data_notice(data: Path, continued: bool) -> str:
    """Banner lines: the app keeps its data between demos; the sandbox EHR, in memory, does not."""
    if not continued:
        return "  The app keeps its data there between demos; the sandbox EHR starts afresh each time.\n"
    return ("  The app's plans and notes from an earlier demo are kept in the data folder, but the sandbox EHR\n"
            "  starts afresh each time: anything filed in it before is gone. To start both afresh, stop the\n"
            f"  demo and run `make clean` (or delete {data}).\n")


def demo_tenants_toml(ehr: str, app_url: str) -> str:
    return (
        "# Written by `spoc demo`: the bundled sandbox EHR.\n"
        "[[tenant]]\n"
        'name = "Sandbox EHR"\n'
        f'iss = "{ehr}/fhir"\n'
        'client_id = "spoc-demo"\n'
        'client_type = "public"\n'
        f'redirect_uri = "{app_url}/callback"\n'
        f'frame_ancestors = ["{ehr}"]\n'
        'write_mode = "careplan"\n'
        "family_launch = true  # the sandbox's patient portal launches the family's view\n"
    )


def _wait_for(url: str, process: subprocess.Popen, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("The sandbox EHR did not start (is the port taken?).")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("The sandbox EHR did not answer in time.")


if __name__ == "__main__":
    sys.exit(main())
