"""What every live widget shares: a figure redrawn over a cached background, its PNG, its controls.

A widget keeps its state apart from its drawing. ``update(**values)`` recomputes and redraws without
any display (what tests and benchmarks call) and leaves the figure in ``png``, as bytes. Redrawing
is blitting: the static parts of the figure (axes, ticks, labels, legends) are rendered once into a
background; each redraw restores it and draws only the artists of ``_moving()``, which is what keeps
a slider under 150 ms. ``CONTROLS`` declares the controls as data (``Slider``, ``LogSlider``,
``Steps``, ``Choice``, ``Switch``, ``Number``, ``Toggle``); ``controls()`` builds the ipywidgets
from it and ``widget()`` wires them to ``update``.
"""
import io
import math
from dataclasses import dataclass

import PIL.Image
import PIL.ImageFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def canvas_image(canvas):
    """The pixels of an Agg canvas as an RGB ``PIL.Image`` (the figures are opaque)."""
    width, height = canvas.get_width_height(physical=True)
    image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    return image.convert("RGB")


def png_bytes(image):
    """``image`` encoded as PNG at the fastest compression (RGB: a third of RGBA's encoding time)."""
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def pixel_fonts(sizes, dpi):
    """DejaVu Sans at each point size of ``sizes``, for text written onto the pixels with PIL
    (matplotlib would lay out and render each changing text anew, a millisecond or more apiece)."""
    path = font_manager.findfont("DejaVu Sans")
    return {size: PIL.ImageFont.truetype(path, max(6, round(size * dpi / 72))) for size in sizes}


def _looks(label_width, width):
    """The ``style`` and ``layout`` of a control: its label's width and its own (CSS sizes)."""
    import ipywidgets as widgets

    return {"style": {"description_width": label_width} if label_width else {},
            "layout": widgets.Layout(width=width) if width else widgets.Layout()}


@dataclass(frozen=True)
class Slider:
    """A slider from ``low`` to ``high`` by ``step``; whole numbers when ``integer``."""
    low: float
    high: float
    step: float
    label: str
    integer: bool = False
    label_width: str = ""
    width: str = ""
    continuous: bool = True  # False: one update when the slider is let go, not one per pixel

    def make(self, value):
        import ipywidgets as widgets

        kind = widgets.IntSlider if self.integer else widgets.FloatSlider
        return kind(value=value, min=self.low, max=self.high, step=self.step,
                    description=self.label, continuous_update=self.continuous,
                    **_looks(self.label_width, self.width))


@dataclass(frozen=True)
class Steps:
    """A slider over the values of ``options`` (e.g. learning rates 0.001, 0.003, 0.01, ...)."""
    options: tuple
    label: str
    label_width: str = ""
    width: str = ""
    continuous: bool = True

    def make(self, value):
        import ipywidgets as widgets

        options = tuple(sorted(set(self.options) | {value}))  # a value set in code may be off the grid
        return widgets.SelectionSlider(options=options, value=value, description=self.label,
                                       continuous_update=self.continuous,
                                       **_looks(self.label_width, self.width))


@dataclass(frozen=True)
class LogSlider:
    """A slider over ``low`` to ``high`` on a log scale, ``step`` in powers of ten."""
    low: float
    high: float
    step: float
    label: str
    label_width: str = ""
    readout_format: str = ".2g"
    width: str = ""

    def make(self, value):
        import ipywidgets as widgets

        return widgets.FloatLogSlider(value=value, base=10, min=math.log10(self.low),
                                      max=math.log10(self.high), step=self.step,
                                      description=self.label, readout_format=self.readout_format,
                                      continuous_update=True, **_looks(self.label_width, self.width))


@dataclass(frozen=True)
class Switch:
    """On or off, as a checkbox."""
    label: str

    def make(self, value):
        import ipywidgets as widgets

        return widgets.Checkbox(value=value, description=self.label)


@dataclass(frozen=True)
class Number:
    """A whole number from ``low`` to ``high``, typed or stepped with the arrows (a small box)."""
    low: int
    high: int
    label: str = ""
    label_width: str = ""
    width: str = ""

    def make(self, value):
        import ipywidgets as widgets

        return widgets.BoundedIntText(value=value, min=self.low, max=self.high,
                                      description=self.label, **_looks(self.label_width, self.width))


