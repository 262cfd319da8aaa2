"""Regenerate the control plane's Python code from ``proto/arc/v1/control.proto``.

    pip install grpcio-tools==1.85.4 && python proto/generate.py          # writes arc_agent/control/gen/
    python proto/generate.py --check                                       # exit 1 if the checked-in code differs

Reproducible: the pinned ``grpcio-tools`` (see ``GRPCIO_TOOLS``) always writes the same bytes. The
generated ``control_pb2_grpc.py`` imports ``arc.v1.control_pb2`` (protoc's package path); it is
rewritten to a relative import so the code lives inside the installed ``arc_agent`` package. It
does not import ``arc_agent``, so it runs from a bare checkout.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

GRPCIO_TOOLS = "1.85.4"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_ROOT = os.path.join(ROOT, "proto")
SOURCE = "arc/v1/control.proto"
OUT = os.path.join(ROOT, "arc_agent", "control", "gen")
FILES = ("control_pb2.py", "control_pb2.pyi", "control_pb2_grpc.py")
_ABSOLUTE, _RELATIVE = "from arc.v1 import control_pb2 as", "from . import control_pb2 as"


def generate() -> dict:
    """{file name: bytes} of the generated code, as the pinned grpcio-tools writes it."""
    from importlib.metadata import version

    from grpc_tools import protoc

    found = version("grpcio-tools")
    if found != GRPCIO_TOOLS:
        raise SystemExit(f"grpcio-tools {found} is installed; the checked-in code is from {GRPCIO_TOOLS}: "
                         f"pip install grpcio-tools=={GRPCIO_TOOLS}")
    with tempfile.TemporaryDirectory() as tmp:
        rc = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"--python_out={tmp}", f"--pyi_out={tmp}",
                          f"--grpc_python_out={tmp}", os.path.join(PROTO_ROOT, SOURCE)])
        if rc != 0:
            raise SystemExit(f"protoc failed with exit status {rc}")
        out = {}
        for name in FILES:
            with open(os.path.join(tmp, "arc", "v1", name), "rb") as fh:
                out[name] = fh.read().replace(_ABSOLUTE.encode(), _RELATIVE.encode())
    return out


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the checked-in code instead of writing")
    args = parser.parse_args(argv)
    fresh = generate()
    if args.check:
        stale = []
        for name, data in fresh.items():
            try:
                with open(os.path.join(OUT, name), "rb") as fh:
                    same = fh.read() == data
            except FileNotFoundError:
                same = False
            if not same:
                stale.append(name)
        print("generated code is up to date" if not stale else f"stale: {', '.join(stale)} (run proto/generate.py)")
        return 1 if stale else 0
    os.makedirs(OUT, exist_ok=True)
    for name, data in fresh.items():
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(data)
    print(f"wrote {', '.join(FILES)} to {os.path.relpath(OUT, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
