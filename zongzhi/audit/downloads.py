"""A file handed to a person: after the caller's scoped lookup found it, one audit entry, then the response.

The name the browser saves it under is the caller's, made of what the file is and a number or a date
(`走访照片-12.png`), never of an uploaded file's name, which may hold a person's name. Nothing of it is
cached on the way: the file was read under somebody's rights.
"""

from typing import Any, BinaryIO

from django.http import FileResponse, HttpRequest

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record


def audited_download(
    *,
    opened: BinaryIO,
    actor: Any,
    request: HttpRequest | None,
    target: str,
    detail: dict[str, Any],
    filename: str,
    content_type: str,
    inline: bool = False,
) -> FileResponse:
    """The FileResponse of `opened`, audited as a download of `target`; `inline` for what a page shows (a photo)."""
    try:
        audit_record(
            action=AuditEntry.Action.FILE_DOWNLOADED, actor=actor, target=target, request=request, detail=detail
        )
    except BaseException:
        opened.close()
        raise
    response = FileResponse(opened, as_attachment=not inline, filename=filename, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
