"""Project files (``.cfx``): ratings, labels, item info, settings, the trained model and the loss plot's runs
in one file.

The file is a NumPy ``.npz`` archive whose arrays are read only after their headers have been
checked (:mod:`.arrays`): arrays stay arrays, and everything else (labels, settings, item info,
hyperparameters) is stored as JSON text, so opening a project never runs code from it.

A project, or a recovery file, is validated, not trusted: every JSON value must have the type the
app uses it as, the ratings must pass :class:`Ratings`' own checks, and a saved model must rebuild
and fit those ratings (:func:`~cfexplorer.core.models.checked_model_from_state`). Anything else is
one :class:`RatingsFileError`, "<path>: not a valid project: <what>".
"""

from __future__ import annotations

import io
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.models import checked_model_from_state
from ..core.ratings import RatingScale, Ratings
from ..lazy import lazy_import
from . import arrays, limits
from .errors import RatingsFileError, reason
from .writers import atomic_path

pd = lazy_import("pandas")

FORMAT = "cfexplorer-project"
VERSION = 1
SUFFIX = ".cfx"

# The JSON part of a project holds labels, titles and settings: MovieLens 25M's 162,541 users and
# 62,423 titled movies take under 10 MB. Past these, it is not a project of ours.
MAX_META_BYTES = 64 * 2**20
MAX_META_DEPTH = 32
# Settings the window reads from a project, and the type it reads each as.
SETTING_TYPES = {"preset": str, "training": dict, "rows_are_items": bool, "view": dict, "recovered_from": str,
                 "source": str}
RATING_ARRAYS = {"users": "iu", "items": "iu", "values": "iuf"}
# The loss plot's runs before the model's (ui.loss_plot.Run): one array, a row an epoch of each run in turn, of
# these series (named as a Run's); a validation value not measured is NaN. Projects saved before they were kept
# have neither the array nor its description, and open with no earlier run.
EARLIER_RUNS = "earlier_runs"
RUN_COLUMNS = ("epochs", "data", "reg", "total", "validation", "validation2")
# The runs the loss plot keeps (ui.loss_plot.KEPT_RUNS is this), the model's among them: a file listing more is not
# ours.
MAX_SAVED_RUNS = 8
# What reading JSON and building pandas and numpy objects from hostile values raises.
_INVALID = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError)


@dataclass(eq=False)  # compared by identity: == of its curves would be an array, not one truth value
class SavedRun:
    """One run of the loss plot as a project keeps it: its number, the settings it trained with, its two
    validation metrics, whether an epoch of it was validated, and its curves (a row an epoch, RUN_COLUMNS)."""

    number: int
    settings: dict
    metrics: tuple = ("rmse", "mae")
    validated: bool = False
    curves: np.ndarray = field(default_factory=lambda: np.empty((0, len(RUN_COLUMNS))))


@dataclass
class Project:
    ratings: Ratings
    settings: dict = field(default_factory=dict)
    model_state: dict | None = None
    model: object | None = None  # the model ``model_state`` describes, rebuilt and checked by load_project
    earlier_runs: list[SavedRun] = field(default_factory=list)  # the loss plot's runs before the model's, in order
    model_run: SavedRun | None = None  # the model's run: its number and settings (its curves are the model's history)


def _labels_to_json(labels) -> str:
    return json.dumps([label.item() if isinstance(label, np.generic) else label for label in labels])


