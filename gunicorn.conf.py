"""gunicorn settings for the atlas (`make serve`, `make demo`)."""


def post_worker_init(worker):
    """Warm each worker's caches with the default view, so the first page load is fast."""
    from app import warm_up

    warm_up()

# Idle keep-alive connections stay open this long (gthread workers park them without holding a
# thread). A reader's browser reuses its connections between clicks a few seconds apart; with
# gunicorn's default of 2 s the server closed them just as they were reused, and such a request
# failed with a reset connection (seen in the benchmark's journey).
keepalive = 30