@dataclass(frozen=True)
class Toggle:
    """On or off, as a button that stays pressed (``label`` is its text)."""
    label: str
    width: str = ""

    def make(self, value):
        import ipywidgets as widgets

        return widgets.ToggleButton(value=value, description=self.label, **_looks("", self.width))


@dataclass(frozen=True)
class Choice:
    """One of ``options``, as toggle buttons or (``dropdown=True``) a dropdown."""
    options: tuple  # values, or (label, value) pairs
    label: str
    dropdown: bool = False
    label_width: str = ""
    width: str = ""

    def make(self, value):
        import ipywidgets as widgets

        kind = widgets.Dropdown if self.dropdown else widgets.ToggleButtons
        return kind(options=list(self.options), value=value, description=self.label,
                    **_looks(self.label_width, self.width))


class LiveFigure:
    """Base of the widgets: see the module's docstring. A subclass sets ``CONTROLS``, builds its
    figure after ``_new_figure``, names its changing artists in ``_moving`` and calls ``_render``
    at the end of ``update``."""

    CONTROLS = {}  # name: Slider, LogSlider, Steps, Choice or Switch, in the order shown
    png = b""      # the figure as drawn last

    def _new_figure(self, figsize, **options):
        """A fresh figure and its Agg canvas (``self.fig``, ``self.canvas``), nothing drawn yet."""
        self.fig = Figure(figsize=figsize, dpi=self.dpi, **options)
        self.canvas = FigureCanvasAgg(self.fig)
        self._background = None
        return self.fig

    def _animate(self):
        """Leave the artists of ``_moving`` out of the cached background: call once they exist."""
        for artist in self._moving():
            artist.set_animated(True)
        self._background = None

    def _moving(self):
        """The artists an update may change, in drawing order (later ones on top)."""
        return []

    def _draw_background(self):
        """Render everything static and keep it (again whenever ``_background`` is set to None)."""
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _render(self):
        """Restore the background, draw the moving artists and encode the figure in ``png``."""
        if self._background is None:
            self._draw_background()
        else:
            self.canvas.restore_region(self._background)
        for artist in self._moving():
            self.fig.draw_artist(artist)
        self.png = self._encode()

    def _encode(self):
        """The canvas as PNG bytes; widgets that write text onto the pixels override this."""
        return png_bytes(canvas_image(self.canvas))

    def _repr_png_(self):
        # A notebook cell ending with the widget shows its figure as an image.
        return self.png

    # --------------------------------------------------------------- controls
    def control_specs(self):
        """The declaration ``controls()`` builds from: ``CONTROLS``, or for ranges that depend on
        the data, one computed now."""
        return self.CONTROLS

    def control_value(self, name):
        """The current value of the control ``name`` (what its ipywidget starts at)."""
        return self.values[name]

    def controls(self):
        """One ipywidget per declared control, set to the current values."""
        return {name: spec.make(self.control_value(name))
                for name, spec in self.control_specs().items()}

    def _readout(self):
        """HTML shown under the controls after every update ("" for none)."""
        return ""

    def _layout(self, controls, image, readout, buttons):
        """The rows of the widget: by default all controls in one row, the readout, the figure.

        A widget with buttons makes them here, wires them, and adds them to ``buttons`` by name.
        """
        import ipywidgets as widgets

        return [widgets.HBox(list(controls.values())), readout, image]

    def _on_control(self, name, value, controls):
        """The student set the control ``name`` to ``value`` (``controls``: all of them, for
        settings made of several): by default ``update(name=value)``."""
        self.update(**{name: value})

    def _after_update(self, box):
        """Bring the widget's other parts (readout, ranges) up to date after an update."""
        box.image.value = self.png
        box.readout.value = self._readout()

    def widget(self):
        """The controls, the readout and the live figure, as an ``ipywidgets.VBox``."""
        import ipywidgets as widgets

        controls = self.controls()
        image = widgets.Image(value=self.png, format="png")
        readout = widgets.HTML(value=self._readout())
        buttons = {}
        box = widgets.VBox(self._layout(controls, image, readout, buttons))
        box.controls, box.image, box.readout, box.buttons = controls, image, readout, buttons
        updating = []  # a control moved by _after_update, not by the student, changes nothing

        def observer(name):
            def changed(change):
                if updating:
                    return
                updating.append(name)
                try:
                    self._on_control(name, change["new"], controls)
                    self._after_update(box)
                finally:
                    updating.clear()
            return changed

        for name, control in controls.items():
            control.observe(observer(name), names="value")
        return box
