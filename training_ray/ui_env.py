"""The UI environment: one headless Chromium running replayed scenarios through the agent's own code.

An episode loads a scenario (``states.Scenario``), injects its failure mechanics, observes the target
with the agent's observation code and ONNX confidence model (``arc_agent.vision.observe``), lets a
policy choose tools through the agent's own step loop (``arc_agent.vision.stepper``) and tools, then
acts with the test's timeout. Modes: ``sample`` (the policy's ONNX export, sampled; log-probs kept for
GRPO), ``greedy`` (what the agent does with that policy), ``seed`` (the seed rule), ``bare`` (plain
Playwright). ``EpisodeRunner`` is a plain class; ``ui_policy.py`` wraps it as a Ray actor.
"""

from __future__ import annotations

import time

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ACT_TIMEOUT_MS = 1000   # the test's own timeout on the replayed action
WAIT_MS = 2500          # ARC_VISION_WAIT_MS in the replay: the largest wait bucket fits
THRESHOLD = 0.7


def softmax_logp(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


class EpisodeRunner:
    def __init__(self, threshold: float = THRESHOLD, act_timeout_ms: int = ACT_TIMEOUT_MS,
                 wait_ms: int = WAIT_MS, chromium: str = CHROMIUM) -> None:
        from playwright.sync_api import sync_playwright

        from arc_agent.vision.settings import VisionSettings

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        self._page = self._browser.new_page()
        self.settings = VisionSettings(threshold=threshold, wait_ms=wait_ms, heal=False)
        self.act_timeout_ms = act_timeout_ms
        self._policy = None

    @property
    def page(self):
        """The Playwright page episodes run in (one per runner)."""
        return self._page

    def set_policy(self, onnx_bytes: bytes, manifest: dict) -> str:
        """Load the policy exactly as the agent does (its contract checks included)."""
        from arc_agent.vision.policy import SequentialPolicy

        self._policy = SequentialPolicy(onnx_bytes, manifest)
        return manifest.get("version", "")

    def use_policy(self, policy) -> None:
        """Any object with ``logits(state)`` in ``STEP_STATE`` order, e.g. a hand-written reference
        policy (``benchmarks/ui_policy_bound.py``); ``set_policy`` is the ONNX path the agent uses."""
        self._policy = policy

    def close(self) -> None:
        for step in (self._browser.close, self._pw.stop):
            try:
                step()
            except Exception:
                pass

    # -- one episode -------------------------------------------------------------------------
    def _load(self, scenario: dict) -> None:
        from training_ray.states import INJECT, REPLAY_MARK

        page = self._page
        vw, vh = scenario["viewport"]
        page.set_viewport_size({"width": int(vw), "height": int(vh)})
        page.set_content(scenario["html"], wait_until="domcontentloaded")
        if scenario["source"] == "snapshot":
            page.locator(scenario["selector"]).first.evaluate(
                f"e => e.setAttribute('{REPLAY_MARK}', '1')", timeout=1000)
        page.evaluate(INJECT, {"mechanics": scenario["mechanics"], "delay": scenario["delay_ms"]})

    def run(self, scenario: dict, mode: str = "sample", seed: int = 0) -> dict:
        """One episode → {success, seconds, conf_before, conf_after, steps: [(state, action, logp, conf)],
        tools, error}. A scenario that does not load gives ``error`` and no steps."""
        from arc_agent.vision import recall, shots
        from arc_agent.vision.driver import ACTIVE, Outcome, drive_sync
        from arc_agent.vision.pw_target import PlaywrightTarget

        try:
            self._load(scenario)
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {exc}"[:300], "steps": [], "success": False}
        shots.CACHE.clear()
        recall.MEMORY.clear()
        page = self._page
        target = PlaywrightTarget(scenario.get("action") or "click", page.click, page, (scenario["selector"],),
                                  {"timeout": self.act_timeout_ms}, shortcut=True)
        rng = np.random.default_rng(seed)
        steps: list = []

        def choose(state) -> int:
            logp = softmax_logp(self._policy.logits(state))
            action = int(rng.choice(len(logp), p=np.exp(logp))) if mode == "sample" else int(logp.argmax())
            steps.append([list(map(float, state)), action, float(logp[action])])
            return action

        # as the agent's own wrapper does: while the flow runs, an Arc-patched Playwright in this process
        # (e.g. a test session that instrumented it) passes every call straight through
        token = ACTIVE.set(True)
        t0 = time.perf_counter()
        try:
            out = drive_sync(self._flow(target, mode, choose, steps), Outcome(), target.call())
        finally:
            seconds = time.perf_counter() - t0
            ACTIVE.reset(token)
        success, before, after, tools, confs, act_seconds = out
        for step, conf in zip(steps, confs):
            step.append(conf)
        return {"success": bool(success), "seconds": seconds, "act_seconds": act_seconds, "conf_before": before,
                "conf_after": after, "tools": tools, "steps": steps, "error": None}

    def _flow(self, target, mode: str, choose, steps: list):
        """Generator for the agent's driver: observe → tools (by mode) → act."""
        from arc_agent.vision import policy, tools
        from arc_agent.vision.driver import UserCall
        from arc_agent.vision.observe import Stats, observe
        from arc_agent.vision.stepper import run_steps

        stats = Stats()
        before = after = None
        confs: list = []
        if mode != "bare":
            look = yield from observe(target, stats, None, fresh=True)
            before = look.conf
            if mode == "seed" and look.conf is not None:
                for name in policy.seed_rule(look.conf, look.feats, self.settings.threshold):
                    look = yield from tools.apply(name, target, stats, look, None, self.settings.wait_ms)
            elif mode in ("sample", "greedy") and self._policy is not None:
                look = yield from run_steps(target, stats, look, None, self.settings, choose,
                                            on_step=lambda state, action, lk: confs.append(lk.conf))
            after = look.conf
        t_act = time.perf_counter()
        try:
            yield UserCall(target.call())
            success = True
        except Exception:
            success = False
        return success, before, after, list(stats.tools), confs, time.perf_counter() - t_act


def episode_reward(ep: dict, threshold: float, lam: float, time_cost: str = "total") -> float:
    """The GRPO reward of an episode (``grpo.reward``; the gate counts each tool step). ``time_cost``:
    the seconds λ charges: ``total`` (the whole episode, the action's own wait included) or ``added``
    (what Arc adds before the action: observation and tools, the benchmark's figure). Only ``added``
    rewards leaving the last part of a wait to the action's own timeout; ``total`` cannot tell apart
    two episodes that spend the same time in different places."""
    from arc_agent.vision.features import ACTIONS
    from training_ray import grpo

    confs = [s[3] for s in ep["steps"]] + [ep.get("conf_after")]
    tool_steps = [(confs[i], confs[i + 1] if confs[i + 1] is not None else confs[i])
                  for i, s in enumerate(ep["steps"]) if ACTIONS[s[1]] != "act" and confs[i] is not None]
    before = ep.get("conf_before") or 0.0
    after = ep.get("conf_after") if ep.get("conf_after") is not None else before
    seconds = ep.get("seconds", 0.0)
    if time_cost == "added":
        seconds = max(0.0, seconds - ep.get("act_seconds", 0.0))
    return grpo.reward(ep["success"], before, after, grpo.gate_penalty(tool_steps, threshold),
                       seconds, lam)
