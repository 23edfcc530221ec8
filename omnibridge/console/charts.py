"""Server-side SVG charts (pygal): each function returns an ``<svg>`` document as text, inlined in a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pygal
from pygal.style import CleanStyle

_OPTIONS = {"style": CleanStyle, "disable_xml_declaration": True, "height": 280, "width": 760, "explicit_size": True}


def line_chart(title: str, series: Mapping[str, Sequence[tuple[str, float]]], *, unit: str = "") -> str:
    """A line chart of ``series`` (name -> (label, value) in order); the x labels are the first series' labels
    merged with the others' in order of first appearance."""
    labels: list[str] = []
    for points in series.values():
        labels.extend(label for label, _ in points if label not in labels)
    chart = pygal.Line(title=title, x_label_rotation=30, show_minor_x_labels=True, y_title=unit or None, **_OPTIONS)
    chart.x_labels = labels
    for name, points in series.items():
        values = dict(points)
        chart.add(name, [values.get(label) for label in labels])
    return str(chart.render(is_unicode=True))


def bar_chart(title: str, series: Mapping[str, Sequence[tuple[str, float]]], *, unit: str = "") -> str:
    """A bar chart of ``series``, labelled like :func:`line_chart`."""
    labels: list[str] = []
    for points in series.values():
        labels.extend(label for label, _ in points if label not in labels)
    chart = pygal.Bar(title=title, x_label_rotation=30, y_title=unit or None, **_OPTIONS)
    chart.x_labels = labels
    for name, points in series.items():
        values = dict(points)
        chart.add(name, [values.get(label) for label in labels])
    return str(chart.render(is_unicode=True))
