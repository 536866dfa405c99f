"""URLs of the churn model pages."""

from django.urls import path

from web import churn_views as views

app_name = "churn"

urlpatterns = [
    path("churn/model/", views.model_card, name="model"),
    path("customers/<int:pk>/churn/", views.account_risk, name="account-risk"),
]
