"""Command line: ``cfexplorer`` starts the app; ``cfexplorer train FILE`` trains from a terminal;
``cfexplorer info FILE`` describes a ratings file as the status bar does.

The ``train`` options and its ``--json`` keys are used by scripts and our own checks: keep them stable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

COMMANDS = ("gui", "train", "screenshot", "info")
EXIT_BAD_INPUT = 2
EXIT_TRAINING_FAILED = 1


# Ratings from this value up count as likes (1) with --binary: 4 and 5 stars of five.
LIKE_THRESHOLD = 4.0


def _examples() -> str:
    from .io.presets import PRESETS

    return ", ".join(PRESETS)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (argparse prints the whole usage first: 13 lines for
    ``train``), pointing to ``--help``. Its subcommands' parsers are of this class too."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    examples = _examples()
    parser = _Parser(prog="cfexplorer", description="CF Explorer: see collaborative filtering work.")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="start the app (the default)")
    gui.add_argument("file", nargs="?", help="a ratings or project file to open")
    gui.add_argument("--preset", metavar="NAME", help=f"start on this built-in example: {examples}")

    train = commands.add_parser("train", help="train a model on a ratings file and print metrics")
    train.add_argument("ratings_file", metavar="RATINGS_FILE",
                       help="MovieLens ratings.csv, u.data or ratings.dat, a CSV/TSV with user,item,rating columns, "
                       "or a project (.cfx)")
    train.add_argument("--model", choices=("mf", "baseline", "dot_bias", "neural", "content", "bayes", "global_mean"),
                       default="mf", help="mf: matrix factorization (default); baseline: global mean + biases; "
                       "dot_bias: fast.ai's dot product + biases with a y-range; neural: neural CF; "
                       "content: content-based two towers; bayes: Bayesian MF by Gibbs sampling (--epochs is "
                       "the number of samples); global_mean: the mean of the training ratings")
    train.add_argument("--factors", type=int, help="number of latent factors")
    train.add_argument("--epochs", type=int, help="training epochs (0: only J at the starting parameters)")
    train.add_argument("--lr", type=float, help="learning rate (gd, sgd, adam)")
    train.add_argument("--reg", type=float, help="lambda: L2 regularization of the factors")
    train.add_argument("--bias-reg", type=float, help="L2 regularization of the biases")
    train.add_argument("--optimizer", choices=("gd", "adam", "sgd", "als"),
                       help="default: als, or adam for --binary")
    train.add_argument("--batch-size", type=int, help="ratings per step for sgd/adam")
    train.add_argument("--burn-in", type=int, help="bayes: samples drawn first and left out of the average (0)")
    train.add_argument("--mean-normalization", action="store_true",
                       help="subtract each movie's mean before training (the course's method)")
    train.add_argument("--no-user-bias", action="store_true", help="mf, dot_bias: learn no user bias b")
    train.add_argument("--no-movie-bias", action="store_true", help="mf, dot_bias: learn no movie bias")
    train.add_argument("--init", choices=("small", "normal"),
                       help="mf: starting parameters: small (factors from N(0, S²), biases 0; the default) or "
                       "normal (every factor and bias from N(0, 1), as the course lab)")
    train.add_argument("--init-scale", type=float, metavar="S",
                       help="standard deviation of the starting factors: mf with --init small (0.1), neural, bayes")
    train.add_argument("--params", nargs="+", metavar="FILE",
                       help="mf: start from these parameters instead: an .npz (item_factors, user_factors, optional "
                       "user_bias, item_bias, item_names, user_names) or the course lab's X, W, b CSV files; the "
                       "model is then w·x + b (+ movie bias) as the file has them, with no offset unless "
                       "--mean-normalization. With --epochs 0: J at exactly these parameters")
    train.add_argument("--test-fraction", type=float, default=None,
                       help="share of ratings held out (0.2; 0 with --params, as J is the lab's over all ratings)")
    train.add_argument("--seed", type=int, default=0, help="seed of the split and the initial factors")
    train.add_argument("--binary", action="store_true",
                       help="like/dislike labels: ratings >= --like-threshold count as 1, others 0")
    train.add_argument("--like-threshold", type=float, help=f"with --binary (default {LIKE_THRESHOLD:g})")
    train.add_argument("--json", action="store_true", help="print one JSON object with the results")
    train.add_argument("--engine", choices=("numpy", "spark"), default="numpy",
                       help="spark: Spark MLlib's ALS (needs pyspark and Java; --factors, --epochs, --reg, --seed "
                       "map to rank, maxIter, regParam = reg / mean ratings per user, seed)")
    train.add_argument("--master", help="with --engine spark: local[*] (the default), local[2], spark://…")
    train.add_argument("--spark-reg", type=float, metavar="REG_PARAM", help="with --engine spark: regParam itself")
    train.add_argument("--model-dir", metavar="DIR", help="with --engine spark: where the model is saved "
                       "(default: RATINGS_FILE's name + '-spark-als' in the current folder)")

    info = commands.add_parser("info", help="describe a ratings file: users, movies, ratings, density, scale, "
                               "duplicates and which axis holds the users (as the status bar)")
    info.add_argument("ratings_file", metavar="RATINGS_FILE", help="any file the app opens")
    info.add_argument("--json", action="store_true", help="print one JSON object")

    shot = commands.add_parser("screenshot", help="render the main window to a PNG file")
    shot.add_argument("out", metavar="OUT.png")
    source = shot.add_mutually_exclusive_group()
    source.add_argument("--preset", metavar="NAME", help=f"built-in example to show: {examples}")
    source.add_argument("--data", help="ratings or project file to show")
    shot.add_argument("--size", default="1400x900", help="window size WxH (1400x900)")
    shot.add_argument("--train", action="store_true", help="train before the screenshot")
    shot.add_argument("--lesson", type=int, metavar="N", help="run lesson N (from Help ▸ Lessons) to its last step "
                      "first")
    shot.add_argument("--factor-space", action="store_true", help="bring the factor space to the front")
    shot.add_argument("--presentation", action="store_true", help="in presentation mode")
    return parser


def _version() -> str:
    """The version, and which form training's hot loops run in (whether the install compiled them)."""
    from . import __version__
    from .core.kernels import describe

    return f"cfexplorer {__version__}: {describe()}"


