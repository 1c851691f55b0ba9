"""operations: action days across agencies, their live metrics and published reports.

Owns operations (lead agency, participants and roles, time window, targets,
status), their item sets (by import, query or one by one, each agency's
contribution credited), the live metrics (SQL aggregates), the statistics of
time-to-removal (Kaplan–Meier, ``stats``), server-side SVG charts, preliminary
and final reports (JSON, HTML, PDF, CSV), and the authority's annual TCO Art. 8
transparency report with the legal events it needs (scrutiny, exposure,
review proceedings, penalties).
"""
