r"""Unit 05 widget: a small computational graph, its forward values and its backward pass, step by step.

The graph computes

.. math:: f = \big(x\,y + \max(y, z)\big)\, w

with the three gates of the lecture: ``a = x * y`` and ``f = s * w`` (multiply), ``m = max(y, z)``
(max) and ``s = a + m`` (add). The input ``y`` feeds two gates, so its gradient is the sum of two
contributions. Step 0 shows the forward pass (every node's value); each further step runs the
backward pass one node further, in reverse topological order ``f, s, m, a``, and shows the
gradient ``df/d(node)`` reached so far and the contributions the current gate sends along its
edges::

    from nncourse.widgets.backprop_graph import BackpropGraph
    BackpropGraph().widget()        # in a notebook

Each gate's local derivatives are written out below (add: 1 and 1; multiply: the other input;
max: 1 for the larger input, 0 for the other, half each at a tie, like ``torch.maximum``). The
widget also takes the gradient of ``f`` by centred differences, to check the result of the last
step. It needs nothing but numpy and matplotlib: it runs on the edition of unit 05, before
``Value`` is written. ``update(x=..., step=...)`` recomputes and redraws without any display; the
figure is in ``self.png`` (PNG bytes), and a notebook cell ending with the widget shows it. What
the current step does is said in words by ``message()`` (under the figure in ``widget()``: text is
the slow part of a redraw, so the figure keeps to short labels).
"""
import html

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch

from .base import LiveFigure, Slider

INPUTS = ("x", "y", "z", "w")
# node: (gate, its two inputs, how the figure labels it); listed in a topological order
GATES = {
    "a": ("mul", ("x", "y"), "a = x·y"),
    "m": ("max", ("y", "z"), "m = max(y, z)"),
    "s": ("add", ("a", "m"), "s = a + m"),
    "f": ("mul", ("s", "w"), "f = s·w"),
}
NODES = INPUTS + tuple(GATES)
BACKWARD_ORDER = ("f", "s", "m", "a")  # reverse topological: a node after every node using it
STEPS = len(BACKWARD_ORDER) + 2        # step 0: forward only; 1: df/df = 1; then one gate each
EDGES = tuple((source, node) for node, (_, inputs, _) in GATES.items() for source in inputs)
USERS = {name: tuple(node for source, node in EDGES if source == name) for name in NODES}
GATE_NAMES = {"add": "add", "mul": "multiply", "max": "max"}
_SYMBOLS = {"add": "+", "mul": "×", "max": "max"}

POSITIONS = {"x": (0.0, 3.45), "y": (0.0, 1.95), "z": (0.0, 0.45), "a": (2.0, 2.9),
             "m": (2.0, 1.0), "s": (4.0, 2.0), "w": (4.0, 0.3), "f": (6.0, 1.15)}
RADIUS = 0.4
_VALUE_COLOR, _GRAD_COLOR, _IDLE_COLOR, _ACTIVE_COLOR = "#1a7f37", "#c62828", "0.62", "#c62828"


def local_derivatives(gate, first, second):
    """``(d out/d first, d out/d second)`` of a gate at the input values ``first``, ``second``."""
    if gate == "add":
        return 1.0, 1.0
    if gate == "mul":
        return second, first
    if gate == "max":
        if first == second:
            return 0.5, 0.5
        return (1.0, 0.0) if first > second else (0.0, 1.0)
    raise ValueError(f"unknown gate {gate!r}")


def _gate_output(gate, first, second):
    return {"add": first + second, "mul": first * second, "max": max(first, second)}[gate]


def evaluate(x, y, z, w):
    """The forward pass: ``{node: value}`` for the inputs and every gate, in topological order."""
    values = {"x": float(x), "y": float(y), "z": float(z), "w": float(w)}
    for node, (gate, (first, second), _) in GATES.items():
        values[node] = _gate_output(gate, values[first], values[second])
    return values


def _fmt(number):
    text = f"{number:.2f}"
    return "0.00" if text == "-0.00" else text


