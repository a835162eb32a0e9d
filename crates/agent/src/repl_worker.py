# Python side of a daytona-native-agent interpreter context.
# Protocol: one JSON object per line on stdin ({"code": str, "envs": {str: str}});
# program output goes to this process's stdout/stderr as usual; for each request the worker
# writes JSON lines to fd 3: optionally {"type": "error", ...}, then {"type": "done"}.
# SIGINT (sent by the agent on timeout or client disconnect) interrupts the running code.
import json
import os
import sys
import traceback

_events = os.fdopen(3, "w", buffering=1, encoding="utf-8")
# Whole lines reach the client as one message; each run ends with a flush.
sys.stdout.reconfigure(line_buffering=True)
sys.stderr.reconfigure(line_buffering=True)
_namespace = {"__name__": "__main__", "__builtins__": __builtins__}


def _event(**fields):
    _events.write(json.dumps(fields) + "\n")
    _events.flush()


def _format_error(exc):
    tb = exc.__traceback__
    # Hide this file's frames: the user's code starts at the first "<cell>" frame.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb)
    return "".join(lines)


def _run(request):
    previous = {}
    for key, value in (request.get("envs") or {}).items():
        previous[key] = os.environ.get(key)
        os.environ[key] = str(value)
    try:
        compiled = compile(request.get("code", ""), "<cell>", "exec")
        exec(compiled, _namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are reported too
        _event(type="error", name=type(exc).__name__, value=str(exc), traceback=_format_error(exc))
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _main():
    while True:
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            continue
        if not line:
            return
        try:
            request = json.loads(line)
        except ValueError:
            continue
        try:
            _run(request)
        except KeyboardInterrupt:
            pass
        _event(type="done")


_main()
