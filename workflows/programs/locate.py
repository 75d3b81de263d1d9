"""The line of a key in a TOML program file, for error messages (tomllib keeps no positions).

`key_lines(text)` maps key paths as the checks name them (`stages[3].panel_size`,
`issuer.document_codes.award_letter`, `rubric[0]`) to 1-based line numbers: headers `[a.b]` and
`[[a.b]]` (each array-of-tables header counting up its index), `key = value` lines under them,
and dotted keys. A key inside an inline table or array is found at its parent's line.
"""

import re

HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
KEY_RE = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _parts(dotted: str) -> list[str]:
    return [
        part.strip().strip("\"'")
        for part in re.findall(r"""[^."']+|"[^"]*"|'[^']*'""", dotted)
        if part.strip()
    ]


def key_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    counters: dict[str, int] = {}
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = HEADER_RE.match(line)
        if header and not line.lstrip().startswith(("#",)):
            names = _parts(header.group(2))
            if header.group(1) == "[[":
                base = _path(table_prefix(names[:-1], table, counters))
                array = f"{base}.{names[-1]}" if base else names[-1]
                counters[array] = counters.get(array, -1) + 1
                table = [
                    *table_prefix(names[:-1], table, counters),
                    f"{names[-1]}[{counters[array]}]",
                ]
            else:
                table = table_prefix(names, table, counters)
            lines.setdefault(_path(table), number)
            continue
        key = KEY_RE.match(line)
        if key:
            path = _path([*table, *_parts(key.group(1))])
            lines.setdefault(path, number)
    return lines


def table_prefix(names: list[str], current: list[str], counters: dict[str, int]) -> list[str]:
    """The path of a table header's names, array tables resolved to their latest element
    (`[[stages]]` then `[[stages.rubric]]`: stages[2].rubric[0])."""
    path: list[str] = []
    for name in names:
        array = _path([*path, name])
        if array in counters:
            path.append(f"{name}[{counters[array]}]")
        else:
            path.append(name)
    return path


def _path(parts: list[str]) -> str:
    return ".".join(parts)


def line_of(lines: dict[str, int], key: str) -> int | None:
    """The line of `key`, or of its nearest parent that has one."""
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return None