_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__))
_format_warning = warnings.formatwarning


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Our own warnings (a setting we cannot honour) as one line a user reads, as errors are: Python's form
    adds the file, line and source of the call, which say nothing to a user. Other libraries' keep it."""
    if os.path.abspath(filename).startswith(_PACKAGE_DIRECTORY + os.sep):
        return f"cfexplorer: warning: {' '.join(str(message).split())}\n"
    return _format_warning(message, category, filename, lineno, line)


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and (not argv[0].startswith("-") or argv[0].split("=")[0] == "--preset"):
        argv.insert(0, "gui")  # `cfexplorer ratings.csv` and `cfexplorer --preset course` start the app
    parser = build_parser()
    args = parser.parse_args(argv)
    from .core.memory import keep_freed_memory

    keep_freed_memory()
    if args.command in ("train", "info"):
        try:
            return (run_train if args.command == "train" else run_info)(args)
        except BrokenPipeError:
            # `cfexplorer info ratings.csv | head`: the reader has what it wanted. Python would report the
            # pipe again while flushing at exit, so standard output goes to nowhere first.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    if args.command == "screenshot":
        from .screenshot import run_screenshot

        return run_screenshot(args)
    from .app import run_gui

    return run_gui(getattr(args, "file", None), getattr(args, "preset", None))


# --- train ---------------------------------------------------------------------------------------
def _make_model(args, binary: bool):
    from .core.mf import BiasBaseline, MatrixFactorization
    from .core.models import settings_for_likes

    if args.model not in ("mf", "baseline"):
        from .core.models import make_model

        chosen = {"n_factors": args.factors, "n_outputs": args.factors, "reg": args.reg, "bias_reg": args.bias_reg,
                  "optimizer": args.optimizer, "batch_size": args.batch_size, "n_epochs": args.epochs,
                  "learning_rate": args.lr, "seed": args.seed, "init": args.init, "init_scale": args.init_scale,
                  "burn_in": args.burn_in}
        if args.mean_normalization:  # a kind that has no such setting ignores these (_unused_options refuses)
            chosen.update(mean_normalization=True, global_mean=False)
        if args.no_user_bias:
            chosen["user_bias"] = False
        if args.no_movie_bias:
            chosen["item_bias"] = False
        if binary:  # likes: the kind's settings for them, then what the command line chose
            chosen = {**settings_for_likes(args.model), **{k: v for k, v in chosen.items() if v is not None}}
        return make_model(args.model, **{k: v for k, v in chosen.items() if v is not None or k == "y_range"})
    if args.model == "baseline":
        model = BiasBaseline()
        if binary:
            model.set_params(**settings_for_likes("biases"))
    else:
        model = MatrixFactorization()
        if binary:
            model.set_params(**settings_for_likes("mf"))
        chosen = {
            "n_factors": args.factors, "reg": args.reg, "optimizer": args.optimizer,
            "batch_size": args.batch_size, "init": args.init, "init_scale": args.init_scale,
        }
        model.set_params(**{k: v for k, v in chosen.items() if v is not None})
        if args.mean_normalization:
            model.set_params(mean_normalization=True, global_mean=False)
        if args.no_user_bias:
            model.set_params(user_bias=False)
        if args.no_movie_bias:
            model.set_params(item_bias=False)
    chosen = {"n_epochs": args.epochs, "learning_rate": args.lr, "bias_reg": args.bias_reg, "seed": args.seed}
    if args.model == "baseline" and args.optimizer is not None:
        chosen["optimizer"] = args.optimizer
    model.set_params(**{k: v for k, v in chosen.items() if v is not None})
    return model


