"""Reading import and export jobs: each is its owner's (anyone else's answers 404, like a missing one)."""

from typing import Any

from django.db.models import QuerySet

from zongzhi.transfer.models import ExportJob, ImportJob


def imports_of(user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(created_by=user)


def exports_of(user: Any) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(created_by=user)
