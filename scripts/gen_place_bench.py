#!/usr/bin/env python3
"""Generate the place-linking benchmark of vnner from the administrative-unit tables.

Every sentence is built from real units of ``../shared/data/admin`` (read through
``scripts/build_gazetteers.py``'s ``Admin`` class, so the chains of parents are the same as in
the gazetteers) and names each unit together with its parents, in one of several sentence shapes:

    pre2025     ``xã X, huyện Y, tỉnh Z``; ``UBND xã X (huyện Y) …``; ``Về thăm huyện Y (tỉnh Z),
                … đến xã X``; lists ``Các xã A, B và C thuộc huyện Y, tỉnh Z``; a bare second
                mention ``… Năm nay, Y phấn đấu …``; ALL CAPS headings; ``TP.``/``Tp.``/``TP``
    2025        ``xã X, tỉnh Z``; ``xã X (tỉnh Z)``; two sibling communes after ``Tại tỉnh Z, …``
    historical  a unit merged away or renamed since 2015, with its parents of that time
    mixed       ``xã X, huyện Y, tỉnh Z (nay là xã X', tỉnh Z')``

Names are written in their official spelling, or (at random) with the old tone placement
(``Hoá``), in NFD, or ALL CAPS. Output: JSON lines

    {"id": "...", "shape": "...", "text": "...",
     "gold": [{"start": 0, "end": 9, "code": "16261", "eras": ["pre2025"]}, ...]}

with code-point offsets into ``text``; ``eras`` lists every era whose unit of that code is the
unit meant (a province unchanged by the reform is correct in both). A sentence is only written
when its gold is decidable from its own text: the combination of names and unit words it
contains names exactly one unit for every gold span.

Deterministic for a given ``--seed``. Usage (from the repository root):

    python3 scripts/gen_place_bench.py [--n 2400] [--seed 7] [--out $TMP/vnner_place_bench.jsonl]

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import unicodedata
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_gazetteers as bg  # noqa: E402

# new → old tone placement (hóa → hoá), the inverse of the matcher's normalisation
_NEW_OLD = {v: k for k, v in bg._TONE_OLD_NEW.items()}


def old_tone(name: str) -> str:
    out = []
    for word in name.split(" "):
        for new, old in _NEW_OLD.items():
            if word.lower().endswith(new):
                cap = word[-2].isupper()
                tail = old if not cap else old[0].upper() + old[1:]
                word = word[:-2] + tail
                break
        out.append(word)
    return " ".join(out)


def display(name: str, level: str) -> tuple[str, str]:
    """(unit word, name) as written; numeric names carry their unit word inside the name."""
    if name.isdigit():
        return "", f"{level[0].upper()}{level[1:]} {int(name)}"
    return level, name


class Bench:
    def __init__(self, admin: bg.Admin, rng: random.Random):
        self.a = admin
        self.rng = rng
        # (era, key) → number of units of that era sharing the (name, type[, parent name]) key
        self.count: dict[tuple, int] = defaultdict(int)
        pre_ids = {id(r) for r in admin.pre.values()}
        self.pre_ids = pre_ids
        for era in ("pre2025", "2025", "historical"):
            for r in admin.units(era):
                ch = admin.chain(r, era)
                names = tuple(bg.norm(f"{u['type']} {u['name']}") for u in ch)
                for k in range(1, len(names) + 1):
                    self.count[names[:k]] += 1
        self.children: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for era in ("pre2025", "2025"):
            for r in admin.units(era):
                self.children[(era, r["parent_code"])].append(r)
        self.p2025 = {c: r for c, r in admin.u2025.items() if len(c) == 2}

    def era_of(self, row: dict, era: str) -> str:
        if era == "historical" and id(row) in self.pre_ids:
            return "pre2025"
        return era

    def eras(self, row: dict, era: str) -> list[str]:
        """Every era in which the unit of `row` is the same unit (provinces kept by the reform)."""
        era = self.era_of(row, era)
        out = [era]
        if len(row["code"]) == 2:
            other = {"pre2025": self.a.u2025, "2025": self.a.pre}.get(era, {}).get(row["code"])
            if other and other["name"] == row["name"] and other["type"] == row["type"]:
                out.append("2025" if era == "pre2025" else "pre2025")
        return sorted(out)

    def unique(self, chain: list[dict]) -> bool:
        """The names of `chain` (unit, parent, …, in any order of mention) name one unit."""
        key = tuple(bg.norm(f"{u['type']} {u['name']}") for u in chain)
        return self.count.get(key, 0) == 1


class Sentence:
    """Builds a text piece by piece and records gold spans by code-point offsets."""

    def __init__(self, style: str):
        self.parts: list[str] = []
        self.len = 0
        self.gold: list[dict] = []
        self.style = style

    def lit(self, s: str):
        s = self._form(s, name=False)
        self.parts.append(s)
        self.len += len(s)

    def _form(self, s: str, name: bool) -> str:
        if self.style == "caps":
            s = s.upper()
        if self.style == "old" and name:
            s = old_tone(s)
        if self.style == "nfd":
            s = unicodedata.normalize("NFD", s)
        return s

    def unit(self, bench: Bench, row: dict, era: str, word: str | None = None, gold: bool = True):
        level, name = display(row["name"], row["type"])
        if word is None:
            word = level
        if word:
            self.lit(word + " ")
        s = self._form(name, name=True)
        if gold:
            self.gold.append({"start": self.len, "end": self.len + len(s), "code": row["code"],
                              "eras": bench.eras(row, era)})
        self.parts.append(s)
        self.len += len(s)

    def text(self) -> str:
        t = "".join(self.parts)
        return t[0].upper() + t[1:]


def tp_word(rng: random.Random, row: dict) -> str | None:
    if row["type"] == "thành phố":
        return rng.choice(["thành phố", "thành phố", "TP.", "TP", "Tp."])
    return None


def pre_sentence(b: Bench, rng: random.Random, shape: str, style: str) -> Sentence | None:
    communes = [r for r in b.a.pre.values() if len(r["code"]) == 5]
    c = rng.choice(communes)
    ch = b.a.chain(c, "pre2025")
    if len(ch) != 3:
        return None
    c, d, p = ch
    s = Sentence(style)
    day = f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(2019, 2024)}"
    if shape == "full":
        if not b.unique([c, d, p]):
            return None
        s.unit(b, c, "pre2025"), s.lit(", "), s.unit(b, d, "pre2025", tp_word(rng, d)), s.lit(", ")
        s.unit(b, p, "pre2025"), s.lit(" tổ chức hội nghị sơ kết công tác 6 tháng đầu năm.")
    elif shape == "ubnd_paren":
        if not b.unique([c, d]):
            return None
        s.lit(f"Ngày {day}, UBND "), s.unit(b, c, "pre2025"), s.lit(" (")
        s.unit(b, d, "pre2025", tp_word(rng, d)), s.lit(") đã tổ chức lễ đón nhận bằng công nhận đạt chuẩn nông thôn mới.")
    elif shape == "visit":
        if not b.unique([c, d, p]):
            return None
        s.lit("Về thăm "), s.unit(b, d, "pre2025", tp_word(rng, d)), s.lit(" ("), s.unit(b, p, "pre2025")
        s.lit("), đồng chí Phó Bí thư Thường trực Tỉnh ủy đã đến "), s.unit(b, c, "pre2025")
        s.lit(" kiểm tra tình hình sản xuất vụ đông.")
    elif shape == "list":
        sibs = [r for r in b.children[("pre2025", d["code"])] if r["type"] == c["type"] and r is not c
                and not r["name"].isdigit()]
        if len(sibs) < 2 or c["name"].isdigit() or not b.unique([c, d, p]):
            return None
        others = rng.sample(sibs, 2)
        if not all(b.unique([o, d, p]) for o in others):
            return None
        s.lit(f"Các {c['type']} ")
        s.unit(b, c, "pre2025", ""), s.lit(", "), s.unit(b, others[0], "pre2025", ""), s.lit(" và ")
        s.unit(b, others[1], "pre2025", ""), s.lit(" thuộc "), s.unit(b, d, "pre2025", tp_word(rng, d))
        s.lit(", "), s.unit(b, p, "pre2025"), s.lit(" đã hoàn thành kế hoạch năm trước thời hạn.")
    elif shape == "bare":
        if (len(d["name"].split()) < 2 or d["name"].isdigit() or not b.unique([d, p])
                or bg.norm(d["name"]) == bg.norm(p["name"])):
            return None
        s.unit(b, d, "pre2025"), s.lit(", "), s.unit(b, p, "pre2025")
        s.lit(" hiện có nhiều xã đạt chuẩn nông thôn mới. Năm nay, ")
        s.unit(b, d, "pre2025", ""), s.lit(" phấn đấu có thêm 2 xã đạt chuẩn nâng cao.")
    return s


def new_sentence(b: Bench, rng: random.Random, shape: str, style: str) -> Sentence | None:
    communes = [r for r in b.a.u2025.values() if len(r["code"]) == 5]
    c = rng.choice(communes)
    ch = b.a.chain(c, "2025")
    c, p = ch
    if not b.unique([c, p]):
        return None
    s = Sentence(style)
    if shape == "2025_full":
        s.unit(b, c, "2025"), s.lit(", "), s.unit(b, p, "2025")
        s.lit(" vừa tổ chức Đại hội đại biểu Đảng bộ lần thứ I, nhiệm kỳ 2025 - 2030.")
    elif shape == "2025_paren":
        s.lit("Sau sắp xếp, "), s.unit(b, c, "2025"), s.lit(" ("), s.unit(b, p, "2025")
        s.lit(") có diện tích tự nhiên hơn 100 km2 và quy mô dân số lớn.")
    elif shape == "2025_pair":
        sibs = [r for r in b.children[("2025", p["code"])] if r is not c and b.unique([r, p])]
        o = rng.choice(sibs)
        s.lit("Tại "), s.unit(b, p, "2025"), s.lit(", "), s.unit(b, c, "2025"), s.lit(" và ")
        s.unit(b, o, "2025"), s.lit(" đã hoàn thành bàn giao trụ sở làm việc.")
    return s


def hist_sentence(b: Bench, rng: random.Random, style: str) -> Sentence | None:
    rows = [r for r in b.a.hist if len(r["code"]) == 5]
    c = rng.choice(rows)
    ch = b.a.chain(c, "historical")
    if len(ch) != 3 or not b.unique(ch):
        return None
    c, d, p = ch
    s = Sentence(style)
    s.lit(f"Năm {int(c['valid_until'][:4]) - 1}, "), s.unit(b, c, "historical"), s.lit(", ")
    s.unit(b, d, "historical"), s.lit(", "), s.unit(b, p, "historical")
    s.lit(" đã tổ chức lễ kỷ niệm ngày thành lập.")
    return s


def mixed_sentence(b: Bench, rng: random.Random, style: str) -> Sentence | None:
    communes = [r for r in b.a.pre.values() if len(r["code"]) == 5]
    c = rng.choice(communes)
    ch = b.a.chain(c, "pre2025")
    if len(ch) != 3 or not b.unique(ch):
        return None
    new = sorted(b.a.mapping.get(("commune", c["code"]), ()))
    if len(new) != 1 or new[0] not in b.a.u2025:
        return None
    n = b.a.u2025[new[0]]
    nch = b.a.chain(n, "2025")
    if not b.unique(nch):
        return None
    c, d, p = ch
    s = Sentence(style)
    s.unit(b, c, "pre2025"), s.lit(", "), s.unit(b, d, "pre2025", tp_word(rng, d)), s.lit(", ")
    s.unit(b, p, "pre2025"), s.lit(" (nay là "), s.unit(b, nch[0], "2025"), s.lit(", ")
    s.unit(b, nch[1], "2025"), s.lit(") có truyền thống cách mạng vẻ vang.")
    return s


SHAPES = [
    ("full", 4), ("ubnd_paren", 3), ("visit", 3), ("list", 2), ("bare", 2),
    ("2025_full", 3), ("2025_paren", 2), ("2025_pair", 2), ("historical", 2), ("mixed", 2),
]
STYLES = [("plain", 14), ("old", 2), ("nfd", 2), ("caps", 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--admin", default=bg.DEFAULT_ADMIN)
    ap.add_argument("--n", type=int, default=2400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "vnner_place_bench.jsonl"))
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    bench = Bench(bg.Admin(os.path.abspath(args.admin)), rng)
    shapes = [s for s, w in SHAPES for _ in range(w)]
    styles = [s for s, w in STYLES for _ in range(w)]
    out = []
    while len(out) < args.n:
        shape, style = rng.choice(shapes), rng.choice(styles)
        if shape == "bare" and style == "caps":
            continue  # an ALL-CAPS heading is not running text
        if shape.startswith("2025"):
            s = new_sentence(bench, rng, shape, style)
        elif shape == "historical":
            s = hist_sentence(bench, rng, style)
        elif shape == "mixed":
            s = mixed_sentence(bench, rng, style)
        else:
            s = pre_sentence(bench, rng, shape, style)
        if s is None:
            continue
        out.append({"id": f"pb{len(out):05d}", "shape": f"{shape}/{style}", "text": s.text(), "gold": s.gold})
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(out)} sentences, {sum(len(r['gold']) for r in out)} gold places → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
