"""The book (`make book`): the lectures as an HTML site that works with no network at all.

A reduced build (the lectures of unit 06 and the playground, executed as the full build does) is
served on a free local port and read in Debian's Chromium with every request that is not for that
server aborted and recorded: none may be made. Every page loads, its equations are typeset by the
MathJax the site serves itself (no raw ``$$`` left), every picture loads, every internal link
reaches a page and an anchor that exist; unit 06's page holds the softmax gradient derivation, a
link to its assignment and its widget as a picture with a line on how to run it live. Executing
again takes every lecture from the cache; a lecture whose cached execution is gone is executed alone.
UPDATE_SCREENSHOTS=1 copies a screenshot of unit 06's page to docs/book-lecture.png.
"""
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("book_build", REPO / "book" / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules["book_build"] = build  # its lectures execute in child processes, which look it up
_spec.loader.exec_module(build)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LECTURES = ["06_softmax", "playground"]
pytestmark = pytest.mark.slow


def build_book(site, cache):
    result = subprocess.run([sys.executable, str(REPO / "book" / "build.py"), "--lectures",
                             *LECTURES, "--out", str(site), "--cache", str(cache)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("book")
    site, cache = scratch / "site", scratch / "cache"
    output = build_book(site, cache)
    assert "executing 2" in output
    return {"site": site, "cache": cache, "scratch": scratch}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(book):
    """The site on a local port (a plain static server, stopped by its PID)."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(book["site"])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no static server"
                time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed here (make test installs it when it runs as "
                    "root with apt-get); the browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# Once MathJax has typeset the page: the math elements Sphinx wrote, the ones MathJax rendered, any
# "$$" left in the text, the pictures and whether each has loaded, and every link.
PAGE_STATE = """async () => {
    if (document.querySelector(".math")) {
        const loaded = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
        for (let i = 0; i < 200 && !loaded(); i++)
            await new Promise(resolve => setTimeout(resolve, 50));
        if (loaded()) await MathJax.startup.promise;
    }
    const images = [...document.images];
    await Promise.all(images.map(image => image.decode().catch(() => null)));
    return {
        math: document.querySelectorAll(".math").length,
        typeset: document.querySelectorAll("mjx-container").length,
        text: document.body.innerText,
        images: images.map(image => [image.getAttribute("src"), image.naturalWidth]),
        links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    };
}"""


def anchors(path):
    return set(re.findall(r'\bid="([^"]+)"', path.read_text()))


def test_every_page_works_offline(book, served, browser):
    site = book["site"]
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html")
                   if not path.relative_to(site).parts[0].startswith("_"))
    assert {"index.html", "apps.html", "lectures/06_softmax_lecture.html",
            "lectures/playground.html", "exercises/06_softmax/06_softmax.html"} <= set(pages)
    elsewhere, failed = [], []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    def only_local(route):
        if route.request.url.startswith(served):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    broken = []
    for name in pages:
        response = page.goto(served + name)
        assert response.ok, name
        state = page.evaluate(PAGE_STATE)
        assert state["typeset"] >= state["math"], f"{name}: math left untypeset"
        if name.startswith("lectures/06"):
            assert state["math"] > 20
        assert "$$" not in state["text"], f"{name}: raw $$ left"
        assert all(width > 0 for _, width in state["images"]), f"{name}: {state['images']}"
        for href in state["links"]:
            target = urllib.parse.urljoin(served + name, href)
            if not target.startswith(served):
                continue  # a link out (the theme's credits), never requested
            path, _, fragment = target[len(served):].partition("#")
            file = site / urllib.parse.unquote(path or "index.html")
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file() or (fragment and file.suffix == ".html"
                                      and urllib.parse.unquote(fragment) not in anchors(file)):
                broken.append(f"{name} -> {href}")
    page.close()
    assert elsewhere == [], "requests that needed the network"
    assert failed == [] and broken == []


def test_unit_06_holds_the_softmax_gradient_its_assignment_and_its_widget(book, served, browser):
    html = (book["site"] / "lectures" / "06_softmax_lecture.html").read_text()
    # The derivation of dE/dz = p - t: the softmax's Jacobian and the chain rule through it.
    assert r"\frac{\partial p_j}{\partial z_k} = p_j\,(\delta_{jk} - p_k)" in html
    assert r"\sum_j \left(-\frac{t_j}{p_j}\right) p_j\,(\delta_{jk} - p_k)" in html
    assert "p_k - t_k" in html
    assert 'href="../exercises/06_softmax/06_softmax.html"' in html
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served + "lectures/06_softmax_lecture.html")
    page.evaluate(PAGE_STATE)
    section = page.locator("section[id^='the-gradient']")
    assert section.locator("h2").first.inner_text().startswith("5. The gradient")
    assert section.locator("mjx-container[display='true']").count() >= 3
    assert "\\partial" not in section.inner_text()  # typeset, not shown as TeX
    # The digits explorer: its last picture, then how to run it live.
    line = page.locator("p", has_text="a picture of a live widget")
    assert line.count() == 1 and "make apps" in line.inner_text()
    picture = page.locator("xpath=//p[contains(., 'a picture of a live widget')]"
                           "/preceding::img[1]")
    assert picture.evaluate("image => image.naturalWidth") > 500
    section.locator("h2").first.evaluate("heading => heading.scrollIntoView()")
    shot = book["scratch"] / "book-lecture.png"
    page.screenshot(path=str(shot))
    if os.environ.get("UPDATE_SCREENSHOTS"):
        from PIL import Image

        Image.open(shot).convert("RGB").quantize(256).save(REPO / "docs" / shot.name, optimize=True)
    page.close()


def test_a_rebuild_executes_only_what_changed(book, capsys):
    names = [name for name in build.lecture_names()
             if name in LECTURES or build.unit_of(name) in LECTURES]
    build.execute_all(names, book["cache"], jobs=1)
    assert "2 lecture(s) from the cache, executing 0" in capsys.readouterr().out
    (playground,) = book["cache"].glob("playground.*.ipynb")
    playground.unlink()
    build.execute_all(names, book["cache"], jobs=1)
    output = capsys.readouterr().out
    assert "1 lecture(s) from the cache, executing 1" in output
    assert "executed playground" in output and "executed 06" not in output
    assert playground.exists()


def test_the_digest_follows_the_lecture_and_its_edition(tmp_path, monkeypatch):
    name = "06_softmax_lecture"
    before = build.digest(name)
    assert build.digest("07_optimizers_lecture") != before
    monkeypatch.setattr(build, "LECTURES", tmp_path)
    shutil.copy(REPO / "lectures" / f"{name}.ipynb", tmp_path)
    assert build.digest(name) == before
    with open(tmp_path / f"{name}.ipynb", "a") as lecture:
        lecture.write("\n")
    assert build.digest(name) != before
    monkeypatch.setattr(build, "LECTURES", REPO / "lectures")
    sources = build.edition_sources(name)
    first = sorted(sources)[0]
    monkeypatch.setattr(build, "edition_sources", lambda _: {**sources, first: sources[first] + "#"})
    assert build.digest(name) != before
