from django.urls import path

from zongzhi.transfer import views

app_name = "transfer"
urlpatterns = [
    path("import/", views.upload, name="upload"),
    path("import/templates/<str:kind>.xlsx", views.template_download, name="template"),
    path("import/jobs/<int:pk>/", views.job_detail, name="job"),
    path("import/jobs/<int:pk>/progress/", views.job_progress, name="progress"),
    path("import/jobs/<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("import/jobs/<int:pk>/rejects.xlsx", views.job_rejects, name="rejects"),
    path("export/<str:name>.<str:fmt>", views.export, name="export"),
    path("exports/", views.export_jobs_page, name="export_jobs"),
    path("exports/<int:pk>/", views.export_job_detail, name="export_job"),
    path("exports/<int:pk>/progress/", views.export_job_progress, name="export_progress"),
    path("exports/<int:pk>/download/", views.export_job_download, name="export_download"),
]
