"""A stand-in for fast.ai's ``collab_filter.xlsx`` (course22), built with openpyxl: the real workbook is not
available offline, so its layout is rebuilt as the issue and the course notes describe it.

Sheet ``dotprod``: the rating crosstab in G1:V16 (user ids down column G, movie ids along row 1, the corner
"movieId" as a notebook shows a crosstab), the users' five factors beside it in B2:F16, the movies' factors
below it in H18:V22, and the predictions block H25:V39 (``=IF(H2="",0,MMULT($B2:$F2,H$18:H$22))``) labelled by
formulas copying the ids, with the RMSE beside it. Sheet ``bias``: the same with a bias column and row. Sheets
``movielens_1hot`` and ``movielens_emb``: the same ratings as a long table (userId, movieId, rating, the
indexes, one-hot columns or embedding lookups). Formula cells carry cached values, as Excel saves them (a
reader sees the predictions as numbers, not blanks). The factors are fitted by least squares, as Excel's
solver would leave them, so the sheet's RMSE is that of a trained 5-factor dot product.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import numpy as np

# fast.ai's 15 most active users and 15 most rated movies of MovieLens latest-small (2017 edition)
USER_IDS = [14, 29, 72, 211, 212, 293, 310, 379, 451, 467, 508, 546, 563, 579, 623]
MOVIE_IDS = [27, 49, 57, 72, 79, 89, 92, 99, 143, 179, 180, 197, 402, 417, 505]
K = 5


@dataclass
class Workbook:
    """What was written: the ratings (users × movies, NaN where not rated) and the sheet's own RMSE."""

    ratings: np.ndarray
    user_ids: list
    movie_ids: list
    user_factors: np.ndarray
    movie_factors: np.ndarray
    rmse: float


def planted_ratings(seed: int = 0, missing: float = 0.2) -> np.ndarray:
    """15 × 15 half-star ratings with two tastes in them, a fifth of them missing."""
    rng = np.random.default_rng(seed)
    tastes = rng.normal(0, 1, (15, 2))
    kinds = rng.normal(0, 1, (15, 2))
    raw = 3.2 + 0.7 * tastes @ kinds.T + rng.normal(0, 0.3, (15, 15))
    ratings = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
    ratings[rng.random((15, 15)) < missing] = np.nan
    return ratings


def fitted_factors(ratings: np.ndarray, k: int = K, sweeps: int = 60, seed: int = 0):
    """Users' and movies' factors minimising the squared error on the rated cells (alternating least
    squares with a whisker of damping, as a solver would converge)."""
    rng = np.random.default_rng(seed)
    users, movies = rng.normal(0, 0.5, (ratings.shape[0], k)), rng.normal(0, 0.5, (ratings.shape[1], k))
    rated = ~np.isnan(ratings)
    damping = 1e-3 * np.eye(k)
    for _ in range(sweeps):
        for u in range(len(users)):
            x = movies[rated[u]]
            users[u] = np.linalg.solve(x.T @ x + damping, x.T @ ratings[u, rated[u]])
        for m in range(len(movies)):
            w = users[rated[:, m]]
            movies[m] = np.linalg.solve(w.T @ w + damping, w.T @ ratings[rated[:, m], m])
    return users, movies


def _cached(sheet_xml: str, values: dict[str, float]) -> str:
    """Formula cells of a sheet's XML given the values Excel would have cached in them."""
    def fill(match):
        reference = match.group(1)
        if reference not in values:
            return match.group(0)
        return f'<c r="{reference}"{match.group(2)}><f>{match.group(3)}</f><v>{values[reference]!r}</v></c>'
    return re.sub(r'<c r="([A-Z]+\d+)"([^>]*)><f>(.*?)</f><v\s*/></c>', fill, sheet_xml)


def _letter(column: int) -> str:
    from cfexplorer.io.tables import column_name

    return column_name(column)


