"""audiofeed: health Q&A pages in, podcast feeds whose durations match the listed runtimes out."""

import os as _os

# Parallelism comes from the process pool, one answer per worker; BLAS threads inside each
# worker would only fight over the same cores (measured: -j 2 gained 1.1x with them, see README).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
