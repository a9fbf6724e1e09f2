"""The pure domain: statuses and transitions, deadline rules as data, calendar arithmetic.

Standard library (plus `holidays`) only. Time is always a parameter.
"""
