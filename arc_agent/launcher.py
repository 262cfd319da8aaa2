"""``arc-instrument CMD [ARGS...]``: run any program with Arc loaded in every Python process it starts.

Like ``opentelemetry-instrument`` and ``ddtrace-run``: put ``arc_bootstrap`` first on PYTHONPATH
(keeping the user's entries, so children inherit it) and exec the command.
"""

from __future__ import annotations

import os
import sys

USAGE = """usage: arc-instrument [--help] [--version] [--] CMD [ARGS...]

Run CMD with Arc Runtime loaded in every Python process it starts (no code change), e.g.
  arc-instrument python app.py        arc-instrument pytest tests/        arc-instrument uvicorn app:api
CMD's Python must be one where arc-runtime is installed (the venv this arc-instrument belongs to).

Main settings (environment variables):
  ARC_PATTERNS=PATH[:PATH...]     pattern bundles that fix requests (`demo`, files, folders, registry:NAME)
  OTEL_EXPORTER_OTLP_ENDPOINT     where spans go (or ARC_ENDPOINT; default grpc://localhost:4317,
                                  start a local collector with `arc collector`)
  OTEL_SERVICE_NAME               service name on the spans
  OTEL_TRACES_EXPORTER            otlp (default), console (spans on stdout) or none
  ARC_DISABLE=1                   Arc off; ARC_DISABLED_INSTRUMENTATIONS=openai,anthropic skips some
  ARC_CAPTURE=PATH                record calls into a cassette for `arc replay` / `arc learn`
  ARC_METRICS_PORT=PORT           Prometheus /metrics and /arc/runtime/status of the running app
  ARC_PRIVACY_MODE=TIER           what Playwright/Selenium action spans carry: minimal (default),
                                  hash_only, local_inference, full_data (screenshots in ARC_BLOB_DIR)
  ARC_HEAL=0                      no healing of failed UI actions (ARC_HEAL_TIMEOUT_MS bounds it)
  ARC_VISION_POLICY=registry:NAME a trained UI tool policy (default: the seed rule)
  ARC_LOG_LEVEL=DEBUG             Arc's own log level

`arc doctor` checks this environment and lists every setting in force; README "Settings" has them all.
"""

def which(command: str, path: str | None = None) -> str | None:
    """``shutil.which`` without importing shutil (its import is a visible share of every launch's start-up)."""
    if os.sep in command:
        return command if os.access(command, os.X_OK) and not os.path.isdir(command) else None
    for directory in (path if path is not None else os.environ.get("PATH", os.defpath)).split(os.pathsep):
        candidate = os.path.join(directory or ".", command)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def bootstrap_dir() -> str:
    import arc_bootstrap

    return os.path.abspath(list(arc_bootstrap.__path__)[0])  # a namespace package: no __init__


def build_env(environ: dict) -> dict:
    env = dict(environ)
    here = bootstrap_dir()
    existing = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != here]
    env["PYTHONPATH"] = os.pathsep.join([here, *existing])
    return env


def main(argv: list | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--":  # `arc-instrument -- CMD`, as with env, nohup or a shell's builtins
        args = args[1:]
        if not args:
            sys.stderr.write(USAGE)
            return 2
        return _run(args)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    if args[0] == "--version":
        from arc_agent import __version__

        sys.stdout.write(f"arc-instrument {__version__}\n")
        return 0
    return _run(args)


def _run(args: list) -> int:
    """Replace this process with CMD, Arc's start-up hook on its PYTHONPATH."""
    exe = which(args[0])
    if exe is None:
        sys.stderr.write(f"arc-instrument: command not found: {args[0]}\n")
        return 127
    env = build_env(dict(os.environ))
    try:
        os.execvpe(exe, args, env)
    except OSError as exc:
        sys.stderr.write(f"arc-instrument: cannot run {args[0]}: {exc.strerror}\n")
        return 126
    return 0  # unreachable


if __name__ == "__main__":
    sys.exit(main())
