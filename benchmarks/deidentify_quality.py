"""Print the de-identification guard's recall and false positives per kind on the labelled corpus.

    .venv/bin/python benchmarks/deidentify_quality.py [--details]

Recall: labelled spans found with the right kind and exact span. False positives: findings that match
no label (anywhere in the corpus). False-positive rate: the share of clean sentences in which the kind
fired at all.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samrad.deidentify import KINDS  # noqa: E402
from tests.deidentify_corpus import MORE, evaluate, load_corpus  # noqa: E402


def table(title: str, sentences, details: bool) -> None:
    scores, clean = evaluate(sentences)
    print(f"{title}: {len(sentences)} sentences, {clean} clean\n")
    header = (
        f"{'kind':<20} {'severity':<8} {'labels':>6} {'found':>6} {'recall':>7} "
        f"{'false pos.':>10} {'FP rate (clean)':>16}"
    )
    print(header)
    print("-" * len(header))
    for kind, score in scores.items():
        recall = "–" if score.recall is None else f"{score.recall:.2f}"
        rate = f"{score.clean_lines_hit}/{clean} = {score.clean_lines_hit / clean:.3f}" if clean else "–"
        print(
            f"{kind:<20} {KINDS[kind]:<8} {score.labelled:>6} {score.found:>6} {recall:>7} "
            f"{score.false_positives:>10} {rate:>16}"
        )
    if details:
        for kind, score in scores.items():
            for miss in score.misses:
                print(f"MISS  {kind:<20} line {miss}")
            for extra in score.spurious:
                print(f"EXTRA {kind:<20} line {extra}")
    print()


def main(argv: list[str]) -> int:
    table("Corpus", load_corpus(), "--details" in argv)
    table("Hard cases (known limits, not tuned for)", load_corpus(hard=True), "--details" in argv)
    table("More cases (issue H)", load_corpus(MORE), "--details" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
