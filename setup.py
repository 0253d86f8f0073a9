"""The compiled parts (issue #18), built where a C compiler is at hand: core/_kernels.c (training's hot loops)
and io/_numbers.c (a ratings file's numbers parsed from its bytes).

``optional=True``: without a compiler the install still succeeds; core/kernels.py falls back to numpy and
io/numeric_columns.py to pandas' parser (slower, the same numbers). Everything else about the package is in
pyproject.toml."""

from setuptools import Extension, setup

# -O3 for the loops' vectorization; reassociation lets the dot products vectorize too (sums in another
# order: the same solutions to rounding, which the tests allow). Not -ffast-math: it would assume no NaN,
# and a diverging run's NaN must reach the check that reports it. -Wno-psabi: the four-double vectors are
# only ever inlined, so GCC's note on passing them is moot. The C uses GCC's and clang's vector extensions:
# MSVC cannot build it, and such an install trains with numpy (optional=True).
optimize = ["-O3", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math", "-Wno-psabi"]

setup(ext_modules=[
    Extension("cfexplorer.core._kernels", ["cfexplorer/core/_kernels.c"], depends=["cfexplorer/core/_kernels_lanes.h"],
              extra_compile_args=optimize, optional=True),
    # -O2 and no reassociation: a parser has no loops to vectorize, and its one rounding must stay one
    Extension("cfexplorer.io._numbers", ["cfexplorer/io/_numbers.c"], extra_compile_args=["-O2"], optional=True),
])
