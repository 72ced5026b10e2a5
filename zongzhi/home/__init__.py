"""Pages above the apps: each persona's home and the pages that gather what several apps hold.

Every app below may be imported from here; nothing below imports this package (tests/test_layers.py).
"""
