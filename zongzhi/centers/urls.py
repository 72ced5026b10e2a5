from django.urls import path

from zongzhi.centers import views

app_name = "centers"
urlpatterns = [
    path("", views.center_list, name="list"),
    path("presences/new/", views.presence_new, name="presence_new"),
    path("service-areas/", views.service_areas, name="service_areas"),
    path("<str:code>/", views.center_detail, name="detail"),
]
