"""Moved to :mod:`atlas.data.release` (the release source of the app's one data layer); kept as a name
for code that imports it."""
from atlas.data.release import *  # noqa: F401,F403
from atlas.data.release import nearest_published, periods  # noqa: F401
