"""Every class of secret shape is masked wherever it stands, and the pre-check never misses one.

Each shape is generated (random bodies from a fixed seed) and planted alone in an otherwise clean
record of the reference chain; the record is read as NDJSON and as a store file, and neither the
summary nor the records a pack shows may hold the secret, while an `evidence_secret_exposed` item
names the record. The strings the loader says itself (rejection reasons, names) are held too.
"""

from __future__ import annotations

import base64
import json
import random
import string
import subprocess
import sys
import time
import typing
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from evidence import (
    A1,
    EXAMPLE_STORE,
    EXEC_ACK,
    EXEC_FAILED_EXECUTION,
    example,
    record,
    write_ndjson,
    write_store,
)
from hypothesis import example as known_case
from hypothesis import given, settings
from hypothesis import strategies as st
from pagescripts import with_unpacked
from pydantic import BaseModel
from test_secrets import pdf_bytes

from reportgen.evidence import schema as models
from reportgen.evidence.inputs import Limits
from reportgen.evidence.load import load
from reportgen.evidence.masking import SecretFound, mask_record, mask_string, may_hold_secrets
from reportgen.evidence.secret_rules import MASK, secret_name
from reportgen.judge.summary import summarise

RNG = random.Random(13)
ALNUM = string.ascii_letters + string.digits


def alnum(n: int) -> str:
    """n random letters and digits."""
    return "".join(RNG.choice(ALNUM) for _ in range(n))


def hexes(n: int) -> str:
    """n random lowercase hex digits."""
    return "".join(RNG.choice("0123456789abcdef") for _ in range(n))


def digits(n: int) -> str:
    """n random digits."""
    return "".join(RNG.choice(string.digits) for _ in range(n))


