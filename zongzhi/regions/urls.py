from django.urls import path

from zongzhi.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("new/", views.region_new, name="new"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/children/", views.children, name="children"),
]
