"""Live widgets of the lectures and exercises (ipywidgets 8 with matplotlib), one module per unit.

Each widget separates its state and its drawing (``update(...)`` redraws the figure for new slider
values) from the ipywidgets controls, so that tests and benchmarks can call ``update`` directly.
"""
