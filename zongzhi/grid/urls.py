from django.urls import path

from zongzhi.grid import views

app_name = "grid"
urlpatterns = [
    path("", views.my_grid, name="mine"),
    path("households/new/", views.household_new, name="household_new"),
    path("households/<str:code>/", views.household_detail, name="household"),
    path("households/<str:code>/residents/", views.resident_new, name="resident_new"),
    path("households/<str:code>/claim/", views.claim, name="claim"),
    path("households/<str:code>/season/", views.household_season, name="household_season"),
    path("residents/<int:pk>/unmask/", views.resident_unmask, name="unmask"),
    path("claims/<str:code>/", views.claim_rates, name="claims"),
    path("seasons/", views.season_calendars, name="seasons"),
    path("conflicts/<int:pk>/resolve/", views.conflict_resolve, name="conflict_resolve"),
]
