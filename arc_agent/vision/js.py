"""Page-side JavaScript, written once and shared by the Playwright and Selenium adapters.

Each constant is a function expression taking an array of elements (plus an optional argument);
the adapters wrap it in their own calling convention. The scripts read the DOM and never change
it, except ``SCROLL_CENTER`` and ``INSPECT`` with ``scroll: true``, which scroll like a user would.
"""

_HELPERS = r"""
const within = (outer, node) => {            // composed containment: crosses shadow roots
  for (let n = node; n; n = n.parentNode || n.host) { if (n === outer) return true; }
  return false;
};
const hitAt = (x, y) => {
  let hit = document.elementFromPoint(x, y);
  while (hit && hit.shadowRoot) {
    const inner = hit.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  return hit;
};
const describe = (e) => e ? (e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (e.classList && e.classList.length ? '.' + Array.from(e.classList).join('.') : '')) : '';
// the one close/accept button of the layer ``hit`` that covers ``el`` (a cookie banner, a modal), else null
const DISMISS_LABEL = /^(close|dismiss|accept|accept all|ok|got it|no thanks|\u00d7|x)$/i;
const closeButton = (el, hit) => {
  for (let layer = hit; layer && layer !== document.body; layer = layer.parentElement) {
    const buttons = Array.from(layer.querySelectorAll('button, [role=button]')).filter(b => {
      const label = ((b.getAttribute('aria-label') || b.innerText || b.textContent || '') + '').trim();
      return DISMISS_LABEL.test(label) && !within(b, el) && !within(el, b);
    });
    if (buttons.length === 1) return buttons[0];
    if (buttons.length > 1) return null;
  }
  return null;
};
const pathOf = (el) => {
  const out = [];
  for (let n = el; n && n.nodeType === 1; ) {
    out.push(n.tagName.toLowerCase());
    n = n.parentElement || (n.getRootNode && n.getRootNode().host) || null;
  }
  return out.reverse();
};
const FP_ATTRS = ['name', 'type', 'role', 'aria-label', 'placeholder', 'title', 'href', 'alt',
                  'data-testid', 'for'];
const fingerprint = (el) => {
  const attrs = {};
  for (const a of FP_ATTRS) { const v = el.getAttribute(a); if (v !== null) attrs[a] = v.slice(0, 120); }
  return {tag: el.tagName.toLowerCase(), id: el.id || '', cls: Array.from(el.classList || []),
          text: ((el.innerText || el.textContent || '') + '').trim().replace(/\s+/g, ' ').slice(0, 80),
          attrs, path: pathOf(el), shadow: !!(el.getRootNode && el.getRootNode() instanceof ShadowRoot)};
};
const allRoots = () => {                      // document plus every open shadow root, in DOM order
  const roots = [document];
  for (let i = 0; i < roots.length; i++) {
    for (const e of roots[i].querySelectorAll('*')) { if (e.shadowRoot) roots.push(e.shadowRoot); }
  }
  return roots;
};
const deepAll = (css) => {
  const out = [];
  for (const r of allRoots()) { for (const e of r.querySelectorAll(css)) out.push(e); }
  return out;
};
const hostChain = (el) => {                   // CSS of each shadow host above el, outermost first
  const chain = [];
  for (let root = el.getRootNode(); root instanceof ShadowRoot; root = root.host.getRootNode()) {
    chain.unshift(uniqueIn(root.host, root.host.getRootNode()));
  }
  return chain;
};
const nthPath = (el, root) => {
  const parts = [];
  for (let n = el; n && n.nodeType === 1 && n !== root; n = n.parentElement) {
    let i = 1;
    for (let s = n.previousElementSibling; s; s = s.previousElementSibling) { if (s.tagName === n.tagName) i++; }
    parts.unshift(n.tagName.toLowerCase() + ':nth-of-type(' + i + ')');
    if (!n.parentElement) break;
  }
  return parts.join(' > ');
};
const uniqueIn = (el, root) => {              // a CSS selector matching only el within its own root
  const tag = el.tagName.toLowerCase();
  const tries = [];
  if (el.id) tries.push('#' + CSS.escape(el.id));
  for (const a of ['data-testid', 'name', 'aria-label']) {
    const v = el.getAttribute(a); if (v) tries.push(tag + '[' + a + '="' + v.replace(/"/g, '\\"') + '"]');
  }
  if (el.classList && el.classList.length) {
    tries.push(tag + '.' + Array.from(el.classList).map(c => CSS.escape(c)).join('.'));
  }
  for (const t of tries) { try { if (root.querySelectorAll(t).length === 1) return t; } catch (e) {} }
  return nthPath(el, root);
};
"""

