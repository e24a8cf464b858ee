"""A level classifier as judge (issue 23, item 5): scikit-learn, trained on a corpus's *train* split.

The paper judges generations with GPT-4; a judge that needs no API key and runs in seconds on CPU lets every
demo run label its generations. Each train row gives three examples, its avoidance / generic / expert
responses labelled by level. The query is left out on purpose: it is the same text for the three labels of a
row, so a linear model cannot use it to tell them apart, only to overfit the topic.

Settings (word n-gram range, token pattern, regularisation C of a TF-IDF + logistic-regression pipeline) are
chosen by cross-validation on the train split alone, folds grouped by row (a row's three responses share
topic words; a judged answer is for an unseen query): best mean accuracy, ties broken by mean log-loss. The
test split and a cue probe (`meav reference build-probe`) are only ever scored, never used to choose:
`classifier_report` puts both beside a caller-given baseline (e.g. the two-rule cue baseline), so the
classifier's own reliance on surface cues is visible.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from meav.core.corpus import LEVELS
from meav.core.errors import MeavError

# The candidates cross-validation chooses from (every combination). "\w\w+" is scikit-learn's default (drops
# one-character tokens such as "I" and single digits); "\w+" keeps them.
NGRAMS = ((1, 1), (1, 2))
TOKEN_PATTERNS = (r"(?u)\b\w\w+\b", r"(?u)\b\w+\b")
CS = (1.0, 10.0, 100.0)
FOLDS = 5


def level_examples(rows: Iterable[dict]) -> tuple[list[str], list[str], list[str]]:
    """(texts, levels, row ids): each row's three responses, one example per level."""
    texts, labels, groups = [], [], []
    for r in rows:
        for lv in LEVELS:
            texts.append(r[lv])
            labels.append(lv)
            groups.append(str(r.get("id", r["query"])))
    return texts, labels, groups


def _pipeline(ngram_range: tuple[int, int], token_pattern: str, c: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=ngram_range, token_pattern=token_pattern, sublinear_tf=True),
        LogisticRegression(C=c, max_iter=2000),
    )


@dataclass
class LevelClassifier:
    """A fitted level classifier; `label` makes it a judge (same interface as `judging.LocalJudge`)."""

    pipeline: object
    settings: dict
    cv: dict
    train_rows: int
    source: str = ""
    name: str = "classifier"
    candidates: list[dict] = field(default_factory=list)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [str(x) for x in self.pipeline.predict(list(texts))] if texts else []

    def label(self, pairs: Sequence[tuple[str, str]]) -> list[str | None]:
        """Judge interface: (query, response) pairs → levels. The query is ignored (see the module doc)."""
        return list(self.predict([r for _, r in pairs]))

    def scores(self, rows: Iterable[dict]) -> dict:
        """{accuracy, confusion[true level][predicted level]} over every response of `rows`."""
        texts, truth, _ = level_examples(rows)
        return _scores(truth, self.predict(texts))

    def confusion(self, rows: Iterable[dict]) -> dict[str, dict[str, int]]:
        return self.scores(rows)["confusion"]

    def accuracy(self, rows: Iterable[dict]) -> float:
        """Share of `rows`' responses labelled with their own level (0.0 on no rows)."""
        return self.scores(rows)["accuracy"]

    def describe(self) -> dict:
        """What a report needs to trust (or not) the judge: data, chosen settings, their CV scores."""
        return {
            "kind": "classifier",
            "source": self.source,
            "train_rows": self.train_rows,
            "train_size": self.train_rows * len(LEVELS),
            "settings": self.settings,
            "cv": self.cv,
        }


