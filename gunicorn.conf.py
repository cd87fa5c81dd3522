"""gunicorn settings for the atlas (`make serve`, `make demo`)."""


def post_worker_init(worker):
    """Warm each worker's caches with the default view, so the first page load is fast."""
    from app import warm_up

    warm_up()
