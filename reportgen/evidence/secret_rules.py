"""The secret rules: names that say their value is a secret (`secret_name`), and the table of secret
shapes (`RULES`) that secret scanners publish, each with the marks every text it masks must hold."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MASK = "REDACTED"
# Rules read ASCII letters case-insensitively, as RE2 reads the marks: no Unicode case folding
# (a Kelvin sign is not a "k") can make a rule match where no mark is.
FLAGS = re.ASCII | re.IGNORECASE
# JSON whitespace, and one escaped character as raw JSON text spells it (`\n`, `\"`, `\\`).
WS = r"[\t\n\x0b\x0c\r ]"
ESCAPED = r"\\."

# --- names that say their value is a secret -----------------------------------------------------

# Words that make a name a secret's wherever they stand in it; a pair may be joined by any
# separator or none (`X-Api-Key`, `apiKey`, `API_KEY`).
NAME_WORDS: tuple[tuple[str, ...], ...] = (
    ("password",),
    ("passwd",),
    ("passphrase",),
    ("pwd",),
    ("secret",),
    ("token",),
    ("credential",),
    ("cookie",),
    ("authorization",),
    *((word, "key") for word in ("api", "private", "access", "signing", "encryption", "master", "account")),
    *((word, "key") for word in ("subscription", "functions", "license", "session", "auth")),
    # PagerDuty's integration key travels as `routing_key` (or the older `service_key`).
    *((word, "key") for word in ("routing", "integration", "service")),
)
# Words that make a name a secret's only as its last word: `db_pass`, `userPass`, `basic_auth`.
NAME_ENDS = ("pass", "pw", "auth")
# A last word that says the field is about a secret, not the secret: `token_id`, `secret_hash`.
NOT_SECRET_ENDS = frozenset(
    """id ids hash hashes sha sha1 sha256 digest fingerprint count counts total type types kind at time
    ts timestamp date expires expiry expiration ttl length len size state status required provider providers
    ref refs name names path paths file url uri endpoint hint policy version enabled present source field
    fields label mode format rotation rotated used usage limit index scope scopes issuer exists set checked
    stored masked redacted configured valid validated""".split()
)
# Keys that name the other half of a name/value pair, as HAR files and header lists write them.
PAIR_NAMES = ("name", "key")
# Header names whose masked values are reported as that header's (others as a secret-named field).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "dd-api-key", "x-auth-token", "cookie"}
    | {"set-cookie", "x-vault-token", "private-token", "x-amz-security-token", "x-goog-api-key"}
)
# Values that are already masked or only name where a secret is kept: never secrets themselves.
MASKED_VALUE = re.compile(r"\[?<?REDACTED>?\]?|[*\u2022]+|\$\{[^}]*\}|\{\{[^}]*\}\}", FLAGS)


def _join_words(words: tuple[str, ...], between: str) -> str:
    """A name word (or pair of words) as a pattern, with `between` allowed between the two."""
    return between.join(words)


NAME_CONTAINS = re.compile("|".join(_join_words(w, "[^a-z0-9]*") for w in NAME_WORDS), FLAGS)
NAME_ENDING = re.compile(
    r"(?:^|[^a-z0-9]|(?<=[a-z0-9])(?-i:(?=[A-Z])))(?:" + "|".join(NAME_ENDS) + r")[^a-z0-9]*$", FLAGS
)
WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", re.ASCII)


def secret_name(name: str) -> bool:
    """Whether a field or header name says its value is a secret (`client_secret`, `X-Api-Key`)."""
    if NAME_CONTAINS.search(name) is None and NAME_ENDING.search(name) is None:
        return False
    words = WORDS.findall(name)
    return not words or words[-1].lower() not in NOT_SECRET_ENDS


def _name_marks() -> tuple[str, ...]:
    """Raw-text marks of a secret's name: as a JSON key, as `name=` or `name:` in text, and as the
    name of a name/value pair (`{"name": "X-Api-Key", "value": …}`)."""
    key_end = rf"(?:[^\"\\]|{ESCAPED})*[\"']{WS}*:"
    text_end = rf"[a-z0-9_.-]*(?:\\\"|'|{WS}|\\[bfnrt])*[:=]"
    contains = "|".join(_join_words(w, rf"(?:[^a-z0-9]|{ESCAPED})*") for w in NAME_WORDS)
    ends = "|".join(NAME_ENDS)
    pair = "|".join(PAIR_NAMES)
    return (
        rf"(?:{contains})(?:{key_end}|{text_end})",
        rf"(?:{ends})(?:[^a-z0-9\"\\]|{ESCAPED})*[\"']?{WS}*[:=]",
        rf"[\"'](?:{pair})[\"']{WS}*:{WS}*[\"'](?:[^\"\\]|{ESCAPED})*?(?:{contains}|{ends})",
    )


# --- the rules ------------------------------------------------------------------------------------

# What a rule's mask gives for a match: where the masked span ends and what replaces it, or None
# when the match is not a secret after all (upstream's own REDACTED, a placeholder).
Masker = Callable[[re.Match[str]], tuple[int, str] | None]


@dataclass(frozen=True)
class Rule:
    """One shape of secret: how it is found and masked, and the marks every text it masks holds.

    Marks are RE2 patterns read case-insensitively on raw JSON bytes and on decoded text alike, so
    they must match however JSON escapes spell the text (a `\\u` or `\\/` escape is a mark of its own).
    """

    kind: str
    regex: re.Pattern[str]
    mask: Masker
    marks: tuple[str, ...]
    # The (start, end) stretches of a text a match can lie in, when that is known more cheaply than
    # the regex finds out; None: the whole text.
    windows: Callable[[str], Iterator[tuple[int, int]]] | None = None


URL_RUN = re.compile(r"[^\s\"'<>]+")


def _up_to_last_at(text: str) -> Iterator[tuple[int, int]]:
    """Each run of URL characters holding an `@`, up to its last `@`.

    A password runs to the last `@` of its run; searched in the whole run, every scheme in a long
    run without an `@` (`a://a://…`) would read the rest of the run again.
    """
    for run in URL_RUN.finditer(text):
        last = text.rfind("@", run.start(), run.end())
        if last >= 0:
            yield run.start(), last + 1


def masked_already(text: str) -> bool:
    """Whether a value is upstream's mask (`REDACTED`, `Bearer REDACTED`) or a placeholder."""
    return MASKED_VALUE.fullmatch(SCHEME_WORD.sub("", text.strip(), count=1)) is not None


