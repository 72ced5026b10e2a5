from django.urls import path

from zongzhi.integration import views

app_name = "integration"

urlpatterns = [
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    path("accounts/<int:pk>/tokens/new/", views.token_new, name="token_new"),
    path("tokens/<int:pk>/rotate/", views.token_rotate, name="token_rotate"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