# What changed on screen since the previous probe, as viewport rects, so a viewport capture can be
# reused for targets nowhere near a change. A MutationObserver (installed once per document, under a
# Symbol so it cannot clash with the page) collects mutated elements; running animations and
# unfinished images count as changes too. Shadow-root contents are not observed: targets inside a
# shadow root are always captured afresh (see observe.py).
_CHANGES = r"""
const K = Symbol.for('arc.vision.changes');
let st = window[K];
if (!st) {
  st = window[K] = {id: Math.random().toString(36).slice(2), touched: new Set(), all: false};
  try {
    new MutationObserver((records) => {
      for (const m of records) {
        const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (!el) continue;
        if (st.touched.size > 256) { st.all = true; return; }
        st.touched.add(el);
        if (m.type === 'attributes' && el.parentElement) st.touched.add(el.parentElement);
      }
    }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  } catch (e) { st.all = true; }
  // anything an action does that can change pixels (pointer, keys, focus, input, scroll) counts here,
  // so a capture requested before the action can prove it was copied before any of it (``CAPTURED_CLEAN``)
  st.inputs = 0;
  const seen = () => { st.inputs++; };
  for (const t of ['pointerdown', 'pointerup', 'pointermove', 'pointerover', 'mousedown', 'mouseup',
                   'mousemove', 'mouseover', 'click', 'dblclick', 'keydown', 'keyup', 'beforeinput',
                   'input', 'change', 'select', 'focusin', 'focusout', 'wheel', 'touchstart', 'scroll']) {
    try { window.addEventListener(t, seen, {capture: true, passive: true}); } catch (e) {}
  }
}
const changed = [];
const addRect = (e) => {
  if (!e || !e.getBoundingClientRect) return;
  const b = e.getBoundingClientRect();
  if (b.width > 0 && b.height > 0) changed.push([b.x, b.y, b.width, b.height]);
};
st.touched.forEach(addRect);
try {
  for (const a of document.getAnimations()) {
    if (a.playState === 'running' && a.effect && a.effect.target) addRect(a.effect.target);
  }
} catch (e) {}
for (const img of document.images) { if (!img.complete) addRect(img); }
const changes = {doc: st.id, all: st.all || changed.length > 64 || document.fonts.status !== 'loaded',
                 rects: changed.slice(0, 64), inputs: st.inputs};
st.touched.clear();
st.all = false;
"""

PROBE = "(els) => {" + _HELPERS + _CHANGES + r"""
  const vw = window.innerWidth, vh = window.innerHeight;
  const busy = Array.from(document.querySelectorAll(
      '[aria-busy="true"],[role="progressbar"],.spinner,.loading,.loader,[class*="spinner"]'))
    .some(e => { const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0 &&
                 getComputedStyle(e).visibility !== 'hidden'; });
  const out = {n: els.length, top: window.top === window, vw, vh, sx: window.scrollX, sy: window.scrollY,
               dpr: window.devicePixelRatio || 1, url: location.origin + location.pathname,
               loading: document.readyState !== 'complete' || busy, changes};
  if (!els.length) return out;
  const el = els[0];
  const r = el.getBoundingClientRect();
  out.rect = [r.x, r.y, r.width, r.height];
  const styled = el.checkVisibility ? el.checkVisibility({visibilityProperty: true}) : true;
  out.visible = !!(styled && r.width > 0 && r.height > 0);
  out.disabled = !!(el.disabled || el.getAttribute('aria-disabled') === 'true' ||
                    (el.closest && el.closest('fieldset[disabled]')));
  const cx = r.x + r.width / 2, cy = r.y + r.height / 2;
  out.covered = false;
  out.dismissable = false;  // what the `dismiss` tool would click exists (the sequential policy's state)
  if (out.visible && cx >= 0 && cy >= 0 && cx < vw && cy < vh) {
    const hit = hitAt(cx, cy);
    out.covered = !(hit && (within(el, hit) || within(hit, el) && hit.tagName === 'LABEL'));
    out.dismissable = !!(out.covered && hit && !within(el, hit) && closeButton(el, hit));
  }
  out.animating = false;
  try {
    out.animating = document.getAnimations().some(a => a.playState === 'running' && a.effect &&
      a.effect.target && within(a.effect.target, el) &&
      a.effect.getComputedTiming().endTime !== Infinity);
  } catch (e) {}
  // the element is what a user would hit at its centre and at four inner points (recall.py)
  out.clear = !out.covered && out.visible && [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]
    .every(([fx, fy]) => {
      const x = r.x + r.width * fx, y = r.y + r.height * fy;
      if (x < 0 || y < 0 || x >= vw || y >= vh) return false;
      const hit = hitAt(x, y);
      return !!(hit && (within(el, hit) || within(hit, el) && hit.tagName === 'LABEL'));
    });
  out.fp = fingerprint(el);
  return out;
}"""

