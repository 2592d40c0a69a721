"""A study's results on the Label budget page: the chart, the table, the downloads and
"train this one live". Shared by the page's own studies and the shipped ones."""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

from dashboard.sidebar import settings as controls
from dashboard import layout, navigation, state
from dashboard.views.budget import studies
from dashboard.figures.budget import study_spec
from sgan_core.data.datasets import labels_per_class_words
from sgan_core.studies.results import summarize, table_rows, to_csv

ALT = ("Test accuracy against labeled examples per class, SGAN and baseline: mean over "
       "seeds with its range; the table beside it gives the same figures.")


def draw_results(study: studies.StudyState, title_note: str = "") -> None:
    """Chart and table side by side, then the downloads (once a cell has landed)."""
    rows = table_rows(study.rows)
    summary = summarize(rows)
    layout.install()
    # Stacked below 1200 px: at 1024 the chart got 320 px beside the table, where the
    # gap's words collided, the legend was cut and the table lost two columns.
    left, right = layout.pair("budget", [3, 2])
    with left:
        title = dataset_title(study) + (f": {title_note}" if title_note else "")
        # Vega-Lite: its script is a sixth of plotly.js's, the first visit's main cost.
        # The keyed container gives the chart a CSS class (.st-key-budget_chart) that
        # tests and benchmarks find it by; a Vega chart's own key sets none.
        with st.container(key="budget_chart"):
            st.vega_lite_chart(study_spec(summary, slider_labels(), title=title), alt=ALT)
    with right:
        _table(summary)
    if rows:
        _downloads(study, {"study": study.record, "cells": rows, "summary": summary})


def slider_labels() -> int:
    """The live sidebar's label count; its default where this tab has not drawn that
    sidebar yet (a tab opened on this page), so the chart marks what Start would use."""
    return int(state.widget_value("w_labels", controls.default_config().labels_per_class))


def dataset_title(study: studies.StudyState) -> str:
    from sgan_core.data.datasets import DATASETS

    spec = DATASETS.get(study.dataset)
    return spec.title if spec is not None else study.dataset


def _table(summary: list[dict[str, Any]]) -> None:
    if not summary:
        st.caption("The table fills in as cells finish.")
        return
    # Percent with one decimal, as the chart writes them, under short headers with the
    # long names in their tooltips: "labels/class" and "gap, pts" as headers would push
    # the gap column out of sight beside the chart at 1280 px.
    rows = [{"labels/class": e["labels_per_class"], "seeds": e["scored_cells"],
             **{name: None if e[key]["mean"] is None else 100 * e[key]["mean"]
                for name, key in (("SGAN", "sgan"), ("baseline", "baseline"), ("gap, pts", "gap"))}}
            for e in summary]
    percent = st.column_config.NumberColumn(format="%.1f%%")
    st.dataframe(rows, hide_index=True, column_config={
        "labels/class": st.column_config.NumberColumn(
            "labels", help="Labeled examples per class"),
        "seeds": st.column_config.NumberColumn(help="Seeds finished for this label count"),
        "SGAN": percent, "baseline": percent,
        "gap, pts": st.column_config.NumberColumn(
            "gap", format="%+.1f", help="SGAN minus baseline, in percentage points")})
    st.caption("Mean test accuracy over seeds; the gap is SGAN minus baseline in "
               "percentage points, per seed.")


def _downloads(study: studies.StudyState, document: dict[str, Any]) -> None:
    name = study.study_id.replace(":", "-")
    left, right = st.columns(2)
    left.download_button("Results (CSV)", to_csv(document["cells"]), key="b_study_csv",
                         file_name=f"{name}.csv", mime="text/csv")
    right.download_button("Results (JSON)", json.dumps(document, indent=2),
                          key="b_study_json", file_name=f"{name}.json",
                          mime="application/json")


def train_live(study: studies.StudyState) -> None:
    """Open the live page with one of the study's label counts on the slider."""
    counts = sorted({row["labels_per_class"] for row in study.rows})
    if not counts:
        return
    mine = slider_labels()
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    chosen = left.selectbox("Labels per class", counts, key="wb_live_labels",
                            index=counts.index(mine) if mine in counts else 0)
    if right.button(f"Train {labels_per_class_words(chosen)} live", key="b_train_live",
                    icon=":material/monitoring:"):
        state.set_widget_values({"w_dataset": study.dataset, "w_labels": chosen},
                                overwrite=True)
        navigation.open_live_page()
