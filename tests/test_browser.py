"""The widgets in a real browser: headless Chromium, driven by Playwright, on a real JupyterLab.

The test starts JupyterLab on a free port with a token, in a scratch course holding the playground
notebook and the unit 04 assignment (each beside a copy of the reference nnlib), runs their cells
from JupyterLab's own menu, and reads what a student would see. It stops the server by its PID.
Chromium is Debian's (`make test` installs it where it can); Playwright never downloads a browser.

Set UPDATE_SCREENSHOTS=1 to copy the playground's screenshots to docs/: playground.png (the
README's) and playground-1024.png, playground-1440.png (the widget in JupyterLab at those widths
with the file browser open).
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed here (make test installs it when it runs as "
                "root with apt-get); the browser tests need it", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
UNIT04 = "04_single_layer_gradients"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "nnlib", course / "nnlib", ignore=ignore)
    (course / "lectures").mkdir()
    shutil.copy(REPO / "lectures" / "playground.ipynb", course / "lectures")
    shutil.copytree(REPO / "solutions" / UNIT04, course / UNIT04, ignore=ignore)
    shutil.copytree(REPO / "nnlib", course / UNIT04 / "nnlib", ignore=ignore)
    port, token = free_port(), secrets.token_hex(16)
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip", "127.0.0.1",
               f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={course}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(course / "lab.log", "wb")
    settings = course / ".settings" / "@jupyterlab"
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "notebook-extension").mkdir(parents=True)
    # No "Would you like to get notified about Jupyter news?" toast over the page, and every cell
    # laid out (by default JupyterLab hides the cells out of view, which cannot be scrolled to).
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}')
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    environment = {**os.environ, "JUPYTER_CONFIG_DIR": str(course / ".jupyter"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(course / ".workspaces"),
                   "JUPYTERLAB_SETTINGS_DIR": str(course / ".settings")}
    environment.pop("MPLBACKEND", None)  # the notebooks choose their own (inline)
    server = subprocess.Popen(command, cwd=course, stdout=log, stderr=subprocess.STDOUT,
                              env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n"
                                       + (course / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield {"url": url, "token": token, "course": course}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_and_run_all(browser, lab, path):
    """Open ``path`` in JupyterLab (in a fresh workspace), wait for its kernel, and run every cell
    from the Run menu."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    # A workspace of its own: only this notebook open (the shared server's default workspace would
    # bring back the tabs of the tests before, and their widgets with them).
    workspace = f"test-{secrets.token_hex(4)}"
    page.goto(f"{lab['url']}/lab/workspaces/{workspace}/tree/{path}?token={lab['token']}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    # The kernel is ready when the status bar says "<kernel name> | Idle".
    page.wait_for_function("() => { const bar = document.querySelector('.jp-StatusBar-Widget');"
                           " return bar && bar.textContent.includes('| Idle'); }", timeout=90_000)
    for attempt in range(2):
        accept_dialogs(page)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:  # the first code cell gets its execution count once the kernel has taken the cells
            page.wait_for_function("() => [...document.querySelectorAll('.jp-InputPrompt')]"
                                   ".some(p => /\\[[0-9*]+\\]/.test(p.textContent))",
                                   timeout=60_000)
            break
        except sync_api.TimeoutError:
            if attempt:
                raise
    return page


def accept_dialogs(page):
    """Answer any modal dialog (e.g. "Select Kernel" when the kernel starts slowly) with its default
    button, as a student would; its text goes to the test's output."""
    dialogs = page.locator(".jp-Dialog")
    for _ in range(5):
        if not dialogs.count():
            return
        print("dialog:", dialogs.first.inner_text()[:300].replace("\n", " | "))
        dialogs.first.locator(".jp-Dialog-button.jp-mod-accept").first.click()
        page.wait_for_timeout(500)


def explain(page, tmp_path, what):
    """A screenshot and the notebook's error outputs, for a failure message that says why."""
    page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                          ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    texts = [errors.nth(i).inner_text()[:500] for i in range(min(errors.count(), 5))]
    return f"{what}; screenshot in {tmp_path / 'failure.png'}; error outputs: {texts}"


def playground_text(page, css_class):
    return page.locator(f".nnlib-playground .{css_class}").inner_text()


def loss_value(page):
    return float(re.search(r"training loss ([0-9.]+)", playground_text(page, "playground-loss")).group(1))


def move_slider(page, label, key, times=1):
    """Move the slider described ``label`` with the keyboard, as a student could."""
    slider = page.locator(".nnlib-playground .widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(f"^{label}$")))
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(times):
        handle.press(key)


def keep_screenshot(shot):
    """With UPDATE_SCREENSHOTS=1, copy ``shot`` to docs/ in 256 colours (a small file to commit)."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        from PIL import Image

        (REPO / "docs").mkdir(exist_ok=True)
        Image.open(shot).convert("RGB").quantize(256).save(REPO / "docs" / shot.name, optimize=True)


def boundary_pixels(page):
    return page.locator(".nnlib-playground img").screenshot()


def test_the_playground_trains_and_responds_in_the_browser(browser, lab, tmp_path):
    page = open_and_run_all(browser, lab, "lectures/playground.ipynb")
    page.wait_for_selector(".nnlib-playground img", timeout=120_000)
    page.wait_for_selector(".nnlib-playground .playground-loss", timeout=30_000)
    assert "Error displaying widget" not in page.content()
    start = loss_value(page)
    assert 0.5 < start < 0.9  # about ln 2: an untrained network
    config = lambda: playground_text(page, "playground-config")  # noqa: E731
    assert "'learning_rate': 0.1" in config() and "'hidden': [8, 8]" in config()
    assert "'dataset': 'xor'" in config()

    page.locator(".nnlib-playground button", has_text="Play").click()
    page.wait_for_function("() => { const s = document.querySelector('.nnlib-playground "
                           ".playground-step'); return s && parseInt(s.textContent.split(' ')[1]) "
                           ">= 300; }", timeout=60_000)
    assert loss_value(page) < start - 0.05, "the loss shown did not fall while playing"

    # Sliders respond while it plays: each move reaches Python and redraws the boundary.
    before = boundary_pixels(page)
    move_slider(page, "learning rate", "ArrowRight")
    page.wait_for_function("() => document.querySelector('.nnlib-playground .playground-config')"
                           ".textContent.includes(\"'learning_rate': 0.3\")", timeout=30_000)
    width = page.locator(".nnlib-playground .widget-text input").nth(1)  # the second layer's
    width.fill("5")
    width.press("Enter")
    page.wait_for_function("() => document.querySelector('.nnlib-playground .playground-config')"
                           ".textContent.includes(\"'hidden': [8, 5]\")", timeout=30_000)
    # The new network trains a while (and shows a boundary worth a screenshot) before Pause.
    page.wait_for_function("() => parseInt(document.querySelector('.nnlib-playground "
                           ".playground-step').textContent.split(' ')[1]) >= 600", timeout=60_000)
    assert boundary_pixels(page) != before, "the boundary did not change after the slider moves"

    page.locator(".nnlib-playground button", has_text="Pause").click()
    page.wait_for_selector(".nnlib-playground button:has-text('Play')", timeout=30_000)
    time.sleep(0.5)
    paused_at = playground_text(page, "playground-step")
    time.sleep(1.5)
    assert playground_text(page, "playground-step") == paused_at, "still training after Pause"
    assert playground_text(page, "playground-loss")

    # A click on a neuron's picture enlarges it (the enlarge drop-down names it); a second click
    # shows the output again.
    from nncourse.widgets.playground import Playground

    x, y = Playground(hidden=[8, 5]).neuron_pixel(1, 0)  # the same layout as the page's
    image = page.locator(".nnlib-playground img").first
    box = image.bounding_box()
    natural = image.evaluate("img => img.naturalWidth")
    scale = box["width"] / natural
    image.click(position={"x": x * scale, "y": y * scale})
    enlarge = page.locator(".nnlib-playground .widget-dropdown").filter(has_text="enlarge").locator("select")
    page.wait_for_function("select => select.options[select.selectedIndex].text"
                           ".replace(/\\u00a0/g, ' ') === 'layer 1, neuron 1'",  # spaces as &nbsp;
                           arg=enlarge.element_handle(), timeout=30_000)
    image.click(position={"x": x * scale, "y": y * scale})  # again: the output again
    page.wait_for_function("select => select.options[select.selectedIndex].text === 'output'",
                           arg=enlarge.element_handle(), timeout=30_000)

    shot = tmp_path / "playground.png"
    page.locator(".nnlib-playground").screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    keep_screenshot(shot)
    page.close()


# Every box in the widget that would scroll sideways, every label whose text is cut off, and every
# control (slider, drop-down, button, number box, the figure) that reaches past the box holding it
# or past the widget.
LAYOUT_PROBLEMS = """() => {
    const root = document.querySelector(".nnlib-playground");
    const problems = [];
    const name = el => (el.className && el.className.baseVal === undefined ? el.className : el.tagName)
        + " '" + (el.textContent || "").trim().slice(0, 30) + "'";
    for (const el of [root, ...root.querySelectorAll("*")]) {
        const overflow = getComputedStyle(el).overflowX;
        if ((overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1)
            problems.push("scrolls sideways: " + name(el) + " " + el.scrollWidth + " > " + el.clientWidth);
    }
    for (const label of root.querySelectorAll(".widget-label, .widget-readout, .widget-label-basic, button"))
        if (label.offsetWidth > 0 && label.scrollWidth > label.clientWidth + 1)
            problems.push("text cut off: " + name(label) + " " + label.scrollWidth + " > " + label.clientWidth);
    const outer = root.getBoundingClientRect();
    const area = root.closest(".jp-OutputArea-output").getBoundingClientRect();
    if (outer.right > area.right + 1) problems.push("the widget is wider than its output area");
    const controls = root.querySelectorAll(".widget-inline-hbox, .widget-button, "
        + ".widget-toggle-button, .widget-image, select, input, .widget-readout");
    let checked = 0;
    for (const control of controls) {
        const box = control.getBoundingClientRect();
        if (box.width === 0 || getComputedStyle(control).display === "none") continue;
        checked += 1;
        for (const [what, outside] of [["its box", control.parentElement.getBoundingClientRect()],
                                        ["the widget", outer]]) {
            if (box.left < outside.left - 1 || box.right > outside.right + 1)
                problems.push("cut off by " + what + ": " + name(control) + " ["
                              + Math.round(box.left) + ", " + Math.round(box.right) + "] in ["
                              + Math.round(outside.left) + ", " + Math.round(outside.right) + "]");
        }
    }
    return {problems, checked, width: outer.width};
}"""


@pytest.mark.parametrize("width", [1024, 1440])
def test_the_playground_fits_in_jupyterlab_with_the_file_browser_open(browser, lab, tmp_path, width):
    page = open_and_run_all(browser, lab, "lectures/playground.ipynb")
    page.set_viewport_size({"width": width, "height": 1000})
    files = page.locator("#filebrowser")
    if not files.is_visible():  # open the file browser, as a student usually has it
        page.locator(".jp-SideBar.jp-mod-left [data-id='filebrowser']").click()
    sync_api.expect(files).to_be_visible(timeout=30_000)
    assert files.bounding_box()["width"] > 150
    widget = page.locator(".nnlib-playground")
    widget.wait_for(timeout=120_000)
    page.wait_for_selector(".nnlib-playground .playground-loss", timeout=30_000)
    page.wait_for_function(LAST_IMAGE_DRAWN, timeout=60_000)
    widget.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the layout settles after the last resize
    found = page.evaluate(LAYOUT_PROBLEMS)
    shot = tmp_path / f"playground-{width}.png"
    page.screenshot(path=str(shot))
    keep_screenshot(shot)
    assert found["checked"] > 25, f"only {found['checked']} controls found"
    assert found["problems"] == [], f"{found['problems']}; screenshot in {shot}"
    # The figure keeps its proportions when it shrinks: neurons stay square.
    image = page.locator(".nnlib-playground img").first
    box = image.bounding_box()
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert box["width"] <= natural[0] + 1
    assert box["height"] / box["width"] == pytest.approx(natural[1] / natural[0], rel=0.02)
    page.close()


LAST_IMAGE_DRAWN = """() => {
    const images = document.querySelectorAll(".jp-OutputArea .widget-image");
    return images.length > 0 && images[images.length - 1].naturalWidth > 0;
}"""


def test_the_unit_04_assignment_widget_renders(browser, lab, tmp_path):
    page = open_and_run_all(browser, lab, f"{UNIT04}/{UNIT04}.ipynb")
    # The assignment ends with the learning-rate explorer on the student's own model (the whole
    # notebook runs first: a few minutes when the machine is busy grading classes).
    try:
        page.wait_for_selector(".jp-OutputArea .widget-image", state="attached", timeout=360_000)
    except sync_api.TimeoutError:
        pytest.fail(explain(page, tmp_path, "the widget did not appear"))
    # The image is attached before its first picture arrives (an empty image has no size and is
    # "not visible"); on a machine busy grading, the first render can take a while.
    try:
        page.wait_for_function(LAST_IMAGE_DRAWN, timeout=360_000)
    except sync_api.TimeoutError:
        pytest.fail(explain(page, tmp_path, "the widget never drew its picture"))
    image = page.locator(".jp-OutputArea .widget-image").last
    image.scroll_into_view_if_needed()
    sync_api.expect(image).to_be_visible(timeout=30_000)
    assert image.bounding_box()["width"] > 300
    slider = page.locator(".jp-OutputArea .widget-slider").last
    sync_api.expect(slider).to_be_visible(timeout=30_000)
    assert "Error displaying widget" not in page.content()
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert all("Error" not in errors.nth(i).inner_text() for i in range(errors.count()))
    page.close()
