#!/usr/bin/env python3
"""Generate a realistic benchmark corpus for vnner, of any size, deterministically.

Each document recombines paragraphs of the sample articles (``data/seeds/*.txt``): a headline
paragraph, then body paragraphs drawn at random. Every paragraph is turned once into a template
whose slots are the names the gazetteers know, and each use fills the slots afresh:

    person  a surname (surnames.tsv) and one to three capitalised syllables
            -> a random surname, middle name and given name(s)
    place   a unit word (huyện, xã, tỉnh, phường, ...) and the capitalised name after it
            -> a random unit name of that level from gazetteers/places/*.tsv
    title   a title (titles.tsv) -> another title with the same needs_body/absorbs flags
    body    a body (bodies.tsv)  -> another body of the same class

so the mix of mentions resembles real news rather than copies of five texts.

Output: JSON lines ``{"id", "text"}``, the format ``vnner annotate`` reads.

    scripts/gen_corpus.py --size-mb 200 --seed 1 -o /tmp/vnner-corpus.jsonl
    scripts/gen_corpus.py --size-mb 1 -o - | head -c 300
"""

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"\w+|[^\w\s]|\s+")

# Unit words written before a place name, and the `level` of the places that follow them.
UNIT_WORDS = {
    "tỉnh": "tỉnh",
    "huyện": "huyện",
    "quận": "quận",
    "thị xã": "thị xã",
    "thành phố": "thành phố",
    "xã": "xã",
    "phường": "phường",
    "thị trấn": "thị trấn",
}
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Ngọc", "Thanh", "Quốc", "Xuân", "Thu", "Hoàng", "Anh"]
GIVEN = [
    "An", "Anh", "Bình", "Cường", "Dũng", "Dương", "Đông", "Giang", "Hà", "Hải", "Hạnh", "Hiếu",
    "Hòa", "Hoa", "Hùng", "Hưng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam",
    "Nga", "Nghĩa", "Ngọc", "Phong", "Phúc", "Phương", "Quang", "Sơn", "Tâm", "Thành", "Thảo",
    "Thắng", "Thủy", "Trang", "Trung", "Tú", "Tuấn", "Vinh", "Việt", "Yến",
]


def words(text):
    """The non-space tokens of `text`, as a tuple."""
    return tuple(t for t in TOKEN.findall(text) if not t.isspace())


def read_tsv(path):
    """Rows of a gazetteer file as dicts keyed by the header's column names."""
    header, rows = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if header is None:
            header = cells
            continue
        rows.append(dict(zip(header, cells + [""] * (len(header) - len(cells)))))
    return rows


class Resources:
    """Substitution pools from the gazetteers, and the dictionaries that find slots."""

    def __init__(self, gazetteers):
        self.surnames = [r["surface"] for r in read_tsv(gazetteers / "surnames.tsv")]
        self.titles, self.title_group = self._groups(
            read_tsv(gazetteers / "titles.tsv"), lambda r: (r.get("needs_body", ""), r.get("absorbs", ""))
        )
        self.bodies, self.body_group = self._groups(
            read_tsv(gazetteers / "bodies.tsv"), lambda r: (r.get("class", ""), r.get("generic", ""))
        )
        self.places = {}
        for path in sorted((gazetteers / "places").glob("units_*.tsv")):
            for row in read_tsv(path):
                name = row["surface"]
                if row.get("alias") or row.get("level") not in UNIT_WORDS.values() or name[:1].isdigit():
                    continue
                self.places.setdefault(row["level"], []).append(name)
        self.longest = max(len(k) for k in list(self.title_group) + list(self.body_group))
        self.unit_words = {words(w): level for w, level in UNIT_WORDS.items()}
        self.unit_words.update({words(w.capitalize()): level for w, level in UNIT_WORDS.items()})

    @staticmethod
    def _groups(rows, group_of):
        """`({group: [surface]}, {surface words: group})` for groups with at least two members."""
        pools = {}
        for row in rows:
            pools.setdefault(group_of(row), []).append(row["surface"])
        pools = {g: s for g, s in pools.items() if len(s) > 1}
        index = {words(s): g for g, ss in pools.items() for s in ss}
        return pools, index

    def person(self, rng):
        given = rng.sample(GIVEN, rng.choice((1, 1, 2)))
        return " ".join([rng.choice(self.surnames), rng.choice(MIDDLE), *given])


