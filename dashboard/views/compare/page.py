"""The "Compare runs" page: 2 to 6 runs side by side, live or finished.

A run is either live (in this server's registry, one this tab started or showed: a tab
never sees another visitor's run ids; a recording opened on the live page is listed as
what it is) or a folder under the runs folder (the page's own runs, kept by
sgan_core/storage/run_folder.py, and the CLI's --out folders), read back as a Snapshot by
sgan_core/storage/run_folder_reader.py. Both are drawn by the same code: accuracy and loss curves
overlaid, final figures in one table, sample grids and confusion matrices side by side.
While any chosen run moves, one fragment redraws every REFRESH_S.
"""
from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from dashboard.figures import compare as compare_figures, charts as figures, images
from dashboard.views.compare import start as compare_start
from dashboard import layout, server, state
from dashboard.sidebar import run_files as runfiles
from dashboard.panels import PLOTLY_CONFIG, png
from sgan_core.data.datasets import labels_per_class_words
from sgan_core.snapshot import Snapshot

REFRESH_S = 2.0
MIN_RUNS, MAX_RUNS = 2, 6
# Runs side by side on a wide screen: 380 px each at 1280 px. Three to a row got 240 px,
# where a matrix cell is 14 px wide and a count of a full test set (1135) 22 px.
PER_ROW = 2
SMALL_PX = 11  # the side-by-side matrices' words
LIVE, DISK = "live:", "disk:"  # option prefixes: a registry id or a runs-folder path
PERCENT = ("SGAN", "baseline", "fakes caught")
INTRO = """
Put runs side by side: how do 1 and 10 labels per class differ, or feature matching and
the non-saturating loss? Pick **2 to 6 runs**: live ones from this tab, or any run kept
in the runs folder (the page keeps every run there, and so does `python -m sgan_core
train --out`). Or start two live runs below and watch them learn side by side.
"""


def render() -> None:
    state.keep_widget_values(compare_start.LIVE_KEYS)  # the live sidebar survives here
    st.title("Compare runs")
    st.markdown(INTRO)
    compare_start.render(lambda ids: _choose([LIVE + run_id for run_id in ids]))
    options, labels, problems = _options()
    if problems:
        with st.expander(f"{len(problems)} folder(s) in the runs folder could not be read"):
            st.markdown("\n".join(f"- {problem}" for problem in problems))
    if not options:
        st.info("No runs yet: start two above, train one on the Live training page, or "
                "run `python -m sgan_core train ... --out runs/NAME`.")
        return
    kept = [key for key in state.widget_value("wc_runs", []) if key in options]
    state.set_widget_values({"wc_runs": kept}, overwrite=True)
    chosen = st.multiselect("Runs to compare", options, key="wc_runs",
                            max_selections=MAX_RUNS, format_func=lambda key: labels[key],
                            help="This tab's runs first (live ones, and a recording "
                                 "opened on the live page), then the runs folder, newest "
                                 "first.")
    if len(chosen) < MIN_RUNS:
        st.info(f"Pick {MIN_RUNS} to {MAX_RUNS} runs to compare.")
        return
    _comparison(chosen)


def _choose(keys: list[str]) -> None:
    state.set_widget_values({"wc_runs": keys}, overwrite=True)


# --- which runs there are ---------------------------------------------------------------

def _live_runs() -> dict[str, Any]:
    """This tab's live runs still in the registry: those started here and the one the
    live page last showed."""
    ids = list(compare_start.started_ids())
    shown = state.live_link_params()
    if shown:
        ids.append(shown[state.QUERY_KEY])
    found = {}
    for run_id in dict.fromkeys(ids):
        run = server.registry().get(run_id)
        if run is not None:
            found[run_id] = run
    return found


def _options() -> tuple[list[str], dict[str, str], list[str]]:
    """(option keys, their labels, folders that could not be read)."""
    from sgan_core.storage import run_folder_reader as saved_runs

    live = _live_runs()
    labels = {LIVE + rid: _live_label(run) for rid, run in live.items()}
    mine = {str(run.run_folder()) for run in live.values() if run.run_folder() is not None}
    saved, problems = saved_runs.list_runs()
    for run in saved:
        if str(run.path) not in mine:  # a live run's own folder: shown as the live run
            labels[DISK + run.name] = run.label()
    return list(labels), labels, problems


def _live_label(run: Any) -> str:
    """What the run is (a recording opened on the live page does not train), then its
    settings: nothing that changes while it trains, the picker is drawn once."""
    cfg = run.config
    if runfiles.is_demo(run):
        kind = "Recorded demo"
    elif runfiles.is_recorded(run):
        kind = f"Opened file {run.source_name}"
    else:
        kind = "Live"
    return (f"{kind}: {labels_per_class_words(cfg.labels_per_class)}, seed {cfg.seed}, "
            f"{cfg.generator_loss}")


# --- the comparison ----------------------------------------------------------------------

def _snapshot(key: str) -> tuple[Optional[Snapshot], Optional[str], bool]:
    """(snapshot, problem, moving) for an option key."""
    if key.startswith(LIVE):
        run = server.registry().get(key[len(LIVE):])
        if run is None:
            return None, "This live run is gone (the server restarted or it was reset).", False
        server.registry().touch(key[len(LIVE):])  # shown: it keeps its training slot
        problem = run.storage_problem()
        snapshot = run.snapshot()
        return snapshot, problem, bool(snapshot.is_active)
    return _saved_snapshot(key[len(DISK):])


