"""Gunicorn settings for Zongzhi (`make serve`, deploy/systemd/zongzhi-web.service).

Every value can be set from the environment file (deploy/zongzhi.env.example). Workers default to
2 × cores + 1 threaded workers: requests wait on the database far more than on the processor.
"""

import os

wsgi_app = "zongzhi.wsgi:application"
bind = os.environ.get("ZONGZHI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ZONGZHI_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("ZONGZHI_THREADS", "4"))
timeout = int(os.environ.get("ZONGZHI_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests, so a slow leak cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# The application logs each request itself (zongzhi.requestlog: JSON with the request id, the path
# without its query string); gunicorn's own access log would write query strings, so it stays off.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("ZONGZHI_GUNICORN_LOGLEVEL", "info")
# Only the reverse proxy on this machine may say which scheme the visitor used.
forwarded_allow_ips = os.environ.get("ZONGZHI_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "zongzhi"