def collab_filter_bytes(ratings: np.ndarray | None = None, corner: str = "movieId", long_sheets: bool = True,
                        seed: int = 0) -> tuple[bytes, Workbook]:
    """The workbook's bytes and what it holds. ``long_sheets`` False leaves out the two long-table sheets
    (then nothing but the corner speaks of the crosstab's orientation)."""
    import openpyxl

    ratings = planted_ratings(seed) if ratings is None else ratings
    user_f, movie_f = fitted_factors(ratings)
    rated = ~np.isnan(ratings)
    predictions = np.where(rated, user_f @ movie_f.T, 0.0)
    rmse = float(np.sqrt(np.mean((predictions[rated] - ratings[rated]) ** 2)))

    workbook = openpyxl.Workbook()
    cached: dict[str, dict[str, float]] = {}
    for title, with_bias in (("dotprod", False), ("bias", True)):
        sheet = workbook.active if title == "dotprod" else workbook.create_sheet(title)
        sheet.title = title
        values = cached.setdefault(title, {})
        sheet["G1"] = corner
        for m, movie in enumerate(MOVIE_IDS):
            column = _letter(8 + m)
            sheet[f"{column}1"] = movie
            for f in range(K):
                sheet[f"{column}{18 + f}"] = round(float(movie_f[m, f]), 6)  # the movies' factors, below
            sheet[f"{column}24"] = f"={column}1"
            values[f"{column}24"] = movie
            if with_bias:
                sheet[f"{column}23"] = 0.0  # the movies' biases, under their factors
        for u, user in enumerate(USER_IDS):
            row = 2 + u
            sheet[f"G{row}"] = user
            for f in range(K):
                sheet[f"{_letter(2 + f)}{row}"] = round(float(user_f[u, f]), 6)  # the users' factors, beside
            if with_bias:
                sheet[f"A{row}"] = 0.0  # the users' biases, left of their factors
            sheet[f"G{25 + u}"] = f"=G{row}"
            values[f"G{25 + u}"] = user
            for m in range(len(MOVIE_IDS)):
                column = _letter(8 + m)
                if rated[u, m]:
                    value = float(ratings[u, m])
                    sheet[f"{column}{row}"] = int(value) if value == int(value) else value
                bias = f"+$A{row}+{column}$23" if with_bias else ""
                sheet[f"{column}{25 + u}"] = f'=IF({column}{row}="",0,MMULT($B{row}:$F{row},{column}$18:{column}$22){bias})'
                values[f"{column}{25 + u}"] = round(float(predictions[u, m]), 6)
        sheet["X24"] = "RMSE"
        sheet["X25"] = "=SQRT(SUMXMY2(H2:V16,H25:V39)/COUNT(H2:V16))"
        values["X25"] = round(rmse, 6)

    if long_sheets:
        users, movies = np.nonzero(rated)
        hot = workbook.create_sheet("movielens_1hot")
        for column, name in enumerate(("userId", "movieId", "rating", "user_idx", "movie_idx"), start=1):
            hot.cell(1, column, name)
        for position in range(len(USER_IDS)):
            hot.cell(1, 7 + position, position + 1)  # the one-hot columns' header: 1..15
        emb = workbook.create_sheet("movielens_emb")
        for column, name in enumerate(("userId", "movieId", "rating", "user_idx", "movie_idx"), start=1):
            emb.cell(1, column, name)
        emb_values = cached.setdefault("movielens_emb", {})
        for row, (u, m) in enumerate(zip(users, movies), start=2):
            value = float(ratings[u, m])
            for sheet in (hot, emb):
                sheet.cell(row, 1, USER_IDS[u])
                sheet.cell(row, 2, MOVIE_IDS[m])
                sheet.cell(row, 3, int(value) if value == int(value) else value)
                sheet.cell(row, 4, int(u + 1))
                sheet.cell(row, 5, int(m + 1))
            for position in range(len(USER_IDS)):
                hot.cell(row, 7 + position, int(position == u))
            for f in range(K):
                reference = f"{_letter(7 + f)}{row}"
                emb[reference] = f"=OFFSET(dotprod!$B$1,D{row},{f})"
                emb_values[reference] = round(float(user_f[u, f]), 6)

    buffer = io.BytesIO()
    workbook.save(buffer)
    names = {sheet.title: f"xl/worksheets/sheet{position}.xml"
             for position, sheet in enumerate(workbook.worksheets, start=1)}
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    for title, values in cached.items():
        part = names[title]
        parts[part] = _cached(parts[part].decode("utf-8"), values).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue(), Workbook(ratings, USER_IDS, MOVIE_IDS, user_f, movie_f, rmse)


def write_collab_filter(path, **options) -> Workbook:
    data, described = collab_filter_bytes(**options)
    with open(path, "wb") as handle:
        handle.write(data)
    return described