def b64url(data: dict[str, Any]) -> str:
    """A JSON object as unpadded base64url, as a JWT part."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def uid() -> str:
    """A random UUID from the fixed seed."""
    return str(uuid.UUID(int=RNG.getrandbits(128)))


def text_shapes() -> dict[str, tuple[str, str]]:
    """Secrets that stand in text: name -> (the text, a fragment that would show it leaked)."""
    shapes: dict[str, tuple[str, str]] = {}
    for label in ("RSA", "EC", "DSA", "OPENSSH", "ENCRYPTED", "PGP", ""):
        body = "MII" + alnum(40)
        block = f"{label} PRIVATE KEY BLOCK" if label == "PGP" else f"{label} PRIVATE KEY".strip()
        shapes[f"private key {label or 'plain'}"] = (f"-----BEGIN {block}-----\n{body}\n-----END {block}-----", body)
    sig = alnum(43)
    shapes["jwt"] = (f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url({'sub': alnum(12)})}.{sig}", sig)
    for name, make in URL_SHAPES.items():
        shapes[name] = make()
    for name, (prefix, body) in token_shapes().items():
        shapes[name] = (prefix + body, body)
    for word in ("bearer", "BEARER", "Bearer\t"):
        token = alnum(32)
        shapes[f"bearer {word.strip()}"] = (f"sent with {word} {token}".replace("\t ", "\t"), token)
    for line in ("X-Api-Key: {}", "x-auth-token={}", "set-cookie: session={}; Path=/; HttpOnly", "DB_PASSWORD={}"):
        value = alnum(24)
        shapes[f"text {line.split('{')[0].strip(':= ')}"] = (line.format(value), value)
    value = alnum(20)
    shapes["connection string"] = (f"Server=db;User Id=app;Password={value};Database=release", value)
    return shapes


def _slack(kind: str, host: str = "hooks.slack.com") -> tuple[str, str]:
    """A Slack hook URL on one path kind."""
    secret = alnum(24)
    return f"https://{host}/{kind}/T{alnum(8)}/B{alnum(8)}/{secret}", secret


def _userinfo(scheme: str, user: str, host: str) -> tuple[str, str]:
    """A connection URL with a password (one with an @ inside: the part after it leaked before)."""
    secret = alnum(18)
    return f"{scheme}://{user}:{secret}@{host}", secret


def _at_password() -> tuple[str, str]:
    """A URL whose password holds an @."""
    tail = alnum(16)
    return f"https://deploy:{alnum(6)}@{tail}@release-hooks.example.com/x", tail


def _in(template: str, secret: str) -> tuple[str, str]:
    """A text with the secret in place of SECRET: (the text, the secret)."""
    return template.replace("SECRET", secret), secret


URL_SHAPES: dict[str, Callable[[], tuple[str, str]]] = {
    "slack workflows": lambda: _slack("workflows"),
    "slack triggers": lambda: _slack("triggers"),
    "slack upper case": lambda: _slack("SERVICES", "HOOKS.SLACK.COM"),
    "slack mixed case": lambda: _slack("services", "Hooks.Slack.com"),
    "discord": lambda: _in(f"https://discord.com/api/webhooks/{digits(18)}/SECRET", alnum(68)),
    "discordapp": lambda: _in(f"https://discordapp.com/api/webhooks/{digits(18)}/SECRET", alnum(68)),
    "teams": lambda: _in(
        f"https://contoso.webhook.office.com/webhookb2/{uid()}@{uid()}/IncomingWebhook/SECRET/{uid()}", hexes(32)
    ),
    "office legacy": lambda: _in(
        f"https://outlook.office.com/webhook/{uid()}@{uid()}/IncomingWebhook/SECRET/{uid()}", hexes(32)
    ),
    "mattermost": lambda: _in("https://chat.example.com/hooks/SECRET", alnum(26).lower()),
    "pagerduty": lambda: _in("https://events.pagerduty.com/integration/SECRET/enqueue", hexes(32)),
    "opsgenie": lambda: _in("Authorization: GenieKey SECRET", uid()),
    "google chat": lambda: _in(
        f"https://chat.googleapis.com/v1/spaces/{alnum(11)}/messages?key=x&token=SECRET", alnum(43)
    ),
    "empty user": lambda: _userinfo("https", "", "release-hooks.example.com/x"),
    "password with @": _at_password,
    "postgres": lambda: _userinfo("postgres", "app", "db.internal:5432/release"),
    "mongodb+srv": lambda: _userinfo("mongodb+srv", "app", "cluster0.ab1cd.mongodb.net/release"),
    "redis": lambda: _userinfo("redis", "", "cache:6379/0"),
    "amqp": lambda: _userinfo("amqp", "guest", "mq:5672/vhost"),
    "jdbc query": lambda: _in("jdbc:postgresql://db/app?user=app&password=SECRET", alnum(18)),
}


def token_shapes() -> dict[str, tuple[str, str]]:
    """Vendor tokens: name -> (prefix, body)."""
    return {
        "github fine-grained": ("github_pat_", f"{alnum(22)}_{alnum(59)}"),
        **{f"github {p}": (p, alnum(36)) for p in ("gho_", "ghu_", "ghs_", "ghr_")},
        "gitlab": ("glpat-", alnum(20)),
        "npm": ("npm_", alnum(36)),
        "pypi": ("pypi-AgEIcHlwaS5vcmc", alnum(60)),
        "stripe secret": ("sk_live_", alnum(24)),
        "stripe restricted": ("rk_live_", alnum(24)),
        "openai project": ("sk-proj-", alnum(48)),
        "anthropic": ("sk-ant-api03-", alnum(93) + "AA"),
        "sk- style": ("sk-", alnum(48)),
        "google": ("AIza", alnum(35)),
        "twilio": ("SK", hexes(32)),
        "sendgrid": ("SG.", f"{alnum(22)}.{alnum(43)}"),
        **{f"slack {p}": (p, f"{digits(12)}-{digits(12)}-{alnum(24)}") for p in ("xoxb-", "xoxa-", "xoxp-", "xoxr-")},
        **{f"slack {p}": (p, f"{digits(12)}-{alnum(24)}") for p in ("xoxo-", "xoxs-", "xoxe.xoxp-1-")},
        "slack app": ("xapp-1-", f"A{alnum(10)}-{digits(13)}-{hexes(64)}"),
        "atlassian": ("ATATT3xFfGF0", alnum(180) + "=" + hexes(8).upper()),
        "digitalocean": ("dop_v1_", hexes(64)),
        "vault": ("hvs.", alnum(90)),
    }


SECRET_FIELDS = (
    "password passwd secret client_secret api_key apikey access_token refresh_token private_key token credentials "
    "Client-Secret API-KEY accessToken DB_PASSWORD db_pass userPwd basic_auth routing_key integration_key"
).split()
SECRET_HEADERS = "X-Api-Key x-auth-token COOKIE Set-Cookie Proxy-Authorization X-Vault-Token PRIVATE-TOKEN".split()
TEXT_SHAPES = text_shapes()
FIELD_VALUES = {name: alnum(24) for name in (*SECRET_FIELDS, *SECRET_HEADERS)}


def planted(kind: str, name: str) -> list[dict[str, Any]]:
    """The example chain with one shape planted in one record: text in a note, a field, a header."""
    records = example()
    if kind == "text":
        record(records, EXEC_ACK)["acknowledgement"]["notes"] = f"see {TEXT_SHAPES[name][0]} for details"
    elif kind == "field":
        record(records, EXEC_ACK)["acknowledgement"][name] = FIELD_VALUES[name]
    elif kind == "pair":
        pairs = [{"name": "Accept", "value": "application/json"}, {"value": FIELD_VALUES[name], "name": name}]
        record(records, EXEC_ACK)["acknowledgement"]["http_headers"] = pairs
    else:
        record(records, A1)["delivery"]["deliveries"][0]["request"]["headers"][name] = FIELD_VALUES[name]
    return records


def leak_of(kind: str, name: str) -> str:
    """The fragment that must not appear anywhere."""
    return TEXT_SHAPES[name][1] if kind == "text" else FIELD_VALUES[name]


def loaded_as(tmp_path: Path, records: list[dict[str, Any]], form: str) -> Any:
    """The records written as NDJSON or as a store file, and loaded; a small record size limit
    makes the store file one that is streamed item by item."""
    if form == "ndjson":
        return load([str(write_ndjson(tmp_path / "evidence.ndjson", records))])
    limits = Limits(max_record_bytes=16 * 1024) if form == "streamed store" else None
    return load([str(write_store(tmp_path / "store.json", records))], limits=limits)


def everything_said(loaded: Any) -> str:
    """The summary JSON and the records a pack shows and attaches, as one text."""
    records = json.dumps([r.model_dump(mode="json") for r in loaded.records])
    return summarise(loaded).to_json().decode() + records


def exposed(loaded: Any) -> set[str | None]:
    """The session ids that evidence_secret_exposed items cite."""
    items = [i for i in summarise(loaded).closure.open_items if i.code == "evidence_secret_exposed"]
    return {ref.session_id for i in items for ref in i.evidence}


CASES = [
    *(("text", name) for name in TEXT_SHAPES),
    *(("field", name) for name in SECRET_FIELDS),
    *(("header", name) for name in SECRET_HEADERS),
    *(("pair", name) for name in (*SECRET_HEADERS, "password", "client_secret")),
]


@pytest.mark.parametrize("form", ["ndjson", "store", "streamed store"])
@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}:{n}" for k, n in CASES])
def test_each_shape_alone_in_a_clean_record_is_masked_and_raised(tmp_path, kind, name, form):
    loaded = loaded_as(tmp_path, planted(kind, name), form)
    assert leak_of(kind, name) not in everything_said(loaded)
    expected = EXEC_ACK if kind != "header" else A1
    assert exposed(loaded) == {expected}


@pytest.mark.parametrize("name", sorted(TEXT_SHAPES))
def test_each_text_shape_is_masked_where_it_stands_in_text(name):
    text, leak = TEXT_SHAPES[name]
    masked, kinds = mask_string(f"before {text} after")
    assert kinds and leak not in masked
    assert masked.startswith("before ") and masked.endswith(" after")


@pytest.mark.parametrize("name", [*SECRET_FIELDS, *SECRET_HEADERS])
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title, lambda n: n.replace("_", "-")])
def test_a_field_named_for_a_secret_is_masked_whatever_its_case_or_separator(name, spelling):
    found: list[SecretFound] = []
    masked = mask_record({"debug": {spelling(name): "hunter2hunter2"}}, found)
    assert list(masked["debug"].values()) == [MASK]
    assert len(found) == 1 and found[0].path.startswith("debug")


# --- the pre-check ------------------------------------------------------------------------------


def spellings(value: Any) -> list[bytes]:
    """The ways JSON can spell a value: compact, ASCII-escaped, pretty, and with escaped slashes."""
    compact = json.dumps(value, separators=(",", ":"))
    return [*plain_spellings(value), compact.encode(), compact.replace("/", "\\/").encode()]


def plain_spellings(value: Any) -> list[bytes]:
    """The spellings exporters use: orjson's and pretty-printed (an escape is a mark by design)."""
    return [orjson.dumps(value), json.dumps(value, indent=2).encode()]


