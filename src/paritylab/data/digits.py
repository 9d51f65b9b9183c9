"""Digit-parity images: k handwritten digits side by side, labelled by the parity of their sum.

The real-data experiment of Daniely & Malach (2020, "Learning Parities with Neural Networks",
NeurIPS, Section 5, https://arxiv.org/abs/2002.07400). A k-tuple of images (i_1, ..., i_k) is the
input

    x = concat(phi(img_{i_1}), ..., phi(img_{i_k}))  in R^{k d}   (d pixels per image),
    y = (digit_{i_1} + ... + digit_{i_k}) mod 2      in {0, 1}    (a class for cross-entropy),

so for k >= 2 the label is a parity of k "bits" (the digit parities) that are only readable
through a nonlinear function of each image.

Sources (``load_source``):

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, d = 64, pixel
  values 0..16). Fixed split rule: stratified by digit, 597 test / 1,200 train images, via
  ``sklearn.model_selection.train_test_split(test_size=597, stratify=digit, random_state=0)``
  (the split of the reference runs). The split never depends on the run seed.
* ``"mnist"``: read from a local path (never downloaded): either a folder holding the four IDX
  files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte`` (each plain or ``.gz``; ``.``-for-``-`` spellings such as
  ``train-images.idx3-ubyte`` also accepted), or a ``mnist.npz`` (the file itself or a folder
  holding it) with arrays ``x_train, y_train, x_test, y_test``. The official 60,000 / 10,000
  split is used; d = 784.

Scaling phi (the same for every model): pixels are divided by the source's maximum value (16 for
digits, 255 for MNIST; float npz pixels already in [0, 1] are kept), then standardised with ONE
scalar mean and std computed over all pixels of the training images, phi(p) = (p/max - mu)/sigma
(the usual MNIST normalisation, cf. torchvision's 0.1307/0.3081; a per-pixel standardisation
would blow up the near-constant border pixels of the 8x8 set).

Tuples: every slot of every tuple is an independent uniform draw, with replacement, from the
image pool (training images for training, test images for the test set). Draws are pure
functions of an explicit JAX key.
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from paritylab.errors import BadInput

SOURCES = ("digits", "mnist")
DIGITS_TEST_SIZE = 597
_IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", 3),
    "train_labels": ("train-labels-idx1-ubyte", 1),
    "test_images": ("t10k-images-idx3-ubyte", 3),
    "test_labels": ("t10k-labels-idx1-ubyte", 1),
}
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True, eq=False)
class DigitSet:
    """A scaled digit source with disjoint train and test images.

    ``x_*``: (N, d) float32 scaled pixels (phi above); ``y_*``: (N,) int32 digits 0..9;
    ``train_ids`` / ``test_ids``: each image's index in the source's pool (for digits the order
    of ``load_digits()``, for MNIST train images 0..N_train-1 then test images after them), so
    disjointness is checkable; ``mean``, ``std``: the scalars of the standardisation."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_ids: np.ndarray
    test_ids: np.ndarray
    image_shape: tuple[int, int]
    mean: float
    std: float

    @property
    def dim(self) -> int:
        """d, the pixels per image."""
        return int(self.x_train.shape[1])


def _scaled(name, x_tr, y_tr, x_te, y_te, tr_ids, te_ids, shape, top) -> DigitSet:
    """Apply phi(p) = (p/top - mu)/sigma with scalar train statistics; cast and package."""
    x_tr = np.asarray(x_tr, np.float64).reshape(len(x_tr), -1) / top
    x_te = np.asarray(x_te, np.float64).reshape(len(x_te), -1) / top
    mu, sigma = float(x_tr.mean()), float(x_tr.std())
    sigma = sigma if sigma > 0 else 1.0  # a constant image set would otherwise divide by 0
    return DigitSet(
        name=name,
        x_train=((x_tr - mu) / sigma).astype(np.float32),
        y_train=np.asarray(y_tr, np.int32),
        x_test=((x_te - mu) / sigma).astype(np.float32),
        y_test=np.asarray(y_te, np.int32),
        train_ids=np.asarray(tr_ids, np.int64),
        test_ids=np.asarray(te_ids, np.int64),
        image_shape=shape,
        mean=mu,
        std=sigma,
    )


