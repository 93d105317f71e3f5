#!/usr/bin/env python3
"""Build the place gazetteers of vnner from the administrative-unit tables.

Reads the tables in ``../shared/data/admin`` (see its README.md):

    units_2025.tsv        two-level system from 1 July 2025 (provinces, communes)
    units_pre2025.tsv     three-level system as of 30 June 2025
    units_historical.tsv  older names/types/parents and dissolved units (2015 .. 2025)
    mapping_2025.tsv      old (30 June 2025) code -> new (1 July 2025) code
    aliases.tsv           other spellings of pre2025 / 2025 units

and writes, into ``gazetteers/places/``:

    units_2025.tsv, units_pre2025.tsv, units_historical.tsv
        one ``place`` row per unit, plus one row (``alias=yes``) per other
        spelling from aliases.tsv;
    provinces_manual.tsv
        common written forms of provinces that the tables lack (``HCM``,
        ``Sài Gòn``, ``Daklak`` ...), from the PROVINCE_ALIASES table below;
        every other column is taken from the unit the alias names.

Columns (gazetteers/README.md; every column after ``canonical`` becomes an
attribute of the entry):

    surface    name without the unit word; numeric names get their unit word:
               ``Quận 1``, ``Phường 12`` (leading zeros dropped)
    kind       ``place``
    canonical  full official name with its parents, unit words lower case:
               ``xã Xuân Phúc, huyện Như Thanh, tỉnh Thanh Hóa``
    code       NSO code (zero-padded as in the source; a code names a unit
               only within one era)
    level      unit type (tỉnh, thành phố, huyện, quận, thị xã, xã, phường,
               thị trấn, đặc khu)
    rank       province / district / commune (from the code length 2/3/5)
    parent     parent code in the same system (empty for provinces)
    province   province name of that system, without unit word
    era        2025 / pre2025 / historical
    until      historical rows: valid_until (exclusive end)
    successor  historical rows: successor code (a pre2025 code)
    became     pre2025 rows: 2025 code(s) from mapping_2025.tsv, ``|``-joined
               (districts, a level 2025 does not have: the 2025 province(s) their
               communes went to; the 5 island districts: the đặc khu they became);
               historical rows: the same, followed through ``successor``
    alias      ``yes`` on alias rows

Historical rows are described with their own, historical parents: the
parent code of the row is resolved to the variant of that code in force on
the row's last day -- a historical variant of the parent when one was still
in force then (tỉnh Thừa Thiên Huế for communes that ended before
2025-01-01), else the pre2025 unit.

Output is deterministic: rows sorted, no timestamps, ``\\n`` line ends, NFC.
Aliases that are the same spelling as the unit's own name (or as an earlier
alias of the same unit) after the matcher's normalisation (case, spaces,
old/new tone placement ``oà``/``òa``) are not written again.

Usage (from the repository root):

    python3 scripts/build_gazetteers.py [--admin ../shared/data/admin] [--out gazetteers/places]

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import unicodedata
from collections import defaultdict

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ADMIN = os.path.join(REPO_ROOT, "..", "shared", "data", "admin")
DEFAULT_OUT = os.path.join(REPO_ROOT, "gazetteers", "places")

COLUMNS = [
    "surface", "kind", "canonical", "code", "level", "rank", "parent",
    "province", "era", "until", "successor", "became", "alias",
]

RANK_BY_LEN = {2: "province", 3: "district", 5: "commune"}
LEVELS = {"tỉnh", "thành phố", "huyện", "quận", "thị xã", "xã", "phường",
          "thị trấn", "đặc khu"}

# Hand-written: common written forms of provinces that the tables lack.
# (surface, [(era, code), ...]) -- every other column is copied from the unit
# (era, code) names, so the file follows the data.  Keep this list short and
# only with forms really seen in news text.
#   - "TP.HCM" / "TP HCM" are the unit word "TP." + "HCM", so "HCM" alone is
#     needed; "Thủ đô" is a unit word, not a place.
PROVINCE_ALIASES: list[tuple[str, list[tuple[str, str]]]] = [
    # Hồ Chí Minh (79 in both systems)
    ("HCM", [("pre2025", "79"), ("2025", "79")]),
    ("TPHCM", [("pre2025", "79"), ("2025", "79")]),
    ("Sài Gòn", [("pre2025", "79"), ("2025", "79")]),
    # Thừa Thiên Huế (tỉnh until 2025-01-01, then thành phố Huế, code 46)
    ("Thừa Thiên - Huế", [("historical", "46")]),
    ("Thừa Thiên-Huế", [("historical", "46")]),
    ("TT-Huế", [("historical", "46")]),
    ("TT Huế", [("historical", "46")]),
    # Bà Rịa - Vũng Tàu (77, pre2025 only; merged into Hồ Chí Minh in 2025)
    ("Bà Rịa-Vũng Tàu", [("pre2025", "77")]),
    ("Bà Rịa Vũng Tàu", [("pre2025", "77")]),
    ("BR-VT", [("pre2025", "77")]),
    # Đắk Lắk (66 in both systems)
    ("Đắc Lắk", [("pre2025", "66"), ("2025", "66")]),
    ("Đăk Lăk", [("pre2025", "66"), ("2025", "66")]),
    ("Đăk Lắk", [("pre2025", "66"), ("2025", "66")]),
    ("Daklak", [("pre2025", "66"), ("2025", "66")]),
    ("Dak Lak", [("pre2025", "66"), ("2025", "66")]),
    # Đắk Nông (67, pre2025 only; merged into Lâm Đồng in 2025)
    ("Đăk Nông", [("pre2025", "67")]),
    ("Đắc Nông", [("pre2025", "67")]),
    ("Daknong", [("pre2025", "67")]),
    ("Dak Nong", [("pre2025", "67")]),
]


# --------------------------------------------------------------------------
# reading

def read_tsv(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [{k: unicodedata.normalize("NFC", v or "") for k, v in r.items()} for r in rows]


def rank_of(code: str) -> str:
    try:
        return RANK_BY_LEN[len(code)]
    except KeyError:
        sys.exit(f"unexpected code length: {code!r}")


# --------------------------------------------------------------------------
# names

def is_number(name: str) -> bool:
    return name.isdigit()


def surface_of(name: str, level: str) -> str:
    """`Như Thanh` stays; numeric `05` of a phường becomes `Phường 5`."""
    if is_number(name):
        return f"{level[0].upper()}{level[1:]} {int(name)}"
    return name


def full_name(name: str, level: str) -> str:
    """Unit word (lower case) + name: `huyện Như Thanh`, `phường 5`."""
    if is_number(name):
        name = str(int(name))
    return f"{level} {name}"


_TONE_OLD_NEW = {}
for _base, _marked in (("a", "àáảãạ"), ("e", "èéẻẽẹ"), ("y", "ỳýỷỹỵ")):
    _first = "o" if _base in "ae" else "u"
    _first_marked = "òóỏõọ" if _first == "o" else "ùúủũụ"
    for _i, _m in enumerate(_marked):
        _TONE_OLD_NEW[_first + _m] = _first_marked[_i] + _base
_TONE_RE = re.compile("(" + "|".join(sorted(_TONE_OLD_NEW)) + r")(?!\w)")


def norm(text: str) -> str:
    """Approximation of the matcher's normalisation, used only to avoid
    writing the same spelling twice for one unit."""
    t = unicodedata.normalize("NFC", text).lower()
    t = " ".join(t.split())
    return _TONE_RE.sub(lambda m: _TONE_OLD_NEW[m.group(1)], t)


# --------------------------------------------------------------------------
# building

class Admin:
    def __init__(self, admin_dir: str):
        def rd(name):
            return read_tsv(os.path.join(admin_dir, name))

        self.u2025 = {r["code"]: r for r in rd("units_2025.tsv")}
        self.pre = {r["code"]: r for r in rd("units_pre2025.tsv")}
        self.hist = rd("units_historical.tsv")
        self.hist_by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in self.hist:
            self.hist_by_code[r["code"]].append(r)
        self.aliases = rd("aliases.tsv")
        self.mapping: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in rd("mapping_2025.tsv"):
            self.mapping[(r["level"], r["old_code"])].add(r["new_code"])
        self.district_communes: dict[str, list[str]] = defaultdict(list)
        for r in self.pre.values():
            if rank_of(r["code"]) == "commune":
                self.district_communes[r["parent_code"]].append(r["code"])
        for table in (self.u2025.values(), self.pre.values(), self.hist):
            for r in table:
                if r["type"] not in LEVELS:
                    sys.exit(f"unknown unit type {r['type']!r} in {r}")

    # -- parents -----------------------------------------------------------
    def lookup_hist_parent(self, code: str, until: str):
        """Parent of a historical row ending at `until`: the historical
        variant of that code in force on the child's last day (the first
        variant with valid_until >= until), else the pre2025 unit, else the
        newest historical variant."""
        cands = sorted(self.hist_by_code.get(code, []), key=lambda r: r["valid_until"])
        for r in cands:
            if r["valid_until"] >= until:
                return r
        if code in self.pre:
            return self.pre[code]
        return cands[-1] if cands else None

    def chain(self, row: dict[str, str], era: str) -> list[dict[str, str]]:
        """[row, parent, grandparent ...] in the row's own system."""
        out = [row]
        cur = row
        while cur["parent_code"]:
            pc = cur["parent_code"]
            if era == "2025":
                parent = self.u2025.get(pc)
            elif era == "pre2025":
                parent = self.pre.get(pc)
            else:
                parent = self.lookup_hist_parent(pc, row["valid_until"])
            if parent is None:
                print(f"warning: {era} {row['code']}: parent {pc} not found", file=sys.stderr)
                break
            out.append(parent)
            cur = parent
        return out

    def became(self, code: str) -> str:
        """2025 code(s) of the unit(s) a pre2025 unit became. A district, a level the 2025
        system does not have, became the 2025 province(s) its communes went to (the five island
        districts without communes: the đặc khu of the mapping)."""
        if not code:
            return ""
        new = self.mapping.get((rank_of(code), code), set())
        if not new and rank_of(code) == "district":
            new = {self.u2025[c]["parent_code"] for child in self.district_communes.get(code, ())
                   for c in self.mapping.get(("commune", child), ()) if c in self.u2025}
        return "|".join(sorted(new))

    # -- rows ----------------------------------------------------------------
    def unit_row(self, r: dict[str, str], era: str) -> dict[str, str]:
        chain = self.chain(r, era)
        province = chain[-1] if rank_of(chain[-1]["code"]) == "province" else None
        row = {
            "surface": surface_of(r["name"], r["type"]),
            "kind": "place",
            "canonical": ", ".join(full_name(u["name"], u["type"]) for u in chain),
            "code": r["code"],
            "level": r["type"],
            "rank": rank_of(r["code"]),
            "parent": r["parent_code"],
            "province": province["name"] if province else "",
            "era": era,
            "until": "",
            "successor": "",
            "became": "",
            "alias": "",
        }
        if era == "pre2025":
            row["became"] = self.became(r["code"])
        elif era == "historical":
            row["until"] = r["valid_until"]
            row["successor"] = r["successor_code"]
            row["became"] = self.became(r["successor_code"])
        return row

    def units(self, era: str) -> list[dict[str, str]]:
        if era == "2025":
            return list(self.u2025.values())
        if era == "pre2025":
            return list(self.pre.values())
        return self.hist