def placements(text: str) -> list[dict[str, Any]]:
    """A text as a value, as a key, and as a value under a name for a secret."""
    return [{"notes": text}, {text: 1}, {"deep": [{"x": text}]}]


@pytest.mark.parametrize("name", sorted(TEXT_SHAPES))
def test_the_pre_check_fires_on_every_text_shape_however_json_spells_it(name):
    text = TEXT_SHAPES[name][0]
    assert all(mask_record(value, []) != value for value in placements(text))
    for value in placements(text) + placements(text.upper()) + placements(text.lower()):
        if mask_record(value, []) != value:
            assert all(may_hold_secrets(raw) for raw in spellings(value)), value


@pytest.mark.parametrize("name", [*SECRET_FIELDS, *SECRET_HEADERS])
def test_the_pre_check_fires_on_every_secret_name_however_json_spells_it(name):
    for spelled in (name, name.upper(), name.lower(), f"x-{name}", f"{name} "):
        for value in (
            {spelled: "hunter2hunter2"},
            {"a": [{spelled: {"b": "c"}}]},
            {"note": f"{spelled}=hunter2"},
            {"headers": [{"value": "hunter2hunter2", "name": spelled}]},
        ):
            assert mask_record(value, []) != value
            assert all(may_hold_secrets(raw) for raw in spellings(value)), value


