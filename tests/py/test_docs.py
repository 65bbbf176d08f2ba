"""The README's command table and the completion tables come from the parser (cli/docs.py,
cli/completion.py): what they list is what the parser has."""
import os

from bocker import cli
from bocker.cli import completion, docs

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def test_readme_table_is_the_parsers():
    """(after adding a verb or a flag: `make docs`, or DOCS_TABLE_ONLY=1 scripts/make-docs.sh)"""
    with open(README) as f:
        text = f.read()
    assert docs.markdown(cli._parser()) in text


def test_missing_lists_only_what_the_parser_lacks():
    gone = docs.missing(cli._parser())
    assert "run" not in gone and "container ls" not in gone and "image build" not in gone
    have = {path for path, _, _ in docs._verbs(cli._parser())}
    assert not set(gone) & have


def test_completion_table_has_every_public_verb_and_no_internal_one():
    verbs, groups = completion.table(cli._parser())
    assert "run" in verbs and "network create" in verbs and "container ls" in verbs
    assert not any(v.startswith("_") or " _" in v for v in verbs)
    flags, values, kind = verbs["run"]
    assert "--env-file" in flags and "-a" in flags and kind == "image"
    assert values["--network"] == "network" and values["--pull"] == "=always missing never"
    assert verbs["volume rm"][2] == "volume" and verbs["network rm"][2] == "network"
    assert verbs["start"][2] == "container" and verbs["inspect"][2] == "container image"
    assert "--detach=false" not in flags  # (the hidden =false forms are not offered)
