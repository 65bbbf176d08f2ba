"""fmt: docker's human durations and sizes, table layout, json and jq output."""
import io
import json
import time

import pytest

from bocker import BockerError, fmt

H = 3600
D = 24 * H


@pytest.mark.parametrize("seconds, text", [
    (0, "Less than a second"), (0.9, "Less than a second"), (1, "1 second"), (2, "2 seconds"),
    (59, "59 seconds"), (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"),
    (59 * 60, "59 minutes"), (H, "About an hour"), (H + 29 * 60, "About an hour"), (2 * H, "2 hours"),
    (47 * H, "47 hours"), (48 * H, "2 days"), (13 * D, "13 days"), (14 * D, "2 weeks"),
    (59 * D, "8 weeks"), (60 * D, "2 months"), (729 * D, "24 months"), (730 * D, "2 years"),
])
def test_human_duration(seconds, text):
    assert fmt.human_duration(seconds) == text


@pytest.mark.parametrize("n, text", [
    (0, "0B"), (None, "0B"), (999, "999B"), (1000, "1kB"), (1500, "1.5kB"), (1980000, "1.98MB"),
    (4260000, "4.26MB"), (1.2e9, "1.2GB"), (123456789, "123MB"), (5e12, "5TB"), (5e15, "5e+03TB"),
])
def test_human_size(n, text):
    assert fmt.human_size(n) == text


def test_iso_round_trip():
    now = time.time()
    text = fmt.now_iso()
    assert text.endswith("Z")
    assert abs(fmt.parse_iso(text) - now) < 2


def test_zero_time_is_none_and_ago_is_empty():
    assert fmt.parse_iso("0001-01-01T00:00:00Z") is None
    assert fmt.parse_iso("") is None
    assert fmt.parse_iso(None) is None
    assert fmt.ago("0001-01-01T00:00:00Z") == ""
    assert fmt.ago(None) == ""


def test_ago():
    from datetime import datetime, timedelta, timezone
    past = (datetime.now(timezone.utc) - timedelta(seconds=5, milliseconds=300)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert fmt.ago(past) == "5 seconds ago"


def test_table_pads_columns_with_three_spaces():
    out = io.StringIO()
    fmt.table(["A", "LONG HEADER", "C"], [["xyz", "1", ""], ["q", "22", "end"]], out=out)
    assert out.getvalue().splitlines() == [
        "A     LONG HEADER   C",
        "xyz   1",
        "q     22            end",
    ]


def test_table_without_rows_prints_the_header():
    out = io.StringIO()
    fmt.table(["CONTAINER ID", "IMAGE"], [], out=out)
    assert out.getvalue() == "CONTAINER ID   IMAGE\n"


def test_emit_json_one_object_per_line(capsys):
    fmt.emit([{"a": 1}, {"a": 2}], "json")
    assert [json.loads(l) for l in capsys.readouterr().out.splitlines()] == [{"a": 1}, {"a": 2}]


def test_emit_json_array(capsys):
    fmt.emit([{"a": 1}], "json", as_array=True)
    assert json.loads(capsys.readouterr().out) == [{"a": 1}]


def test_emit_jq_filter_on_each_item(capsys):
    fmt.emit([{"Name": "a", "N": 1}, {"Name": "b", "N": 2}], ".Name")
    assert capsys.readouterr().out == "a\nb\n"
    fmt.emit([{"Name": "a", "N": 1}], ".N")
    assert capsys.readouterr().out == "1\n"
    fmt.emit([{"S": {"x": [1, 2]}}], ".S")
    assert json.loads(capsys.readouterr().out) == {"x": [1, 2]}


def test_emit_jq_filter_on_the_array(capsys):
    fmt.emit([{"State": {"ExitCode": 3}}], ".[0].State.ExitCode", as_array=True)
    assert capsys.readouterr().out == "3\n"


def test_emit_bad_filter_is_a_bocker_error():
    with pytest.raises(BockerError):
        fmt.emit([{}], ".[")
    with pytest.raises(BockerError):
        fmt.emit([{}], "{{if}}x{{end}}")  # a Go template without a condition


def test_emit_bad_filter_message_is_one_line():
    with pytest.raises(BockerError) as e:
        fmt.emit([{}], "{{.ID")
    assert "\n" not in str(e.value)


def test_go_templates_apply_to_each_record(capsys):
    fmt.emit([{"ID": "abc", "State": {"Pid": 7}}], "{{.ID}} {{.State.Pid}}")
    fmt.emit([{"ID": "abc"}], "{{json .}}")
    fmt.emit([{"ID": "a"}, {"ID": "b"}], r"{{.ID}}\t{{.Nope}}")
    assert capsys.readouterr().out == 'abc 7\n{"ID":"abc"}\na\t<no value>\nb\t<no value>\n'


def test_go_template_on_each_inspected_object(capsys):
    fmt.emit([{"Name": "/a"}, {"Name": "/b"}], "{{.Name}}", as_array=True)
    assert capsys.readouterr().out == "/a\n/b\n"


def test_table_template_has_dockers_header_and_columns(capsys):
    rows = [{"ID": "0123456789ab", "Names": "web", "CreatedAt": "x"}, {"ID": "ab", "Names": "db", "CreatedAt": "y"}]
    fmt.emit(rows, r"table {{.ID}}\t{{.Names | upper}}\t{{.CreatedAt}}", headers={"ID": "CONTAINER ID"})
    assert capsys.readouterr().out.splitlines() == [
        "CONTAINER ID   NAMES     CREATED AT",
        "0123456789ab   WEB       x",
        "ab             DB        y",
    ]


def test_table_header_leaves_out_block_actions(capsys):
    fmt.emit([{"Mounts": [{"Source": "/a"}], "ID": "i"}],
             r"table {{.ID}}\t{{range .Mounts}}{{.Source}} {{end}}")
    assert capsys.readouterr().out.splitlines() == ["ID        SOURCE ", "i         /a "]


def test_is_template():
    assert fmt.is_template("{{.ID}}") and fmt.is_template("table {{.ID}}")
    assert not fmt.is_template(".ID") and not fmt.is_template("json")