def load_sklearn_digits() -> DigitSet:
    """The bundled 8x8 digits with the fixed stratified 1,200 / 597 split (module docstring)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    ids = np.arange(len(bunch.target))
    tr, te = train_test_split(
        ids, test_size=DIGITS_TEST_SIZE, stratify=bunch.target, random_state=0
    )
    tr, te = np.sort(tr), np.sort(te)
    x, y = bunch.data, bunch.target
    return _scaled("digits", x[tr], y[tr], x[te], y[te], tr, te, (8, 8), 16.0)


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one IDX file (ubyte data; big-endian int32 dims after a 4-byte magic 0,0,8,ndim)."""
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        kind = "gzip" if path.suffix == ".gz" else "IDX"
        raise BadInput(f"MNIST file {path}: cannot be read as {kind} ({err})") from None
    head = 4 + 4 * ndim
    if len(raw) < head or raw[:4] != bytes((0, 0, 8, ndim)):
        magic = raw[:4].hex() if len(raw) >= 4 else "nothing"
        raise BadInput(
            f"MNIST file {path}: expected IDX magic 00000803 (ubyte, {ndim} dims), found {magic}"
            if ndim == 3
            else f"MNIST file {path}: expected IDX magic 00000801 (ubyte labels), found {magic}"
        )
    dims = tuple(int(v) for v in np.frombuffer(raw[4:head], dtype=">i4"))
    if len(raw) - head != int(np.prod(dims)):
        raise BadInput(
            f"MNIST file {path}: header says shape {dims} = {int(np.prod(dims))} bytes of data, "
            f"found {len(raw) - head}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``folder``, plain or .gz, '-' or '.' before 'idx'."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _load_npz(path: Path):
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [key for key in _NPZ_KEYS if key not in z.files]
            if missing:
                raise BadInput(
                    f"MNIST file {path}: expected arrays x_train, y_train, x_test, y_test; "
                    f"missing {', '.join(missing)}"
                )
            return tuple(np.asarray(z[key]) for key in _NPZ_KEYS)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        if isinstance(err, BadInput):
            raise
        raise BadInput(f"MNIST file {path}: not a readable .npz archive ({err})") from None


def _check_arrays(where, x_tr, y_tr, x_te, y_te) -> None:
    for xs, ys, part in ((x_tr, y_tr, "train"), (x_te, y_te, "test")):
        if xs.ndim not in (2, 3) or len(xs) == 0:
            raise BadInput(
                f"MNIST {where}: {part} images must be (N, 28, 28) or (N, 784), got {xs.shape}"
            )
        if ys.shape != (len(xs),):
            raise BadInput(
                f"MNIST {where}: {part} labels must have shape ({len(xs)},), got {ys.shape}"
            )
        if not np.issubdtype(ys.dtype, np.integer) or ys.min() < 0 or ys.max() > 9:
            raise BadInput(f"MNIST {where}: {part} labels must be integers 0..9")
    if x_tr.reshape(len(x_tr), -1).shape[1] != x_te.reshape(len(x_te), -1).shape[1]:
        raise BadInput(f"MNIST {where}: train and test images differ in size")


def load_mnist(path: str | Path) -> DigitSet:
    """Full MNIST from a local folder of IDX files or an ``mnist.npz`` (module docstring)."""
    if not str(path):
        raise BadInput("mnist_path is empty: give a folder with the MNIST IDX files or mnist.npz")
    p = Path(path).expanduser()
    expected = (
        "expected a folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (plain or .gz) or mnist.npz"
    )
    if p.is_file() or (p.is_dir() and (p / "mnist.npz").is_file()):
        npz = p if p.is_file() else p / "mnist.npz"
        arrays = _load_npz(npz)
        where = str(npz)
    elif p.is_dir():
        found = {key: _find_idx(p, stem) for key, (stem, _) in _IDX_NAMES.items()}
        if not all(found.values()):
            missing = [_IDX_NAMES[key][0] for key, f in found.items() if f is None]
            raise BadInput(f"mnist_path={str(path)!r}: {expected}; missing {', '.join(missing)}")
        arrays = tuple(_read_idx(found[key], ndim) for key, (_, ndim) in _IDX_NAMES.items())
        where = str(p)
    else:
        raise BadInput(f"mnist_path={str(path)!r} does not exist: {expected}")
    x_tr, y_tr, x_te, y_te = arrays
    _check_arrays(where, x_tr, y_tr, x_te, y_te)
    d = x_tr.reshape(len(x_tr), -1).shape[1]
    side = round(float(np.sqrt(d)))
    shape = tuple(x_tr.shape[1:]) if x_tr.ndim == 3 else (side, side) if side**2 == d else (1, d)
    floaty = np.issubdtype(x_tr.dtype, np.floating) and float(x_tr.max()) <= 1.0
    n_tr = len(x_tr)
    tr_ids, te_ids = np.arange(n_tr), n_tr + np.arange(len(x_te))
    return _scaled("mnist", x_tr, y_tr, x_te, y_te, tr_ids, te_ids, shape, 1.0 if floaty else 255.0)


def load_source(source: str, mnist_path: str | Path = "") -> DigitSet:
    """``"digits"`` (bundled) or ``"mnist"`` (from ``mnist_path``); see the module docstring."""
    if source == "digits":
        return load_sklearn_digits()
    if source == "mnist":
        return load_mnist(mnist_path)
    raise BadInput(f"source={source!r} is not known: allowed {', '.join(SOURCES)}")


def tuple_indices(key: jax.Array, n_images: int, *, k: int, count: int) -> jax.Array:
    """(count, k) int32 image indices, each an independent uniform draw from range(n_images)."""
    return jax.random.randint(key, (count, k), 0, n_images, dtype=jnp.int32)


def gather_tuples(x, y, idx):
    """Inputs and labels of the tuples ``idx`` (m, k): x[idx] flattened side by side to (m, k d)
    (image 1's pixels first), label (sum_j y[idx_j]) mod 2 as int32. Works under jit."""
    m, k = idx.shape
    xs = jnp.take(x, idx, axis=0).reshape(m, k * x.shape[1])
    return xs, (jnp.sum(jnp.take(y, idx, axis=0), axis=1) % 2).astype(jnp.int32)


def draw_tuples(key: jax.Array, x, y, *, k: int, count: int):
    """``count`` fresh k-tuples from the pool (x, y): returns (inputs (count, k d) float32,
    parity labels (count,) int32, image indices (count, k))."""
    idx = tuple_indices(key, len(y), k=k, count=count)
    xs, labels = gather_tuples(jnp.asarray(x), jnp.asarray(y), idx)
    return xs, labels, idx


@dataclass(frozen=True, eq=False)
class DigitParity:
    """The digit-parity problem: k images side by side, label = parity of their digit sum.

    Attributes:
        images: the scaled image source.
        k: images per tuple.
    """

    images: DigitSet
    k: int

    def sample(self, key: jax.Array, count: int):
        """``count`` fresh tuples of test images as a (x, y, part) triple with 0/1 labels.

        Args:
            key: JAX random key.
            count: number of tuples.

        Returns:
            ``(x (count, k d) float32, y (count,) int32 in {0, 1}, zeros (count,))``.
        """
        x, y, _ = draw_tuples(key, self.images.x_test, self.images.y_test, k=self.k, count=count)
        return x, y, jnp.zeros((count,), jnp.int32)
