"""Render deploy/nginx.conf for one machine and find the nginx binary."""

from __future__ import annotations

import re
import shutil
from collections.abc import Collection, Sequence
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf")
# Debian installs nginx in /usr/sbin, which is not on an ordinary user's PATH.
SEARCH_PATH = "/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

_LISTEN = re.compile(r"^(\s*)listen\s+\S+(.*);$", re.MULTILINE)
_UPSTREAM = re.compile(r"^(\s*upstream app \{\n)(.*?)^(\s*\})", re.MULTILINE | re.DOTALL)
_SERVER = re.compile(r"^(\s*)server\s+\S+(.*);$", re.MULTILINE)
_RLIMIT = re.compile(r"^(\s*worker_rlimit_nofile\s+)(\d+);$", re.MULTILINE)
_CONNECTIONS = re.compile(r"^(\s*worker_connections\s+)(\d+);$", re.MULTILINE)


class NginxNotFound(RuntimeError):
    """Raised when nginx is not installed."""


def find_nginx() -> str:
    """Return the path of the nginx binary."""
    found = shutil.which("nginx") or shutil.which("nginx", path=SEARCH_PATH)
    if not found:
        raise NginxNotFound("nginx is not installed: run `apt-get install nginx` (Debian/Ubuntu)")
    return found


def render(
    *,
    listen: str,
    instances: Sequence[str],
    run_dir: Path,
    down: Collection[str] = (),
    template: str | None = None,
    max_open_files: int | None = None,
) -> str:
    """Return deploy/nginx.conf listening on `listen`, proxying to `instances` (host:port), minus `down`.

    nginx runs in the foreground with its pid file and temporary files in `run_dir`. `max_open_files` (the
    hard limit of the user who starts nginx) caps worker_rlimit_nofile and worker_connections, which an
    unprivileged master could not raise above it.
    """
    text = TEMPLATE.read_text() if template is None else template
    if max_open_files is not None:
        for pattern in (_RLIMIT, _CONNECTIONS):
            text = pattern.sub(lambda m: f"{m.group(1)}{min(int(m.group(2)), max_open_files)};", text)
    text, listens = _LISTEN.subn(lambda m: f"{m.group(1)}listen {listen}{m.group(2)};", text)
    upstream = _UPSTREAM.search(text)
    server = _SERVER.search(upstream.group(2)) if upstream else None
    if listens != 1 or upstream is None or server is None:
        raise ValueError("the template needs one `listen` line and an `upstream app` block with a `server` line")
    indent, options = server.group(1), server.group(2)
    lines = [f"{indent}server {address}{options}{' down' if address in down else ''};" for address in instances]
    text = text[: upstream.start(2)] + "\n".join(lines) + "\n" + text[upstream.end(2) :]
    temp_paths = "".join(f"    {name}_temp_path {run_dir / name};\n" for name in TEMP_PATHS)
    text = text.replace("\nhttp {\n", f"\nhttp {{\n{temp_paths}", 1)
    return f"pid {run_dir / 'nginx.pid'};\ndaemon off;\n{text}"