def template(paragraph, res):
    """Split a paragraph into literal text and `(kind, group)` slots."""
    tokens = TOKEN.findall(paragraph)
    spaced = [(i, t) for i, t in enumerate(tokens) if not t.isspace()]
    parts, literal, at = [], [], 0  # `at` indexes `spaced`
    cursor = 0  # first token index not yet emitted

    def flush_to(token_index):
        nonlocal cursor
        literal.append("".join(tokens[cursor:token_index]))
        cursor = token_index

    def slot(kind, group, first, last):
        """Replace spaced[first:last] by a slot."""
        nonlocal cursor
        flush_to(spaced[first][0])
        parts.append("".join(literal))
        literal.clear()
        parts.append((kind, group))
        cursor = spaced[last - 1][0] + 1

    def capitalised_run(start, most):
        end = start
        while end < len(spaced) and end - start < most:
            word = spaced[end][1]
            if not (word[:1].isupper() and word.isalpha()) or found_entry(end):
                break
            end += 1
        return end

    def found_entry(start):
        for n in range(min(res.longest, len(spaced) - start), 0, -1):
            key = tuple(t for _, t in spaced[start:start + n])
            for kind, index in (("title", res.title_group), ("body", res.body_group)):
                if key in index:
                    return kind, index[key], n
        return None

    while at < len(spaced):
        entry = found_entry(at)
        if entry:
            kind, group, n = entry
            slot(kind, group, at, at + n)
            at += n
            continue
        unit = next(
            (
                (level, n)
                for n in (2, 1)
                if (level := res.unit_words.get(tuple(t for _, t in spaced[at:at + n]))) and level in res.places
            ),
            None,
        )
        if unit:
            level, n = unit
            end = capitalised_run(at + n, 4)
            if end > at + n:
                slot("place", level, at + n, end)
                at = end
                continue
        if spaced[at][1] in res.surnames:
            end = capitalised_run(at + 1, 3)
            if end > at + 1:
                slot("person", None, at, end)
                at = end
                continue
        at += 1
    flush_to(len(tokens))
    parts.append("".join(literal))
    return [p for p in parts if p != ""]


def fill(parts, res, rng):
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "person":
            out.append(res.person(rng))
        elif part[0] == "place":
            out.append(rng.choice(res.places[part[1]]))
        elif part[0] == "title":
            out.append(rng.choice(res.titles[part[1]]))
        else:
            out.append(rng.choice(res.bodies[part[1]]))
    return "".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=200, help="stop after this many MB of text (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("-o", "--output", default="/tmp/vnner-corpus.jsonl", help="JSONL file, or - for stdout")
    parser.add_argument("--seeds", type=Path, default=ROOT / "data" / "seeds", help="folder of sample .txt articles")
    parser.add_argument("--gazetteers", type=Path, default=ROOT / "gazetteers")
    args = parser.parse_args()

    res = Resources(args.gazetteers)
    heads, bodies = [], []
    for path in sorted(args.seeds.glob("*.txt")):
        paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        if not paragraphs:
            continue
        heads.append(template(paragraphs[0], res))
        bodies.extend(template(p, res) for p in paragraphs[1:])
    if not heads or not bodies:
        sys.exit(f"gen_corpus: no paragraphs in {args.seeds}")

    rng = random.Random(args.seed)
    target = int(args.size_mb * 1e6)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    written = documents = 0
    with out:
        while written < target:
            paragraphs = [fill(rng.choice(heads), res, rng)]
            paragraphs += [fill(rng.choice(bodies), res, rng) for _ in range(rng.randint(3, 16))]
            text = "\n\n".join(paragraphs)
            out.write(json.dumps({"id": f"gen-{args.seed}-{documents:08d}", "text": text}, ensure_ascii=False))
            out.write("\n")
            written += len(text.encode("utf-8"))
            documents += 1
    print(f"gen_corpus: {documents} documents, {written / 1e6:.1f} MB of text -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
