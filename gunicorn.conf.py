"""gunicorn settings for the atlas (`make serve`, `make demo`)."""
import os


def post_worker_init(worker):
    """Warm each worker's caches with the default view, so the first page load is fast."""
    from app import warm_up
    from atlas import answer_cache

    answer_cache.enabled = os.environ.get("ATLAS_ANSWER_CACHE", "1") != "0"    # atlas/answer_cache.py
    warm_up()

# Idle keep-alive connections stay open this long (gthread workers park them without holding a
# thread). A reader's browser reuses its connections between clicks a few seconds apart; with
# gunicorn's default of 2 s the server closed them just as they were reused, and such a request
# failed with a reset connection (seen in the benchmark's journey).
keepalive = 30


def on_starting(server):
    """Refuse to start on a missing, damaged or wrong-kind database (one message, exit code 3) rather
    than serve a blank atlas whose every answer fails (atlas.db.problem)."""
    import sys

    from atlas import db

    why = db.problem()
    if why:
        print(f"The atlas was not started: {why}", file=sys.stderr, flush=True)
        sys.exit(3)