def _after(group: str) -> Masker:
    """A mask that keeps the match up to the end of `group` and replaces the rest."""

    def mask(m: re.Match[str]) -> tuple[int, str] | None:
        rest = m.string[m.end(group) : m.end()]
        if not rest or REDACTED_START.match(rest):
            return None
        return m.end(), m.group(group) + MASK

    return mask


_after_keep = _after("keep")


def _whole(m: re.Match[str]) -> tuple[int, str]:
    """A mask that replaces the whole match."""
    return m.end(), MASK


def _quoted_value(m: re.Match[str]) -> tuple[int, str] | None:
    """A quoted value after a secret's name (`password="my pass";`), masked to its closing quote,
    spaces and all; None when the value is not quoted (or already masked)."""
    quote = m.group()[-1]
    if quote not in "\"'":
        return None
    close = m.string.find(quote, m.end(), m.end() + 4096)
    value = m.string[m.end() : close]
    if close <= m.end() or "\n" in value or masked_already(value):
        return None
    return close, m.group() + MASK


def _userinfo(m: re.Match[str]) -> tuple[int, str] | None:
    """Mask a URL's user and password, unless the password is empty or already masked."""
    password = m.group("password")
    if not password or masked_already(password):
        return None
    return m.end(), f"{m.group('scheme')}{MASK}@"


def _named(m: re.Match[str]) -> tuple[int, str] | None:
    """Mask the value after a name that says it is a secret (`password=`, `X-Api-Key:`).

    The value is read only once the name is known to be a secret's, so each part of the text is
    read a bounded number of times.
    """
    if not secret_name(m.group("name")):
        return None
    quoted = _quoted_value(m)
    if quoted is not None:
        return quoted
    value = NAME_VALUE.match(m.string, m.end())
    if value is None:
        return None
    if masked_already(value.group()) or REDACTED_START.match(SCHEME_WORD.sub("", value.group(), count=1)):
        return None
    return value.end(), m.group() + MASK


def _slack(m: re.Match[str]) -> tuple[int, str] | None:
    """Mask a Slack hook URL's path after its kind (`services/`), unless there is none to mask."""
    if m.group()[m.end("keep") - m.start() :].strip("/").lower() in SLACK_PATHS:
        return None
    return _after_keep(m)


