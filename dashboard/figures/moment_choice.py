"""Which moment of the run the page shows: pure functions, testable without streamlit.

A choice is either LIVE (the latest snapshot, as it arrives) or the evaluation_version
of a kept timeline moment: versions stay valid while the timeline thins, positions do
not. A choice the timeline has thinned away becomes the nearest kept moment.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from sgan_core.features.embedding_service import MapFrame, UmapPhase
from sgan_core.features.projection import Method, Projection
from sgan_core.snapshot import Snapshot
from sgan_core.runs.timeline import Moment, map_of

LIVE = "live"
Choice = Union[int, str]  # an evaluation_version, or LIVE
PLAY_SPEEDS = (0.5, 1.0, 2.0, 4.0)  # moments per second
PAST_MAP_NOTE = "the UMAP map follows the live run only; earlier moments are drawn in PCA"


def options(moments: Sequence[Moment]) -> list[Choice]:
    """The slider's stops, oldest first, LIVE at the right end."""
    return [moment.evaluation_version for moment in moments] + [LIVE]


def valid(moments: Sequence[Moment], choice: Optional[Choice]) -> Choice:
    """`choice` if the timeline still has it, else the nearest kept moment (LIVE when
    there is nothing to choose from)."""
    if choice is None or choice == LIVE or not moments:
        return LIVE
    versions = np.array([moment.evaluation_version for moment in moments])
    return int(versions[np.abs(versions - int(choice)).argmin()])


def at_step(moments: Sequence[Moment], step: Optional[str]) -> Optional[Choice]:
    """The kept moment nearest a training step given as text (a share link's
    ?moment=); None (Live) for no step, a malformed one, or nothing kept."""
    try:
        wanted = int(str(step))
    except ValueError:
        return None
    if not moments:
        return None
    steps = np.array([moment.step for moment in moments])
    return moments[int(np.abs(steps - wanted).argmin())].evaluation_version


def find(moments: Sequence[Moment], choice: Choice) -> Optional[Moment]:
    for moment in moments:
        if moment.evaluation_version == choice:
            return moment
    return None


def shown(latest: Snapshot, moments: Sequence[Moment],
          choice: Optional[Choice]) -> tuple[Snapshot, bool]:
    """(the snapshot the panels draw, whether it is a past moment)."""
    moment = find(moments, valid(moments, choice))
    if moment is None:
        return latest, False
    return moment.applied_to(latest), True


def next_choice(moments: Sequence[Moment], choice: Optional[Choice]) -> Choice:
    """Play: one moment on; from LIVE start at the first; after the last, LIVE."""
    stops = options(moments)
    current = valid(moments, choice)
    if current == LIVE:
        return stops[0]
    return stops[stops.index(current) + 1]


def label(moments: Sequence[Moment], choice: Choice) -> str:
    """The slider's words for a stop: training step and training time."""
    moment = find(moments, choice)
    if moment is None:
        return "Live"
    minutes, seconds = divmod(int(moment.elapsed_s), 60)
    return f"step {moment.step:,} · {minutes}:{seconds:02d}"


def past_frame(snapshot: Snapshot) -> Optional[MapFrame]:
    """The feature map of a past moment: the moment keeps its PCA coordinates, aligned
    to the moment before (sgan_core.runs.timeline.map_of), so this only wraps them (UMAP
    frames are computed for the live run only, by the server's embedding service)."""
    return pca_frame(snapshot, UmapPhase.OFF, problem=PAST_MAP_NOTE)


def pca_frame(snapshot: Snapshot, phase: UmapPhase, problem: str = "") -> Optional[MapFrame]:
    """A PCA map of the snapshot's features, drawn here and now (about 15 ms for
    2,200 x 250): for a past moment, or until the embedding service's first frame."""
    features = map_of(snapshot.features)  # a no-op on a moment's 2-D coordinates
    if features is None or len(features.real) + len(features.fake) < 3:
        return None
    projection = Projection(features.step, Method.PCA, features.real,
                            features.real_labels, features.fake, 0.0)
    return MapFrame(projection, phase, problem=problem)
