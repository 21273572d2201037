"""Build the course book: the lectures as an HTML site that works with no network (``make book``).

Three steps:

1. **Execute** each lecture as the tests do (``tests/test_lectures.py``): in a scratch course holding
   the lecture and the ``nnlib`` edition of its unit (the playground: the reference ``nnlib``), with
   nbclient, two at a time. The executed notebook is kept in ``_build/book-cache/``, named by a
   digest of everything its outputs depend on (the lecture, its edition's sources, the ``nncourse``
   tools), so a rebuild executes only the lectures whose digest changed.
2. **Stage** the Sphinx sources in ``_build/book-src/``: the executed lectures, each with a line
   linking to its assignment after its title, and every widget replaced by its last picture (the
   ``Image`` in the widget's saved state) and a line saying how to run it live; the assignments as
   they are released (not executed); the book's own pages from ``book/``.
3. **Render** with Sphinx, myst-nb (execution off: step 1 did it) and sphinx-book-theme into
   ``_build/book/``, with MathJax served from the site itself (``sphinx-mathjax-offline``).

    python book/build.py                          # the whole book
    python book/build.py --lectures 06_softmax playground --out _build/small
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
LECTURES = REPO / "lectures"
SUFFIX = "_lecture"
PLAYGROUND = "playground"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# The staged pages of the book itself, from book/ (conf.py is read from book/ where it is).
PAGES = ("index.md", "apps.md")


def lecture_names():
    """Every lecture's stem, in the order of the course: units 01-09, then the playground."""
    units = sorted(path.stem for path in LECTURES.glob(f"*{SUFFIX}.ipynb"))
    return units + [PLAYGROUND]


def unit_of(name):
    """``06_softmax_lecture`` -> ``06_softmax``; None for the playground (it runs on the reference)."""
    return None if name == PLAYGROUND else name.removesuffix(SUFFIX)


def edition_sources(name):
    """``{relative path: source}`` of the nnlib the lecture ``name`` runs on."""
    from autograder.editions import edition_sources as sources

    unit = unit_of(name)
    if unit is None:
        return {f"nnlib/{path.relative_to(REPO / 'nnlib').as_posix()}": path.read_text()
                for path in sorted((REPO / "nnlib").rglob("*.py"))}
    return sources(unit)


def digest(name):
    """What the executed lecture depends on, as a short hex digest: the notebook, the sources of
    its nnlib and of the course tools, and the Python running it."""
    hasher = hashlib.sha256()
    hasher.update((LECTURES / f"{name}.ipynb").read_bytes())
    tools = {path.relative_to(REPO).as_posix(): path.read_text()
             for path in sorted((REPO / "nncourse").rglob("*.py"))}
    for relative, source in sorted({**edition_sources(name), **tools}.items()):
        hasher.update(relative.encode() + b"\0" + source.encode() + b"\0")
    hasher.update(sys.version.encode())
    return hasher.hexdigest()[:16]


def execute(name, cached):
    """Run the lecture ``name`` in a scratch course beside its nnlib; write it to ``cached``."""
    from nbclient import NotebookClient

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="book-") as scratch:
        course = Path(scratch)
        unit = unit_of(name)
        library = course if unit is None else course / "exercises" / unit
        for relative, source in edition_sources(name).items():
            (library / relative).parent.mkdir(parents=True, exist_ok=True)
            (library / relative).write_text(source)
        (course / "lectures").mkdir()
        notebook = nbformat.read(LECTURES / f"{name}.ipynb", as_version=4)
        # This process's kernel keeps to one BLAS thread (the lectures run side by side on every
        # core) and draws inline, as in JupyterLab.
        os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        os.environ.pop("MPLBACKEND", None)
        try:
            NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                           resources={"metadata": {"path": str(course / "lectures")}}).execute()
        except Exception as error:
            raise RuntimeError(f"book: lecture {name} failed to run:\n{error}") from None
    cached.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, cached)
    return name, time.monotonic() - started


def execute_all(names, cache, jobs):
    """Each lecture's executed notebook, executing only those not in ``cache`` (``jobs`` at once)."""
    wanted = {name: cache / f"{name}.{digest(name)}.ipynb" for name in names}
    missing = {name: path for name, path in wanted.items() if not path.exists()}
    print(f"book: {len(names) - len(missing)} lecture(s) from the cache, executing {len(missing)}",
          flush=True)
    if missing:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for name, seconds in pool.map(execute, missing, missing.values()):
                print(f"book: executed {name} in {seconds:.0f} s", flush=True)
                for stale in cache.glob(f"{name}.*.ipynb"):
                    if stale != wanted[name]:
                        stale.unlink()
    return wanted