def fit_classifier(rows: Sequence[dict], source: str = "", folds: int = FOLDS) -> LevelClassifier:
    """Choose settings by grouped cross-validation on `rows` (train rows only), then fit on all of them."""
    from sklearn.model_selection import GroupKFold, cross_validate

    rows = list(rows)
    if len(rows) < 2:
        raise MeavError(
            f"{source or 'classifier'}: {len(rows)} train row(s); the level classifier needs >= 2"
        )
    texts, labels, groups = level_examples(rows)
    k = min(folds, len(rows))
    tried = []
    for ngram, pattern, c in itertools.product(NGRAMS, TOKEN_PATTERNS, CS):
        scores = cross_validate(
            _pipeline(ngram, pattern, c),
            texts,
            labels,
            groups=groups,
            cv=GroupKFold(k),
            scoring=("accuracy", "neg_log_loss"),
        )
        tried.append(
            {
                "ngram_range": list(ngram),
                "token_pattern": pattern,
                "C": c,
                "cv_accuracy": round(float(scores["test_accuracy"].mean()), 4),
                "cv_log_loss": round(float(-scores["test_neg_log_loss"].mean()), 4),
            }
        )
    best = min(tried, key=lambda t: (-t["cv_accuracy"], t["cv_log_loss"]))
    pipe = _pipeline(tuple(best["ngram_range"]), best["token_pattern"], best["C"])
    pipe.fit(texts, labels)
    settings = {key: best[key] for key in ("ngram_range", "token_pattern", "C")}
    settings["features"] = "each response alone (no query)"
    cv = {"folds": k, "grouped_by": "row", "accuracy": best["cv_accuracy"], "log_loss": best["cv_log_loss"]}
    return LevelClassifier(pipe, settings, cv, len(rows), source=source, candidates=tried)


def corpus_rows(source: str | Path, split: str, config: str = "all") -> list[dict]:
    """One split of a corpus folder or Hub repo as row dicts, through the corpus contract."""
    from meav.core.corpus import load_corpus

    return load_corpus(source, config, split=split).to_list()


def train_classifier(dataset: str | Path, split: str = "train", config: str = "all") -> LevelClassifier:
    """The level classifier of a corpus: settings chosen and fitted on its `split` (train) only."""
    rows = corpus_rows(dataset, split, config)
    clf = fit_classifier(rows, source=f"{dataset} [{config}/{split}]")
    clf.name = f"classifier ({clf.source}, {len(rows)} rows)"
    return clf


def _scores(truth: list[str], pred: list[str]) -> dict:
    """Accuracy and confusion[true][predicted] of predicted levels against the true ones."""
    conf = {t: {p: 0 for p in LEVELS} for t in LEVELS}
    for t, p in zip(truth, pred, strict=True):
        conf[t][p] += 1
    right = sum(conf[lv][lv] for lv in LEVELS)
    return {"accuracy": round(right / len(truth), 4) if truth else 0.0, "confusion": conf}


def classifier_report(
    dataset: str | Path,
    probe: str | Path | None = None,
    baseline: Callable[[str], str] | None = None,
    *,
    classifier: LevelClassifier | None = None,
    split: str = "test",
    config: str = "all",
) -> dict:
    """The classifier (trained on `dataset`'s train split unless one is given) scored on its `split` and on a
    cue-probe corpus's test split, with per-level confusions; `baseline` (a text → level function such as
    `meav.reference.cues.cue_level`, passed by a caller that may import it) is scored on the same rows.

    Returns train_rows, train_size, settings, cv, then per scored set (`test`, `probe`): rows, responses,
    accuracy, confusion, and `baseline` {accuracy, confusion} when a baseline is given."""
    clf = classifier or train_classifier(dataset, config=config)
    out = clf.describe()
    sets = {"test": corpus_rows(dataset, split, config)}
    if probe is not None:
        sets["probe"] = corpus_rows(probe, "test", config)  # every split of a probe holds the same rows
    for key, rows in sets.items():
        out[key] = {
            "source": str(probe if key == "probe" else dataset),
            "split": "test" if key == "probe" else split,
            "rows": len(rows),
            "responses": len(rows) * len(LEVELS),
            **clf.scores(rows),
        }
        if baseline is not None:
            texts, truth, _ = level_examples(rows)
            out[key]["baseline"] = _scores(truth, [baseline(t) for t in texts])
    out["chance"] = round(1 / len(LEVELS), 4)
    return out
