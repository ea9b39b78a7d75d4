"""Review sentences labelled negative or positive, and two models of them trained in seconds.

The data are the *Sentiment Labelled Sentences* of Kotzias, Denil, de Freitas and Smyth (2015, "From Group
to Individual Labels using Deep Features", KDD): 3,000 sentences from reviews on amazon.com (phones),
imdb.com (films) and yelp.com (restaurants), 500 negative and 500 positive from each. They ship inside
nbexplain (``datasets/data/reviews.tsv.gz``, CC BY 4.0; see ``datasets/data/README.md``), so they load
offline.

* :func:`reviews` — the sentences, their labels (0 negative, 1 positive) and where each comes from;
* :func:`review_classifier` — a scikit-learn pipeline on raw strings (TF-IDF of words and word pairs, then
  logistic regression): a black box for LIME, Shapley values and anchors;
* :func:`review_network` — a small torch model (word embeddings, a 1-D convolution, max pooling) with its
  :class:`~nbexplain.inputs.text.Vocabulary` as ``tokenizer``: for integrated gradients on the embeddings.

Examples
--------
>>> data = nbx.datasets.reviews()
>>> len(data.texts), data.class_names
(3000, ['negative', 'positive'])
>>> clf = nbx.datasets.review_classifier()
>>> clf.predict(["The food was cold and bland."])
array(['negative'], dtype='<U8')
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_seed
from ..inputs.text import Vocabulary

SOURCES = ("amazon", "imdb", "yelp")
CLASS_NAMES = ("negative", "positive")


@dataclass
class ReviewData:
    """Labelled review sentences.

    Attributes
    ----------
    texts : list of str - the sentences, as written (leading and trailing spaces removed).
    y : (N,) int64 - 1 positive, 0 negative.
    source : list of str - "amazon", "imdb" or "yelp" for each sentence.
    class_names : list of str - ``["negative", "positive"]``.
    """

    texts: list[str]
    y: np.ndarray
    source: list[str]
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))

    @property
    def labels(self) -> list[str]:
        """Each sentence's label as a class name."""
        return [self.class_names[int(k)] for k in self.y]

    def split(self, test_size: float = 0.25, seed: int | None = 0) -> tuple[ReviewData, ReviewData]:
        """A random (train, test) split, stratified by source and label."""
        rng = np.random.default_rng(check_seed(seed))
        test = np.zeros(len(self.texts), dtype=bool)
        keys = np.array([f"{s}{k}" for s, k in zip(self.source, self.y, strict=True)])
        for key in np.unique(keys):
            members = np.flatnonzero(keys == key)
            test[rng.choice(members, int(round(test_size * len(members))), replace=False)] = True
        return self._take(np.flatnonzero(~test)), self._take(np.flatnonzero(test))

    def _take(self, rows: np.ndarray) -> ReviewData:
        return ReviewData([self.texts[i] for i in rows], self.y[rows], [self.source[i] for i in rows],
                          list(self.class_names))

    def frame(self) -> Any:
        """The sentences as a pandas DataFrame (``text``, ``label``, ``source``; needs pandas)."""
        import pandas as pd

        return pd.DataFrame({"text": self.texts, "label": self.labels, "source": self.source})


@cache
def _rows() -> tuple[tuple[str, int, str], ...]:
    raw = resources.files("nbexplain.datasets").joinpath("data", "reviews.tsv.gz").read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")), delimiter="\t")
    return tuple((r["source"], int(r["label"]), r["text"]) for r in reader)


def reviews(source: str | None = None) -> ReviewData:
    """Load the labelled review sentences (Kotzias et al. 2015), all 3,000 or those of one ``source``.

    Parameters
    ----------
    source : {"amazon", "imdb", "yelp"} or None
        Only the sentences from this site (1,000); None: all three.

    Examples
    --------
    >>> data = nbx.datasets.reviews("yelp")
    >>> data.texts[0], data.labels[0]
    """
    rows = _rows()
    if source is not None:
        check_choice(source, "source", SOURCES)
        rows = tuple(r for r in rows if r[0] == source)
    return ReviewData([r[2] for r in rows], np.array([r[1] for r in rows], dtype=np.int64), [r[0] for r in rows])