def save_project(path, project: Project, cancelled=None) -> None:
    ratings = project.ratings
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "user_labels": json.loads(_labels_to_json(ratings.user_labels)),
        "item_labels": json.loads(_labels_to_json(ratings.item_labels)),
        "scale": [ratings.scale.low, ratings.scale.high, ratings.scale.step],
        "binary": ratings.binary,
        "item_info": None if ratings.item_info is None else ratings.item_info.to_json(orient="split"),
        "settings": project.settings,
    }
    arrays = {"users": ratings.users, "items": ratings.items, "values": ratings.values}
    if project.model_state is not None:
        meta["model"] = {k: v for k, v in project.model_state.items() if not isinstance(v, np.ndarray)}
        arrays.update({f"model/{k}": v for k, v in project.model_state.items() if isinstance(v, np.ndarray)})
        if project.model_run is not None:
            meta["model_run"] = {"number": project.model_run.number, "settings": project.model_run.settings}
    if project.earlier_runs:
        meta[EARLIER_RUNS] = [{"number": run.number, "settings": run.settings, "metrics": list(run.metrics),
                               "validated": run.validated, "rows": len(run.curves)} for run in project.earlier_runs]
        arrays[EARLIER_RUNS] = np.concatenate([np.asarray(run.curves, dtype=float).reshape(-1, len(RUN_COLUMNS))
                                               for run in project.earlier_runs])
    arrays["meta"] = np.frombuffer(json.dumps(meta, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path, cancelled) as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)


class _Invalid(Exception):
    """What is wrong with a project, for the one-line error."""


def _invalid(path, problem: str, line: int | None = None) -> RatingsFileError:
    return RatingsFileError(path, f"not a valid project: {problem}", line)


def load_project(path) -> Project:
    path = Path(path)
    limits.check_regular_file(path)
    try:
        # the description first (labels, a few MB at most): it bounds what the rating arrays may declare
        meta = _read_meta(arrays.read_npz(path, wanted="meta".__eq__, kinds=arrays.NUMBERS, error=_invalid).get("meta"))
        earlier = _earlier_run_descriptions(meta)  # it bounds what the curves' array may declare
        # the earlier runs' curves only where the description lists runs: an array it does not describe is not read
        wanted = _is_rating_or_model_array if not earlier else _is_rating_model_or_runs_array
        found = arrays.read_npz(path, wanted=wanted, kinds=arrays.NUMBERS, error=_invalid,
                                check_headers=lambda headers: _check_headers(meta, earlier, headers,
                                                                             path.stat().st_size))
        ratings = _ratings(meta, found)
        model_state, model = _model(meta, found, ratings)
        settings = _settings(meta)
        earlier_runs = _earlier_runs(earlier, found.get(EARLIER_RUNS))
        model_run = _model_run(meta, earlier_runs) if model is not None else None
    except _Invalid as problem:
        raise _invalid(path, str(problem)) from None
    except RatingsFileError:
        raise
    except MemoryError:
        raise _invalid(path, "there is not enough free memory to open it") from None
    except _INVALID as error:
        raise _invalid(path, reason(error)) from None
    return Project(ratings, settings, model_state, model, earlier_runs, model_run)


def _is_rating_or_model_array(name: str) -> bool:
    return name in RATING_ARRAYS or name.startswith("model/")


def _is_rating_model_or_runs_array(name: str) -> bool:
    return _is_rating_or_model_array(name) or name == EARLIER_RUNS


# A model's arrays are learned numbers, which deflate little (random factors: about 1.1 to 1), and a few arrays of
# zeros (biases a model does not learn, a row per user or movie): together never near this many bytes per byte of
# the file. A member of zeros deflates 1,000 to 1: a 1.5 MB project declaring 1.6 GB of factors was inflated whole.
MODEL_BYTES_PER_FILE_BYTE = 64
MODEL_BYTES_ALLOWED_ANYWAY = 16 * 2**20


def _check_headers(meta: dict, earlier: list[dict], headers: dict, file_size: int) -> None:
    """What the arrays declare, before any is inflated: the rating arrays against each other and the labels, the
    model's against the file's size, the earlier runs' curves against their description and the file's size."""
    _check_rating_headers(meta, headers)
    model_bytes = sum(header.nbytes for name, header in headers.items() if name.startswith("model/"))
    allowed = MODEL_BYTES_PER_FILE_BYTE * file_size + MODEL_BYTES_ALLOWED_ANYWAY
    if model_bytes > allowed:
        raise _Invalid(f"its model declares {limits.describe_bytes(model_bytes)} of arrays in a file of "
                       f"{limits.describe_bytes(file_size)}: not what a trained model compresses to")
    # the curves are learned numbers too: one allowance for them and the model together
    _check_curves_header(earlier, headers.get(EARLIER_RUNS), allowed - model_bytes)


