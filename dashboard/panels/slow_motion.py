"""Slow motion: the run paused, one real training step at a time, explained.

Switching it on pauses the run, and switching it off resumes a run it paused; "Next
step" asks the run's thread for one traced step (`run.step(1, traced=True)`: the very
step the run would take next, watched by sgan_core/training/step_trace.py), waits for its
evaluation and redraws the page, so every panel and the step counter move by exactly
one step. The trace is drawn from numpy arrays and floats only.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional, Sequence

import numpy as np
import streamlit as st

from dashboard.sidebar import run_files as runfiles
from dashboard import server, state
from dashboard.panels import explain

TOGGLE_KEY, NEXT_KEY = "w_slow_motion", "b_next_step"
PAUSED_KEY = "slow_motion_paused"  # session: id of the run slow motion paused
NOTE_KEY = "slow_motion_note"  # session: what switching off did, said on the next rerun
STEP_WAIT_S = 20.0  # a step plus its evaluation takes well under a second on 2 cores
THUMB_PX = 64  # 96 in the presenter view: read from the back of a room
THUMB_PX_PRESENTING = 96
CHANGE_LABELS = {  # Change.key -> what the row is, for a student
    "supervised": "Supervised loss on the labeled batch",
    "unsupervised_real": "−log D(x) on the unlabeled batch",
    "unsupervised_fake": "−log(1 − D(G(z))) on the fakes D saw",
    "p_real_unlabeled": "P(real), unlabeled batch (mean)",
    "p_real_d_fakes": "P(real), the fakes D saw (mean)",
    "p_real_g_fakes": "P(real), G's batch of fakes (mean)",
    "generator": "G's loss on its batch",
}
RECORDED = ("Slow motion needs a live run: this is a recorded run, which does not train. "
            "Press Start for a live run, then switch slow motion on.")
EXPLANATION = """
One training step has two moves. **(1) D's update**: the discriminator sees a small
*labeled* batch (it must name the class), an *unlabeled* batch (it must call them real;
their labels are never used) and a batch of *fakes* from G (it must call them fake).
Its loss is the supervised term plus w times the two unsupervised terms, and one
optimiser step lowers it. **(2) G's update**: the same fakes go through the updated D,
and the generator changes its weights so that D finds them more like the real images
(feature matching: D's inner features of fakes and reals should agree; non-saturating:
D should call them real).

The verdicts under the thumbnails are the ones the losses were computed from (with D's
noise and dropout switched on, as in training). The table "what each update changed"
measures the same images before the step, after D's update and after G's update with
noise and dropout off, so its "before" can differ a little from the step's own
numbers. One step changes little: the point is the direction.
"""


def render(run: Any) -> None:
    """Off: one switch. On: the run is paused and Next step walks it one step."""
    on = st.toggle("Slow motion: one training step at a time", key=TOGGLE_KEY,
                   on_change=_switched, args=(run,))
    note = state.widget_value(NOTE_KEY)
    if note:  # said once, on the rerun right after switching off
        state.set_widget_values({NOTE_KEY: None}, overwrite=True)
        st.info(note)
    if not on:
        return
    if runfiles.is_recorded(run):
        st.info(RECORDED)
        explain(EXPLANATION)
        return
    snapshot, trace = run.snapshot(), run.step_trace()
    if snapshot.is_active:
        _step_controls(run, snapshot, waiting=trace is None)
    else:
        st.info("Slow motion steps a run that can still train; this one has ended. "
                "Press Start for a new run, then switch slow motion on.")
    if trace is not None:
        draw_trace(trace, snapshot.class_names)
    explain(EXPLANATION)


def _step_controls(run: Any, snapshot: Any, waiting: bool) -> None:
    """Next step, and what it will do."""
    if snapshot.run_status == "running":  # resumed since (Resume, another tab): so
        _remember_pause(run, False)  # switching off must not resume it after a Pause
    if st.button("Next step", key=NEXT_KEY, type="primary"):
        _step(run)  # reruns the page once the step is in
    if snapshot.run_status != "paused":
        st.caption("The run is training again: Next step pauses it and takes one step.")
    elif waiting:
        st.info("Press **Next step**: the run takes its next training step and this panel "
                "shows what went into it and what it changed.")


def _switched(run: Any) -> None:
    """Switching on pauses a running run; switching off resumes the run if slow motion
    paused it, and otherwise says that it stays paused."""
    if state.widget_value(TOGGLE_KEY):
        try:
            if run.snapshot().run_status == "running":
                _pause(run)
        except Exception:  # a run that cannot pause has nothing to step either
            pass
        return
    if run.snapshot().run_status != "paused":
        return
    if not _paused_by_us(run):
        _say("The run stays paused, as it was before slow motion: press Resume to "
             "continue.")
        return
    _remember_pause(run, False)
    try:
        server.registry().resume(run.run_id)  # as Resume does: a parked run needs a slot
    except Exception as error:  # e.g. too many runs training: say what to do
        _say(f"The run is paused and could not be resumed ({error}): press Resume to "
             "continue.")


def _pause(run: Any) -> None:
    """Pause a running run and wait until it is paused (so that a later "running"
    means someone resumed it)."""
    run.pause()
    _remember_pause(run, True)
    _wait(run, lambda now: now.run_status != "running")


def _paused_by_us(run: Any) -> bool:
    return state.widget_value(PAUSED_KEY) == run.run_id


def _remember_pause(run: Any, paused: bool) -> None:
    state.set_widget_values({PAUSED_KEY: run.run_id if paused else None}, overwrite=True)


def _say(note: str) -> None:
    state.set_widget_values({NOTE_KEY: note}, overwrite=True)


def _step(run: Any) -> None:
    """One traced step. A running run is paused first (its last evaluation published),
    so the one evaluation that follows is the traced step's."""
    try:
        if run.snapshot().run_status == "running":
            _pause(run)
        before = run.snapshot()
        run.step(1, traced=True)
    except Exception as error:  # a run that refuses: say why
        st.error(f"Could not take a step: {error}")
        return
    if _wait(run, lambda now: now.version > before.version and (
            now.evaluation_version > before.evaluation_version or bool(now.error))):
        st.rerun()  # every panel, the step counter included, shows the new step
    state.mark_step_pending(before.version)  # the panels refresh when it arrives
    st.warning("The step is taking longer than usual; it appears here when it is done.")