@cache
def review_classifier(seed: int = 0) -> Any:
    """A TF-IDF + logistic-regression pipeline on raw strings, trained on 75 % of :func:`reviews` (the
    split of ``seed``), in well under a second; its classes are the names ``"negative"``, ``"positive"``.
    Trained once per seed (the same object is returned again). Needs scikit-learn.

    Examples
    --------
    >>> clf = nbx.datasets.review_classifier()
    >>> clf.predict_proba(["Great phone, superb battery."]).round(2)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train, _ = reviews().split(seed=check_seed(seed))
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          LogisticRegression(C=3.0, solver="liblinear"))
    return model.fit(train.texts, train.labels)


def _network_class():
    import torch

    class ReviewCNN(torch.nn.Module):
        """Word embeddings -> 1-D convolution over 3 words -> ReLU -> max over positions -> 2 logits.

        No step depends on the ids except the embedding lookup, so integrated gradients' path from the
        padding baseline (zero vectors) ends exactly at the model's output for the all-padding text.
        """

        def __init__(self, n_words: int, dim: int = 24, channels: int = 32, width: int = 3):
            super().__init__()
            self.embedding = torch.nn.Embedding(n_words, dim, padding_idx=0)
            self.conv = torch.nn.Conv1d(dim, channels, width, padding=width // 2)
            self.dropout = torch.nn.Dropout(0.5)
            self.head = torch.nn.Linear(channels, len(CLASS_NAMES))

        def forward(self, ids):
            h = torch.relu(self.conv(self.dropout(self.embedding(ids)).transpose(1, 2)))
            return self.head(self.dropout(h.amax(dim=2)))

    return ReviewCNN


@cache
def review_network(seed: int = 0, epochs: int = 14) -> Any:
    """A small 1-D convolutional network over word embeddings, trained on 75 % of :func:`reviews` (the split of
    ``seed``) in a few seconds; it has ``tokenizer`` (its :class:`~nbexplain.inputs.text.Vocabulary`) and
    ``class_names``, so the text functions take it as it is. Trained once per (seed, epochs).

    Examples
    --------
    >>> net = nbx.datasets.review_network()
    >>> nbx.attribute_text(net, "The staff were rude.").plot()
    """
    import torch

    seed = check_seed(seed) or 0
    epochs = check_int(epochs, "epochs", minimum=1)
    train, _ = reviews().split(seed=seed)
    vocab = Vocabulary.fit(train.texts, min_count=1, min_length=3)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = _network_class()(len(vocab))
    order = np.argsort([len(vocab.ids(t)) for t in train.texts], kind="stable")  # similar lengths batch together
    batches = [order[i:i + 64] for i in range(0, len(order), 64)]
    inputs = [(torch.as_tensor(vocab([train.texts[i] for i in b])), torch.as_tensor(train.y[b])) for b in batches]
    net.train()
    params = list(net.parameters())
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains fastest on one thread (and shares a busy machine)
    try:
        step = 0
        for _ in range(epochs):
            for k in rng.permutation(len(inputs)):
                ids, y = inputs[k]
                net.zero_grad()
                torch.nn.functional.cross_entropy(net(ids), y).backward()
                step += 1
                with torch.no_grad():  # Adam (Kingma & Ba 2015), lr 0.01: torch.optim would import torch._dynamo
                    for p, (m, v) in zip(params, moments, strict=True):
                        m.mul_(0.9).add_(p.grad, alpha=0.1)
                        v.mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
                        p.sub_(0.01 * (m / (1 - 0.9**step)) / ((v / (1 - 0.999**step)).sqrt() + 1e-8))
    finally:
        torch.set_num_threads(threads)
    net.eval()
    net.tokenizer = vocab
    net.class_names = list(CLASS_NAMES)
    return net


__all__ = ["CLASS_NAMES", "SOURCES", "ReviewData", "review_classifier", "review_network", "reviews"]
