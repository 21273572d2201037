"""The apps (`make apps`): the playground and each unit's widget as Voilà pages with no code.

The fast tests read the notebooks in apps/: each is a title, two sentences and one code cell on the
reference nnlib, and the index links every one. The browser tests start `make apps` on a free port
(in a session of its own, stopped by its PID), open pages in Debian's Chromium (as
tests/test_browser.py does; Playwright never downloads a browser), press Play on the playground and
see the loss fall and the boundary change, and see two other apps draw their plots; no page shows a
code cell or a traceback. UPDATE_SCREENSHOTS=1 copies the playground's page to docs/apps-playground.png.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
APPS = REPO / "apps"
APP_NOTEBOOKS = sorted(path for path in APPS.glob("*.ipynb") if path.stem != "index")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def test_there_is_an_app_for_the_playground_and_every_unit():
    from autograder.course import UNIT_IDS

    assert [path.stem for path in APP_NOTEBOOKS] == sorted([*UNIT_IDS, "playground"])


@pytest.mark.parametrize("app", APP_NOTEBOOKS, ids=lambda path: path.stem)
def test_an_app_is_a_title_two_sentences_and_its_widget_on_the_reference_nnlib(app):
    markdown, code = cells(app)
    assert markdown["cell_type"] == "markdown" and code["cell_type"] == "code"
    title, text = source(markdown).split("\n\n")[:2]
    assert title.startswith("# ") and len(re.findall(r"[.!?](\s|$)", text)) >= 2
    assert code["outputs"] == [] and code["execution_count"] is None
    assert 'sys.path.insert(0, "..")' in source(code)  # the reference nnlib, at the top level
    assert re.search(r"\.widget\(\)$", source(code).strip())


def test_the_index_links_every_app():
    (index,) = cells(APPS / "index.ipynb")
    links = re.findall(r"\]\(([^)]+\.ipynb)\)", source(index))
    assert links == [path.name for path in APP_NOTEBOOKS[-1:] + APP_NOTEBOOKS[:-1]]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """`make apps` on a free port; its address. Stopped (with the Voilà it started) by its PID."""
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed here (make test installs it when it runs as "
                    "root with apt-get); the browser tests need it")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
    if not (REPO / ".venv/bin/voila").exists():
        pytest.skip("make setup has not run (no .venv/bin/voila)")
    scratch = tmp_path_factory.mktemp("apps")
    port = free_port()
    log = open(scratch / "apps.log", "w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "apps",
         f"APPS_ARGS=--no-browser --port={port} --Voila.ip=127.0.0.1"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("make apps did not serve:\n"
                                       + (scratch / "apps.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(apps):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# What a page would show of code or of a failure: Voilà's lab template leaves out the input of every
# code cell (a markdown cell's text is its input area), and a failing cell shows its traceback (or,
# by default, "There was an error when executing cell").
NO_CODE_NOR_ERROR = """() => ({
    code: document.querySelectorAll(".jp-CodeCell .jp-InputArea, .jp-InputArea-editor, .jp-InputPrompt, "
                                    + ".cm-editor, .CodeMirror, .highlight").length,
    errors: document.querySelectorAll("[data-mime-type='application/vnd.jupyter.stderr'], "
                                      + "[data-mime-type='application/vnd.jupyter.error']").length,
    text: document.body.innerText,
})"""


def open_app(browser, apps, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{apps}/voila/render/{name}.ipynb", timeout=120_000)
    page.wait_for_function("() => [...document.querySelectorAll('.widget-image')]"
                           ".some(image => image.naturalWidth > 300)", timeout=120_000)
    return page


def assert_no_code_nor_error(page, title):
    found = page.evaluate(NO_CODE_NOR_ERROR)
    assert found["code"] == 0 and found["errors"] == 0
    assert "Traceback" not in found["text"] and "error when executing" not in found["text"]
    assert "import nnlib" not in found["text"] and "sys.path" not in found["text"]
    assert page.locator("h1").first.inner_text().strip() == title


def loss_shown(page):
    text = page.locator(".nnlib-playground .playground-loss").inner_text()
    return float(re.search(r"training loss ([0-9.]+)", text).group(1))


def step_shown(page):
    text = page.locator(".nnlib-playground .playground-step").inner_text()
    return int(re.search(r"step (\d+)", text).group(1))


@pytest.mark.slow
def test_the_playground_app_trains_when_play_is_pressed(browser, apps, tmp_path):
    page = open_app(browser, apps, "playground")
    assert_no_code_nor_error(page, "The playground")
    page.wait_for_selector(".nnlib-playground .playground-loss")
    start = loss_shown(page)
    assert step_shown(page) == 0 and 0.5 < start < 0.9  # about ln 2: an untrained network
    boundary = page.locator(".nnlib-playground img").first
    before = boundary.screenshot()
    page.locator(".nnlib-playground button", has_text="Play").click()
    page.wait_for_function("() => parseInt(document.querySelector('.nnlib-playground "
                           ".playground-step').textContent.replace(/\\D+/, ' ').trim()) >= 300",
                           timeout=60_000)
    assert loss_shown(page) < start - 0.05, "the training loss shown did not fall while playing"
    assert boundary.screenshot() != before, "the picture did not change while training"
    page.locator(".nnlib-playground button", has_text="Pause").click()
    page.wait_for_selector(".nnlib-playground button:has-text('Play')", timeout=30_000)
    assert_no_code_nor_error(page, "The playground")
    shot = tmp_path / "apps-playground.png"
    page.screenshot(path=str(shot))
    if os.environ.get("UPDATE_SCREENSHOTS"):
        from PIL import Image

        Image.open(shot).convert("RGB").quantize(256).save(REPO / "docs" / shot.name, optimize=True)
    page.close()


@pytest.mark.slow
@pytest.mark.parametrize("name, title", [
    ("02_xor", "Unit 02: how a hidden layer solves XOR"),
    ("09_rnn", "Unit 09: vanishing and exploding gradients"),
])
def test_other_apps_show_their_plots(browser, apps, name, title):
    page = open_app(browser, apps, name)
    assert_no_code_nor_error(page, title)
    image = page.locator(".widget-image").first
    assert image.bounding_box()["width"] > 300
    assert page.locator(".widget-slider").count() >= 1
    # The index links back: the page is one of a gallery.
    assert page.locator("a", has_text="All the apps").get_attribute("href") == "index.ipynb"
    page.close()