def _hook(m: re.Match[str]) -> tuple[int, str] | None:
    """Mask a webhook URL's path after its hook segment when the path holds a token.

    A token is a run of letters and digits with a digit in it (6 or more) or 16 or more long:
    Discord, Teams, Mattermost and PagerDuty keys are; a readable name (`/webhookb2/cavra-release`)
    is not, and its query string is the query rule's.
    """
    path = re.split(r"[?#]", m.group()[m.end("keep") - m.start() :], maxsplit=1)[0]
    runs = RUN.findall(path)
    if not any(len(run) >= 16 or (len(run) >= 6 and DIGIT.search(run)) for run in runs):
        return None
    return _after_keep(m)


def _jwt(m: re.Match[str]) -> tuple[int, str] | None:
    """Mask a JWT: from the first `ey` that starts the run or follows a `-` or `_` in it."""
    start = JWT_START.search(m.group(), 0, m.group().index("."))
    if start is None:
        return None
    return m.end(), m.group()[: start.start(1)] + MASK


def _token(kind: str, pattern: str, *marks: str) -> Rule:
    """A vendor's token: a fixed prefix, case as issued, not glued to a longer word before it."""
    return Rule(kind, re.compile(r"(?<![A-Za-z0-9])(?:" + pattern + ")", re.ASCII), _whole, marks)


SLACK_PATHS = ("", "services", "workflows", "triggers")
RUN = re.compile(r"[A-Za-z0-9]+")
DIGIT = re.compile(r"[0-9]")
JWT_START = re.compile(r"(?:^|[_-])(ey)[A-Za-z0-9_-]{10}", re.ASCII)
REDACTED_START = re.compile(r"REDACTED\b", FLAGS)
SCHEME_WORD = re.compile(r"^(?:basic|bearer|token|digest|geniekey|negotiate|ntlm)\s+", FLAGS)
NAME_VALUE = re.compile(
    r"(?:(?:basic|bearer|token|digest|geniekey|negotiate|ntlm)\s++)?[^\s,;\"'&<>]++"
    # Cookies and connection strings go on with `; name=value` pairs: all of them are masked.
    r"(?:\s*+[;,]\s*+[a-z0-9_.-]++=[^\s,;\"'&<>]*+)*+",
    FLAGS,
)
ANY_NAME_WORD = "|".join([*(_join_words(w, "[^a-z0-9]*") for w in NAME_WORDS), *NAME_ENDS])
# Patterns are written so that no input makes them backtrack more than linearly: a scheme starts
# only where a run of scheme characters does, quantifiers that cannot give back are possessive,
# and the part of a URL a rule scans stops at the next `://`.
SCHEME = r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://"
URL_CHAR = r"[^\s\"'<>]"
URL_PART = r"(?:[^\s\"'<>?#:]|:(?!//))"

