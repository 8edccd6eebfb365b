"""`make run` tells the truth (issue 16, item 7): "Ready" only once every process answered
its health check; a process that fails to start, never answers or dies later is named
with the end of its log and where the whole log is, and the exit status is 1."""

import io
import sys
import threading
from pathlib import Path

from scripts.run import Service, Supervisor, run


class FakeClock:
    """Time that passes only when the supervisor sleeps (no wall-clock dependence)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        threading.Event().wait(0.02)  # let the children run


def service(tmp_path: Path, name: str, script: str) -> Service:
    """A child process that is "ready" once it creates <tmp>/<name>.ready."""
    ready = tmp_path / f"{name}.ready"
    code = f"import pathlib, sys, time\nready = pathlib.Path({str(ready)!r})\n{script}"
    return Service(name, [sys.executable, "-c", code], str(ready), "warming up")


def supervise(tmp_path: Path, services: list[Service], start_seconds: float = 30):
    clock = FakeClock()
    out = io.StringIO()
    supervisor = Supervisor(
        services,
        env={},
        log_dir=tmp_path / "logs",
        out=out,
        start_seconds=start_seconds,
        check=lambda url: Path(url).exists(),
        clock=clock,
        sleep=clock.sleep,
    )
    return supervisor, out


UP = "ready.touch()\ntime.sleep(60)\n"


def test_ready_once_every_service_answered_and_ctrl_c_exits_0(tmp_path, capsys):
    supervisor, out = supervise(
        tmp_path, [service(tmp_path, "backends", UP), service(tmp_path, "rasa", UP)]
    )
    stopping = threading.Event()
    readies = []

    def ready() -> None:
        readies.append(out.getvalue())
        stopping.set()  # as Ctrl+C / SIGTERM would

    assert run(supervisor, stopping, ready) == 0
    assert len(readies) == 1
    assert "✓ backends is up" in readies[0] and "✓ rasa is up" in readies[0]
    assert capsys.readouterr().err == ""
    assert all(p.poll() is not None for p in supervisor.processes.values())


def test_no_ready_when_rasa_never_answers(tmp_path, capsys):
    never = "print('loading the model...', flush=True)\ntime.sleep(60)\n"
    supervisor, out = supervise(
        tmp_path,
        [service(tmp_path, "backends", UP), service(tmp_path, "rasa", never)],
        start_seconds=20,
    )
    readies = []
    assert run(supervisor, threading.Event(), lambda: readies.append(1)) == 1
    assert readies == []
    err = capsys.readouterr().err
    assert "rasa did not answer" in err and "within 20 s" in err
    assert "loading the model..." in err  # the end of its output
    assert f"Its whole log: {tmp_path / 'logs' / 'rasa.log'}" in err
    assert "still waiting for rasa (warming up)" in out.getvalue()  # progress meanwhile
    assert "loading the model..." in (tmp_path / "logs" / "rasa.log").read_text()


def test_a_service_that_fails_to_start_is_named_with_why(tmp_path, capsys):
    crash = (
        "print('Starting the action server', flush=True)\n"
        "print('OSError: [Errno 98] address already in use: 5055', flush=True)\n"
        "sys.exit(3)\n"
    )
    supervisor, _ = supervise(
        tmp_path, [service(tmp_path, "backends", UP), service(tmp_path, "actions", crash)]
    )
    readies = []
    assert run(supervisor, threading.Event(), lambda: readies.append(1)) == 1
    assert readies == []
    err = capsys.readouterr().err
    assert "actions exited with status 3 while warming up" in err
    assert "address already in use: 5055" in err
    assert str(tmp_path / "logs" / "actions.log") in err
    assert supervisor.processes["backends"].poll() is not None  # the rest stopped


def test_a_service_dying_after_ready_stops_everything_with_status_1(tmp_path, capsys):
    dies = "ready.touch()\ntime.sleep(0.3)\nprint('Killed', flush=True)\nsys.exit(137)\n"
    supervisor, _ = supervise(
        tmp_path, [service(tmp_path, "backends", UP), service(tmp_path, "rasa", dies)]
    )
    readies = []
    assert run(supervisor, threading.Event(), lambda: readies.append(1)) == 1
    assert readies == [1]
    err = capsys.readouterr().err
    assert "rasa stopped unexpectedly (exited with status 137)" in err
    assert "Killed" in err and "rasa.log" in err
    assert supervisor.processes["backends"].poll() is not None


def test_a_killed_service_is_named_with_the_signal(tmp_path, capsys):
    killed = (
        "import os, signal\nready.touch()\ntime.sleep(0.3)\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    supervisor, _ = supervise(
        tmp_path, [service(tmp_path, "backends", UP), service(tmp_path, "rasa", killed)]
    )
    assert run(supervisor, threading.Event(), lambda: None) == 1
    assert "rasa stopped unexpectedly (was killed by SIGKILL)" in capsys.readouterr().err
