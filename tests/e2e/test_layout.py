"""End-to-end: the live page read on a 1024x768 laptop. Measured in Chromium, not
judged by eye: the confusion matrix's counts and the curves' legend never overlap, the
sample tiles' verdicts are at least 12 px tall, and no chart title is cut off at its
chart's edge (the inspector's long P(fake) axis title included), no text cut short."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.readable import (CHART_TEXTS, HEATMAP_TEXTS, TICK_TEXTS, clipped_titles,
                                cut_short, overlapping_texts, shown_scale)
from tests.e2e.scenario import in_a_tab, start_and_pause
from tests.e2e.test_browser import chart, no_exceptions, shoot, sidebar_button

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CAPTION_PX = 30  # the tiles' verdict font in the picture (dashboard/figures/images.py)
MIN_CAPTION_PX = 12  # on screen: readable from a desk


def test_the_live_page_is_readable_at_1024x768(browser, dashboard_server, artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "layout_1024", _readable,
             height=768, width=1024)


def _readable(page, server, shots: Path, expect) -> None:
    confusion = start_and_pause(page, server, expect)  # paused: nothing redraws meanwhile
    grid = page.locator(".st-key-pair_charts [data-testid='stImage'] img").first
    expect(grid).to_be_visible()
    assert shown_scale(grid) * CAPTION_PX >= MIN_CAPTION_PX, (
        f"sample verdicts are {shown_scale(grid) * CAPTION_PX:.1f} px tall on screen")

    counts, overlaps = overlapping_texts(confusion, HEATMAP_TEXTS)
    assert counts == 11 * 11 and not overlaps, f"confusion counts overlap: {overlaps}"
    ticks, overlaps = overlapping_texts(confusion, TICK_TEXTS)
    assert ticks == 2 * 11 and not overlaps, f"confusion labels overlap: {overlaps}"

    curves = chart(page, "curves_chart")
    expect(curves).to_be_visible()
    texts, overlaps = overlapping_texts(curves, CHART_TEXTS)
    assert texts >= 12 and not overlaps, f"curve legend, titles or ticks overlap: {overlaps}"

    for key in ("p_fake_chart", "curves_chart", "confusion_chart"):
        plot = chart(page, key)
        expect(plot).to_be_visible()
        titles, clipped = clipped_titles(plot)
        assert titles >= 1 and not clipped, f"{key}: titles cut off at the edge: {clipped}"
    for area in ("stSidebar", "stMain"):  # no "Li..." anywhere: labels, choices, buttons
        cut = cut_short(page.locator(f"[data-testid='{area}']"))
        assert not cut, f"{area}: texts cut short: {cut}"
    no_exceptions(page)
    shoot(page, shots, "layout_1024")
    sidebar_button(page, "Stop").click()
