"""Sphinx configuration for the byzref documentation (``make -C docs html``)."""

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
# the gallery's mathtext asks for TeX fonts a bare machine lacks; matplotlib falls back to DejaVu
# and would print one "findfont" line per font
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

import byzref  # noqa: E402

project = "byzref"
author = "the byzref authors"
copyright = "2026, the byzref authors"
release = byzref.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "byzref_index",
]

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.md5", "auto_examples/*.pickle", "auto_examples/*.json"]
nitpicky = True  # every cross-reference must resolve (with -W: a broken one fails the build)
suppress_warnings = []

# autodoc and numpydoc
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False
# every public function and class the API pages document must have a docstring, and every
# parameter of its signature must be described (GL08: no docstring; PR01: parameter not documented)
numpydoc_validation_checks = {"GL08", "PR01"}
numpydoc_validation_exclude = {r"\._[a-z]", r"\.__[a-z]+__$"}

# MathJax: from its CDN by default; BYZREF_DOCS_MATHJAX points to a local copy for offline viewing
if os.environ.get("BYZREF_DOCS_MATHJAX"):
    mathjax_path = os.environ["BYZREF_DOCS_MATHJAX"]

# gallery: the scripts in examples/gallery run during the build. BYZREF_DOCS_NO_GALLERY=1 leaves the
# gallery out altogether (a quick build of the other pages while writing them).
NO_GALLERY = bool(os.environ.get("BYZREF_DOCS_NO_GALLERY"))
if NO_GALLERY:
    extensions.remove("sphinx_gallery.gen_gallery")
    exclude_patterns += ["auto_examples", "sg_execution_times.rst"]
    suppress_warnings.append("toc.excluded")
    suppress_warnings.append("toc.not_readable")
    suppress_warnings.append("ref.doc")  # the index links the gallery; the full build checks it
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples" / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "show_signature": False,
}

html_theme = "alabaster"
html_title = f"byzref {release}"
html_static_path = ["_static"]
html_theme_options = {
    "description": "Byzantine-robust distributed learning with compressed communication: "
                   "a reference and theory-verification toolkit",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_show_sourcelink = False


def _public_bases(app, name, obj, options, bases):
    """Show a class's first public ancestors in "Bases:" instead of private helper bases.

    A base is private when its name starts with "_"; one defined in a private module of another
    package (e.g. concurrent.futures._base.Executor) is shown under the public module that exports it.
    """
    import importlib

    for i, base in enumerate(list(bases)):
        if base.__name__.startswith("_"):
            bases[i] = next((b for b in base.__mro__[1:] if not b.__name__.startswith("_")), object)
            continue
        parts = base.__module__.split(".")
        ours = ("byzref", "problems", "theory", "plots")
        if any(p.startswith("_") for p in parts) and parts[0] not in ours:
            public = ".".join(p for p in parts if not p.startswith("_"))
            if getattr(importlib.import_module(public), base.__name__, None) is base:
                bases[i] = f"{public}.{base.__name__}"
    seen = []
    for b in bases:
        if b not in seen:
            seen.append(b)
    bases[:] = seen


def setup(app):
    app.connect("autodoc-process-bases", _public_bases)