def _check_curves_header(earlier: list[dict], header, allowed: int) -> None:
    """The earlier runs' curves: a row for each epoch their description lists, of RUN_COLUMNS numbers, and (learned
    numbers too) no more bytes than a model's arrays may take in this file."""
    if not earlier:
        return  # load_project does not read an array the description does not list
    if header is None:
        raise _Invalid(f"it lists {len(earlier)} earlier runs but has no {EARLIER_RUNS} array")
    rows = sum(run["rows"] for run in earlier)
    if header.shape != (rows, len(RUN_COLUMNS)) or header.dtype.kind != "f":
        raise _Invalid(f"its earlier runs' curves are a {header.dtype} array of shape {header.shape}, not "
                       f"{rows:,} epochs × {len(RUN_COLUMNS)} numbers")
    if header.nbytes > allowed:
        raise _Invalid(f"its earlier runs' curves declare {limits.describe_bytes(header.nbytes)}: not what "
                       "a file of this size holds")


def _check_rating_headers(meta: dict, headers: dict) -> None:
    """Refuse rating arrays that disagree in length, or declare more ratings than the labels have cells, before
    they are inflated (a member of 3 GB of zeros compresses to 3 MB)."""
    lengths = {name: headers[name].shape for name in RATING_ARRAYS if name in headers}
    if any(len(headers[name].shape) != 1 or headers[name].dtype.kind not in RATING_ARRAYS[name] for name in lengths):
        return  # said once they are read (_ratings)
    if len(set(lengths.values())) > 1:
        raise _Invalid("its users, items and values arrays have different lengths ("
                       + ", ".join(f"{name} {shape[0]:,}" for name, shape in lengths.items()) + ")")
    users, items = meta.get("user_labels"), meta.get("item_labels")
    if lengths and isinstance(users, list) and isinstance(items, list):
        n = next(iter(lengths.values()))[0]
        if n > len(users) * len(items):
            raise _Invalid(f"it declares {n:,} ratings, more than its {len(users):,} users × {len(items):,} movies "
                           "have cells")


