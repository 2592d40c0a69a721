"""Measured in the browser, what a viewer can or cannot read: chart texts drawn on top of
each other, chart titles cut off at the chart's edge, and the on-screen size of the
captions drawn into the sample grids (what a 1024x768 screen puts at risk: the
confusion matrix's counts overlapping, the tiles' labels shrunk to dots, an axis title
clipped)."""
from __future__ import annotations

import json
import time

# Pairs of non-empty texts in the chart whose boxes overlap by more than a pixel both
# ways, among the texts `selector` picks; and how many texts it picked (so a selector
# that finds nothing cannot pass).
_OVERLAPS = """([el, selector]) => {
  const texts = [...el.querySelectorAll(selector)].filter(t => t.textContent.trim());
  const boxes = texts.map(t => [t.textContent, t.getBoundingClientRect()]);
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, s] = boxes[j];
    const wide = Math.min(r.right, s.right) - Math.max(r.left, s.left);
    const high = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
    if (wide > 1 && high > 1) overlaps.push(a + ' / ' + b);
  }
  return {count: texts.length, overlaps: overlaps.slice(0, 10)};
}"""

# Axis and chart titles that reach outside the chart's own box.
_CLIPPED = """el => {
  const frame = el.querySelector('.main-svg').getBoundingClientRect();
  const titles = [...el.querySelectorAll('[class*="title"] text')]
    .filter(t => t.textContent.trim());
  const out = titles.filter(t => {
    const r = t.getBoundingClientRect();
    return r.left < frame.left - 1 || r.right > frame.right + 1
        || r.top < frame.top - 1 || r.bottom > frame.bottom + 1;
  }).map(t => t.textContent);
  return {count: titles.length, clipped: out};
}"""

# Texts cut short (an ellipsis, "Li..."): boxes that hide what overflows them and hold
# text wider than themselves (a selectbox shows its choice as an <input>'s value).
_CUT = """el => [el, ...el.querySelectorAll('*')]
  .map(e => [e, (e.tagName === 'INPUT' ? e.value : e.textContent).trim()])
  .filter(([e, text]) => text && ['hidden', 'clip'].includes(getComputedStyle(e).overflowX)
                         && e.scrollWidth > e.clientWidth + 1)
  .map(([e, text]) => text.slice(0, 60))"""

HEATMAP_TEXTS = ".heatmaplayer text"  # the confusion matrix's counts
TICK_TEXTS = ".xtick text, .ytick text"
# legend entries, chart and axis titles, tick labels: the words around a chart's plot
CHART_TEXTS = "text.legendtext, text[class*='title'], [class*='tick'] text"


def overlapping_texts(plot, selector: str) -> tuple[int, list[str]]:
    """(texts found, overlapping pairs) in a rendered `.js-plotly-plot`."""
    found = plot.evaluate(f"el => ({_OVERLAPS})([el, {json.dumps(selector)}])")
    return int(found["count"]), list(found["overlaps"])


def settled_overlapping_texts(chart, selector: str, timeout_s: float = 15.0
                              ) -> tuple[int, list[str]]:
    """`overlapping_texts` once the chart has stopped moving: its box and its texts'
    boxes the same in two reads 0.5 s apart. A Vega chart is drawn first at a default
    width, then again at its container's; read in between, neighbouring labels of the
    first drawing overlapped although the chart a viewer sees a moment later does not."""
    def layout() -> str:
        return chart.evaluate(
            f"el => JSON.stringify([el.getBoundingClientRect(), "
            f"...[...el.querySelectorAll({json.dumps(selector)})]"
            f".map(t => t.getBoundingClientRect())])")

    deadline = time.monotonic() + timeout_s
    previous = layout()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = layout()
        if current == previous:
            break
        previous = current
    return overlapping_texts(chart, selector)


def clipped_titles(plot) -> tuple[int, list[str]]:
    """(titles found, those reaching outside the chart) in a rendered `.js-plotly-plot`."""
    found = plot.evaluate(_CLIPPED)
    return int(found["count"]), list(found["clipped"])


def shown_scale(image) -> float:
    """On-screen width of an <img> over its natural width: a caption drawn 30 px tall
    into the picture is 30 x this many pixels tall on screen."""
    return float(image.evaluate("img => img.getBoundingClientRect().width / img.naturalWidth"))


def cut_short(area) -> list[str]:
    """The texts in `area` (a locator) that their boxes cut short."""
    return list(area.evaluate(_CUT))


# The confusion matrix's counts whose boxes reach out of their cells: the plot area is
# n x n cells (both axes categorical over exactly their n labels), each count belongs
# to the cell holding its centre.
_OUT_OF_CELLS = """el => {
  const texts = [...el.querySelectorAll('.heatmaplayer text')];
  const n = Math.round(Math.sqrt(texts.length));
  const area = el.querySelector(".nsewdrag[data-subplot='xy']").getBoundingClientRect();
  const w = area.width / n, h = area.height / n;
  const out = texts.filter(t => {
    const r = t.getBoundingClientRect();
    const i = Math.floor((r.left + r.width / 2 - area.left) / w);
    const j = Math.floor((r.top + r.height / 2 - area.top) / h);
    const left = area.left + i * w, top = area.top + j * h;
    return r.left < left - 0.5 || r.right > left + w + 0.5
        || r.top < top - 0.5 || r.bottom > top + h + 0.5;
  }).map(t => `${t.textContent} (${t.getBoundingClientRect().width.toFixed(1)} px in ${w.toFixed(1)})`);
  return {count: texts.length, out: out.slice(0, 10)};
}"""


def counts_out_of_cells(plot) -> tuple[int, list[str]]:
    """(counts found, those reaching out of their cell) in a rendered confusion matrix."""
    found = plot.evaluate(_OUT_OF_CELLS)
    return int(found["count"]), list(found["out"])


# The words of a chart (every non-empty text but the hover label) whose boxes meet the
# box of Plotly's mode bar, the bar's box, and whether its camera button is on screen.
_UNDER_MODEBAR = """el => {
  const bar = el.querySelector('.modebar');
  if (!bar) return null;
  const b = bar.getBoundingClientRect();
  const texts = [...el.querySelectorAll('text')]
    .filter(t => t.textContent.trim() && !t.closest('.hoverlayer'));
  const under = texts.filter(t => {
    const r = t.getBoundingClientRect();
    return Math.min(r.right, b.right) - Math.max(r.left, b.left) > 0
        && Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top) > 0;
  }).map(t => t.textContent);
  const camera = bar.querySelector("[data-title='Download plot as a PNG']");
  const c = camera && camera.getBoundingClientRect();
  const shown = !!c && c.width > 0 && c.left >= 0 && c.top >= 0
    && c.right <= window.innerWidth && c.bottom <= window.innerHeight
    && getComputedStyle(bar).opacity === '1';
  return {count: texts.length, under, camera: shown,
          bar: [b.left, b.top, b.right, b.bottom].map(Math.round)};
}"""


def words_under_modebar(plot) -> dict:
    """Hover `plot` (a `.js-plotly-plot`) so its mode bar shows, then measure: `count`
    texts found, those `under` the bar, whether the `camera` button is on screen."""
    plot.locator(".modebar").wait_for(state="attached")  # drawn with the chart's first plot
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    plot.hover(position={"x": 8, "y": box["height"] - 8})  # off the traces' hover labels
    plot.page.wait_for_timeout(600)  # the bar fades in over 0.3 s
    found = plot.evaluate(_UNDER_MODEBAR)
    assert found is not None, "the chart has no mode bar"
    return found
