from django.urls import path

from zongzhi.accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/totp/", views.totp_view, name="totp"),
    path("login/enrol/", views.enrol_view, name="enrol"),
    path("login/password/", views.password_change_view, name="password_change"),
    path("logout/", views.logout_view, name="logout"),
    path("admin/users/", admin_views.user_list, name="user_list"),
    path("admin/users/new/", admin_views.user_create, name="user_create"),
    path("admin/users/<int:pk>/", admin_views.user_detail, name="user_detail"),
    path("security/", admin_views.security, name="security"),
    path("security/unlock/<int:pk>/", admin_views.unlock, name="unlock"),
    path("security/users/<int:pk>/", admin_views.rights, name="rights"),
    path("credential-resets/", admin_views.resets, name="resets"),
    path("credential-resets/<int:pk>/", admin_views.reset, name="reset"),
    path("audit/", admin_views.audit_log, name="audit_log"),
]
