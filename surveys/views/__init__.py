"""Survey pages: the public answer page (surveys.views.public) and the CSM results (surveys.views.staff)."""
