"""`make fuzz`: run schemathesis against the running app with its generated OpenAPI document.

Starts the app (testing config, embedded in-memory MongoDB, rate limits raised so that the fuzzer is
not throttled) on a free port, creates a fuzz account (an admin, so that every operation is reachable),
and runs every operation of the document with schemathesis: every check (`--checks all`) and every
phase (examples, coverage, fuzzing and the stateful phase, which chains operations through the links and
Location headers it finds). Not part of the test suite: it is slow and needs requirements/fuzz.txt.
`--max-time SECONDS` bounds the whole run.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server

from app import create_app
from controller.user import signup
from dev.embedded_mongo import memory_server_uri
from model.mongodb import init_db

ROOT = Path(__file__).resolve().parent.parent
PHASES = "examples,coverage,fuzzing,stateful"


def main(argv: list[str] | None = None) -> int:
    """Start the app, run schemathesis against it, and return schemathesis's exit status."""
    parser = argparse.ArgumentParser(prog="make fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50, help="examples per operation and phase")
    parser.add_argument("--checks", default="all", help="schemathesis checks (default: %(default)s)")
    parser.add_argument("--phases", default=PHASES, help="schemathesis phases (default: %(default)s)")
    args, extra = parser.parse_known_args(argv)

    app = create_app(
        "testing",
        {
            "MONGODB_URI": memory_server_uri(),
            "MONGODB_DB": "fuzz",
            "RATELIMIT_AUTH": "1000000/minute",
            "RATELIMIT_ACCOUNT": "1000000/minute",
            "LOG_LEVEL": "CRITICAL",
        },
    )
    with app.app_context():
        db = app.extensions["mongo"].db
        init_db(db)
        email, password = f"fuzz-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        signup(db, app.extensions["auth"], email=email, password=password, name="Fuzz", role="admin")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # schemathesis reports every request itself
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}"

    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks",
        "PYTHONPATH": str(ROOT),
        "FUZZ_BASE_URL": base_url,
        "FUZZ_EMAIL": email,
        "FUZZ_PASSWORD": password,
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/api/v1/openapi.json",
        "--checks",
        args.checks,
        "--phases",
        args.phases,
        "--max-examples",
        str(args.max_examples),
        # One worker: hypothesis's lambda descriptions call ast.parse, which is not thread-safe on CPython 3.11.
        "--workers",
        "1",
        *extra,
    ]
    print("+", " ".join(command), flush=True)
    try:
        return subprocess.call(command, env=env, cwd=ROOT)
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