def _wait(run: Any, arrived: Callable[[Any], bool]) -> bool:
    """Poll the run's snapshot until `arrived(snapshot)`; False after STEP_WAIT_S."""
    deadline = time.monotonic() + STEP_WAIT_S
    while not arrived(run.snapshot()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def draw_trace(trace: Any, class_names: Sequence[str]) -> None:
    n_labeled, n_unlabeled, n_fakes = trace.batch_sizes
    st.markdown(f"#### Step {trace.step:,}: (1) D's update, then (2) G's update")
    st.caption(f"Learning rates in this step: D {trace.d_lr:.3g}, G {trace.g_lr:.3g}.")
    columns = st.columns(3)
    batches = ((f"Labeled batch ({n_labeled} images)", trace.labeled),
               (f"Unlabeled batch ({n_unlabeled}; labels never used)", trace.unlabeled),
               (f"Fakes for D's update ({n_fakes})", trace.d_fakes))
    for column, (title, thumbnails) in zip(columns, batches):
        with column:
            st.markdown(f"**{title}**")
            _thumbnails(thumbnails, class_names)
    st.caption("Under each image: D's verdict (a class, or fake) · how sure D is of that "
               "verdict, as the step computed them; on the labeled batch the true class "
               "comes first (3→5: a real 3 called 5).")
    st.markdown("**The step's loss terms**")
    st.table(loss_rows(trace))
    st.markdown("**What each update changed** (the same images, noise and dropout off)")
    st.table(change_rows(trace))
    st.markdown(f"**G's batch ({n_fakes} fakes), before and after G's update** (the "
                "noise of the fakes above, through G in eval mode, so its batch norm uses "
                "running statistics and they look different; verdicts from D after its "
                "update)")
    for when, thumbnails in (("before", trace.g_fakes_before), ("after", trace.g_fakes_after)):
        st.caption(f"{when} G's update")
        _thumbnails(thumbnails, class_names)


def loss_rows(trace: Any) -> list[dict[str, str]]:
    """The loss terms as the step computed them (the page computes none of them)."""
    step_losses, weight = trace.losses, trace.unsupervised_weight
    generator = trace.generator_loss.replace("_", " ")
    rows = [("Supervised: cross-entropy on the labeled batch", step_losses.supervised),
            ("Unsupervised, real: −log D(x) on the unlabeled batch",
             step_losses.unsupervised_real),
            ("Unsupervised, fake: −log(1 − D(G(z))) on the fakes",
             step_losses.unsupervised_fake),
            (f"D's loss = supervised + {weight:g} × (real + fake)",
             trace.discriminator_loss),
            (f"G's loss ({generator})", step_losses.generator)]
    return [{"term": term, "value": f"{value:.4f}"} for term, value in rows]


def change_rows(trace: Any) -> list[dict[str, str]]:
    rows = []
    for change in trace.changes:
        show = _percent if change.key.startswith("p_real") else _loss
        rows.append({"figure": CHANGE_LABELS.get(change.key, change.key),
                     "before the step": show(change.before),
                     "after D's update": show(change.after_d),
                     "after G's update": "(G does not change it)" if change.after_g is None
                     else show(change.after_g)})
    return rows


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _loss(value: float) -> str:
    return f"{value:.4f}"


def verdict_name(verdict: int, class_names: Sequence[str]) -> str:
    return class_names[verdict] if verdict < len(class_names) else "fake"


def thumbnail_captions(thumbnails: Any, class_names: Sequence[str]) -> list[str]:
    """ "verdict · P(verdict)" per image ("fake · 43%": D said fake, and was 43% sure),
    with "truth→" in front on the labeled batch."""
    captions = []
    labels: Optional[np.ndarray] = thumbnails.labels
    for index, (verdict, p_verdict) in enumerate(zip(thumbnails.verdicts,
                                                      thumbnails.p_verdict)):
        truth = f"{class_names[int(labels[index])]}→" if labels is not None else ""
        captions.append(f"{truth}{verdict_name(int(verdict), class_names)} · {p_verdict:.0%}")
    return captions


def _thumbnails(thumbnails: Any, class_names: Sequence[str]) -> None:
    images = thumbnails.images
    plain = images[..., 0] if images.shape[-1] == 1 else images  # st.image: (H, W) grey
    width = THUMB_PX_PRESENTING if state.presenting() else THUMB_PX
    st.image(list(plain), caption=thumbnail_captions(thumbnails, class_names), width=width)


def next_step(run: Any) -> None:
    """The presenter strip's Next step: slow motion on (its tab shows the trace), then
    one traced step, as the panel's own button takes it."""
    state.set_widget_values({TOGGLE_KEY: True}, overwrite=True)
    _step(run)
