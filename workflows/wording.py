"""A message's wording kept so that it reads in whichever language its reader chose.

A message is written once, in the site's language, for its email and its record; the messages
page shows it to each reader in theirs. So a message keeps its wording as well as its text:
each phrase's msgid (the Chinese source of the catalogues) with its arguments, and the page
translates it when shown. An argument is the applicant's own words or a name (shown as
written), a `Term` (a label the catalogues translate: a status, a stage, a document's title), a
date (shown in the reader's date form) or a phrase of its own.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext


class Term(str):
    """A label translated when shown (its text is the catalogue's msgid)."""


@dataclass(frozen=True)
class Phrase:
    """One msgid and its arguments; `str()` reads it in the active language."""

    text: str
    args: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return wording_phrase(self.stored())

    def stored(self) -> dict:
        return {"text": self.text, "args": _args_stored(self.args)}


def phrase(text: str, **args) -> Phrase:
    """`text` is a msgid marked with gettext_noop at the call, so that the catalogues hold it."""
    return Phrase(text, args)


def wording_stored(*, title: Phrase, body: list[Phrase]) -> dict:
    return {"title": title.stored(), "body": [part.stored() for part in body]}


def wording_title(wording: dict) -> str:
    return wording_phrase(wording["title"])


def wording_body(wording: dict) -> str:
    return "\n".join(wording_phrase(part) for part in wording.get("body", []))


def _args_stored(args: dict) -> dict:
    stored = {}
    for name, value in args.items():
        if isinstance(value, Phrase):
            stored[name] = {"phrase": value.stored()}
        elif isinstance(value, Term):
            stored[name] = {"term": str(value)}
        elif isinstance(value, datetime):
            stored[name] = {"day": timezone.localtime(value).date().isoformat()}
        elif isinstance(value, date):
            stored[name] = {"day": value.isoformat()}
        elif isinstance(value, int) and not isinstance(value, bool):
            stored[name] = value  # a count, for %(n)d
        else:
            stored[name] = str(value)
    return stored


def wording_phrase(stored: dict) -> str:
    """One stored phrase (`Phrase.stored()`) read in the active language."""
    args = {name: _arg_shown(value) for name, value in stored.get("args", {}).items()}
    text = gettext(stored["text"])
    return text % args if args else text


def _arg_shown(value) -> str | int:
    if isinstance(value, dict) and "phrase" in value:
        return wording_phrase(value["phrase"])
    if isinstance(value, dict) and "term" in value:
        return gettext(value["term"]) if value["term"] else ""
    if isinstance(value, dict) and "day" in value:
        return date_format(date.fromisoformat(value["day"]), "DATE_FORMAT")
    return value if isinstance(value, int) else str(value)
