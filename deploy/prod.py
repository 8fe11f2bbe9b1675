"""`make prod`: the production topology on one machine, without Docker.

nginx (the system's package) listens on PORT (default 8080) with deploy/nginx.conf rendered for local
addresses, in front of INSTANCES (default 2) `gunicorn manage:application` processes on internal ports of
127.0.0.1, all against MONGODB_URI (or, in the development config, the embedded server under instance/).

Signals: SIGHUP rolls a restart through the instances, one at a time, without failing a request;
Ctrl-C (SIGINT) or SIGTERM stops everything this started. `python -m deploy.prod --help` lists the options.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import FrameType

from dotenv import dotenv_values

from deploy import nginx

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 90.0  # the drain period plus gunicorn's graceful timeout, with room to spare


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(address: str, process: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT_S) -> None:
    """Wait until http://address/ready answers 200; raise RuntimeError when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the instance on {address} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://{address}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the instance on {address} was not ready within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes], sig: int, timeout: float = STOP_TIMEOUT_S) -> None:
    """Send `sig` and wait for the process to exit; SIGKILL it after `timeout`."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def database_uri(environ: dict[str, str]) -> str | None:
    """Return MONGODB_URI, or start (or reuse) the embedded development server when the config allows it."""
    if environ.get("MONGODB_URI"):
        return environ["MONGODB_URI"]
    if (environ.get("FLASK_CONFIG") or "development") != "development":
        return None  # the app itself refuses to start and says why
    from dev import embedded_mongo  # a development tool, imported only when it is used

    return embedded_mongo.ensure_dev_server(ROOT / "instance")


class Topology:
    """nginx in front of N gunicorn instances, each started, restarted and stopped by this object."""

    def __init__(self, *, port: int, instances: int, environ: dict[str, str], run_dir: Path) -> None:
        self.listen = f"127.0.0.1:{port}"
        self.run_dir = run_dir
        self.environ = environ
        self.addresses = [f"127.0.0.1:{free_port()}" for _ in range(instances)]
        self.instances: dict[str, subprocess.Popen[bytes]] = {}
        self.proxy: subprocess.Popen[bytes] | None = None
        self.nginx = nginx.find_nginx()

    def start_instance(self, address: str, *, wait: bool = True) -> None:
        """Start `gunicorn manage:application` on `address` and (unless told not to) wait until it is ready."""
        index = self.addresses.index(address)
        env = {
            **self.environ,
            "GUNICORN_BIND": address,
            "PROXY_COUNT": "1",  # exactly one proxy, nginx, sets X-Forwarded-For
            "PROMETHEUS_MULTIPROC_DIR": str(self.run_dir / f"metrics-{index}"),
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        process = subprocess.Popen([gunicorn, "manage:application"], cwd=ROOT, env=env, start_new_session=True)
        self.instances[address] = process
        if wait:
            wait_ready(address, process)

    def write_config(self, down: tuple[str, ...] = ()) -> Path:
        """Render the nginx configuration with the instances in `down` taken out of rotation."""
        path = self.run_dir / "nginx.conf"
        hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limit = None if hard_limit == resource.RLIM_INFINITY else hard_limit
        text = nginx.render(
            listen=self.listen, instances=self.addresses, run_dir=self.run_dir, down=down, max_open_files=limit
        )
        path.write_text(text)
        return path

    def start(self) -> None:
        """Start every instance, then nginx."""
        for address in self.addresses:
            self.start_instance(address, wait=False)
        for address in self.addresses:
            wait_ready(address, self.instances[address])
        config = self.write_config()
        args = [self.nginx, "-p", str(self.run_dir), "-e", "stderr", "-c", str(config)]
        subprocess.run([*args, "-q", "-t"], check=True)
        self.proxy = subprocess.Popen(args, start_new_session=True)
        wait_ready(self.listen, self.proxy)

    def reload(self, down: tuple[str, ...] = ()) -> None:
        """Point nginx at the instances not in `down`; its old workers finish their requests first."""
        self.write_config(down)
        assert self.proxy is not None  # noqa: S101 (started by start())
        before = self.nginx_workers()
        self.proxy.send_signal(signal.SIGHUP)
        # nginx does not acknowledge a reload. Its master has done it once it has forked new workers (and
        # told the old ones to stop accepting); without /proc, give it a moment instead.
        deadline = time.monotonic() + 10
        while before is not None and time.monotonic() < deadline:
            now = self.nginx_workers()
            if now is None or now - before:
                break
            time.sleep(0.05)
        time.sleep(0.2 if before is not None else 1.0)

    def nginx_workers(self) -> set[int] | None:
        """Return the pids of nginx's worker processes, None where /proc does not list them."""
        assert self.proxy is not None  # noqa: S101 (started by start())
        children = Path(f"/proc/{self.proxy.pid}/task/{self.proxy.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except OSError:
            return None

    def roll(self) -> None:
        """Restart each instance in turn: out of rotation, drained and stopped, started, back in rotation."""
        for address in self.addresses:
            self.reload(down=(address,))
            # SIGTERM: the instance fails /ready for GUNICORN_DRAIN_S, finishes what it has, then exits.
            stop_process(self.instances[address], signal.SIGTERM)
            self.start_instance(address)
            self.reload()
            print(f"prod: restarted the instance on {address}", flush=True)

    def check(self) -> None:
        """Restart an instance that died; raise RuntimeError if nginx did."""
        if self.proxy is not None and self.proxy.poll() is not None:
            raise RuntimeError(f"nginx exited with status {self.proxy.returncode}")
        for address, process in self.instances.items():
            if process.poll() is not None:
                print(f"prod: the instance on {address} exited ({process.returncode}); restarting it", flush=True)
                self.start_instance(address)

    def stop(self) -> None:
        """Stop nginx (it finishes in-flight requests), then the instances, which then have nothing left to do."""
        if self.proxy is not None:
            stop_process(self.proxy, signal.SIGQUIT, timeout=30)
        for process in self.instances.values():
            stop_process(process, signal.SIGINT)


class Signals:
    """Turn SIGHUP, SIGINT and SIGTERM into flags the main loop reads."""

    def __init__(self) -> None:
        self.stop = False
        self.roll = False
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGHUP, self._roll)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop = True

    def _roll(self, signum: int, frame: FrameType | None) -> None:
        self.roll = True


