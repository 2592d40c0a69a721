"""End-to-end: a click on a confusion-matrix cell in Chromium opens that cell's images.

Plotly heatmaps emit no selection points, so the page lays an invisible marker on each
cell's centre (dashboard/figures/charts.py `cell_targets`); this test clicks where a teacher
would, inside the cell with the most images, and expects the cell's title and images,
and the cell outlined on the matrix.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.scenario import in_a_tab, start_and_pause
from tests.e2e.test_browser import chart, no_exceptions, shoot, sidebar_button, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COUNTS_JS = "el => JSON.stringify(Array.from(el._fullData[0].text, row => Array.from(row)))"
# the page position of cell (row, column)'s centre, from plotly's own axes
CENTRE_JS = """([el, row, column]) => { const box = el.getBoundingClientRect();
  const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
  return [box.left + xa._offset + xa.l2p(column), box.top + ya._offset + ya.l2p(row)]; }"""

# (row, column) of each rectangle drawn over the matrix: the open cell's outline
OUTLINE_JS = """el => JSON.stringify((el.layout.shapes || []).filter(s => s.type === 'rect')
  .map(s => [Math.round(s.y0 + 0.5), Math.round(s.x0 + 0.5)]))"""


def test_clicking_a_cell_shows_its_images(browser, dashboard_server, artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "confusion_click", _click_a_cell)


def _click_a_cell(page, server, shots: Path, expect) -> None:
    confusion = start_and_pause(page, server, expect)  # the matrix stops changing

    counts = json.loads(confusion.evaluate(COUNTS_JS))
    labels = [str(d) for d in range(len(counts) - 1)] + ["fake"]
    truth, verdict = max(((i, j) for i in range(len(counts)) for j in range(len(counts))),
                         key=lambda cell: counts[cell[0]][cell[1]])
    size = len(counts)
    confusion.scroll_into_view_if_needed()
    x, y = page.evaluate(CENTRE_JS, [confusion.element_handle(), truth, verdict])
    page.mouse.click(x, y)

    title = (f"fakes called {labels[verdict]}" if truth == size - 1
             else f"real {labels[truth]} called {labels[verdict]}")
    expect(page.get_by_text(re.compile(f"^{re.escape(title)}"))).to_be_visible()
    shown = min(32, counts[truth][verdict])
    captions = page.locator("[data-testid='stImageCaption']", has_text="P(")
    expect(captions).to_have_count(shown)
    wait_until(lambda: json.loads(chart(page, "confusion_chart").evaluate(OUTLINE_JS))
               == [[truth, verdict]], 20, "the clicked cell's outline on the matrix")
    no_exceptions(page)
    shoot(page, shots, "confusion_click")
    sidebar_button(page, "Stop").click()
