"""The one compiled part (issue #18): core/_kernels.c, built where a C compiler is at hand.

``optional=True``: without a compiler the install still succeeds and core/kernels.py falls back to numpy
(slower, the same numbers). Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

# -O3 for the loops' vectorization; reassociation lets the dot products vectorize too (sums in another
# order: the same solutions to rounding, which the tests allow). Not -ffast-math: it would assume no NaN,
# and a diverging run's NaN must reach the check that reports it. -Wno-psabi: the four-double vectors are
# only ever inlined, so GCC's note on passing them is moot. The C uses GCC's and clang's vector extensions:
# MSVC cannot build it, and such an install trains with numpy (optional=True).
optimize = ["-O3", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math", "-Wno-psabi"]

setup(ext_modules=[
    Extension("cfexplorer.core._kernels", ["cfexplorer/core/_kernels.c"], extra_compile_args=optimize, optional=True),
])
