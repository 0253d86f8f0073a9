"""Folders in the layout Spark's ALSModel.save writes (metadata/ + userFactors/ and itemFactors/ parquet
with id and features), written here with pyarrow so that the tests need neither Spark nor Java."""

import json
from pathlib import Path

import numpy as np

ALS_METADATA = {"class": "org.apache.spark.ml.recommendation.ALSModel", "timestamp": 0, "sparkVersion": "4.3.0",
                "uid": "ALS_test", "paramMap": {}, "defaultParamMap": {}}


def write_spark_model(folder: Path, user_ids, user_factors, item_ids, item_factors, files: int = 2,
                      metadata: dict | None = ALS_METADATA) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as parquet

    folder.mkdir(parents=True, exist_ok=True)
    if metadata is not None:
        (folder / "metadata").mkdir(exist_ok=True)
        (folder / "metadata" / "part-00000-abc-c000.txt").write_text(json.dumps(metadata) + "\n")
        (folder / "metadata" / "_SUCCESS").write_text("")
    for part, ids, factors in (("userFactors", user_ids, user_factors), ("itemFactors", item_ids, item_factors)):
        (folder / part).mkdir(exist_ok=True)
        ids, factors = np.asarray(ids), np.asarray(factors, dtype=np.float32)
        for number, chunk in enumerate(np.array_split(np.arange(len(ids))[::-1], files)):  # partitions unordered
            table = pa.table({"id": pa.array(ids[chunk], type=pa.int32()),
                              "features": pa.array([list(map(float, row)) for row in factors[chunk]],
                                                   type=pa.list_(pa.float32()))})
            parquet.write_table(table, folder / part / f"part-{number:05d}-abc-c000.snappy.parquet")
    return folder