def _to_binary(ratings, threshold: float):
    from .core.ratings import Ratings

    if ratings.binary:
        return ratings
    labels = (ratings.values >= threshold).astype(float)
    return Ratings(ratings.users, ratings.items, labels, ratings.user_labels, ratings.item_labels,
                   binary=True, item_info=ratings.item_info)


class _Progress:
    """A one-line progress bar on a terminal; a few plain lines otherwise. Writes to stderr."""

    def __init__(self, total: int, stream=None):
        self.total, self.stream = max(total, 0), stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.every = max(1, self.total // 10)  # and epoch 0, the starting parameters, as the lab prints

    def update(self, record, metric_name: str):
        metric = record.validation.get(metric_name, record.train.get(metric_name))
        text = (f"epoch {record.epoch}/{self.total}  J={record.total:.6g} "
                f"(data {record.data_term:.6g} + reg {record.reg_term:.6g})  {metric_name}={metric:.4f}")
        if self.tty:
            done = int(30 * record.epoch / max(self.total, 1))
            self.stream.write(f"\r[{'#' * done}{'.' * (30 - done)}] {text}\x1b[K")
            self.stream.flush()
        elif record.epoch % self.every == 0 or record.epoch == self.total:
            print(text, file=self.stream)

    def close(self):
        if self.tty:
            self.stream.write("\n")


def _error(message) -> None:
    """One line on stderr, whatever the message holds."""
    print(f"cfexplorer: error: {' '.join(str(message).split())}", file=sys.stderr)


def _read_ratings(path: str):
    """(ratings, warnings) from a ratings file, or from the ratings of a project (.cfx)."""
    from .io.project import SUFFIX, load_project
    from .io.readers import read_any

    if path.lower().endswith(SUFFIX):
        return load_project(path).ratings, []
    loaded = read_any(path)
    return loaded.ratings, _warnings_of(loaded)


def _warnings_of(loaded) -> list[str]:
    """What the reader noted, and what the window asks of a headerless matrix with zeros (whether they are
    ratings): said here, where nobody is asked."""
    if not getattr(loaded, "zero_question", False):
        return list(loaded.warnings)
    return [*loaded.warnings, f"{loaded.zeros:,} zeros were read as not rated (a headerless matrix's zeros are "
                              "taken as empty cells, as in the course lab; the window asks)"]


def run_train(args) -> int:
    from .core.threads import choose_blas_threads
    choose_blas_threads()
    from .core.mf import TrainingDiverged
    from .core.ratings import train_test_split
    from .io.readers import RatingsFileError

    problem = _non_finite_option(args) or _misplaced_options(args)  # before a large file is read
    if problem:
        _error(problem)
        return EXIT_BAD_INPUT
    try:
        ratings, warnings = _read_ratings(args.ratings_file)
    except RatingsFileError as error:
        _error(error)
        return EXIT_BAD_INPUT
    except OSError as error:
        _error(f"{args.ratings_file}: {error.strerror or error}")
        return EXIT_BAD_INPUT
    except (ValueError, MemoryError) as error:  # readers raise RatingsFileError; this is a safety net
        _error(f"{args.ratings_file}: {error or type(error).__name__}")
        return EXIT_BAD_INPUT
    for warning in warnings:
        print(f"cfexplorer: warning: {args.ratings_file}: {warning}", file=sys.stderr)
    if ratings.n_ratings == 0:  # it trained on nothing and reported a RMSE of nan, exit 0
        _error(f"{args.ratings_file}: no ratings to train on (every cell is empty or '?')")
        return EXIT_BAD_INPUT
    binary = args.binary or ratings.binary
    if args.like_threshold is not None and not (args.binary and not ratings.binary):  # it would change nothing
        _error("--like-threshold applies with --binary to ratings on a scale"
               + (f"; {args.ratings_file} holds likes already (0 and 1)" if ratings.binary else ""))
        return EXIT_BAD_INPUT
    threshold = LIKE_THRESHOLD if args.like_threshold is None else args.like_threshold
    if args.engine == "spark":
        return _run_spark(args, ratings)
    if binary:
        converted = not ratings.binary
        ratings = _to_binary(ratings, threshold)
        if ratings.n_ratings and (ratings.values == ratings.values[0]).all():  # accuracy 1 and AUC undefined
            what = "like (1)" if ratings.values[0] == 1 else "dislike (0)"
            at = f" at --like-threshold {threshold:g}" if converted else ""
            print(f"cfexplorer: warning: {args.ratings_file}: every rating is a {what}{at}: there is nothing to tell "
                  "apart", file=sys.stderr)
    test_fraction = args.test_fraction if args.test_fraction is not None else (0.0 if args.params else 0.2)
    try:
        model = _make_model(args, binary)
        matched = _start_from_files(model, args, ratings) if args.params else None
        model._check_params(ratings)  # a value it cannot take is named before one it would not use
        problem = _unused_options(args, model)
        if problem:
            _error(problem)
            return EXIT_BAD_INPUT
        train, test = train_test_split(ratings, test_fraction, args.seed)
        progress = _Progress(model.n_epochs)
        metric_name = "bce" if binary else "rmse"
        start = time.perf_counter()
        try:
            for record in model.iter_fit(train, test if len(test) else None):
                progress.update(record, metric_name)
        finally:
            progress.close()
        fit_seconds = time.perf_counter() - start
    except TrainingDiverged as error:
        _error(error)
        return EXIT_TRAINING_FAILED
    except ValueError as error:  # FactorFileError (a parameter file) is one
        _error(error)
        return EXIT_BAD_INPUT
    except MemoryError:  # the models refuse what cannot fit in memory at all; this is what was short at the time
        _error(f"not enough memory to train --model {args.model} with these settings on {args.ratings_file}")
        return EXIT_BAD_INPUT

    from .core import metrics

    last = model.history_[-1] if model.history_ else None
    results = {
        "model": args.model,
        "n_users": ratings.n_users,
        "n_items": ratings.n_items,
        "n_train": len(train),
        "n_test": len(test),
        "epochs": last.epoch if last is not None else 0,
        "fit_seconds": round(fit_seconds, 4),
        "final_cost": last.total if last is not None else None,
        # J and its terms at the last epoch (epoch 0: the starting parameters), on the training ratings
        "cost": last.total if last is not None else None,
        "data_term": last.data_term if last is not None else None,
        "reg_term": last.reg_term if last is not None else None,
        "reg": getattr(model, "reg", None),
        "bias_reg": getattr(model, "bias_reg", None),
    }
    if matched is not None:
        results["params"] = matched
    train_pred = model.predict(train.users, train.items)
    results["train_rmse"] = metrics.rmse(train.values, train_pred)
    results["train_mae"] = metrics.mae(train.values, train_pred)
    test_pred = model.predict(test.users, test.items)
    results["test_rmse"] = metrics.rmse(test.values, test_pred)
    results["test_mae"] = metrics.mae(test.values, test_pred)
    if binary:
        results.update(metrics.binary_report(test.values, test_pred, prefix="test_"))
    if args.json:
        print(json.dumps(results, allow_nan=False, default=_json_default) if _all_finite(results)
              else json.dumps({k: (None if isinstance(v, float) and v != v else v) for k, v in results.items()}))
    else:
        for key, value in results.items():
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"{key:>14}: {shown}")
    return 0


