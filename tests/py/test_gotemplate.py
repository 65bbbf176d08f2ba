"""The Go template evaluator of --format: each form Docker's users type, against one value."""
import pytest

from bocker import BockerError
from bocker.gotemplate import go_str, render

VALUE = {
    "ID": "abc", "Names": "web server", "State": {"Status": "running", "Pid": 3, "Running": True},
    "Config": {"Env": ["A=1", "B=2"], "Labels": {"k": "v", "a.b": "c"}, "Cmd": None},
    "Mounts": [{"Source": "/a", "Destination": "/b"}, {"Source": "/c", "Destination": "/d"}],
    "Empty": [], "False": False,
}


@pytest.mark.parametrize("template, out", [
    ("{{.ID}}\t{{.Names}}", "abc\tweb server"),
    ("{{.}}", go_str(VALUE)),
    ("{{json .State}}", '{"Status":"running","Pid":3,"Running":true}'),
    ("{{json .Config.Labels}}", '{"k":"v","a.b":"c"}'),
    ("{{.Config.Env}}", "[A=1 B=2]"),
    ("{{.Config.Labels}}", "map[a.b:c k:v]"),
    ("{{.Mounts}}", "[map[Destination:/b Source:/a] map[Destination:/d Source:/c]]"),
    ("{{.State.Running}} {{.State.Pid}}", "true 3"),
    ('{{index .Config.Labels "k"}}', "v"),
    ('{{index .Config.Labels "a.b"}}', "c"),
    ('{{index .Config.Labels "nope"}}', "<no value>"),
    ("{{index .Config.Env 1}}", "B=2"),
    ("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", "/a:/b /c:/d "),
    ("{{range $i, $m := .Mounts}}{{$i}}={{$m.Source}};{{end}}", "0=/a;1=/c;"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "a.b=c,k=v,"),
    ("{{range .Empty}}x{{else}}none{{end}}", "none"),
    ("{{range .Config.Env}}{{.}}{{\"\\n\"}}{{end}}", "A=1\nB=2\n"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if.ID}}id{{end}}", "id"),
    ("{{if .False}}a{{else if .ID}}b{{else}}c{{end}}", "b"),
    ('{{if eq .State.Status "running"}}yes{{end}}', "yes"),
    ("{{if not .Empty}}empty{{end}}", "empty"),
    ("{{if and .ID .False}}a{{else}}b{{end}}", "b"),
    ("{{with .State}}{{.Pid}}{{end}}", "3"),
    ("{{.Names | upper}}", "WEB SERVER"),
    ("{{.Names | title}}", "Web Server"),
    ("{{upper .Names | lower}}", "web server"),
    ('{{split .Names " "}}', "[web server]"),
    ('{{join .Config.Env ","}}', "A=1,B=2"),
    ('{{join (split .Names " ") "-"}}', "web-server"),
    ("{{truncate .Names 3}}", "web"),
    ("{{pad .ID 2 1}}|", "  abc |"),
    ("{{len .Mounts}}", "2"),
    ('{{printf "%s:%d" .ID .State.Pid}}', "abc:3"),
    ("{{.Nope}}", "<no value>"),
    ("{{.State.Nope.Deeper}}", "<no value>"),
    ("{{.Config.Cmd}}", "<no value>"),
    ("{{$id := .ID}}{{range .Mounts}}{{$id}}{{end}}", "abcabc"),
    ("{{$.ID}}", "abc"),
    ("{{- .ID -}}  |  {{- .ID}}", "abc|abc"),
    ("{{/* a comment */}}ok", "ok"),
])
def test_forms(template, out):
    assert render(template, VALUE) == out


@pytest.mark.parametrize("template", [
    "{{.ID", "{{end}}", "{{if .ID}}x", "{{nosuch .ID}}", "{{range .ID}}{{end}}", "{{$x}}",
    "{{if}}{{end}}", "{{.ID 1}}", '{{join .ID "," }}',
])
def test_bad_templates_are_one_line_errors(template):
    with pytest.raises(BockerError) as e:
        render(template, VALUE)
    assert str(e.value).startswith("--format: template: ") and "\n" not in str(e.value)


def test_fields_of_a_parenthesized_pipeline():
    value = {"Mounts": [{"Name": "v1", "Opts": {"ro": True}}]}
    assert render("{{(index .Mounts 0).Name}}", value) == "v1"
    assert render("{{(index .Mounts 0).Opts.ro}}", value) == "true"
    assert render("{{(index .Mounts 0).Nope}}", value) == "<no value>"
    with pytest.raises(BockerError, match=r"\(\.\.\.\) is not a function"):
        render("{{(index .Mounts 0) .Name}}", value)