def _saved_snapshot(name: str) -> tuple[Optional[Snapshot], Optional[str], bool]:
    from sgan_core.storage import run_folder_reader as saved_runs
    from sgan_core.storage.run_folder import runs_root

    folder = runs_root() / name
    try:
        token = max((p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()), default=0)
        snapshot = state.cached(f"compare:{name}", token,
                                lambda: saved_runs.load_snapshot(folder))
    except (saved_runs.SavedRunError, OSError) as error:
        return None, f"{name}: {error}", False
    return snapshot, None, snapshot.is_active  # a page run another tab still trains


def _comparison(chosen: list[str]) -> None:
    moving = any(_snapshot(key)[2] for key in chosen)

    @st.fragment(run_every=REFRESH_S if moving else None)
    def part() -> None:
        runs, keys, moving_now = [], [], False
        for index, key in enumerate(chosen):
            snapshot, problem, active = _snapshot(key)
            moving_now = moving_now or active
            if problem:
                st.warning(problem)
            if snapshot is not None:
                runs.append((chr(65 + index), snapshot))  # A, B, ... in the chosen order
                keys.append(key)
        if moving and not moving_now:
            st.rerun(scope="app")  # all stopped: the timer and the Stop button go
        if len(runs) < MIN_RUNS:
            st.info("Fewer than two of the chosen runs can be drawn: pick others.")
            return
        _draw(runs, keys)

    part()


def _draw(runs: compare_figures.Compared, keys: list[str]) -> None:
    percent = st.column_config.NumberColumn(format="percent")
    points = st.column_config.NumberColumn(format="%+.1f")
    st.dataframe(compare_figures.final_rows(runs), hide_index=True,
                 column_config={compare_figures.GAP: points,
                                **{name: percent for name in PERCENT}})
    st.caption("Latest figures (a finished run's are on the full test set). SGAN and "
               "baseline: test accuracy of the weight averages; fakes caught: the live "
               "discriminator.")
    st.plotly_chart(compare_figures.accuracy_overlay(runs), key="compare_accuracy",
                    config=PLOTLY_CONFIG)
    layout.install()  # pairs stack below 1200 px: at 1024 px a 1/3 column cut loss names
    left, right = layout.pair("compare_loss", [2, 1])
    loss = right.selectbox("Loss", list(compare_figures.LOSSES), key="wc_loss",
                           format_func=compare_figures.LOSSES.get)
    smoothing = right.slider("Smoothing", 0.0, 0.95, 0.6, step=0.05, key="wc_smoothing")
    left.plotly_chart(compare_figures.loss_overlay(runs, loss, smoothing),
                      key="compare_loss", config=PLOTLY_CONFIG)
    _side_by_side(runs, keys)


def _side_by_side(runs: compare_figures.Compared, keys: list[str]) -> None:
    """Sample grid and confusion matrix of each run, PER_ROW runs to a row and no
    empty columns (two runs in three columns left each 165 px at 1024 px: counts
    overlapped, tile labels shrank to dots); a row stacks below layout.WIDE_ENOUGH_PX."""
    for start in range(0, len(runs), PER_ROW):
        row = list(zip(runs, keys))[start:start + PER_ROW]
        columns = layout.pair(f"compare_{start}", len(row))  # stacks like the pairs
        for column, ((name, snapshot), key) in zip(columns, row):
            with column:
                labels = labels_per_class_words(snapshot.config.labels_per_class)
                st.subheader(f"Run {name}: {labels}")
                _grid_and_matrix(name, key, snapshot)


def _grid_and_matrix(name: str, key: str, snapshot: Snapshot) -> None:
    # Cached per run (its option key) and state: drawn again only when it changed.
    token = (snapshot.evaluation_version, snapshot.step, snapshot.run_status)
    if snapshot.samples is not None:
        image = state.cached(f"compare_grid:{key}", token, lambda: png(
            images.samples_image(snapshot.samples, snapshot.class_names)))
        fakes = int((snapshot.samples.verdicts >= snapshot.num_classes).sum())
        st.image(image, width="stretch", caption=f"{fakes} of "
                 f"{len(snapshot.samples.verdicts)} samples rejected as fake")
    if snapshot.confusion is not None:
        figure = state.cached(f"compare_confusion:{key}", token, lambda: _small(
            figures.confusion_figure(snapshot.confusion, snapshot.class_names)))
        st.plotly_chart(figure, key=f"compare_confusion_{name}", config=PLOTLY_CONFIG)
    if snapshot.samples is None and snapshot.confusion is None:
        st.caption("No sample grid or confusion matrix yet (the first evaluation draws "
                   "them)." if snapshot.is_active else "This run's folder holds no sample "
                   "grid or confusion matrix (it was saved before they were kept).")


def _small(figure: Any) -> Any:
    """The matrix in half the page: smaller words, the top margin kept (the mode bar's
    strip and the top ticks' title), and counts in plotly's own size for the cells (no
    size given: as large as the widest count fits its cell, at most SMALL_PX)."""
    figure.update_layout(height=380, font=dict(size=SMALL_PX), margin=dict(l=5, r=5, b=5))
    figure.update_traces(textfont_size=None, selector=dict(type="heatmap"))
    return figure
