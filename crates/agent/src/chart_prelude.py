# Run by daytona-native-agent before user code that uses matplotlib: figures shown with
# plt.show() are printed as one artifact line each (the agent removes those lines from the
# output and returns them as charts). Usage: python3 -u prelude.py CODE_FILE [ARGS...]
import base64
import io
import json
import runpy
import sys

MARK = "dtn_artifact_k39fd2:"


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def _ticks(ax, which):
    axis = ax.xaxis if which == "x" else ax.yaxis
    low, high = sorted(axis.get_view_interval())
    locs, labels = [], []
    # Only ticks inside the visible range (matplotlib also reports ones just outside it).
    for loc, label in zip(axis.get_ticklocs(), axis.get_ticklabels()):
        if low <= loc <= high:
            locs.append(_num(loc))
            labels.append(label.get_text())
    return locs, labels


def _axes_chart(ax):
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.patches import Wedge

    chart = {"title": ax.get_title(), "elements": []}
    wedges = [p for p in ax.patches if isinstance(p, Wedge)]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_child")]
    if wedges:
        chart["type"] = "pie"
        for w in wedges:
            chart["elements"].append({"label": w.get_label(), "angle": _num(w.theta2 - w.theta1), "radius": _num(w.r)})
        return chart
    chart["x_label"] = ax.get_xlabel()
    chart["y_label"] = ax.get_ylabel()
    if bars:
        chart["type"] = "bar"
        locs, labels = _ticks(ax, "x")
        for c in bars:
            for rect in c:
                x = rect.get_x() + rect.get_width() / 2
                label = ""
                if locs:
                    i = min(range(len(locs)), key=lambda k: abs(locs[k] - x) if isinstance(locs[k], float) else 0)
                    label = labels[i] if i < len(labels) else ""
                chart["elements"].append({"label": label, "group": c.get_label() or "", "value": _num(rect.get_height())})
        return chart
    kind = "line" if lines else ("scatter" if scatters else None)
    if kind is None:
        chart["type"] = "unknown"
        return chart
    chart["type"] = kind
    chart["x_ticks"], chart["x_tick_labels"] = _ticks(ax, "x")
    chart["y_ticks"], chart["y_tick_labels"] = _ticks(ax, "y")
    chart["x_scale"] = ax.get_xscale()
    chart["y_scale"] = ax.get_yscale()
    if lines:
        for ln in lines:
            pts = [[_num(x), _num(y)] for x, y in zip(ln.get_xdata(), ln.get_ydata())]
            chart["elements"].append({"label": ln.get_label(), "points": pts})
    else:
        for c in scatters:
            pts = [[_num(x), _num(y)] for x, y in c.get_offsets()]
            chart["elements"].append({"label": c.get_label(), "points": pts})
    return chart


def _figure_chart(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    png = base64.b64encode(buf.getvalue()).decode()
    axes = fig.get_axes()
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    if len(axes) == 1:
        chart = _axes_chart(axes[0])
        if title and not chart.get("title"):
            chart["title"] = title
    else:
        chart = {"type": "composite_chart" if axes else "unknown", "title": title,
                 "elements": [_axes_chart(a) for a in axes]}
    chart["png"] = png
    return chart


def _install():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return

    def show(*_args, **_kwargs):
        for n in plt.get_fignums():
            try:
                chart = _figure_chart(plt.figure(n))
                line = MARK + json.dumps({"type": "chart", "value": chart}, default=str)
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except Exception:
                pass
        plt.close("all")

    plt.show = show


_install()
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