RULES: tuple[Rule, ...] = (
    Rule(
        "private key block",
        re.compile(
            r"(?<!-)-{2,}+\s*+BEGIN[A-Z0-9 _-]{0,40}?PRIVATE KEY(?: BLOCK)?\s*+-{2,}+"
            r".*?(?:END[A-Z0-9 _-]{0,40}?PRIVATE KEY(?: BLOCK)?\s*+-*+|$)",
            FLAGS | re.S,
        ),
        lambda m: (m.end(), f"-----{MASK} PRIVATE KEY-----"),
        ("private key",),
    ),
    Rule(
        "private key block",
        re.compile(r"PuTTY-User-Key-File-\d+:.*?(?:Private-MAC:\s*[0-9a-f]+|$)", FLAGS | re.S),
        lambda m: (m.end(), f"PuTTY-User-Key-File: {MASK}"),
        ("putty-user-key-file",),
    ),
    Rule(
        "Slack webhook URL",
        re.compile(rf"(?P<keep>hooks\.slack\.com/(?:(?:services|workflows|triggers)/)?){URL_CHAR}+", FLAGS),
        _slack,
        ("hooks.slack.com",),
    ),
    Rule(
        "webhook URL",
        re.compile(
            rf"(?P<keep>{SCHEME}(?:[^\s\"'<>/]*pagerduty\.com/integration/"
            rf"|{URL_PART}*?/(?:hooks|webhooks?|webhookb2)/)){URL_CHAR}+",
            FLAGS,
        ),
        _hook,
        # The hook segment and, before any query, a digit or a long run: what `_hook` calls a token.
        (
            r"/(?:hooks|webhooks?|webhookb2)/[^\t\n\x0b\x0c\r \"'<>?#]*?(?:[0-9]|[a-z0-9]{16})",
            "pagerduty.com/integration/",
        ),
    ),
    Rule(
        "URL credentials",
        # A password may hold `/` and `@` (base64, pasted unencoded): anything up to the last `@`
        # but a port and a path.
        re.compile(rf"(?P<scheme>{SCHEME})[^\s\"'<>/:]*+:(?P<password>(?!\d++/)[^\s\"'<>]*)@", FLAGS),
        _userinfo,
        ("@",),
        _up_to_last_at,
    ),
    Rule(
        "URL query string",
        re.compile(rf"(?P<keep>{SCHEME}{URL_PART}++\?)[^\s#\"'<>]+", FLAGS),
        _after_keep,
        (r"\?",),
    ),
    Rule(
        "secret-named value",
        re.compile(
            rf"(?<![a-z0-9_.-])(?=[a-z0-9_.-]*?(?:{ANY_NAME_WORD}))(?P<name>[a-z0-9_.-]++)"
            r"[\"']?\s*+[:=]\s*+[\"']?",
            FLAGS,
        ),
        _named,
        _name_marks(),
    ),
    Rule(
        "bearer token",
        re.compile(r"(?P<keep>(?<![a-z0-9])(?:bearer|geniekey)\s++)[a-z0-9._~+/=-]{8,}", FLAGS),
        _after_keep,
        ("bearer", "geniekey"),
    ),
    Rule(
        "JSON web token",
        # Whole dotted runs are matched, then the token found in the first: a run is read once.
        re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{12,}+\.ey[A-Za-z0-9_-]{10,}+\.[A-Za-z0-9_-]*+", re.ASCII),
        _jwt,
        (r"ey[a-z0-9_-]*\.ey",),
    ),
    _token("Slack token", r"xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}", "xox", "xapp-"),
    _token("GitHub token", r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}", "gh[pousr]_", "github_pat_"),
    _token(
        "GitLab token",
        r"gl(?:pat|ptt|dt|rt|cbt|imt|ft|soat|agent|oas|wt)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,}",
        "gl(?:pat|ptt|dt|rt|cbt|imt|ft|soat|agent|oas|wt)-",
        "gr1348941",
    ),
    _token(
        "AWS access key id",
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        # Read in its case: `acca` is hex, and hex digests are everywhere in evidence.
        "(?-i:A3T|AKIA|ASIA|ABIA|ACCA)",
    ),
    _token("npm token", r"npm_[A-Za-z0-9]{36}", "npm_"),
    _token("PyPI token", r"pypi-AgE[A-Za-z0-9_-]{50,}", "pypi-age"),
    _token(
        "Stripe key",
        r"[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}",
        *("[sr]k_(?:live|test|prod)_", "whsec_"),
    ),
    # OpenAI, Anthropic and their imitators: `sk-`, `sk-proj-`, `sk-ant-api03-` and a long tail.
    _token("sk- API key", r"sk-[A-Za-z0-9_-]{20,}", r"(?:^|[^a-z0-9]|\\[bfnrt])sk-"),
    _token("Google API key", r"AIza[A-Za-z0-9_-]{35}", "aiza"),
    _token("Twilio API key", r"SK[0-9a-fA-F]{32}(?![A-Za-z0-9])", "sk[0-9a-f]{32}"),
    _token("SendGrid API key", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", r"sg\.[a-z0-9_-]{16}"),
    _token("Atlassian API token", r"AT[AC]TT3[A-Za-z0-9_=-]{20,}", "at[ac]tt3"),
    _token("DigitalOcean token", r"do[opr]_v1_[A-Za-z0-9]{20,}", "do[opr]_v1_"),
    _token("HashiCorp Vault token", r"hv[sbr]\.[A-Za-z0-9_-]{20,}", r"hv[sbr]\."),
    _token("Hugging Face token", r"hf_[A-Za-z]{30,}", "hf_"),
    _token("Shopify token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shp(?:at|ca|pa|ss)_"),
    _token("Databricks token", r"dapi[a-f0-9]{32}", "dapi"),
    _token("Docker Hub token", r"dckr_pat_[A-Za-z0-9_-]{20,}", "dckr_pat_"),
    _token("Grafana token", r"(?:glc|glsa)_[A-Za-z0-9_+/=-]{20,}", "glc_", "glsa_"),
    _token("New Relic key", r"NRAK-[A-Z0-9]{20,}", "nrak-"),
    _token("Postman key", r"PMAK-[A-Za-z0-9-]{20,}", "pmak-"),
    _token("age secret key", r"AGE-SECRET-KEY-1[0-9A-Z]{50,}", "age-secret-key-1"),
)
