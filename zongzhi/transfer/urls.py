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
]
