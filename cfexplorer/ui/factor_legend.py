"""The factor space's colour legend: what each colour of the scatter means, as a line of rich text under the
plot (in the application's font, so that presentation mode enlarges it with everything else)."""

from __future__ import annotations

import html

SWATCH = "■"
RAMP_STEPS = 5  # swatches drawn along a continuous scale


def _rgb(brush) -> str:
    color = brush.color()
    return f"rgb({color.red()},{color.green()},{color.blue()})"


def swatch(brush) -> str:
    return f"<span style='color:{_rgb(brush)}; font-size:large'>{SWATCH}</span>"


def category_legend(names, palette, other=None, other_name: str = "other") -> str:
    """``names[i]`` in ``palette[i]``; then ``other`` (a brush) for everything else, when given."""
    entries = [f"{swatch(brush)}&nbsp;{html.escape(str(name))}" for name, brush in zip(names, palette)]
    if other is not None:
        entries.append(f"{swatch(other)}&nbsp;{html.escape(other_name)}")
    return " &nbsp; ".join(entries)


def ramp_legend(title: str, low: str, high: str, palette) -> str:
    """A continuous scale: ``title``, the lowest value, a few swatches from ``palette``'s ends, the highest."""
    picks = [palette[round(i * (len(palette) - 1) / (RAMP_STEPS - 1))] for i in range(RAMP_STEPS)]
    return (f"{html.escape(title)}: {html.escape(low)} " + "".join(swatch(brush) for brush in picks)
            + f" {html.escape(high)}")
