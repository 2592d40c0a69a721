"""What the sidebar's typed numbers and the labels slider may hold (pure, no streamlit).

Numbers are typed into text fields and checked here, on the server, rather than in
Streamlit's number inputs: a number input keeps an out-of-range entry in the browser
(an inline error the server never hears of) and Start then used the last valid value,
and an integer input read "1e12" as 1. Here every entry reaches the server, and one
that is not valid blocks Start with a message naming the range.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

Number = Union[int, float]
# The values people try first; the slider stops at the last one a dataset can afford.
LABEL_STEPS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
# Commas grouping thousands, as the page writes whole numbers: 1,000 or 10,000,000.
THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+")


@dataclass(frozen=True)
class NumberField:
    key: str  # widget key in the session
    label: str  # what the sidebar calls it
    whole: bool  # only whole numbers
    low: Number
    high: Number

    def describe_range(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.show(self.low)} to {self.show(self.high)}"

    def show(self, value: Number) -> str:
        """Plain digits for people (no 1e-05 or 1e+07)."""
        if self.whole:
            return f"{int(value):,}"
        return f"{value:.10f}".rstrip("0").rstrip(".")


NUMBER_FIELDS = {
    "w_d_lr": NumberField("w_d_lr", "D learning rate", False, 1e-5, 1.0),
    "w_g_lr": NumberField("w_g_lr", "G learning rate", False, 1e-5, 1.0),
    "w_seed": NumberField("w_seed", "Seed", True, 0, 2**31 - 1),
    "w_minutes": NumberField("w_minutes", "Minutes", False, 0.1, 240.0),
    "w_steps": NumberField("w_steps", "Steps", True, 1, 10_000_000),
    "w_threads": NumberField("w_threads", "CPU threads for training", True, 1, 16),
}


class InputError(ValueError):
    """A typed value cannot be used; the message names the field and the range."""


def parse_number(text: object, field: NumberField) -> Number:
    """The value typed into `field`, or InputError saying what would work."""
    raw = str(text if text is not None else "").strip()
    plain = _without_commas(raw, field)
    try:
        value = float(plain)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not field.low <= value <= field.high:
        shown = f"'{raw}'" if raw else "nothing"
        raise InputError(f"{field.label}: {shown} is not {field.describe_range()}; "
                         "type one in that range.")
    if field.whole and value != int(value):
        raise InputError(f"{field.label}: '{raw}' is not a whole number; type one from "
                         f"{field.show(field.low)} to {field.show(field.high)}.")
    return int(value) if field.whole else value


def _without_commas(raw: str, field: NumberField) -> str:
    """`raw` with its thousands commas dropped, or InputError for any other comma.

    Many people write decimals with a comma: dropping it would read "0,001" as 1 and
    "1,5" as 15. So a comma is taken as a thousands separator only where that reading is
    safe, correctly grouped in a whole-number field (nobody types steps or a seed with
    decimals); anywhere else it is refused in words.
    """
    if "," not in raw:
        return raw
    if field.whole and THOUSANDS.fullmatch(raw):
        return raw.replace(",", "")
    if field.whole:
        raise InputError(f"{field.label}: '{raw}': a comma may only group thousands "
                         f"(as in 10,000); type {field.describe_range()}.")
    decimal = raw.replace(",", ".")
    hint = f" ({decimal})" if raw.count(",") == 1 and _is_number(decimal) else ""
    raise InputError(f"{field.label}: '{raw}': use a point for decimals{hint}, "
                     "not a comma.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_number(value: Number) -> str:
    """How a number is shown in its text field (and read back unchanged)."""
    return f"{value:g}" if isinstance(value, float) else str(int(value))


def label_options(limit: int, current: Optional[int] = None) -> list[int]:
    """Slider stops up to `limit` (a value every class can spare while keeping unlabeled
    images); `current` is kept as a stop when it is in range (a run made elsewhere)."""
    options = [v for v in LABEL_STEPS if v <= max(1, limit)]
    if current is not None and 1 <= current <= limit and current not in options:
        options = sorted(options + [current])
    return options


def nearest_option(value: int, options: Sequence[int]) -> int:
    """The largest stop not above `value` (the smallest one if all are above)."""
    below = [v for v in options if v <= value]
    return below[-1] if below else options[0]