def alias_rows(base: dict[str, str], spellings: list[str], seen: set[str]) -> list[dict[str, str]]:
    out = []
    for s in spellings:
        surface = surface_of(s, base["level"])
        key = norm(surface)
        if key in seen:
            continue
        seen.add(key)
        row = dict(base)
        row["surface"] = surface
        row["alias"] = "yes"
        out.append(row)
    return out


def build(admin: Admin) -> tuple[dict[str, list[dict[str, str]]], int]:
    files: dict[str, list[dict[str, str]]] = {}
    base_rows: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    dropped = 0
    spellings: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in admin.aliases:
        spellings[(a["system"], a["code"])].append(a["alias"])

    for era in ("2025", "pre2025", "historical"):
        rows = []
        for r in admin.units(era):
            row = admin.unit_row(r, era)
            rows.append(row)
            base_rows[(era, r["code"])].append(row)
        if era != "historical":
            for (system, code), names in sorted(spellings.items()):
                if system != era:
                    continue
                if (era, code) not in base_rows:
                    sys.exit(f"alias for unknown unit {system} {code}")
                base = base_rows[(era, code)][0]
                uniq = sorted(set(names))
                new = alias_rows(base, uniq, {norm(base["surface"])})
                dropped += len(uniq) - len(new)
                rows.extend(new)
        files[f"units_{era}.tsv"] = rows

    manual = []
    for surface, targets in PROVINCE_ALIASES:
        for era, code in targets:
            bases = base_rows.get((era, code))
            if not bases:
                sys.exit(f"PROVINCE_ALIASES: no {era} unit {code} for {surface!r}")
            for base in bases:
                if base["rank"] != "province":
                    sys.exit(f"PROVINCE_ALIASES: {era} {code} is not a province")
                # skip spellings the matcher already has for this unit
                manual.extend(alias_rows(base, [surface], {norm(base["surface"])}))
    files["provinces_manual.tsv"] = manual
    return files, dropped