# Each train option that sets a model's setting, and the settings it sets: a model has at most one of them.
_MODEL_OPTIONS = (("--factors", "factors", ("n_factors", "n_outputs")), ("--epochs", "epochs", ("n_epochs",)),
                  ("--lr", "lr", ("learning_rate",)), ("--reg", "reg", ("reg",)),
                  ("--bias-reg", "bias_reg", ("bias_reg",)), ("--optimizer", "optimizer", ("optimizer",)),
                  ("--batch-size", "batch_size", ("batch_size",)), ("--burn-in", "burn_in", ("burn_in",)),
                  ("--init", "init", ("init",)), ("--init-scale", "init_scale", ("init_scale",)),
                  ("--params", "params", ("init",)),
                  ("--mean-normalization", "mean_normalization", ("mean_normalization",)),
                  ("--no-user-bias", "no_user_bias", ("user_bias",)),
                  ("--no-movie-bias", "no_movie_bias", ("item_bias",)))
# Options of train whose values must be finite numbers (argparse's float takes nan and inf).
_FINITE_OPTIONS = (("--lr", "lr"), ("--reg", "reg"), ("--bias-reg", "bias_reg"), ("--init-scale", "init_scale"),
                   ("--test-fraction", "test_fraction"), ("--like-threshold", "like_threshold"),
                   ("--spark-reg", "spark_reg"))
