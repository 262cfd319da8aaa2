"""States worth replaying: rows of ``arc_ui_actions`` (+ blobs where the tier allows) → replayable scenarios.

A state is one low-confidence, healed or failed ``ui.<action>`` span. What it needs, by column of the
view (``collector_config/clickhouse/11_arc_ui_actions.sql``):

- ``mechanics`` (minimal): what to inject. ``absent`` (the target appears late), ``covered`` (an overlay
  with a close button, which also goes by itself), ``offscreen`` (below the fold), ``moving`` (slides in),
  ``disabled`` (enabled later), ``loading`` (a busy spinner layer), ``tiny``.
- ``ready_ms`` (minimal): when the target got ready: the injected delay.
- ``bbox``, ``viewport`` (minimal): where the synthetic target stands; the window size.
- ``action``, ``selector`` (minimal): the action replayed; the selector (snapshots).
- ``features`` (hash_only): the model features the agent saw (kept for analysis: the replay observes
  afresh with the agent's own code).
- ``confidence_before/after``, ``tools`` (local_inference): baseline figures.
- ``snapshot_key`` (full_data): the page's serialized DOM in the blob store, replayed instead of the
  synthetic page (its scripts removed, the same mechanics injected on the recorded selector).

So every tier can train: below ``full_data`` the page is synthetic (a target at the recorded box in a
window of the recorded size), in ``full_data`` it is the captured DOM. ``detached`` and ``relocated``
(healing's mechanics: the element was replaced, or its selector changed) are not injected: no tool
choice before the action changes them. Rows with no injectable mechanic and a confident success are
not worth replaying and are skipped by the query.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from dataclasses import asdict, dataclass, field
from typing import List, Optional

from arc_agent.collector.reader import since_seconds

INJECTABLE = ("absent", "covered", "offscreen", "moving", "disabled", "loading", "tiny")
DELAY_MIN_MS, DELAY_MAX_MS, DELAY_DEFAULT_MS = 100, 3000, 1000
SNAPSHOT_MAX_BYTES = 2_000_000
MAX_ROWS = 5000
REPLAY_MARK = "data-arc-replay"
SYNTHETIC_SELECTOR = "#arc-target"

SQL = """SELECT toString(time) AS at, action, selector, url, privacy_tier, confidence_before,
       confidence_after, bbox, viewport, tools, success, healed, heal_strategy, mechanics, ready_ms,
       features, snapshot_key, duration_ms, policy_version
FROM arc_ui_actions
WHERE time >= now() - INTERVAL {seconds} SECOND
  AND (success = false OR healed OR confidence_before < {threshold}
       OR hasAny(mechanics, [{injectable}]))
