"""Kiosk hardware behind swappable drivers.

This package knows nothing of the kiosk: devices report input through
callbacks (like gpiozero's `when_*`) and take orders through small methods.
Only the real driver modules import hardware libraries; `fake` drivers are
complete stand-ins that record what they were told.
"""