# Pieces a hostile text is made of: marks of every rule, separators, escapes, look-alike letters.
PIECES = [
    *"bearer BeArEr password secret token apikey ApiKey api-key api_key Api.Key auth pass pwd cookie".split(),
    *"AuThOrIzAtIoN Proxy-Authorization X-Auth-Token Set-Cookie PRIVATE KEY private key".split(),
    *"xoxb- ghp_ glpat- npm_ sk- sk_live_ AIza SG. hvs. dop_v1_ ATATT3 eyJhbGciOiJIUzI1NiJ9 .eyJ".split(),
    *"https:// hooks.slack.com/ /hooks/ /webhookb2/ discord.com/api/webhooks/ @ : = ? & ; / . - _".split(),
    " ", "\t", "\n", '"', "'", "\\", "\u212a", "\u017f", "\u0130", "\u00e9", "-----BEGIN ", "-----",
    "REDACTED", "services/", "x", "Q", "7",
]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(PIECES) | st.text(alphabet=ALNUM, min_size=8, max_size=40), min_size=1, max_size=10),
    st.sampled_from(["value", "key", "named", "pair"]),
)
@known_case(["https://release-hooks.example.com/x?REDACTED", "abcdefgh1234"], "value")
@known_case(["AuThOrIzAtIoN", ": ", "abcdefgh1234"], "value")
@known_case(["ApiKey", "=", "abcdefgh1234"], "value")
@known_case(["BeArEr ", "abcdefgh1234"], "key")
def test_the_pre_check_is_never_narrower_than_the_masking(pieces, place):
    text = "".join(pieces)
    value = {
        "value": {"notes": text},
        "key": {text: "v"},
        "named": {text: "hunter2hunter2"},
        "pair": {"headers": [{"key": text, "value": "hunter2hunter2"}]},
    }[place]
    if mask_record(value, []) != value:
        assert all(may_hold_secrets(raw) for raw in spellings(value)), value


def reference_items() -> list[dict[str, Any]]:
    """The reference's clean example records."""
    return json.loads(EXAMPLE_STORE.read_text())["items"]


@pytest.mark.parametrize("index", range(len(reference_items())))
def test_the_pre_check_stays_quiet_on_the_reference_clean_records(index):
    item = reference_items()[index]
    assert [raw for raw in plain_spellings(item) if may_hold_secrets(raw)] == []
    found: list[SecretFound] = []
    assert mask_record(item, found) == item and found == []


