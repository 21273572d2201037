"""Sphinx settings of the course book; `python book/build.py` (or `make book`) stages the sources
and runs Sphinx with this folder as its configuration directory."""
project = "Neural networks from scratch"
author = "the course's authors"
copyright = "the course's authors"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
# The lectures arrive executed (book/build.py keeps them in its cache): myst-nb only renders.
nb_execution_mode = "off"
# No widget JavaScript from a CDN: build.py has replaced every widget by its picture.
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
# Markdown links to other pages of the book (the assignments, the apps page) become references.
myst_heading_anchors = 3
exclude_patterns = ["**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = "Neural networks from scratch"
html_theme_options = {
    # Nothing on a page may need the network: no repository buttons, no launch buttons.
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
