"""Tells the audit which request is being served, so entries written deep in a service carry its address."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from zongzhi.audit import services


class AuditRequestMiddleware:
    """Serves each request inside `services.serving(request)`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with services.serving(request):
            return self.get_response(request)
