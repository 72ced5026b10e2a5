from django.urls import path

from . import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/pack.<str:fmt>", views.meeting_pack, name="pack"),
    path("items/<int:pk>/", views.item_decide, name="item"),
]