def widget_images(notebook):
    """``{model id: PNG bytes}``: the picture each displayed widget showed last (the first
    ``Image`` found under it in the widget state the execution saved)."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})

    def first_image(model_id, seen):
        model = state.get(model_id)
        if model is None or model_id in seen:
            return None
        seen.add(model_id)
        if model.get("model_name") == "ImageModel":
            for buffer in model.get("buffers", []):
                if buffer.get("path") == ["value"]:
                    return base64.b64decode(buffer["data"])
        children = json.dumps(model.get("state", {}))
        for reference in children.split("IPY_MODEL_")[1:]:
            found = first_image(reference[:32], seen)
            if found:
                return found
        return None

    return {model_id: first_image(model_id, set()) for model_id in state}


def live_line(name):
    """What to do to run a lecture's widgets live."""
    return (f"*Above: a picture of a live widget. To use it, run `make lab` and open "
            f"`lectures/{name}.ipynb`, or run `make apps` and open its page ([the apps](../apps.md)).*")


def stage_lecture(name, executed, source_dir):
    """The executed lecture ``name`` as the book shows it, written into ``source_dir/lectures``."""
    notebook = nbformat.read(executed, as_version=4)
    images = widget_images(notebook)
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        outputs, widgets = [], 0
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            widgets += 1
            picture = images.get(view["model_id"])
            if picture:
                outputs.append(nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(picture).decode()}))
        cell.outputs = outputs
        if widgets:  # a cell of its own: its links are the book's (an output's are not resolved)
            cells.append(nbformat.v4.new_markdown_cell(live_line(name)))
    notebook.cells = cells
    notebook.metadata.pop("widgets", None)
    unit = unit_of(name)
    if unit is not None:
        assignment = (f"**The assignment of this unit:** [{unit}](../exercises/{unit}/{unit}.ipynb) "
                      f"(`exercises/{unit}/`: the notebook and the `nnlib` you complete in it).")
        notebook.cells.insert(1, nbformat.v4.new_markdown_cell(assignment))
    for number, cell in enumerate(notebook.cells):  # ids stay unique and the same from build to build
        cell.id = f"cell-{number}"
    (source_dir / "lectures").mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, source_dir / "lectures" / f"{name}.ipynb")


def stage(executed, source_dir):
    """The Sphinx sources of the book in ``source_dir``: its pages, the lectures, the assignments.

    Only files whose content changed are rewritten, so Sphinx renders again only those pages."""
    with tempfile.TemporaryDirectory(prefix="book-src-") as scratch:
        fresh = Path(scratch)
        for page in PAGES:
            shutil.copy(BOOK / page, fresh / page)
        for name, path in executed.items():
            stage_lecture(name, path, fresh)
            unit = unit_of(name)
            if unit is not None:
                (fresh / "exercises" / unit).mkdir(parents=True)
                shutil.copy(REPO / "exercises" / unit / f"{unit}.ipynb", fresh / "exercises" / unit)
        wanted = {path.relative_to(fresh) for path in fresh.rglob("*") if path.is_file()}
        if source_dir.exists():
            for path in sorted(source_dir.rglob("*"), reverse=True):  # files before their folders
                if path.is_file() and path.relative_to(source_dir) not in wanted:
                    path.unlink()
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
        for relative in wanted:
            target = source_dir / relative
            if not target.exists() or target.read_bytes() != (fresh / relative).read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(fresh / relative, target)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lectures", nargs="+", metavar="NAME",
                        help="only these lectures (e.g. 06_softmax playground); default: all")
    parser.add_argument("--out", default="_build/book", help="the HTML site (default: %(default)s)")
    parser.add_argument("--cache", default="_build/book-cache",
                        help="executed lectures, by digest (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="lectures executed at once")
    args = parser.parse_args(argv)
    started = time.monotonic()
    names = lecture_names()
    if args.lectures:
        chosen = [name for name in names
                  if name in args.lectures or unit_of(name) in args.lectures]
        unknown = set(args.lectures) - set(chosen) - {unit_of(name) for name in chosen}
        if unknown:
            parser.error(f"no lecture named {', '.join(sorted(unknown))}; the lectures: "
                         f"{', '.join(names)}")
        names = chosen
    out = (REPO / args.out).resolve()
    executed = execute_all(names, (REPO / args.cache).resolve(), args.jobs)
    source_dir = out.parent / f"{out.name}-src"
    stage(executed, source_dir)
    executed_at = time.monotonic()
    # Sphinx's own caches sit beside the site (kept: an unchanged page is not rendered again). It
    # runs in this process, which has imported most of what it needs already.
    from sphinx.cmd.build import build_main

    if build_main(["-b", "html", "-q", "-c", str(BOOK), "-d", str(out.parent / f"{out.name}-doctrees"),
                   str(source_dir), str(out)]):
        sys.exit("book: Sphinx failed (its message is above)")
    print(f"book: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}/index.html "
          f"in {time.monotonic() - started:.0f} s (Sphinx {time.monotonic() - executed_at:.0f} s)")


if __name__ == "__main__":
    main()
