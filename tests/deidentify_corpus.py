"""The labelled corpus of the de-identification guard and how its quality is measured.

Shared by ``tests/unit/test_deidentify.py`` and ``benchmarks/deidentify_quality.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from samrad.deidentify import KINDS, Finding, scan

CORPUS = Path(__file__).parent / "data" / "deidentify_corpus.txt"
#: Written for issue H after the first corpus: other backgrounds' names, lower case and capitals,
#: numbers and e-mail in other shapes, c/o and box addresses, and clean professional text.
MORE = Path(__file__).parent / "data" / "deidentify_more.txt"
_MARK = re.compile(r"\{\{(\w+)\|(.+?)\}\}")


@dataclass(frozen=True)
class Label:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    line: int
    text: str
    labels: tuple[Label, ...]
    #: From the "# @hard" section: known limits, reported apart and not asserted.
    hard: bool = False

    @property
    def clean(self) -> bool:
        return not self.labels


def parse_line(raw: str, line: int = 0, *, hard: bool = False) -> Sentence:
    """Remove the ``{{kind|text}}`` markup and remember where each labelled span ended up."""
    text, labels, pos = "", [], 0
    for m in _MARK.finditer(raw):
        text += raw[pos : m.start()]
        start = len(text)
        text += m.group(2)
        if m.group(1) not in KINDS:
            raise ValueError(f"line {line}: unknown kind {m.group(1)!r}")
        labels.append(Label(m.group(1), start, len(text)))
        pos = m.end()
    text += raw[pos:]
    return Sentence(line, text, tuple(labels), hard)


def load_corpus(path: Path = CORPUS, *, hard: bool = False) -> list[Sentence]:
    """The main corpus, or (``hard=True``) only the sentences of its "# @hard" section."""
    sentences, in_hard = [], False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.startswith("# @hard"):
            in_hard = True
        elif raw.strip() and not raw.startswith("#") and in_hard == hard:
            sentences.append(parse_line(raw, number, hard=in_hard))
    return sentences


@dataclass
class KindScore:
    labelled: int = 0
    found: int = 0  # labelled spans found with exactly the right span and kind
    false_positives: int = 0  # findings of this kind that match no label
    clean_lines_hit: int = 0  # clean sentences where this kind fired
    misses: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.found / self.labelled if self.labelled else None


def evaluate(sentences: list[Sentence]) -> tuple[dict[str, KindScore], int]:
    """Score ``scan`` per kind. A label counts as found only when a finding has its kind and exact span."""
    scores = {kind: KindScore() for kind in KINDS}
    clean = 0
    for sentence in sentences:
        findings: list[Finding] = scan(sentence.text)
        expected = {(label.kind, label.start, label.end) for label in sentence.labels}
        got = {(f.kind, f.start, f.end) for f in findings}
        for kind, start, end in expected:
            scores[kind].labelled += 1
            if (kind, start, end) in got:
                scores[kind].found += 1
            else:
                scores[kind].misses.append(f"{sentence.line}: {sentence.text[start:end]!r}")
        for kind, start, end in got - expected:
            scores[kind].false_positives += 1
            scores[kind].spurious.append(f"{sentence.line}: {sentence.text[start:end]!r}")
        if sentence.clean:
            clean += 1
            for kind in {f.kind for f in findings}:
                scores[kind].clean_lines_hit += 1
    return scores, clean