def cavra_non_secrets() -> dict[str, Any]:
    """CAVRA's own fields that look secret-adjacent but are not: ids, hashes, redactions, lists."""
    digest = hexes(64)
    return {
        "reference_hash": digest,
        "export_hash": hexes(64),
        "execution_hash": hexes(64),
        "archive_hash": f"sha256:{hexes(64)}",
        "reference_id": f"gordackfinalarchive-{digest[:16]}",
        "acknowledgement_id": f"gordackexechealthack-{hexes(16)}",
        "plan_id": f"gordackexechealthalert-{hexes(16)}",
        "acknowledgement_required_providers": ["slack", "webhook", "pagerduty"],
        "route_key": "executive-retry-health",
        "headers": {"authorization": MASK, "X-Api-Key": MASK, "content-type": "application/json"},
        "url": f"https://release-hooks.example.com/cavra/{hexes(12)}",
        "controls": ["no-provider-token-or-secret-stored", "retry-plan-contains-no-provider-credentials"],
    }


def test_cavra_ids_hashes_and_redactions_stay_as_they_are_and_do_not_wake_the_pre_check():
    value = cavra_non_secrets()
    found: list[SecretFound] = []
    assert mask_record(value, found) == value and found == []
    assert not any(may_hold_secrets(raw) for raw in plain_spellings(value))


def test_a_name_about_a_secret_or_over_a_masked_one_is_kept():
    value = {
        "token_count": 3,
        "secret_ref": "vault://release/db",
        "password_changed_at": "2025-06-02T11:05:12Z",
        "Proxy-Authorization": f"Basic {MASK}",
        "password": "${RELEASE_DB_PASSWORD}",
        "notes": f"sent with Authorization: Bearer {MASK}; cookie=[REDACTED]",
    }
    found: list[SecretFound] = []
    assert mask_record(value, found) == value and found == []


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's type names, inside lists, unions and optionals too."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in models_in(arg)]


@pytest.mark.parametrize(
    "url",
    [
        "https://contoso.webhook.office.com/webhookb2/cavra-release?REDACTED",
        "https://hooks.slack.com/workflows/REDACTED",
        "https://release-hooks.example.com/hooks/go-rollback-drill",
    ],
)
def test_a_webhook_url_already_redacted_or_naming_no_token_is_kept(url):
    assert mask_string(url) == (url, [])


def model_fields(model: type[BaseModel], seen: set[type]) -> set[str]:
    """Every field name (and alias) of a model and the models it holds."""
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names |= {name, info.alias or name}
        for inner in models_in(info.annotation):
            names |= model_fields(inner, seen)
    return names


def test_no_field_the_schema_reads_is_taken_for_a_secret():
    classes = [v for v in vars(models).values() if isinstance(v, type) and issubclass(v, BaseModel)]
    seen: set[type] = set()
    names = set().union(*(model_fields(c, seen) for c in classes))
    assert {"session_id", "signer", "acknowledgement_required_providers"} <= names
    assert sorted(n for n in names if secret_name(n)) == []


# --- strings the loader says ------------------------------------------------------------------------

def _jwt() -> tuple[str, str]:
    """An unsigned JWT: (the token, its payload part)."""
    payload = b64url({"sub": alnum(10)})
    return f"{b64url({'alg': 'none'})}.{payload}.{alnum(20)}", payload


def _prefixed(prefix: str, body: str) -> tuple[str, str]:
    """A vendor token: (the token, its body)."""
    return prefix + body, body


# Secrets that fit in a file or folder name (no slash): name -> () -> (the text, its leak).
NAME_SECRETS: dict[str, Callable[[], tuple[str, str]]] = {
    "github": lambda: _prefixed("ghp_", alnum(36)),
    "jwt": _jwt,
    "slack": lambda: _prefixed("xoxb-", f"{digits(12)}-{alnum(24)}"),
    "stripe": lambda: _prefixed("sk_live_", alnum(24)),
}
KEY_SECRETS: dict[str, Callable[[], tuple[str, str]]] = {
    **NAME_SECRETS,
    "url credentials": lambda: _userinfo("https", "deploy", "release-hooks.example.com/x"),
    "empty user": lambda: _userinfo("redis", "", "cache:6379/0"),
}


def said(loaded: Any) -> str:
    """Everything the loader's account says, as the summary carries it."""
    return summarise(loaded).to_json().decode()


def secret_places(loaded: Any) -> set[tuple[str, int | None]]:
    """Where the loader noted secrets: (source, line)."""
    return {(s.source, s.line) for s in loaded.secrets}


