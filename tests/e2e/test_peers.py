"""Round trips through the real tools teams already run: Label Studio 1.23.2 and doccano 1.8.4.

Each is installed from PyPI into an environment of its own (cached, see ``tests/peers``) and run on
127.0.0.1. Both directions are checked through their own REST APIs:

- tui-reader's export goes in through the peer's own import; what the peer stored is read back
  (offsets, labels, annotators, statuses) and its own export comes back into tui-reader the same;
- annotations made in the peer through its API (as a team member would in its UI) come back into
  the tui-reader project they started from.

The corpus is the sample corpus plus a document of emoji (a flag, a ZWJ family, a mathematical
letter outside the BMP), a combining accent and CRLF line ends; 26 spans of two annotators with
nesting, overlaps and one span both marked. A peer that cannot be installed or started is skipped
with the reason.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from tests.helpers import import_corpus
from tests.peers import (
    PeerUnavailable,
    Server,
    doccano_all,
    doccano_export,
    doccano_upload,
    start_doccano,
    start_label_studio,
)
from tui_reader.core.formats.doccano import OVERLAP_NOTICE, dropped_without_overlap
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.jsonl import ExportFilter
from tui_reader.core.formats.label_studio import IN_PROGRESS_NOTICE, labeling_config, load_ls_users
from tui_reader.core.importer import import_paths
from tui_reader.core.store import Project

ROOT = Path(__file__).resolve().parents[2]
EMOJI_DOC = "06-emoji-combining-crlf.txt"
EMOJI_RAW = ("Flags 🇨🇺 and 🇲🇽 met; faces 😀 said: \"family 👨\u200d👩\u200d👧 stays in the café\" "
             "(e\u0301 here).\r\nMath 𝒳 matters: 𝒳 = 42, the minister claimed.\r\n")
NO_ADMIN = "admin"  # the spans the peers' admin user makes in the "annotate there" tests

D1 = "01-mexican-president-amlo-to-lead-international-campaign-against-us-blockade-of-cuba.md"
D2 = "02-amlo-makes-historic-state-visit-to-havana.txt"
D3 = "03-us-must-hold-mexico-responsible-gonzalez.txt"
D4 = "04-cubas-diaz-canel-and-russias-putin-sign-strategic-partnership.txt"
D5 = "05-amlo-says-mexico-welcomes-700-cuban-slave-doctors.txt"

# (document, phrase, label, annotator): 26 spans, nested and overlapping, one marked by both.
SPANS = [
    (D1, "President AMLO announced an international campaign against the US blockade", "claim", "alice"),
    (D1, "President AMLO announced an international campaign against the US blockade", "claim", "bob"),
    (D1, "an international campaign", "opinion", "alice"),  # nested in the claim
    (D1, "Follow us on Instagram and Twitter", "boilerplate", "alice"),
    (D1, "Follow us on Instagram", "boilerplate", "bob"),
    (D2, "the largest client of Pegasus", "claim", "alice"),
    (D2, "Espionage Mexico, the largest", "opinion", "alice"),  # overlaps the claim
    (D2, "has made a historic state visit to", "claim", "bob"),
    (D3, "Mexican President Andres Manuel Lopez Obrador has been accused", "claim", "alice"),
    (D3, "has been accused of coming to the aid of the Cuban dictatorship", "opinion", "alice"),
    (D3, "US must ‘hold Mexico responsible’", "quote", "alice"),
    (D4, "Miguel Diaz-Canel and Vladimir Putin held a meeting Friday", "claim", "bob"),
    (D4, "google plus", "boilerplate", "bob"),
    (D5, "AMLO says Mexico welcomes 700 Cuban slave doctors", "claim", "bob"),
    (D5, "700 Cuban slave doctors", "opinion", "bob"),
    (D5, "slave doctors", "quote", "bob"),
    (EMOJI_DOC, "Flags 🇨🇺 and 🇲🇽", "boilerplate", "alice"),
    (EMOJI_DOC, "faces 😀 said", "quote", "alice"),
    (EMOJI_DOC, "family 👨\u200d👩\u200d👧 stays in the café", "quote", "alice"),
    (EMOJI_DOC, "family 👨\u200d👩\u200d👧", "claim", "alice"),  # nested, ends after a ZWJ family
    (EMOJI_DOC, "family 👨\u200d👩\u200d👧", "claim", "bob"),
    (EMOJI_DOC, "e\u0301 here", "opinion", "bob"),  # a combining accent
    (EMOJI_DOC, "Math 𝒳 matters", "claim", "bob"),
    (EMOJI_DOC, "𝒳 = 42", "claim", "alice"),
    (EMOJI_DOC, "𝒳 = 42, the minister claimed", "quote", "bob"),  # overlaps alice's claim
    (EMOJI_DOC, "the minister claimed", "opinion", "alice"),
]
# Statuses: done, skipped (with a span), in progress (spans, not done), done without spans.
STATUSES = [
    (D1, "alice", "done"), (D1, "bob", "done"),
    (D2, "alice", "done"), (D2, "bob", "skipped"),
    (D4, "alice", "done"), (D4, "bob", "done"),  # alice: a real negative, no span
    (D5, "bob", "done"),
    (EMOJI_DOC, "alice", "done"), (EMOJI_DOC, "bob", "done"),
]  # D3: alice in progress


def build_source(root: Path) -> Project:
    files = {p.name: p.read_bytes() for p in sorted((ROOT / "sample_corpus").iterdir())}
    files[EMOJI_DOC] = EMOJI_RAW.encode()
    project = import_corpus(root, files)
    for doc, phrase, label, who in SPANS:
        text = project.document(doc).text
        start = text.index(phrase)
        project.add_span(doc, start, start + len(phrase), label, who)
    for doc, who, status in STATUSES:
        project.set_status(doc, who, status)
    return project


def span_set(project: Project, skip: set[str] = frozenset()) -> set[tuple]:
    """(doc id, start, end, label, annotator, text) of every span (annotators in ``skip`` left out)."""
    return {(i.id, s.start, s.end, s.label, s.annotator, s.text)
            for i in project.documents() for s in project.spans(i.id) if s.annotator not in skip}


def statuses(project: Project) -> set[tuple[str, str, str]]:
    return {(i.id, who, project.status(i.id, who)) for i in project.documents()
            for who in project.record(i.id).annotators()}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Project:
    project = build_source(tmp_path_factory.mktemp("source"))
    assert len(span_set(project)) == len(SPANS) == 26
    # the emoji document is LF-only now, its offsets are code points
    assert "\r" not in project.document(EMOJI_DOC).text
    return project


def fresh_copy(source: Project, root: Path) -> Project:
    """A tui-reader project holding the same documents and no spans (the team's other copy)."""
    project = Project.open(root, create=True)
    report = import_paths(project, [source.root.parent / "corpus"], "importer")
    assert report.imported == 6 and report.problems == []
    return project


# ------------------------------------------------------------------------------ Label Studio
@pytest.fixture(scope="module")
def label_studio(tmp_path_factory) -> Server:
    try:
        server = start_label_studio(tmp_path_factory.mktemp("label-studio"))
    except PeerUnavailable as err:
        pytest.skip(f"Label Studio 1.23.2 unavailable: {err}")
    try:
        server.users = {
            name: server.call("POST", "/api/users/", {"email": f"{name}@example.org", "username": name})
            for name in ("alice", "bob")
        }
        yield server
    finally:
        server.stop()


def ls_project(server: Server, title: str, labels: tuple[str, ...]) -> int:
    project = server.call("POST", "/api/projects", {"title": title, "label_config": labeling_config(labels)})
    return project["id"]


def ls_export(server: Server, project_id: int, kind: str, path: Path) -> list[dict]:
    data = server.call("GET", f"/api/projects/{project_id}/export?exportType={kind}")
    path.write_bytes(orjson.dumps(data))
    return data


def users_file(server: Server, path: Path) -> Path:
    # alice by email and id, bob by id alone: Label Studio's import takes either, its JSON
    # export names users by id alone
    path.write_text(f"alice alice@example.org {server.users['alice']['id']}\n"
                    f"bob {server.users['bob']['id']}\n")
    return path


def test_label_studio_takes_our_export_with_annotators_statuses_and_exact_offsets(
        label_studio, source, tmp_path):
    users = load_ls_users(users_file(label_studio, tmp_path / "ls-users.txt"))
    out = tmp_path / "tasks.json"
    report = export_dataset(source, "label-studio", out, extra={"completed_by": users})
    assert not any("attribute" in line for line in report.total.lines())  # everyone mapped
    assert report.total.notices[IN_PROGRESS_NOTICE] == 1  # alice's D3
    project_id = ls_project(label_studio, "tui-reader round trip", source.config.label_names)
    answer = label_studio.call("POST", f"/api/projects/{project_id}/import", raw=out.read_bytes())
    assert (answer["task_count"], answer["annotation_count"]) == (6, 10)

    # What Label Studio stored: every region on the same characters, by the right user
    ids = {label_studio.users[n]["id"]: n for n in ("alice", "bob")}
    tasks = ls_export(label_studio, project_id, "JSON", tmp_path / "ls-json.json")
    stored = set()
    stored_status = set()
    for task in tasks:
        doc = task["data"]["doc_id"]
        assert task["data"]["text"] == source.document(doc).text  # emoji, accent, LF: exact
        for annotation in task["annotations"]:
            who = ids[annotation["completed_by"]]
            stored_status.add((doc, who, "skipped" if annotation["was_cancelled"] else "submitted"))
            for region in annotation["result"]:
                value = region["value"]
                assert task["data"]["text"][value["start"]:value["end"]] == value["text"]
                stored.add((doc, value["start"], value["end"], value["labels"][0], who, value["text"]))
    assert stored == span_set(source)
    assert (D2, "bob", "skipped") in stored_status and (D4, "alice", "submitted") in stored_status

    # ... and its JSON export comes back into tui-reader the same, statuses included
    back = Project.open(tmp_path / "back", create=True)
    report = import_paths(back, [tmp_path / "ls-json.json"], "importer", ls_users=users)
    assert report.problems == []
    assert span_set(back) == span_set(source)
    expected = statuses(source) | {(D3, "alice", "done")}  # in progress became submitted
    expected.discard((D3, "alice", "in progress"))  # spans, no status set: in progress
    assert statuses(back) == expected

    # ... and so does its JSON-MIN export (which leaves cancelled annotations out: bob's D2)
    ls_export(label_studio, project_id, "JSON_MIN", tmp_path / "ls-min.json")
    back_min = Project.open(tmp_path / "back-min", create=True)
    report = import_paths(back_min, [tmp_path / "ls-min.json"], "importer", ls_users=users)
    assert report.problems == []
    assert span_set(back_min) == {s for s in span_set(source) if (s[0], s[4]) != (D2, "bob")}
    assert statuses(back_min) == expected - {(D2, "bob", "skipped")}


def attribution(project: Project) -> set[tuple]:
    """Every relation (by its ends' offsets and labels), span attribute and article label."""
    out: set[tuple] = set()
    for info in project.documents():
        record = project.record(info.id)
        keys = {s.id: s.key for s in record.spans}
        out |= {("relation", info.id, r.annotator, keys[r.head], keys[r.child], r.label)
                for r in record.relations}
        out |= {("attribute", info.id, s.annotator, s.key, k, v) for s in record.spans
                for k, v in s.attributes.items()}
        out |= {("article", info.id, a.annotator, a.group, a.values) for a in record.article_labels}
    return out


def test_relations_attributes_and_article_labels_go_through_label_studio(label_studio, tmp_path):
    text = "“We will win,” said Ana Ruiz. The minister disagreed, Bo Li wrote."
    project = Project.open(tmp_path / "schema", create=True)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(text, encoding="utf-8")
    import_paths(project, [tmp_path / "corpus"], "importer")
    for who, kind, genre in (("alice", "direct", "news report"), ("bob", "indirect", "other")):
        quote = project.add_span("a.txt", 0, text.index(" said"), "quote", who)
        source = project.add_span("a.txt", text.index("Ana"), text.index("."), "source", who)
        project.set_attribute("a.txt", quote.id, "kind", kind)
        project.add_relation("a.txt", quote.id, source.id, "attributed_to", who)
        project.set_article_labels("a.txt", who, "genre", [genre])
        project.set_status("a.txt", who, "done")
    users = load_ls_users(users_file(label_studio, tmp_path / "ls-users.txt"))
    out = tmp_path / "tasks.json"
    export_dataset(project, "label-studio", out, extra={"completed_by": users})
    config = (tmp_path / "tasks.label_config.xml").read_text("utf-8")
    assert "<Relation value=\"attributed_to\"/>" in config
    created = label_studio.call("POST", "/api/projects", {"title": "attribution", "label_config": config})
    answer = label_studio.call("POST", f"/api/projects/{created['id']}/import", raw=out.read_bytes())
    assert (answer["task_count"], answer["annotation_count"]) == (1, 2)
    ls_export(label_studio, created["id"], "JSON", tmp_path / "ls.json")
    back = Project.open(tmp_path / "back", create=True)
    report = import_paths(back, [tmp_path / "ls.json"], "importer", ls_users=users)
    assert report.problems == []
    assert attribution(back) == attribution(project)
    assert len(attribution(project)) == 6


def test_label_studio_without_a_users_file_is_said_and_nothing_merges(label_studio, source, tmp_path):
    out = tmp_path / "tasks.json"
    report = export_dataset(source, "label-studio", out)
    lines = [line for line in report.summary().split("; ") if "attribute" in line]
    assert lines == ["annotations Label Studio will attribute to the user who imports the file "
                     "(no --ls-users file): 10"]
    project_id = ls_project(label_studio, "no users file", source.config.label_names)
    label_studio.call("POST", f"/api/projects/{project_id}/import", raw=out.read_bytes())
    tasks = ls_export(label_studio, project_id, "JSON", tmp_path / "ls.json")
    admin = label_studio.call("GET", "/api/current-user/whoami")["id"]
    assert {a["completed_by"] for t in tasks for a in t["annotations"]} == {admin}  # as said

    back = Project.open(tmp_path / "back", create=True)
    assert import_paths(back, [tmp_path / "ls.json"], "importer").problems == []
    # alice's and bob's identical span on D1 stays two spans, in two layers
    per_doc = Counter(s[0] for s in span_set(back))
    assert per_doc == Counter(s[0] for s in span_set(source))
    # the second annotation of a task by the same user is named after its annotation id
    names = {s[4] for s in span_set(back)}
    assert f"ls-user-{admin}" in names and len(names) > 1
    assert all(n == f"ls-user-{admin}" or n.startswith(f"ls-user-{admin}#") for n in names)
    phrase = SPANS[0][1]
    assert sum(1 for s in span_set(back) if s[0] == D1 and s[5] == phrase and s[3] == "claim") == 2


def test_what_is_labelled_in_label_studio_comes_back(label_studio, source, tmp_path):
    project = fresh_copy(source, tmp_path / "team")
    out = tmp_path / "texts.json"
    export_dataset(project, "label-studio", out, flt=ExportFilter(all_documents=True))
    project_id = ls_project(label_studio, "annotated there", project.config.label_names)
    label_studio.call("POST", f"/api/projects/{project_id}/import", raw=out.read_bytes())
    tasks = label_studio.call("GET", f"/api/tasks?project={project_id}&page_size=100")["tasks"]
    task_of = {}
    for task in tasks:
        detail = label_studio.call("GET", f"/api/tasks/{task['id']}")
        task_of[detail["data"]["doc_id"]] = detail
    text = task_of[EMOJI_DOC]["data"]["text"]

    def region(phrase: str, label: str) -> dict:
        start = text.index(phrase)  # code points, as Label Studio's UI sends them
        return {"from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}}

    alice, bob = (label_studio.users[n]["id"] for n in ("alice", "bob"))
    emoji_task = task_of[EMOJI_DOC]["id"]
    label_studio.call("POST", f"/api/tasks/{emoji_task}/annotations/", {"completed_by": alice, "result": [
        region("family 👨\u200d👩\u200d👧 stays in the café", "quote"),
        region("family 👨\u200d👩\u200d👧", "claim"),
        region("𝒳 = 42, the minister claimed", "claim")]})
    label_studio.call("POST", f"/api/tasks/{emoji_task}/annotations/", {"completed_by": bob, "result": [
        region("e\u0301 here", "opinion")]})
    label_studio.call("POST", f"/api/tasks/{task_of[D4]['id']}/annotations/",
                      {"completed_by": bob, "was_cancelled": True, "result": []})  # skipped
    label_studio.call("POST", f"/api/tasks/{task_of[D5]['id']}/annotations/",
                      {"completed_by": alice, "result": []})  # submitted, nothing to mark
    label_studio.call("POST", f"/api/tasks/{emoji_task}/drafts",
                      {"result": [region("Math 𝒳 matters", "claim")]})  # the admin's, unsubmitted
    admin = label_studio.call("GET", "/api/current-user/whoami")["id"]
    users = load_ls_users(users_file(label_studio, tmp_path / "ls-users.txt"))

    expected = {
        (EMOJI_DOC, "family 👨\u200d👩\u200d👧 stays in the café", "quote", "alice"),
        (EMOJI_DOC, "family 👨\u200d👩\u200d👧", "claim", "alice"),
        (EMOJI_DOC, "𝒳 = 42, the minister claimed", "claim", "alice"),
        (EMOJI_DOC, "e\u0301 here", "opinion", "bob"),
        (EMOJI_DOC, "Math 𝒳 matters", "claim", f"ls-user-{admin}"),
    }
    for kind in ("JSON", "JSON_MIN"):
        path = tmp_path / f"{kind}.json"
        ls_export(label_studio, project_id, kind, path)
        team = fresh_copy(source, tmp_path / f"team-{kind}")
        report = import_paths(team, [path], "importer", ls_users=users)
        # the labelled tasks found their documents: same ids, same texts
        assert report.problems == [] and (report.imported, report.updated) == (0, 0)
        assert report.unchanged == (3 if kind == "JSON" else 2)  # JSON-MIN: no cancelled one
        got = {(s[0], s[5], s[3], s[4]) for s in span_set(team)}
        want = expected if kind == "JSON" else {e for e in expected if e[3] != f"ls-user-{admin}"}
        assert got == want  # JSON-MIN has no drafts
        text_now = team.document(EMOJI_DOC).text
        assert all(text_now[s[1]:s[2]] == s[5] for s in span_set(team))
        assert team.status(EMOJI_DOC, "alice") == team.status(EMOJI_DOC, "bob") == "done"
        assert team.status(D5, "alice") == "done"  # a real negative
        if kind == "JSON":
            assert team.status(D4, "bob") == "skipped"
            assert team.status(EMOJI_DOC, f"ls-user-{admin}") != "done"  # a draft: in progress


# ------------------------------------------------------------------------------ doccano
@pytest.fixture(scope="module")
def doccano(tmp_path_factory) -> Server:
    try:
        server = start_doccano(tmp_path_factory.mktemp("doccano"))
    except PeerUnavailable as err:
        pytest.skip(f"doccano 1.8.4 unavailable: {err}")
    try:
        yield server
    finally:
        server.stop()


def doccano_project(server: Server, name: str, overlapping: bool) -> int:
    return server.call("POST", "/v1/projects", {
        "name": name, "description": "tui-reader round trip", "project_type": "SequenceLabeling",
        "resourcetype": "SequenceLabelingProject", "allow_overlapping": overlapping,
    })["id"]


def doccano_spans(server: Server, project_id: int) -> set[tuple]:
    """(doc id, start, end, label, text) of every span doccano stored."""
    names = {t["id"]: t["text"] for t in server.call("GET", f"/v1/projects/{project_id}/span-types")}
    out = set()
    for example in doccano_all(server, f"/v1/projects/{project_id}/examples"):
        for span in doccano_all(server, f"/v1/projects/{project_id}/examples/{example['id']}/spans"):
            start, end = span["start_offset"], span["end_offset"]
            out.add((example["meta"]["id"], start, end, names[span["label"]], example["text"][start:end]))
    return out


def test_doccano_keeps_every_span_where_overlaps_are_allowed_and_the_notice_counts_the_rest(
        doccano, source, tmp_path):
    out = tmp_path / "union.jsonl"
    report = export_dataset(source, "doccano", out, gold="union")
    union = {(d, s, e, label, t) for d, s, e, label, _, t in span_set(source)}
    assert report.total.spans == len(union) == 24  # the two spans both marked are one each
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    depending = sum(dropped_without_overlap([{"start": s, "end": e} for s, e, _ in r["label"]])
                    for r in records)
    assert depending > 0 and report.total.notices == {OVERLAP_NOTICE: depending}
    assert f'"Allow overlapping spans" (it drops them silently otherwise): {depending}' in report.summary()

    allowing = doccano_project(doccano, "overlaps allowed", overlapping=True)
    assert doccano_upload(doccano, allowing, "union.jsonl", out.read_bytes()) == []
    assert doccano_spans(doccano, allowing) == union  # every span, emoji document exact

    default = doccano_project(doccano, "doccano's default", overlapping=False)
    assert doccano_upload(doccano, default, "union.jsonl", out.read_bytes()) == []  # no error...
    kept = doccano_spans(doccano, default)
    assert kept < union and len(kept) == len(union) - depending  # ...as many lost as we said


def test_relations_go_through_doccano(doccano, tmp_path):
    text = "“We will win,” said Ana Ruiz. The minister disagreed, Bo Li wrote."
    project = Project.open(tmp_path / "schema", create=True)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(text, encoding="utf-8")
    import_paths(project, [tmp_path / "corpus"], "importer")
    quote = project.add_span("a.txt", 0, text.index(" said"), "quote", "ana")
    source = project.add_span("a.txt", text.index("Ana"), text.index("."), "source", "ana")
    opinion = project.add_span("a.txt", text.index("The minister"), text.index(", Bo"), "opinion", "ana")
    writer = project.add_span("a.txt", text.index("Bo Li"), text.index(" wrote"), "source", "ana")
    project.add_relation("a.txt", quote.id, source.id, "attributed_to", "ana")
    project.add_relation("a.txt", opinion.id, writer.id, "attributed_to", "ana")
    out = tmp_path / "rel.jsonl"
    export_dataset(project, "doccano-rel", out)
    created = doccano.call("POST", "/v1/projects", {
        "name": "relations", "description": "tui-reader", "project_type": "SequenceLabeling",
        "resourcetype": "SequenceLabelingProject", "allow_overlapping": True, "use_relation": True,
    })["id"]
    assert doccano_upload(doccano, created, "rel.jsonl", out.read_bytes(), "RelationExtraction") == []
    names = {t["id"]: t["text"] for t in doccano.call("GET", f"/v1/projects/{created}/span-types")}
    relation_names = {t["id"]: t["text"]
                      for t in doccano.call("GET", f"/v1/projects/{created}/relation-types")}
    (example,) = doccano_all(doccano, f"/v1/projects/{created}/examples")
    spans = {s["id"]: (s["start_offset"], s["end_offset"], names[s["label"]])
             for s in doccano_all(doccano, f"/v1/projects/{created}/examples/{example['id']}/spans")}
    stored = {(spans[r["from_id"]], spans[r["to_id"]], relation_names[r["type"]])
              for r in doccano_all(doccano, f"/v1/projects/{created}/examples/{example['id']}/relations")}
    assert stored == {(quote.key, source.key, "attributed_to"), (opinion.key, writer.key, "attributed_to")}


def test_what_is_labelled_in_doccano_comes_back(doccano, source, tmp_path):
    team = fresh_copy(source, tmp_path / "team")
    out = tmp_path / "texts.jsonl"
    export_dataset(team, "doccano", out, flt=ExportFilter(all_documents=True))
    project_id = doccano_project(doccano, "annotated there", overlapping=True)
    assert doccano_upload(doccano, project_id, "texts.jsonl", out.read_bytes()) == []
    label_ids = {name: doccano.call("POST", f"/v1/projects/{project_id}/span-types",
                                    {"text": name, "background_color": "#cccccc",
                                     "text_color": "#000000"})["id"]
                 for name in ("claim", "quote")}
    examples = {e["meta"]["id"]: e for e in doccano_all(doccano, f"/v1/projects/{project_id}/examples")}
    emoji = examples[EMOJI_DOC]
    made = [("family 👨\u200d👩\u200d👧 stays in the café", "quote"), ("family 👨\u200d👩\u200d👧", "claim"),
            ("Math 𝒳 matters", "claim")]
    for phrase, label in made:
        start = emoji["text"].index(phrase)
        doccano.call("POST", f"/v1/projects/{project_id}/examples/{emoji['id']}/spans",
                     {"label": label_ids[label], "start_offset": start, "end_offset": start + len(phrase)})
    files = doccano_export(doccano, project_id)
    assert list(files) == [f"{NO_ADMIN}.jsonl"]  # one file per doccano user
    path = tmp_path / "admin.jsonl"
    path.write_bytes(files[f"{NO_ADMIN}.jsonl"])
    report = import_paths(team, [path], "carol")
    assert report.problems == [] and report.imported == 0 and report.unchanged == 6
    got = {(s[0], s[5], s[3], s[4]) for s in span_set(team)}
    assert got == {(EMOJI_DOC, phrase, label, "carol") for phrase, label in made}