ORDER BY time
LIMIT {limit}"""


@dataclass
class State:
    action: str
    selector: str
    viewport: List[float]
    bbox: List[float]
    mechanics: List[str]
    ready_ms: Optional[float] = None
    tier: str = "minimal"
    url: str = ""
    success: Optional[bool] = None
    healed: bool = False
    confidence_before: Optional[float] = None
    features: List[float] = field(default_factory=list)
    snapshot_key: str = ""


@dataclass
class Scenario:
    """What an episode loads: ``html`` in a window of ``viewport``, the target at ``selector`` with
    ``mechanics`` injected after load (``INJECT``), resolving after ``delay_ms``."""

    html: str
    selector: str
    mechanics: List[str]
    delay_ms: int
    viewport: List[int]
    source: str  # synthetic | snapshot
    action: str = "click"

    def to_dict(self) -> dict:
        return asdict(self)


def query_sql(since: str = "7d", threshold: float = 0.7, limit: int = MAX_ROWS) -> str:
    injectable = ", ".join(f"'{m}'" for m in INJECTABLE)
    return SQL.format(seconds=since_seconds(since), threshold=float(threshold), injectable=injectable,
                      limit=max(1, min(int(limit), MAX_ROWS)))


def from_row(row: dict) -> Optional[State]:
    """A ``State`` from one view row, or None when it holds nothing to replay."""
    mechanics = [m for m in (row.get("mechanics") or []) if isinstance(m, str)]
    viewport = [float(v) for v in (row.get("viewport") or [])][:2]
    bbox = [float(v) for v in (row.get("bbox") or [])][:4]
    if not any(m in INJECTABLE for m in mechanics) and row.get("success") is not False:
        return None
    return State(action=str(row.get("action") or "click"), selector=str(row.get("selector") or ""),
                 viewport=viewport if len(viewport) == 2 else [1000.0, 720.0],
                 bbox=bbox if len(bbox) == 4 else [], mechanics=mechanics,
                 ready_ms=_num(row.get("ready_ms")), tier=str(row.get("privacy_tier") or "minimal"),
                 url=str(row.get("url") or ""), success=row.get("success"), healed=bool(row.get("healed")),
                 confidence_before=_num(row.get("confidence_before")),
                 features=[float(f) for f in (row.get("features") or [])],
                 snapshot_key=str(row.get("snapshot_key") or ""))


def _num(value) -> Optional[float]:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def delay_for(state: State) -> int:
    ms = state.ready_ms if state.ready_ms is not None else DELAY_DEFAULT_MS
    return int(min(DELAY_MAX_MS, max(DELAY_MIN_MS, ms)))


def to_scenario(state: State, blob_dir: Optional[str] = None) -> Scenario:
    """The captured page when the tier kept one and it is readable, else a synthetic page."""
    mech = [m for m in state.mechanics if m in INJECTABLE]
    vw, vh = (int(max(320, min(4000, v))) for v in state.viewport)
    snapshot = _snapshot(state, blob_dir)
    if snapshot is not None and state.selector:
        return Scenario(snapshot, state.selector, mech, delay_for(state), [vw, vh], "snapshot", state.action)
    return Scenario(synthetic_page(state, vw, vh), SYNTHETIC_SELECTOR, mech, delay_for(state), [vw, vh],
                    "synthetic", state.action)


def _snapshot(state: State, blob_dir: Optional[str]) -> Optional[str]:
    if state.tier != "full_data" or not state.snapshot_key or not blob_dir:
        return None
    if not re.fullmatch(r"[0-9a-f]{64}", state.snapshot_key):
        return None
    path = os.path.join(blob_dir, state.snapshot_key[:2], state.snapshot_key + ".html")
    try:
        if os.path.getsize(path) > SNAPSHOT_MAX_BYTES:
            return None
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    # the page's own scripts would replay its own flakiness on top of the injected one
    return re.sub(r"<script\b.*?</script\s*>", "", text, flags=re.S | re.I)


def synthetic_page(state: State, vw: int, vh: int) -> str:
    """A plain page with one button at the recorded box (below the fold if it was offscreen)."""
    x, y, w, h = state.bbox if state.bbox else (100.0, 200.0, 120.0, 36.0)
    w, h = max(6.0, min(w, vw * 0.9)), max(6.0, min(h, vh * 0.5))
    x = max(0.0, min(x, vw - w))
    if "offscreen" in state.mechanics and y + h <= vh:
        y = vh + 400.0
    y = max(60.0, y)
    height = max(vh, int(y + h + 200))
    label = html_lib.escape(state.action.capitalize() or "Go")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>body{{margin:0;height:{height}px;"
            "font-family:sans-serif;background:#fafafa}} header{{background:#24476b;color:#fff;padding:12px}}"
            f" #arc-target{{position:absolute;left:{x:.0f}px;top:{y:.0f}px;width:{w:.0f}px;height:{h:.0f}px;"
            "background:#1a7f37;color:#fff;border:0;border-radius:4px;font-size:14px;overflow:hidden}}"
            "</style></head><body><header>Replay</header>"
            f"<button id='arc-target' {REPLAY_MARK}='1' type='button'>{label}</button></body></html>")


# Injected after load; arg = {mechanics, delay}. The target is the element marked REPLAY_MARK.
INJECT = r"""(arg) => {
  const el = document.querySelector('[data-arc-replay]');
  if (!el) return false;
  const st = window.__arc_replay = {clicked: false};
  el.addEventListener('click', () => { st.clicked = true; });
  const m = new Set(arg.mechanics), d = arg.delay;
  const later = (fn) => setTimeout(fn, d);
  const layer = (withButton, busy) => {
    const o = document.createElement('div');
    o.style.cssText = 'position:fixed;inset:0;background:rgba(40,40,40,0.85);z-index:2147483000;' +
                      'display:flex;align-items:center;justify-content:center;color:#fff';
    if (busy) { o.setAttribute('aria-busy', 'true'); o.innerHTML = '<div class="spinner" role="progressbar">…</div>'; }
    if (withButton) {
      o.innerHTML = '<div>We use cookies.<br><button type="button">Accept</button></div>';
      o.querySelector('button').addEventListener('click', () => o.remove());
    }
    document.body.appendChild(o);
    later(() => o.remove());
  };
  if (m.has('absent')) {
    const parent = el.parentNode, next = el.nextSibling;
    el.remove();
    later(() => parent.insertBefore(el, next));
  }
  if (m.has('covered')) layer(true, false);
  if (m.has('loading')) layer(false, true);
  if (m.has('disabled')) { el.disabled = true; later(() => { el.disabled = false; }); }
  if (m.has('moving')) el.animate([{transform: 'translateX(-600px)'}, {transform: 'none'}],
                                  {duration: d, easing: 'ease-out', fill: 'both'});
  return true;
}"""