# --------------------------------------------------------------------------
# writing

def write(path: str, rows: list[dict[str, str]], header_comment: list[str]) -> int:
    lines = [f"# {c}" for c in header_comment]
    lines.append("\t".join(COLUMNS))
    body = set()
    for r in rows:
        cells = [r[c] for c in COLUMNS]
        for c in cells:
            if "\t" in c or "\n" in c:
                sys.exit(f"bad cell {c!r} in {r}")
        body.add("\t".join(cells))
    lines.extend(sorted(body))
    text = unicodedata.normalize("NFC", "\n".join(lines) + "\n")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return len(body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--admin", default=DEFAULT_ADMIN,
                    help="folder with the admin tables (default: ../shared/data/admin)")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output folder (default: gazetteers/places)")
    args = ap.parse_args(argv)

    admin_dir = os.path.abspath(args.admin)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.relpath(admin_dir, REPO_ROOT).replace(os.sep, "/")

    admin = Admin(admin_dir)
    files, dropped = build(admin)
    rerun = "python3 scripts/build_gazetteers.py"
    if src != "../shared/data/admin":
        rerun += f" --admin {src}"
    summary = []
    for name in ("units_2025.tsv", "units_pre2025.tsv", "units_historical.tsv", "provinces_manual.tsv"):
        rows = files[name]
        if name == "provinces_manual.tsv":
            comment = [f"Generated by scripts/build_gazetteers.py from its PROVINCE_ALIASES table "
                       f"(attributes from {src}); do not edit, edit the script and re-run: {rerun}"]
        else:
            comment = [f"Generated by scripts/build_gazetteers.py from {src}/{name.split('.')[0]}.tsv, "
                       f"aliases.tsv and mapping_2025.tsv; do not edit, re-run: {rerun}"]
        n = write(os.path.join(out_dir, name), rows, comment)
        n_alias = len({tuple(r.values()) for r in rows if r["alias"]})
        summary.append(f"{name} {n} rows ({n_alias} alias)")
    print("; ".join(summary) + f"; {dropped} alias spellings same as the name after normalisation skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
