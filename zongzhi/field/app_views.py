"""The offline field app's pages: its shell, its service worker and its web manifest (docs/field-app.md).

The shell holds no business data: the households and residents reach the phone only from the
authenticated API (`/api/v1/field/offline`) and go into IndexedDB. The service worker caches the
shell and its static files, nothing else; it and the manifest carry nothing personal either.
"""

import hashlib
import json

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.accounts.decorators import staff_page

# What the service worker keeps for offline use: the shell's own files (fonts are left to the phone).
SHELL_FILES = (
    "css/app.css",
    "css/fieldapp.css",
    "vendor/htmx/htmx.min.js",
    "js/app.js",
    "js/fieldapp.js",
    "img/field-app-192.png",
    "img/field-app-512.png",
)


def _strings() -> dict[str, str]:
    """The app's messages, translated here and rendered into the page as JSON (no inline script)."""
    return {
        "draft": _("草稿"),
        "queued": _("待同步"),
        "uploading": _("上传照片"),
        "sending": _("同步中"),
        "done": _("已同步"),
        "conflict": _("有冲突"),
        "refused": _("被退回"),
        "online": _("在线"),
        "offline": _("离线：记录保存在本机，联网后同步"),
        "downloaded": _("离线数据下载于"),
        "never": _("尚未下载离线数据，请在有信号时打开本页。"),
        "download_failed": _("离线数据下载失败，继续使用本机已有数据。"),
        "login_again": _("登录已过期：请重新登录后同步（记录仍保存在本机）。"),
        "saved": _("已保存到待同步队列。"),
        "visit": _("走访"),
        "dispute": _("纠纷上报"),
        "claim": _("认领"),
        "resident": _("新增人员"),
        "mobile_stop": _("乌日特服务"),
        "confirm": _("仍然上报"),
        "retry": _("重新提交"),
        "edit": _("修改"),
        "discard": _("放弃"),
        "photos": _("照片"),
        "no_households": _("没有可显示的户。"),
        "claimed_by": _("认领："),
        "unclaimed": _("未认领"),
        "mine": _("本网格"),
        "logout_unsynced": _("还有 %(n)s 条记录没有同步，退出将从本机删除它们。仍要退出吗？"),
        "required": _("请填写：%(f)s"),
        "choose": _("请选择"),
        "position_failed": _("无法获取位置。"),
        "nothing": _("队列为空。"),
        "residents": _("人"),
        "stop_free": _("计划外地点"),
    }


@staff_page(access.may_read_business)
def app_shell(request: HttpRequest) -> HttpResponse:
    """The installable app's page: forms and the queue, drawn by static/js/fieldapp.js from IndexedDB."""
    get_token(request)  # the CSRF cookie the app's API calls send back
    config = {
        "offline": reverse("api:offline"),
        "sync": reverse("api:sync_record"),
        "uploads": reverse("api:upload_new"),
        "sw": reverse("field:app_sw"),
        "scope": reverse("field:app"),
        "logout": reverse("accounts:logout"),
    }
    return render(request, "field/app.html", {"strings": _strings(), "config": config})


def _version(urls: list[str]) -> str:
    digest = hashlib.sha256(json.dumps(urls).encode())
    for name in SHELL_FILES:
        found = finders.find(name)
        if isinstance(found, str):
            with open(found, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:16]


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the app's own path so that its scope is the app (public: it holds no data)."""
    urls = [static(name) for name in SHELL_FILES]
    body = render(
        request,
        "field/sw.js",
        {"shell": json.dumps([reverse("field:app"), *urls]), "version": json.dumps(_version(urls))},
    ).content
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


def manifest(request: HttpRequest) -> HttpResponse:
    """The web manifest that makes the app installable (public: names and icons only)."""
    scope = reverse("field:app")
    data = {
        "name": _("综治网格通（离线工作台）"),
        "short_name": _("网格通"),
        "lang": "zh-Hans",
        "start_url": scope,
        "scope": scope,
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": "#a31d1d",
        "icons": [
            {"src": static("img/field-app-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/field-app-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        ],
    }
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json")
