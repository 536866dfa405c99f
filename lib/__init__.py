"""Plumbing shared by every app's interfaces, knowing no app: REST errors, parsing,
strict query parameters and pagination (`rest`, `parsers`, `filters`), and admin pages
for huge or audited tables (`admin_paginators`, `admin_history`). Not a Django app.
"""
