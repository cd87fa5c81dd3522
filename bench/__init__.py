"""The benchmark: build, pandas baseline, release, the app's callbacks and a many-reader journey.

    python -m bench [--scale 1.0]          (the same as ``python -m etl bench``; ``make bench``)

Modules, in the order a run uses them: ``options`` (the command line), ``steps`` (generation,
build, pandas baseline and release, each in a child process: ``processes``, ``pandas_baseline``),
``server`` (gunicorn), ``payloads`` (what the browser sends), ``callbacks`` (page weight and
callback times, one request at a time), ``journey`` (many readers at once), ``report`` (targets
and the table), ``machine``; ``run`` ties them together. What each figure means: bench/README.md.
"""