_SPARK_OPTIONS = ("--master", "master"), ("--spark-reg", "spark_reg"), ("--model-dir", "model_dir")


def _given(args, options) -> list[str]:
    """The options of ``options`` ((name, attribute, ...) each) given on the command line."""
    values = [(option[0], getattr(args, option[1])) for option in options]
    return [name for name, value in values if value is not None and value is not False]  # 0 == False: --reg 0 is given


def _non_finite_option(args) -> str | None:
    import math

    for name, attribute in _FINITE_OPTIONS:
        value = getattr(args, attribute)
        if value is not None and not math.isfinite(value):
            return f"{name} must be a finite number, not {value}"
    return None


def _misplaced_options(args) -> str | None:
    """Options that no model of the chosen kind takes, or that the engine ignores, named in one line (or None)."""
    if args.engine != "spark" and _given(args, _SPARK_OPTIONS):
        return f"{', '.join(_given(args, _SPARK_OPTIONS))} apply with --engine spark"
    if args.engine == "spark":  # Spark's ALS maps --factors, --epochs, --reg and --seed (_run_spark)
        ignored = _given(args, [option for option in _MODEL_OPTIONS
                                if option[0] not in ("--factors", "--epochs", "--reg")])
        if args.reg is not None and args.spark_reg is not None:
            ignored.append("--reg (with --spark-reg)")
        if ignored:
            return f"{', '.join(ignored)} would change nothing for --engine spark"
    if args.model in ("mf", "dot_bias"):
        return None
    # --init, --params: starting parameters of matrix factorization's own kinds, whatever the class
    given = _given(args, [option for option in _MODEL_OPTIONS if option[0] in ("--init", "--params")])
    if given:
        return f"{', '.join(given)} apply to matrix factorization (--model mf or dot_bias), not {args.model}"
    return None


def _unused_options(args, model) -> str | None:
    """Options given that would change nothing for ``model`` as it is set up (its kind has no such setting, or
    its optimizer or its other settings leave it unused), named in one line (or None)."""
    known = type(model)._PARAM_NAMES
    unknown = [option[0] for option in _MODEL_OPTIONS
               if option[0] in _given(args, _MODEL_OPTIONS) and not set(option[2]) & set(known)]
    if unknown:
        return f"{', '.join(unknown)} would change nothing for --model {args.model}"
    optimizer = getattr(model, "optimizer", None)
    unused = []
    if args.lr is not None and optimizer == "als":
        unused.append("--lr (alternating least squares takes no steps; choose --optimizer gd, sgd or adam)")
    if args.batch_size is not None and optimizer in ("als", "gd"):
        unused.append(f"--batch-size ({optimizer} reads every rating each epoch; choose --optimizer sgd or adam)")
    if args.init_scale is not None and getattr(model, "init", "small") != "small":
        unused.append(f"--init-scale (it scales --init small, and the start is {model.init})")
    if args.bias_reg is not None and "user_bias" in known and not (model.user_bias or model.item_bias):
        unused.append("--bias-reg (the model learns no bias)")
    if unused:
        return f"{'; '.join(unused)} would change nothing"
    return None


def _start_from_files(model, args, ratings) -> str:
    """Give ``model`` the parameters of ``args.params``, matched to the ratings' users and movies; the model
    becomes the one the files describe (their biases, no offset unless --mean-normalization). Returns how
    the rows were matched."""
    from .io.params import align_parameters, read_parameters

    aligned = align_parameters(read_parameters(args.params, ratings.n_items, ratings.n_users), ratings)
    k = args.factors if args.factors is not None else aligned.n_factors
    model.set_params(init="given", n_factors=k, global_mean=False,
                     user_bias=aligned.user_bias is not None and not args.no_user_bias,
                     item_bias=aligned.item_bias is not None and not args.no_movie_bias)
    model.start_from(aligned.arrays(k))
    return f"{aligned.source}, {k} factors, rows {aligned.how}"