@pytest.mark.parametrize("name", sorted(KEY_SECRETS))
def test_a_secret_in_a_duplicated_key_is_masked_in_the_rejection_reason(tmp_path, name):
    secret, leak = KEY_SECRETS[name]()
    line = f'{{"session_id":"d-1","metadata_kind":"x",{json.dumps(secret)}:1,{json.dumps(secret)}:2}}\n'
    path = tmp_path / "e.ndjson"
    path.write_text(line)
    loaded = load([str(path)])
    assert len(loaded.rejected) == 1 and "duplicate key" in loaded.rejected[0].reason
    assert leak not in said(loaded) and leak not in loaded.rejected[0].reason
    assert (str(path), 1) in secret_places(loaded)
    assert any(i.code == "evidence_secret_exposed" for i in summarise(loaded).closure.open_items)


@pytest.mark.parametrize("name", sorted(KEY_SECRETS))
def test_a_secret_in_a_value_a_schema_rejection_quotes_is_masked(tmp_path, name):
    secret, leak = KEY_SECRETS[name]()
    records = example()
    record(records, EXEC_ACK)["created_at"] = secret
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", records))])
    assert [r.line for r in loaded.rejected] == [records.index(record(records, EXEC_ACK)) + 1]
    assert leak not in said(loaded)
    assert EXEC_ACK in exposed(loaded)


@pytest.mark.parametrize("name", sorted(NAME_SECRETS))
@pytest.mark.parametrize("where", ["file", "folder", "skipped file"])
def test_a_secret_in_a_file_or_folder_name_is_masked_and_raised(tmp_path, name, where):
    secret, leak = NAME_SECRETS[name]()
    folder = tmp_path / (secret if where == "folder" else "evidence")
    folder.mkdir()
    write_ndjson(folder / (f"{secret}.ndjson" if where == "file" else "e.ndjson"), example())
    if where == "skipped file":
        (folder / f"notes-{secret}.txt").write_text("not evidence")
    loaded = load([str(tmp_path)])
    assert leak not in said(loaded)
    assert leak not in json.dumps([r.model_dump(mode="json") for r in loaded.records])
    assert [s.line for s in loaded.secrets] == [None]
    assert exposed(loaded) == {None}


@pytest.mark.parametrize("name", sorted(NAME_SECRETS))
def test_a_secret_in_an_unrecognised_kind_name_is_masked_and_raised(tmp_path, name):
    secret, leak = NAME_SECRETS[name]()
    unknown = {"session_id": "u-1", "metadata_kind": f"release-{secret}"}
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [*example(), unknown]))])
    assert [u.metadata_kind for u in loaded.unrecognised] == [f"release-{MASK}"]
    assert leak not in said(loaded)
    assert "u-1" in exposed(loaded)


@pytest.mark.parametrize("name", sorted(NAME_SECRETS))
def test_a_secret_in_a_reference_a_warning_quotes_is_masked(tmp_path, name):
    secret, leak = NAME_SECRETS[name]()
    records = example()
    record(records, EXEC_FAILED_EXECUTION)["worker_run_id"] = secret
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", records))])
    summary = summarise(loaded)
    assert "evidence_reference_broken" in [w.code for w in summary.closure.warnings]
    assert leak not in summary.to_json().decode()
    assert EXEC_FAILED_EXECUTION in exposed(loaded)


@pytest.mark.parametrize("name", sorted(NAME_SECRETS))
def test_a_secret_in_a_conflicting_session_id_is_masked(tmp_path, name):
    secret, leak = NAME_SECRETS[name]()
    records = example()
    first = record(records, EXEC_ACK)
    second = json.loads(json.dumps(first))
    first["session_id"] = second["session_id"] = secret
    second["acknowledgement"]["notes"] = "a later, different copy"
    second["created_at"] = "2025-06-02T12:00:00+00:00"
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [*records, second]))])
    summary = summarise(loaded)
    assert "evidence_conflict" in [w.code for w in summary.closure.warnings]
    assert leak not in summary.to_json().decode()
    assert MASK in exposed(loaded)


@pytest.mark.parametrize("name", sorted(NAME_SECRETS))
def test_a_secret_in_a_path_that_cannot_be_read_is_masked_in_the_error(tmp_path, name):
    secret, leak = NAME_SECRETS[name]()
    run = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", str(tmp_path / secret)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode != 0 and "no such file" in run.stderr
    assert leak not in run.stdout + run.stderr


