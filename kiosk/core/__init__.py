"""The shared core's I/O: what both the kiosk and the central store need beyond the pure domain.

`durable` opens a SQLite database the way both keep their promises (WAL,
`synchronous=FULL`, named migrations). The central store imports from
`kiosk` only `kiosk.domain` and `kiosk.core` (tests/test_layout.py).
"""
