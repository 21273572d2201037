"""Live widgets of the lectures and exercises (ipywidgets 8 with matplotlib), one module per widget.

Every widget is a ``base.LiveFigure``: its state and drawing (``update(...)`` redraws the figure for
new control values, leaving PNG bytes in ``png``) are apart from the ipywidgets controls, so tests
and benchmarks call ``update`` directly. Widgets that run a network are handed the nnlib to use
(``nn=``), by default the one the notebook imports.
"""
