"""What the browser tests measure in the page itself, with getComputedStyle and the layout
boxes Chromium computed: the contrast of every text (the WCAG 2.x formula) and what sticks out
of the viewport. Shared by the modules that check the ballot (tests/web/test_gaps.py,
tests/web/test_works_council.py)."""

from __future__ import annotations

from typing import Any

# The WCAG 2.x contrast ratio of every text element on the page as it is drawn now: the text
# colour (with its alpha) over the element's effective background, i.e. the background colours
# of the element and its ancestors composited over the white canvas. A background image (which
# the formula cannot measure) is reported as a failure, not skipped.
CONTRAST = """() => {
  const rgba = (c) => {
    const m = c.match(/^rgba?\\(([^)]+)\\)$/);
    if (!m) throw new Error('unparsed colour ' + c);
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;  // screen-reader-only text is not drawn
    const layers = [];
    let image = false;
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.backgroundImage !== 'none') image = true;
      layers.push(rgba(s.backgroundColor));
    }
    let bg = [255, 255, 255];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({
      tag: el.tagName.toLowerCase(),
      cls: el.className,
      text: el.textContent.trim().slice(0, 40),
      ratio: (hi + 0.05) / (lo + 0.05),
      image,
    });
  }
  return out;
}"""

# Every visible element that sticks out of the viewport sideways (cut off or needing a
# horizontal scroll). The skip link waits off-screen until focused, and screen-reader-only text
# is clipped to 1 px: both are meant to be out of sight.
CUT_OFF = """() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.skip, .visually-hidden')) continue;
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const name = el.tagName + '.' + el.className;
    if (r.left < -0.5 || r.right > w + 0.5) out.push(`${name} ${r.left}..${r.right}`);
    const clips = ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
    if (clips && el.scrollWidth > el.clientWidth + 1) out.push(`clipped ${name}`);
  }
  return out;
}"""


def contrast(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(CONTRAST)  # type: ignore[no-any-return]


def low(measured: list[dict[str, Any]], floor: float = 7.0) -> list[dict[str, Any]]:
    return [m for m in measured if m["ratio"] < floor or m["image"]]