# --- one whole pack, PDFs included --------------------------------------------------------------

PACK_SHAPES = ["jwt", "private key OPENSSH", "teams", "password with @", "gitlab", "bearer BEARER"]
PACK_FIELDS = ["client_secret", "Set-Cookie"]


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A pack of evidence holding new shapes in a note, a field, a header, a key and a folder name."""
    folder = tmp_path_factory.mktemp("shapes")
    records = example()
    ack = record(records, EXEC_ACK)
    ack["acknowledgement"]["notes"] = " ".join(TEXT_SHAPES[name][0] for name in PACK_SHAPES)
    ack["acknowledgement"]["client_secret"] = FIELD_VALUES["client_secret"]
    record(records, A1)["delivery"]["deliveries"][0]["request"]["headers"]["Set-Cookie"] = FIELD_VALUES["Set-Cookie"]
    named, named_leak = NAME_SECRETS["github"]()
    key, key_leak = KEY_SECRETS["url credentials"]()
    (folder / "in" / named).mkdir(parents=True)
    write_ndjson(folder / "in" / named / "evidence.ndjson", records)
    (folder / "in" / "dup.ndjson").write_text(f'{{"session_id":"d","metadata_kind":"x","{key}":1,"{key}":2}}\n')
    command = ["build", str(folder / "in"), "--out", str(folder / "pack"), "--attach-evidence"]
    subprocess.run(
        [sys.executable, "-m", "reportgen", *command],
        capture_output=True,
        timeout=600,
        check=False,
    )
    leaks = [TEXT_SHAPES[name][1] for name in PACK_SHAPES] + [FIELD_VALUES[n] for n in PACK_FIELDS]
    leaks += [named_leak, key_leak]
    return folder / "pack", leaks


def test_no_file_of_the_pack_holds_any_new_shape(pack):
    folder, leaks = pack
    files = sorted(folder.iterdir())
    assert {f.suffix for f in files} >= {".html", ".md", ".pdf", ".json"}
    for path in files:
        data = pdf_bytes(path) if path.suffix == ".pdf" else with_unpacked(path.read_bytes())
        for leak in leaks:
            assert leak.encode() not in data, f"{leak[:12]}... leaked into {path.name}"
    summary = json.loads((folder / "summary.json").read_text())
    assert "evidence_secret_exposed" in [i["code"] for i in summary["closure"]["open_items"]]


# Repetitions that make a backtracking pattern read a text once per start: each must be read in
# one pass. Reading four times the text must cost about four times the CPU time, not sixteen: a
# quadratic pattern fails here instead of running for minutes on a large text.
SCALE_SIZES = (12_500, 50_000)
REPEATS = {
    "dashes": "-",
    "begin": "--BEGIN",
    "schemes": "a://",
    "dots": "a.",
    "jwt starts": "ey-",
    "jwt runs": "eyJaaaaaaaaaaaa.",
    "names": "token_id:",
    "credentials": "https://a:b@",
    "sendgrid": "SG.xxxxxxxxxxxxxxxxx-",
    "bearer": "Bearer ",
    "pairs": ";b=c",
}


def masking_cost(text: str) -> tuple[float, tuple[str, list[Any]]]:
    """The least CPU time of up to three mask_string calls on text (one once it takes a second), and the result."""
    best, result = float("inf"), None
    for _ in range(3):
        started = time.process_time()
        result = mask_string(text)
        best = min(best, time.process_time() - started)
        if best > 1:
            break
    return best, result  # type: ignore[return-value]


@pytest.mark.parametrize("name", sorted(REPEATS))
def test_a_long_repetitive_text_is_read_in_one_pass(name):
    small, large = ("x " + REPEATS[name] * (size // len(REPEATS[name])) + " ?" for size in SCALE_SIZES)
    small_cost, _ = masking_cost(small)
    large_cost, (masked, kinds) = masking_cost(large)
    assert masked.startswith("x ") and len(kinds) <= 2
    # Linear: about 4 times; quadratic: about 16 times (a floor keeps timer noise on tiny costs out).
    assert large_cost < 8 * max(small_cost, 0.002), (small_cost, large_cost)
