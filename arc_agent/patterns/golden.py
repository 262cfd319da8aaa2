"""Golden requests: run the shipped cases (``data/golden.yaml``) against this install.

Engine level: each case gets a fresh ``PatternEngine`` with only its patterns; the fixed kwargs
and the span attributes must be exactly as expected and the caller's kwargs untouched.
End to end: all cases' patterns are loaded into the process-wide agent (``Arc``), the real
OpenAI/Anthropic SDKs call an in-process ``arc dev-llm``, and the JSON body the server received
must carry the fixed request.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from typing import Any, Callable

from ..llm import request as views
from ..telemetry import attributes as A
from .bounded import YAMLBoundsError, read_regular, yaml_loader
from .bundle import DEMO_ALIAS
from .errors import BundleError

GOLDEN_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "golden.yaml")
VIEW_BUILDERS: dict = {
    "openai.chat": views.from_openai_chat,
    "openai.responses": views.from_openai_responses,
    "anthropic.messages": views.from_anthropic_messages,
}


class CaseResult:
    __slots__ = ("name", "problems", "mode")

    def __init__(self, name: str, mode: str, problems: list) -> None:
        self.name, self.mode, self.problems = name, mode, problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"name": self.name, "mode": self.mode, "ok": self.ok, "problems": self.problems}


MAX_CASES_BYTES = 64 << 20


def load_cases(path: str | None = None) -> list:
    """The cases of a golden file, read like a bundle (``bounded``: regular file, size, deadline,
    YAML aliases and nesting); BundleError naming the file otherwise."""
    import yaml

    path = path or GOLDEN_FILE
    data = read_regular(path, MAX_CASES_BYTES)
    try:
        doc = yaml.load(data, Loader=yaml_loader())  # noqa: S506 - a safe loader
    except (yaml.YAMLError, YAMLBoundsError, RecursionError) as exc:
        raise BundleError(path, f"not a valid golden cases file: {exc}") from None
    cases = doc.get("cases") if isinstance(doc, dict) else None
    if not isinstance(cases, list) or not cases:
        raise BundleError(path, "no 'cases' list")
    return cases


def write_bundle(cases: list, directory: str, name: str = "golden") -> str:
    """One bundle file with the inline patterns of ``cases``; returns its path."""
    patterns = [p for case in cases for p in case.get("patterns", ())]
    path = os.path.join(directory, f"{name}.json")
    with open(path, "w") as fh:
        json.dump({"version": 1, "name": name, "patterns": patterns}, fh)
    return path


def bundle_paths(cases: list, directory: str) -> list:
    paths = [DEMO_ALIAS] if any(c.get("bundle") == DEMO_ALIAS for c in cases) else []
    if any(c.get("patterns") for c in cases):
        paths.append(write_bundle(cases, directory))
    return paths


def expected_kwargs(case: dict) -> dict:
    fixed = case.get("expect", {}).get("fixed")
    return case["request"] if fixed is None else fixed


def check_attributes(case: dict, attrs: dict) -> list:
    expect = case.get("expect", {})
    problems = []
    checks = [(A.ARC_PATTERN_MATCHED, expect.get("matched")), (A.ARC_FIX_APPLIED, expect.get("applied")),
              (A.ARC_FIX_SKIPPED_REASON, expect.get("skipped_reason"))]
    for attr, want in checks:
        got = attrs.get(attr, False if attr == A.ARC_FIX_APPLIED else None)
        if want is not None and got != want or attr == A.ARC_FIX_SKIPPED_REASON and got != want:
            problems.append(f"{attr}: expected {want!r}, got {got!r}")
    if "pattern_ids" in expect and list(attrs.get(A.ARC_FIX_PATTERN_IDS, ())) != expect["pattern_ids"]:
        problems.append(f"{A.ARC_FIX_PATTERN_IDS}: expected {expect['pattern_ids']!r}, "
                        f"got {list(attrs.get(A.ARC_FIX_PATTERN_IDS, ()))!r}")
    return problems


def run_engine_case(case: dict, threshold: float = 0.5) -> CaseResult:
    """Run one case against a fresh engine holding only that case's patterns."""
    from .engine import PatternEngine

    name = case.get("name", "?")
    with tempfile.TemporaryDirectory(prefix="arc-golden-") as tmp:
        engine = PatternEngine(threshold=threshold, poll_interval=0)
        errors = engine.load(bundle_paths([case], tmp))
    if errors:
        return CaseResult(name, "engine", [f"bundle rejected: {e}" for e in errors])
    kwargs = copy.deepcopy(case["request"])
    before = copy.deepcopy(kwargs)
    outcome = engine.fix(VIEW_BUILDERS[case["sdk"]](kwargs))
    problems = []
    if kwargs != before:
        problems.append("the caller's kwargs were mutated")
    attrs = outcome.attributes if outcome is not None else {}
    problems += check_attributes(case, attrs)
    sent = outcome.kwargs if outcome is not None and outcome.kwargs is not None else kwargs
    if sent != expected_kwargs(case):
        problems.append(f"sent {sent!r}, expected {expected_kwargs(case)!r}")
    return CaseResult(name, "engine", problems)


def expected_body(case: dict) -> tuple:
    """(fields the JSON body must have, names it must not have) for a case's fixed request."""
    fixed = copy.deepcopy(expected_kwargs(case))
    extra = fixed.pop("extra_body", None) or {}
    fixed.update(extra)
    absent = [k for k in case["request"] if k not in fixed and k != "extra_body"]
    return json.loads(json.dumps(fixed)), absent


def check_body(case: dict, body: Any) -> list:
    want, absent = expected_body(case)
    if not isinstance(body, dict):
        return [f"the server received no JSON object: {body!r}"]
    problems = [f"server received {k}={body.get(k)!r}, expected {v!r}" for k, v in want.items()
                if body.get(k) != v]
    problems += [f"server received {k!r}, which the fix removes" for k in absent if k in body]
    return problems


def call_sdk(case: dict, clients: dict) -> None:
    kwargs = copy.deepcopy(case["request"])
    sdk = case["sdk"]
    if sdk == "openai.chat":
        clients["openai"].chat.completions.create(**kwargs)
    elif sdk == "openai.responses":
        clients["openai"].responses.create(**kwargs)
    elif sdk == "anthropic.messages":
        clients["anthropic"].messages.create(**kwargs)
    else:
        raise ValueError(f"unknown sdk {sdk!r}")


def run_e2e(cases: list, server: Any, clients: dict, last_body: Callable[[], Any]) -> list:
    """Call each case through the SDK clients (already instrumented and pointed at ``server``)."""
    results = []
    for case in cases:
        name = case.get("name", "?")
        try:
            call_sdk(case, clients)
            problems = check_body(case, last_body())
        except Exception as exc:  # report, keep going
            problems = [f"call failed: {type(exc).__name__}: {exc}"]
        results.append(CaseResult(name, "e2e", problems))
    return results