def main(argv: list[str] | None = None) -> int:
    """Run the topology until SIGINT or SIGTERM; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m deploy.prod", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080), help="nginx's port")
    parser.add_argument("--instances", type=int, default=int(os.environ.get("INSTANCES") or 2), help="gunicorns")
    args = parser.parse_args(argv)
    signals = Signals()
    # Real environment variables win over .env, as in manage.py.
    environ = {**{k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}, **os.environ}
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each instance needs its own
    uri = database_uri(environ)
    if uri:
        environ["MONGODB_URI"] = uri
    run_dir = Path(tempfile.mkdtemp(prefix="prod-"))
    run_dir.chmod(0o755)  # nginx workers run as an unprivileged user when this runs as root
    topology = Topology(port=args.port, instances=args.instances, environ=environ, run_dir=run_dir)
    status = 0
    try:
        topology.start()
        print(f"prod: serving on http://{topology.listen} (instances: {', '.join(topology.addresses)})", flush=True)
        print(f"prod: `kill -HUP {os.getpid()}` rolls a restart; Ctrl-C stops", flush=True)
        while not signals.stop:
            if signals.roll:
                signals.roll = False
                topology.roll()
            topology.check()
            time.sleep(0.2)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        print(f"prod: {error}", file=sys.stderr, flush=True)
        status = 1
    finally:
        topology.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
        print("prod: stopped", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
