from django.urls import path
from django.views.i18n import set_language

from zongzhi.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("language/", set_language, name="language"),
    path("centers/", views.centers, name="centers"),
    path("centers/<str:code>/", views.center, name="center"),
    path("verify/", views.verify, name="verify"),
    path("apply/", views.apply, name="apply"),
    path("receipt/", views.receipt, name="receipt"),
    path("track/", views.track, name="track"),
    path("track/act/", views.track_act, name="track_act"),
    path("track/agreement/", views.agreement, name="agreement"),
    path("track/<str:code>/", views.track_code, name="track_code"),
    path("open-days/", views.open_day_list, name="open_days"),
    path("open-days/<int:pk>/book/", views.open_day_book_view, name="open_day_book"),
]
