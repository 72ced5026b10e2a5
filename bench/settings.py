"""The platform's settings with the benchmark's URLs (the platform plus the bare endpoints)."""

from zongzhi.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