class BackpropGraph(LiveFigure):
    """The graph ``f = (x y + max(y, z)) w``: values, and the backward pass up to a chosen step.

    Parameters
    ----------
    x, y, z, w : float, default=-2, 3, 1, 2
        The inputs.
    step : int, default=0
        How far the backward pass has run: 0 is the forward pass alone, 1 sets ``df/df = 1``, and
        step ``k >= 2`` has run the local backward of the gates ``BACKWARD_ORDER[:k - 1]``.
    dpi : int, default=72
        Resolution of the rendered image.
    """

    CONTROLS = {
        "x": Slider(-4.0, 4.0, 0.1, "x", label_width="110px"),
        "y": Slider(-4.0, 4.0, 0.1, "y", label_width="110px"),
        "z": Slider(-4.0, 4.0, 0.1, "z", label_width="110px"),
        "w": Slider(-4.0, 4.0, 0.1, "w", label_width="110px"),
        "step": Slider(0, STEPS - 1, 1, "backward step", integer=True, label_width="110px"),
    }

    def __init__(self, x=-2.0, y=3.0, z=1.0, w=2.0, step=0, dpi=72):
        self.dpi = dpi
        self.values = {"x": float(x), "y": float(y), "z": float(z), "w": float(w)}
        self.step = 0
        self.state = {}
        self._build_figure()
        self.update(step=step)

    # ------------------------------------------------------------------ state
    def forward(self):
        """``{node: value}`` of every node for the current inputs."""
        return evaluate(*(self.values[name] for name in INPUTS))

    def backward(self, step=None):
        """The backward pass run up to ``step`` (default: the current one).

        Returns
        -------
        grads : dict
            ``df/d(node)`` accumulated so far, for the nodes the pass has reached.
        flows : dict
            For each edge ``(source, node)`` already passed, the contribution it carried,
            ``d node/d source * df/d node``.
        complete : set
            The nodes whose gradient is final: every node that uses them has passed its share.
        """
        step = self.step if step is None else int(step)
        values = self.forward()
        grads, flows, done = {}, {}, set()
        if step >= 1:
            grads["f"] = 1.0
        for node in BACKWARD_ORDER[:max(step - 1, 0)]:
            gate, inputs, _ = GATES[node]
            locals_ = local_derivatives(gate, values[inputs[0]], values[inputs[1]])
            for source, local in zip(inputs, locals_):
                flows[(source, node)] = local * grads[node]
                grads[source] = grads.get(source, 0.0) + flows[(source, node)]
            done.add(node)
        complete = {name for name in grads if all(user in done for user in USERS[name])}
        return grads, flows, complete

    def numerical_gradient(self, h=1e-5):
        """``{input: df/d input}`` by centred differences of the forward pass."""
        result = {}
        for name in INPUTS:
            up, down = dict(self.values), dict(self.values)
            up[name] += h
            down[name] -= h
            result[name] = (evaluate(*(up[n] for n in INPUTS))["f"]
                            - evaluate(*(down[n] for n in INPUTS))["f"]) / (2 * h)
        return result

    def message(self):
        """What the current step does, in words."""
        values = self.forward()
        grads, flows, _ = self.backward()
        if self.step == 0:
            return (f"forward pass: each node's value (green), from the inputs to f = {_fmt(values['f'])}.\n"
                    "Move the step to run the backward pass.")
        if self.step == 1:
            return ("backward step 1: start at the output with df/df = 1.\n"
                    "Every other gradient is built from it by the chain rule.")
        node = BACKWARD_ORDER[self.step - 2]
        gate, (first, second), label = GATES[node]
        g = _fmt(grads[node])
        head = f"backward step {self.step}: the {GATE_NAMES[gate]} gate {label} "
        if gate == "add":
            text = head + f"passes its gradient {g} unchanged to {first} and {second}."
        elif gate == "mul":
            text = (head + f"swaps its inputs: {first} gets {second} × {g} = "
                    f"{_fmt(flows[(first, node)])}, {second} gets {first} × {g} = "
                    f"{_fmt(flows[(second, node)])}.")
        else:
            a, b = values[first], values[second]
            if a == b:
                text = head + f"has a tie ({_fmt(a)} = {_fmt(b)}): each input gets half of {g}."
            else:
                winner, loser = (first, second) if a > b else (second, first)
                text = (head + f"routes {g} to the larger input {winner} "
                        f"({_fmt(values[winner])} > {_fmt(values[loser])}); {loser} gets 0.")
        for source in (first, second):
            if len(USERS[source]) > 1 and all(user in BACKWARD_ORDER[:self.step - 1]
                                              for user in USERS[source]):
                parts = " + ".join(_fmt(flows[(source, user)]) for user in USERS[source])
                text += (f"\n{source} is used by {' and '.join(USERS[source])}: its gradient adds "
                         f"both contributions, {parts} = {_fmt(grads[source])}.")
        if self.step == STEPS - 1:
            numeric = self.numerical_gradient()
            agree = max(abs(grads[name] - numeric[name]) for name in INPUTS) < 1e-6
            check = ", ".join(f"df/d{name} = {_fmt(numeric[name])}" for name in INPUTS)
            text += (f"\nCentred differences: {check}" + (" (they agree)." if agree else "."))
        else:
            text += "\n" + self._partial_note(grads)
        return text

    def _partial_note(self, grads):
        _, _, complete = self.backward()
        waiting = [name for name in grads if name not in complete]
        if waiting:
            return (f"{', '.join(waiting)}: only part of the gradient so far (used by "
                    f"{' and '.join(USERS[waiting[0]])}: the contributions add up).")
        return "Every gradient shown is complete."

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((9.4, 4.4))
        ax = self.fig.add_axes((0.01, 0.0, 0.98, 0.87))
        ax.set(xlim=(-0.9, 6.9), ylim=(-0.6, 4.15), aspect="equal")
        ax.axis("off")
        self.ax = ax
        a = {"edges": {}, "flows": {}, "values": {}, "grads": {}}
        for source, node in EDGES:
            start, end = np.array(POSITIONS[source]), np.array(POSITIONS[node])
            along = (end - start) / np.linalg.norm(end - start) * (RADIUS + 0.03)
            arrow = FancyArrowPatch(start + along, end - along, arrowstyle="-|>", mutation_scale=14,
                                    shrinkA=0, shrinkB=0, color=_IDLE_COLOR, linewidth=1.5)
            ax.add_patch(arrow)
            a["edges"][(source, node)] = arrow
            (x0, y0), (x1, y1) = POSITIONS[source], POSITIONS[node]
            a["flows"][(source, node)] = ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.13, "",
                                                 ha="center", va="bottom", fontsize=10,
                                                 color=_GRAD_COLOR, fontweight="bold")
        for name in NODES:
            cx, cy = POSITIONS[name]
            ax.add_patch(Circle((cx, cy), RADIUS, facecolor="#eef3fb" if name in INPUTS else "#fff6e0",
                                edgecolor="0.3", linewidth=1.3, zorder=3))
            ax.text(cx, cy + (0.1 if name in GATES else 0.0), name, ha="center", va="center",
                    fontsize=13, fontweight="bold", zorder=4)
            if name not in INPUTS:
                ax.text(cx, cy - 0.17, _SYMBOLS[GATES[name][0]], ha="center", va="center", fontsize=9, zorder=4,
                        color="0.25")
            a["values"][name] = ax.text(cx, cy + RADIUS + 0.05, "", ha="center", va="bottom",
                                        fontsize=11, color=_VALUE_COLOR, zorder=4)
            a["grads"][name] = ax.text(cx, cy - RADIUS - 0.05, "", ha="center", va="top",
                                       fontsize=10.5, color=_GRAD_COLOR, zorder=4)
        self.fig.text(0.015, 0.975, "f = (x·y + max(y, z))·w", fontsize=12, va="top",
                      fontweight="bold")
        self.fig.text(0.985, 0.975, "green: value (forward)    red: df/d(node) (backward)",
                      fontsize=10, va="top", ha="right", color="0.3")
        a["step"] = self.fig.text(0.015, 0.915, "", fontsize=11, va="top", color="0.15")
        self.artists = a
        self._animate()

    def _moving(self):
        a = self.artists
        return [*a["edges"].values(), *a["flows"].values(), *a["values"].values(),
                *a["grads"].values(), a["step"]]

    def update(self, **values):
        """Set any of the controls (``x``, ``y``, ``z``, ``w``, ``step``), recompute and redraw.

        Returns ``{"values": {node: value}, "grads": {node: df/dnode so far}, "flows": {edge:
        contribution}, "complete": nodes whose gradient is final, "step": int, "message": str}``;
        the rendered figure is in ``self.png``.
        """
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"BackpropGraph.update: unknown controls {sorted(unknown)}; "
                             f"the controls are {sorted(self.CONTROLS)}")
        if "step" in values:
            step = int(values.pop("step"))
            if not 0 <= step < STEPS:
                raise ValueError(f"BackpropGraph.update: step must be in 0..{STEPS - 1}, got {step}")
            self.step = step
        self.values.update({name: float(value) for name, value in values.items()})
        node_values = self.forward()
        grads, flows, complete = self.backward()
        current = BACKWARD_ORDER[self.step - 2] if self.step >= 2 else None
        a = self.artists
        for edge, arrow in a["edges"].items():
            active = edge[1] == current
            arrow.set_color(_ACTIVE_COLOR if active else ("0.35" if edge in flows else _IDLE_COLOR))
            arrow.set_linewidth(3.0 if active else 1.5)
            # only the edges of the current step are labelled: text is the slow part of a redraw
            a["flows"][edge].set_text(f"← {_fmt(flows[edge])}" if active else "")
        for name in NODES:
            a["values"][name].set_text(_fmt(node_values[name]))
            a["grads"][name].set_text(_fmt(grads[name]) + ("" if name in complete else " so far")
                                      if name in grads else "")
        a["step"].set_text(f"step {self.step} of {STEPS - 1}: "
                           + ("forward pass" if self.step == 0 else
                              "df/df = 1" if self.step == 1 else f"backward through {current}"))
        text = self.message()
        self.state = {"values": node_values, "grads": grads, "flows": flows,
                      "complete": complete, "step": self.step, "message": text}
        self._render()
        return self.state

    # --------------------------------------------------------------- controls
    def control_value(self, name):
        return self.step if name == "step" else self.values[name]

    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        back = widgets.Button(description="◀ back", layout=widgets.Layout(width="90px"))
        forward = widgets.Button(description="next ▶", layout=widgets.Layout(width="90px"))
        step = controls["step"]
        back.on_click(lambda _: setattr(step, "value", max(self.step - 1, 0)))
        forward.on_click(lambda _: setattr(step, "value", min(self.step + 1, STEPS - 1)))
        buttons.update(back=back, next=forward)
        inputs = widgets.HBox([widgets.VBox([controls["x"], controls["y"]]),
                               widgets.VBox([controls["z"], controls["w"]])])
        return [inputs, widgets.HBox([back, step, forward]), image, readout]

    def _readout(self):
        lines = html.escape(self.state["message"]).split("\n")
        return ("<div style='font-size: 14px; line-height: 1.5; max-width: 760px'>"
                + "<br>".join(lines) + "</div>")


def benchmark_case():
    """A widget and the control values the benchmark cycles through (slider moves)."""
    graph = BackpropGraph()
    values = [{"step": k} for k in range(STEPS)]
    values += [{"y": v} for v in (2.0, 1.0, 0.5, -1.0)]
    values += [{"x": 1.5}, {"z": 2.5}, {"w": -1.0}, {"step": 2}, {"step": 4}]
    return graph, values