# Evaluated right after a capture requested before the action came back: [document id, events so far];
# the probe's ``changes.doc`` and ``changes.inputs`` mean no event of the action had reached the page
# when the pixels were copied (a count, not a reset, so another action's probe cannot hide one).
# An expression (CDP ``Runtime.evaluate``), not a function.
CAPTURED_CLEAN = ("(() => { const st = window[Symbol.for('arc.vision.changes')];"
                  " return st ? [st.id, st.inputs] : null; })()")

INSPECT = "(els, scroll) => {" + _HELPERS + r"""
  if (!els.length) return {present: false};
  const el = els[0];
  const r = el.getBoundingClientRect();
  const vw = window.innerWidth, vh = window.innerHeight;
  const outside = r.bottom <= 0 || r.right <= 0 || r.top >= vh || r.left >= vw;
  const cx = r.x + r.width / 2, cy = r.y + r.height / 2;
  const hit = (!outside && r.width > 0 && r.height > 0) ? hitAt(cx, cy) : null;
  const covered = !!(hit && !within(el, hit));
  let scrolled = false;
  if (outside && scroll) { el.scrollIntoView({block: 'center', inline: 'center'}); scrolled = true; }
  return {present: true, outside, scrolled, covered, covered_by: covered ? describe(hit) : '',
          shadow: el.getRootNode() instanceof ShadowRoot,
          disabled: !!(el.disabled || el.getAttribute('aria-disabled') === 'true')};
}"""

SCROLL_CENTER = r"""(els) => {
  if (!els.length) return false;
  els[0].scrollIntoView({block: 'center', inline: 'center'});
  return true;
}"""

# The `dismiss` tool: if something covers the target's centre, click the one button inside that
# covering layer whose label says close/accept/dismiss (a cookie banner, a modal), as a user would.
# Nothing else is touched; returns what it clicked ('' when nothing qualified).
DISMISS = "(els) => {" + _HELPERS + r"""
  if (!els.length) return '';
  const el = els[0];
  const r = el.getBoundingClientRect();
  if (!(r.width > 0 && r.height > 0)) return '';
  const hit = hitAt(r.x + r.width / 2, r.y + r.height / 2);
  if (!hit || within(el, hit)) return '';
  const button = closeButton(el, hit);
  if (!button) return '';
  button.click();
  return describe(button);
}"""

# arg: {tag, text, limit, elements}; returns fingerprints of plausible candidates with a unique
# selector each (`hosts` = CSS chain of shadow hosts, outermost first) and, for Selenium, the element.
CANDIDATES = "(els, arg) => {" + _HELPERS + r"""
  const out = [];
  for (const root of allRoots()) {
    for (const e of root.querySelectorAll('*')) {
      if (out.length >= arg.limit) break;
      const tagOk = e.tagName.toLowerCase() === arg.tag;
      if (!tagOk && !(arg.text && ((e.innerText || '') + '').trim() === arg.text)) continue;
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const c = fingerprint(e);
      c.sel = uniqueIn(e, root);
      c.hosts = root instanceof ShadowRoot ? hostChain(e) : [];
      if (arg.elements) c.el = e;
      out.push(c);
    }
  }
  return out;
}"""

