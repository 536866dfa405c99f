"""Plumbing shared by every app, knowing no app: REST errors, parsing, strict query
parameters and pagination (`rest`, `parsers`, `filters`), admin pages for huge or audited
tables (`admin_paginators`, `admin_history`), per-row aggregate subqueries (`subqueries`).
Not a Django app.
"""
