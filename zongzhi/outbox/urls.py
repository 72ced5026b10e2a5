from django.urls import path

from zongzhi.outbox import views

app_name = "outbox"
urlpatterns = [
    path("webhooks/", views.subscription_list, name="subscription_list"),
    path("webhooks/<int:pk>/", views.subscription_detail, name="subscription_detail"),
    path("webhooks/<int:pk>/deliveries/<uuid:delivery>/redeliver/", views.redeliver, name="redeliver"),
    path("exchange/", views.exchange_page, name="exchange"),
    path("sms/", views.sms_preference, name="sms"),
]
