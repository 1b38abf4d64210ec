"""The server-drawn SVG bar charts: proportional, well-formed, escaped."""

import xml.etree.ElementTree as ET

import pytest

from smmpanel.admin.charts import bar_chart

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

SVG = "{http://www.w3.org/2000/svg}"


def parsed(points: list[tuple[str, int]], title: str = "Orders per day") -> ET.Element:
    return ET.fromstring(str(bar_chart(points, title=title, value_label=str)))


def bars(svg: ET.Element) -> list[ET.Element]:
    return svg.findall(f"{SVG}rect")


def test_bars_are_proportional_to_their_values():
    svg = parsed([("2024-05-01", 10), ("2024-05-02", 5), ("2024-05-03", 0), ("2024-05-04", 20)])
    heights = [float(bar.get("height")) for bar in bars(svg)]
    assert heights[3] > 0
    tallest = heights[3]
    assert heights == pytest.approx([tallest / 2, tallest / 4, 0, tallest], abs=0.1)
    assert [bar.get("data-value") for bar in bars(svg)] == ["10", "5", "0", "20"]
    # Every bar stands on the same zero line.
    bottoms = [float(bar.get("y")) + float(bar.get("height")) for bar in bars(svg)]
    assert max(bottoms) - min(bottoms) < 0.2


def test_the_chart_is_labelled_for_people_who_cannot_see_it():
    svg = parsed([("2024-05-01", 3), ("2024-05-02", 7)])
    assert svg.get("role") == "img" and svg.get("class") == "chart"
    assert svg.find(f"{SVG}title").text == "Orders per day"
    description = svg.find(f"{SVG}desc").text
    assert "2024-05-01" in description and "2024-05-02" in description and "7" in description
    texts = [text.text for text in svg.findall(f"{SVG}text")]
    assert "2024-05-01" in texts and "2024-05-02" in texts  # the axis: first and last day
    assert "7" in texts and "0" in texts  # the axis: highest value and zero
    assert [bar.find(f"{SVG}title").text for bar in bars(svg)] == ["2024-05-01: 3", "2024-05-02: 7"]


def test_an_all_zero_series_draws_flat_bars_and_an_empty_one_says_so():
    flat = parsed([("a", 0), ("b", 0)])
    assert [float(bar.get("height")) for bar in bars(flat)] == [0, 0]
    empty = parsed([])
    assert bars(empty) == []
    assert "No data yet." in [text.text for text in empty.findall(f"{SVG}text")]


def test_negative_values_hang_below_the_zero_line():
    svg = parsed([("loss", -5), ("gain", 10)])
    loss, gain = bars(svg)
    assert float(loss.get("height")) * 2 == pytest.approx(float(gain.get("height")), abs=0.2)
    zero_line = float(gain.get("y")) + float(gain.get("height"))
    assert float(loss.get("y")) == pytest.approx(zero_line, abs=0.1)
    assert "-5" in [text.text for text in svg.findall(f"{SVG}text")]


def test_labels_and_titles_are_escaped():
    hostile = "<script>alert(1)</script>"
    markup = str(bar_chart([(hostile, 1)], title=hostile + " & more", value_label=str))
    assert "<script>" not in markup
    svg = ET.fromstring(markup)  # still well-formed
    assert svg.find(f"{SVG}title").text == hostile + " & more"
    assert bars(svg)[0].find(f"{SVG}title").text == hostile + ": 1"


def test_a_long_series_labels_a_few_days_including_the_last():
    points = [(f"day {number}", number) for number in range(30)]
    labels = [text.text for text in parsed(points).findall(f"{SVG}text")]
    days = [label for label in labels if label.startswith("day")]
    assert "day 0" in days and "day 29" in days and 3 <= len(days) <= 8