# --- info ------------------------------------------------------------------------------------------------
def run_info(args) -> int:
    """What the window's status bar says of a file, and what the reader decided on the way."""
    from .core.summary import ratings_summary
    from .io.project import SUFFIX, load_project
    from .io.readers import RatingsFileError, read_any

    path = args.ratings_file
    try:
        if path.lower().endswith(SUFFIX):
            ratings, file_format, duplicates, users_from, warnings = load_project(path).ratings, "project", 0, \
                "the project", []
        else:
            loaded = read_any(path)
            ratings, file_format, duplicates, users_from, warnings = (
                loaded.ratings, loaded.format, loaded.duplicates, loaded.users_from, _warnings_of(loaded))
    except RatingsFileError as error:
        _error(error)
        return EXIT_BAD_INPUT
    except OSError as error:
        _error(f"{path}: {error.strerror or error}")
        return EXIT_BAD_INPUT
    except (ValueError, MemoryError) as error:
        _error(f"{path}: {error or type(error).__name__}")
        return EXIT_BAD_INPUT
    scale = ratings.scale
    facts = {
        "file": path,
        "summary": ratings_summary(ratings),
        "users": ratings.n_users,
        "movies": ratings.n_items,
        "ratings": ratings.n_ratings,
        "density": ratings.density,
        "binary": bool(ratings.binary),
        "scale": {"low": scale.low, "high": scale.high, "step": scale.step},
        "duplicates": duplicates,
        "users_from": users_from,
        "format": file_format,
        "warnings": warnings,
    }
    if args.json:
        print(json.dumps(facts, default=_json_default))
        return 0
    print(f"{path}: {facts['summary']}")
    print(f"  users from: {users_from}")
    print(f"  scale: {'0/1 labels' if ratings.binary else scale.describe()}")
    print(f"  duplicates: {duplicates:,} (the last of each kept)" if duplicates else "  duplicates: none")
    print(f"  format: {file_format}")
    for warning in warnings:
        print(f"  warning: {warning}")
    return 0


def _run_spark(args, ratings) -> int:
    """``train --engine spark``: Spark MLlib's ALS on the same split (see cfexplorer/spark_als.py)."""
    from pathlib import Path

    from .core.ratings import train_test_split
    from .spark_als import missing_requirement, spark_reg_param, train_spark_als

    missing = missing_requirement()
    if missing:
        _error(missing)
        return EXIT_BAD_INPUT
    if args.binary or ratings.binary or args.model != "mf":
        _error("--engine spark trains Spark's ALS on explicit ratings: leave out --binary and --model")
        return EXIT_BAD_INPUT
    test_fraction = 0.2 if args.test_fraction is None else args.test_fraction  # None: the default
    train, test = train_test_split(ratings, test_fraction, args.seed)
    reg = 10.0 if args.reg is None else args.reg
    reg_param = args.spark_reg if args.spark_reg is not None else spark_reg_param(reg, train)
    model_dir = Path(args.model_dir or f"{Path(args.ratings_file).stem}-spark-als")
    print(f"cfexplorer: Spark ALS, rank {args.factors or 10}, maxIter {args.epochs or 10}, regParam {reg_param:.4g}"
          + ("" if args.spark_reg is not None else f" (= λ {reg:g} / mean ratings per user: Spark scales each "
             "user's and movie's penalty by its number of ratings)"), file=sys.stderr)
    try:
        results = train_spark_als(train, test, args.factors or 10, reg_param, args.epochs or 10, args.seed,
                                  args.master or "local[*]", model_dir)
    except Exception as error:  # noqa: BLE001 - Py4J and Spark raise their own kinds; the user needs one line
        _error(f"Spark failed: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}")
        return EXIT_TRAINING_FAILED
    results = {"model": "spark_als", "n_users": ratings.n_users, "n_items": ratings.n_items,
               "n_train": len(train), **results}
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:>22}: {f'{value:.4f}' if isinstance(value, float) else value}")
    return 0


def _all_finite(results: dict) -> bool:
    return all(not (isinstance(v, float) and v != v) for v in results.values())


def _json_default(value):
    return float(value)