# arg: css; matches across the document and all open shadow roots (what Playwright's CSS does).
DEEP_QUERY = "(els, css) => {" + _HELPERS + r"""
  let found;
  try { found = deepAll(css); } catch (e) { return {n: 0}; }
  if (found.length !== 1) return {n: found.length};
  const el = found[0];
  return {n: 1, el, hosts: el.getRootNode() instanceof ShadowRoot ? hostChain(el) : [],
          sel: uniqueIn(el, el.getRootNode())};
}"""

# In-flight fetch/XHR count for "network idle" where the driver cannot observe the network itself
# (Selenium). Installed once per document under a Symbol (at document start when the driver speaks
# CDP, else at the first call); requests a document started before that are only seen through the
# Performance API once they finish (``quiet``: ms since the last resource or tracked request ended).
NETWORK_STATE = r"""(els) => {
  const K = Symbol.for('arc.vision.net');
  let st = window[K];
  if (!st) {
    st = window[K] = {inflight: 0, last: 0};
    const done = () => { st.inflight = Math.max(0, st.inflight - 1); st.last = performance.now(); };
    const origFetch = window.fetch;
    if (origFetch) {
      window.fetch = function (...args) {
        st.inflight++;
        let p;
        try { p = origFetch.apply(this, args); } catch (e) { done(); throw e; }
        p.then(done, done);
        return p;
      };
    }
    const origSend = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (...args) {
      st.inflight++;
      this.addEventListener('loadend', done, {once: true});
      try { return origSend.apply(this, args); } catch (e) { done(); throw e; }
    };
  }
  let last = st.last;
  for (const e of performance.getEntriesByType('resource')) last = Math.max(last, e.responseEnd || 0);
  return {inflight: st.inflight, ready: document.readyState, quiet: performance.now() - last};
}"""

# A probe taken inside a same-origin child frame, moved to the top page's terms (box in top-viewport
# coordinates, top viewport, scroll and URL; ``framed``), by walking ``frameElement`` up: each frame's
# content box starts at its element's box plus border and padding. Cross-origin frames stay as they
# are (no crop). Selenium only: Playwright asks the browser for the box (``pw_target.py``).
TO_TOP = r"""(p) => {
  if (!p || p.top) return p;
  try {
    let dx = 0, dy = 0, w = window;
    while (w !== w.top) {
      const fe = w.frameElement;
      if (!fe) return p;
      const r = fe.getBoundingClientRect(), cs = w.parent.getComputedStyle(fe);
      dx += r.x + fe.clientLeft + parseFloat(cs.paddingLeft || '0');
      dy += r.y + fe.clientTop + parseFloat(cs.paddingTop || '0');
      w = w.parent;
    }
    if (p.rect) { p.rect = [p.rect[0] + dx, p.rect[1] + dy, p.rect[2], p.rect[3]]; p.top = true; }
    Object.assign(p, {vw: w.innerWidth, vh: w.innerHeight, sx: w.scrollX, sy: w.scrollY,
                      url: w.location.origin + w.location.pathname, framed: true});
  } catch (e) {}
  return p;
}"""

# The top page's URL without query when reachable (same origin), else this document's: the key
# fingerprints are stored under, matching what ``TO_TOP`` reports.
TOP_LOCATION = r"""(() => {
  try { return window.top.location.origin + window.top.location.pathname; }
  catch (e) { return location.origin + location.pathname; }
})()"""


def for_playwright(script: str) -> str:
    """Playwright's ``locator.evaluate_all(fn, arg)`` calls ``fn(elements, arg)`` directly."""
    return script


def for_selenium(script: str) -> str:
    """Selenium passes ``arguments``; element list first (may be null), then the argument."""
    return ("return (" + script + ")(arguments[0] ? [arguments[0]] : [], arguments[1]);")


def for_selenium_top(script: str) -> str:
    """``for_selenium`` with the result passed through ``TO_TOP`` (for the probe)."""
    return ("return (" + TO_TOP + ")((" + script + ")(arguments[0] ? [arguments[0]] : [], arguments[1]));")
