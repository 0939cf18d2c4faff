"""The central store: takes the kiosks' logs, merges them, serves changes.

`db` holds all of its SQL, `merge` the pure rules that turn records into
current loans and flags, `app` the web service (FastAPI).
"""