def _read_meta(array) -> dict:
    if array is None:
        raise _Invalid("it has no description (meta); not a CF Explorer project")
    if array.ndim != 1 or array.dtype != np.uint8:
        raise _Invalid(f"its description (meta) is a {array.dtype} array of shape {array.shape}, not text")
    if array.size > MAX_META_BYTES:
        raise _Invalid(f"its description (meta) is {limits.describe_bytes(array.size)}, more than the "
                       f"{limits.describe_bytes(MAX_META_BYTES)} a project's labels and settings take")
    try:
        meta = json.loads(array.tobytes().decode("utf-8"))
    except RecursionError:
        raise _Invalid("its description (meta) is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _Invalid(f"its description (meta) is not JSON text ({reason(error)})") from None
    _check_depth(meta)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Invalid("not a CF Explorer project")
    version = meta.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _Invalid(f"its version is {version!r}, not a whole number")
    if version > VERSION:
        raise _Invalid(f"made by a newer CF Explorer (project version {version})")
    return meta


def _check_depth(value) -> None:
    """Refuse JSON nested deeper than MAX_META_DEPTH, without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_META_DEPTH:
            raise _Invalid(f"its description (meta) is nested more than {MAX_META_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _expect(value, kind, what: str):
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool) and kind in (int, float)):
        raise _Invalid(f"{what} is {type(value).__name__}, not {_kind_name(kind)}")
    return value


def _kind_name(kind) -> str:
    names = {list: "a list", dict: "a table of named values", str: "text", bool: "true or false"}
    if isinstance(kind, tuple):
        return " or ".join(_kind_name(k) for k in kind)
    return names.get(kind, "a number")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _labels(meta: dict, key: str, what: str) -> list:
    labels = _expect(meta.get(key), list, f"the {what} labels")
    for position, label in enumerate(labels):
        if not (isinstance(label, str) or _is_number(label)):
            raise _Invalid(f"{what} label {position + 1} is {type(label).__name__}, not text or a number")
    return labels


def _ratings(meta: dict, found: dict) -> Ratings:
    user_labels, item_labels = _labels(meta, "user_labels", "user"), _labels(meta, "item_labels", "movie")
    scale = meta.get("scale")
    if not (isinstance(scale, list) and len(scale) == 3 and _is_number(scale[0]) and _is_number(scale[1])
            and (scale[2] is None or _is_number(scale[2]))):
        raise _Invalid(f"its rating scale is {str(scale)[:60]}, not three numbers (low, high, step)")
    binary = _expect(meta.get("binary"), bool, "binary")
    for name, kinds in RATING_ARRAYS.items():
        if name not in found:
            raise _Invalid(f"it has no {name} array")
        if found[name].ndim != 1 or found[name].dtype.kind not in kinds:
            raise _Invalid(f"its {name} array is {found[name].ndim}-D {found[name].dtype}, not a list of "
                           f"{'whole numbers' if kinds == 'iu' else 'numbers'}")
    item_info = _item_info(meta.get("item_info"), len(item_labels))
    try:
        ratings = Ratings(found["users"], found["items"], found["values"], user_labels, item_labels,
                          RatingScale(*scale), binary, item_info)
    except ValueError as error:
        raise _Invalid(reason(error)) from None
    # the window only ever saves ratings within the scale (typing outside it is refused): colours, the y-range
    # and the training metrics' clipping all take the scale as the ratings' bounds
    outside = ~ratings.scale.contains(ratings.values)
    if outside.any():
        raise _Invalid(f"rating {ratings.values[np.argmax(outside)]:g} is outside its rating scale "
                       f"{ratings.scale.describe()}")
    return ratings


def _item_info(info, n_items: int):
    """Titles, genres and years (pandas' "split" JSON), checked to be a table of plain values with one
    row per movie before pandas reads it."""
    if info is None:
        return None
    _expect(info, str, "the movie information")
    try:
        table = json.loads(info)
    except RecursionError:
        raise _Invalid("the movie information is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise _Invalid(f"the movie information is not JSON text ({reason(error)})") from None
    _expect(table, dict, "the movie information")
    columns = _expect(table.get("columns"), list, "the movie information's columns")
    rows = _expect(table.get("data"), list, "the movie information's rows")
    if not all(isinstance(column, str) for column in columns):
        raise _Invalid("a movie information column name is not text")
    if len(rows) != n_items:
        raise _Invalid(f"the movie information has {len(rows)} rows for {n_items} movies")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(columns):
            raise _Invalid(f"row {number} of the movie information is not {len(columns)} values")
        if not all(cell is None or isinstance(cell, (str, int, float)) for cell in row):
            raise _Invalid(f"row {number} of the movie information holds a list or table")
    return pd.read_json(io.StringIO(info), orient="split")


def _model(meta: dict, found: dict, ratings: Ratings) -> tuple[dict | None, object | None]:
    """The saved model's state and the model rebuilt from it (both None when the project has none)."""
    if "model" not in meta:
        return None, None
    state = dict(_expect(meta["model"], dict, "the model"))
    state.update({name[len("model/"):]: array for name, array in found.items() if name.startswith("model/")})
    try:
        return state, checked_model_from_state(state, ratings)
    except ValueError as error:
        raise _Invalid(reason(error)) from None


def _earlier_run_descriptions(meta: dict) -> list[dict]:
    """The description of the earlier runs (none in a project saved before they were kept), each checked: a
    number, settings, two metric names, whether it was validated and its count of epochs (rows)."""
    earlier = _expect(meta.get(EARLIER_RUNS, []), list, "its earlier runs")
    runs = len(earlier) + ("model_run" in meta)
    if runs > MAX_SAVED_RUNS:
        raise _Invalid(f"it lists {runs} runs of the loss plot, which keeps {MAX_SAVED_RUNS}")
    for position, run in enumerate(earlier, start=1):
        what = f"earlier run {position}"
        _expect(run, dict, what)
        _expect(run.get("number"), int, f"{what}'s number")
        _expect(run.get("settings"), dict, f"{what}'s settings")
        metrics = _expect(run.get("metrics"), list, f"{what}'s metrics")
        if len(metrics) != 2 or not all(isinstance(metric, str) for metric in metrics):
            raise _Invalid(f"{what}'s metrics are not two names")
        _expect(run.get("validated"), bool, f"{what}'s validated")
        if _expect(run.get("rows"), int, f"{what}'s rows") < 0:
            raise _Invalid(f"{what} has {run['rows']} epochs")
    _check_run_numbers([run["number"] for run in earlier])
    return earlier


def _check_run_numbers(numbers: list[int]) -> None:
    """Runs are numbered from 1 up, in the order they ran (the next run is numbered after the last)."""
    if any(number < 1 for number in numbers) or any(a >= b for a, b in itertools.pairwise(numbers)):
        raise _Invalid(f"its runs are numbered {', '.join(map(str, numbers))}, not from 1 up in order")


def _earlier_runs(earlier: list[dict], curves) -> list[SavedRun]:
    """The earlier runs, their curves checked: whole epoch numbers going up, J's terms finite numbers (as a
    model's history), validation values finite or NaN (an epoch that measured none)."""
    runs, start = [], 0
    for position, run in enumerate(earlier, start=1):
        rows = np.asarray(curves[start:start + run["rows"]], dtype=float)
        start += run["rows"]
        epochs, terms, validation = rows[:, 0], rows[:, 1:4], rows[:, 4:]
        if not (np.isfinite(epochs).all() and (epochs >= 0).all() and (epochs == np.floor(epochs)).all()
                and (epochs < 2**53).all() and (np.diff(epochs) > 0).all()):
            raise _Invalid(f"earlier run {position}'s epochs are not whole numbers going up")
        if not np.isfinite(terms).all():
            raise _Invalid(f"earlier run {position}'s cost is not a finite number at every epoch")
        if np.isinf(validation).any():
            raise _Invalid(f"earlier run {position}'s validation scores are not all finite numbers")
        runs.append(SavedRun(run["number"], _plain_settings(run["settings"]), tuple(run["metrics"]), run["validated"],
                             rows))
    return runs


def _model_run(meta: dict, earlier_runs: list[SavedRun]) -> SavedRun | None:
    """The model's run: its number, after the earlier runs', and its settings (None in a project saved before
    runs were kept)."""
    if "model_run" not in meta:
        return None
    run = _expect(meta["model_run"], dict, "the model's run")
    number = _expect(run.get("number"), int, "the model's run's number")
    _check_run_numbers([earlier.number for earlier in earlier_runs] + [number])
    return SavedRun(number, _plain_settings(_expect(run.get("settings"), dict, "the model's run's settings")))


# A run's settings as a panel makes them: a few dozen names of numbers, words, flags and short lists (layers).
MOST_RUN_SETTINGS = 64
LONGEST_SETTING_TEXT = 200


def _plain_settings(settings: dict) -> dict:
    """The settings of a run a loss plot can name it by: at most MOST_RUN_SETTINGS, each a name and a number, a
    word, a flag, None or a short list of those; anything else left out. (Each Train compares every kept run's
    settings with every other's: 20,000 names in each of eight runs took a quarter of a second a click.)"""
    return {name: value for name, value in itertools.islice(settings.items(), MOST_RUN_SETTINGS)
            if isinstance(name, str) and len(name) <= LONGEST_SETTING_TEXT and _plain_setting(value)}


def _plain_setting(value, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= LONGEST_SETTING_TEXT
    return (isinstance(value, list) and depth == 0 and len(value) <= MOST_RUN_SETTINGS
            and all(_plain_setting(item, 1) for item in value))


def _settings(meta: dict) -> dict:
    settings = _expect(meta.get("settings", {}), dict, "the settings")
    for key, kind in SETTING_TYPES.items():
        if key in settings and settings[key] is not None:
            _expect(settings[key], kind, f"the setting {key!r}")
    return settings
