"""Similarity of what students wrote in the graded functions: evidence for a person, never a verdict.

Only the code of each graded function's solution region counts (what the student wrote where the
release had a stub); the code that comes with the release is never compared. Each region is turned
into tokens with Python's own tokenizer, and what a copy changes without effort is normalised away:

- comments, docstrings' text, blank lines and whitespace are dropped (strings become ``S``);
- every name a student chooses (variables, parameters, helpers) becomes ``V``; attributes after a
  dot (``.T``, ``.sum``, ``params``), keywords, ``self``, ``np`` and builtins stay as written, so
  ``x.T @ g`` and ``a.T @ b`` are the same and ``x.sum()`` and ``x.mean()`` are not;
- reordered independent statements: a fingerprint covers ``K`` consecutive tokens, so swapping two
  statements changes only the few fingerprints that straddle them.

Fingerprints are chosen by winnowing (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for
document fingerprinting", SIGMOD 2003; what MOSS does): of every ``WINDOW`` consecutive k-gram
hashes the smallest is kept, so any match of at least ``K + WINDOW - 1`` tokens is found. Each hash
includes the function's name: code matches only code of the same function.

A fingerprint that many submissions share (more than ``max(COMMON_MIN, COMMON_FRACTION × n)``) counts
for nothing: it is the one-line answer everybody writes the same way. Two submissions are then as
similar as the share of their remaining fingerprints they have in common
(``2 |A ∩ B| / (|A| + |B|)``), and a pair is listed only when it also shares at least
``MIN_SHARED`` of them (a few lines of code, not one short line). Correct but different solutions
share little beyond the common part and stay below the threshold.

A submission whose every graded function is, token for token after this normalisation, the
reference's (``nnlib/`` of the course, released with the next unit: a copy from an earlier year)
is flagged as such.
"""
import hashlib
import io
import keyword
import re
import stat
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import builtins

from .regions import BEGIN, END

K = 5  # tokens per k-gram
WINDOW = 4  # k-grams per winnowing window
COMMON_MIN = 3  # a fingerprint in more submissions than max(COMMON_MIN, COMMON_FRACTION * n) ...
COMMON_FRACTION = 0.1  # ... counts for nothing
MIN_SHARED = 8  # a pair is listed only when it shares at least this many counting fingerprints
THRESHOLD = 0.5  # and its similarity is at least this
MAX_FILE_BYTES = 2 * 1024 ** 2  # a larger module is not read

STUB = ("raise", "NotImplementedError")
KEPT_NAMES = frozenset(dir(builtins)) | {"self", "np", "numpy", "math", "nnlib", "cls"}


def tokens(code):
    """The normalised tokens of a piece of Python source (a function body, indented or not).

    Code that does not tokenize (a syntax error) gives the tokens read up to the error."""
    kept = []
    previous = None
    reader = io.StringIO(_dedent(code)).readline
    try:
        for token in tokenize.generate_tokens(reader):
            kind, text = token.type, token.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if kind == tokenize.NAME:
                if keyword.iskeyword(text) or text in KEPT_NAMES or previous == ".":
                    kept.append(text)
                else:
                    kept.append("V")
            elif kind == tokenize.STRING:
                kept.append("S")
            elif kind == tokenize.NEWLINE:
                kept.append(";")
            elif kind == tokenize.INDENT:
                kept.append("{")
            elif kind == tokenize.DEDENT:
                kept.append("}")
            else:
                kept.append(text)
            previous = text
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    while kept and kept[-1] in (";", "}"):
        kept.pop()
    return kept


def _dedent(code):
    lines = code.splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(line[cut:] for line in lines) + "\n"


def _hash(function, gram):
    digest = hashlib.blake2b(f"{function}\0{' '.join(gram)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def fingerprints(function, token_list, k=K, window=WINDOW):
    """Winnowed fingerprints (a set of ints) of one function's tokens."""
    if not token_list:
        return set()
    if len(token_list) < k:
        return {_hash(function, token_list)}
    hashes = [_hash(function, token_list[i:i + k]) for i in range(len(token_list) - k + 1)]
    if len(hashes) <= window:
        return {min(hashes)}
    return {min(hashes[i:i + window]) for i in range(len(hashes) - window + 1)}


@dataclass
class Submission:
    """What one student wrote in the graded functions: ``{function: source}``."""
    student_id: str
    code: dict
    prints: set = field(default_factory=set)
    normalised: dict = field(default_factory=dict)  # function -> tuple of tokens

    def __post_init__(self):
        for function, source in self.code.items():
            found = tuple(tokens(source))
            # A stub left as released (or any bare ``raise NotImplementedError``) was not written.
            self.normalised[function] = () if found[:2] == STUB else found
            self.prints |= fingerprints(function, self.normalised[function])


@dataclass
class Pair:
    first: str
    second: str
    similarity: float  # 0..1, over the fingerprints that count
    shared: int  # counting fingerprints in common
    functions: list  # the functions where they share some


@dataclass
class Similarity:
    pairs: list  # Pair, most similar first, only those at or above the threshold
    as_reference: list  # student ids whose every graded function is the reference's
    common: int  # fingerprints that counted for nothing (shared by too many)
    submissions: dict  # student id -> Submission


def graded_code(nnlib_dir, graded):
    """``{qualified name: source}`` of what is written in each graded function of ``nnlib_dir``.

    ``graded`` are names like ``nnlib.losses.CrossEntropyLoss.forward``. The code is the solution
    region's (between ``# BEGIN SOLUTION`` and ``# END SOLUTION``, which the edition keeps); where
    a student removed the markers, the whole function body. A missing file or function gives ""."""
    nnlib_dir = Path(nnlib_dir)
    by_module = defaultdict(list)
    for name in graded:
        _, module, qualname = name.split(".", 2)
        by_module[module].append((name, qualname))
    code = {}
    for module, names in by_module.items():
        source = _read(nnlib_dir / f"{module}.py")
        lines = source.splitlines()
        regions = _marked_regions(lines)
        for name, qualname in names:
            span = regions.get(qualname)
            if span is not None:
                code[name] = "\n".join(lines[span[0]:span[1]])
            else:
                code[name] = _function_body(source, qualname)
    return code


def _read(path):
    """A submitted file's text; "" for a symlink, anything but a regular file, or one larger than
    ``MAX_FILE_BYTES`` (a submission is read as data, and never followed elsewhere)."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return ""
        return path.read_text(errors="replace")
    except OSError:
        return ""


_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")


def _marked_regions(lines):
    """``{qualname: (first line, end line)}`` (0-based, end excluded) of the code between each
    ``# BEGIN SOLUTION`` and ``# END SOLUTION``, the enclosing function found by indentation.

    A plain scan, not ``regions.find_regions`` (which parses the module and checks every rule, ten
    times slower): a submission is read as it is, and what does not look like a region is left to
    ``_function_body``."""
    found, begin = {}, None
    for number, line in enumerate(lines):
        if BEGIN.match(line):
            begin = number
        elif END.match(line) and begin is not None:
            qualname = _enclosing(lines, begin)
            if qualname and qualname not in found:
                found[qualname] = (begin + 1, number)
            begin = None
    return found


def _enclosing(lines, number):
    """The qualified name of the function around line ``number``, from the indentation above it."""
    width = len(lines[number]) - len(lines[number].lstrip())
    parts = []
    for line in reversed(lines[:number]):
        match = _DEF.match(line)
        if match and len(match.group("indent").expandtabs()) < width:
            parts.insert(0, match.group("name"))
            width = len(match.group("indent").expandtabs())
            if width == 0:
                break
    return ".".join(parts)


def _function_body(source, qualname):
    import ast
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ""
    node, lines = tree, source.splitlines()
    for part in qualname.split("."):
        found = [child for child in getattr(node, "body", [])
                 if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and child.name == part]
        if not found:
            return ""
        node = found[0]
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                             ast.Constant):
        body = body[1:]  # the docstring came with the release
    if not body:
        return ""
    return "\n".join(lines[body[0].lineno - 1:body[-1].end_lineno])


def compare(submissions, reference=None, threshold=THRESHOLD, min_shared=MIN_SHARED):
    """Pairs of ``submissions`` (``Submission`` objects) at or above ``threshold``, most similar
    first, and who handed in the reference's code (``reference``: a ``Submission`` of it)."""
    n = len(submissions)
    frequency = Counter(fp for submission in submissions for fp in submission.prints)
    limit = max(COMMON_MIN, COMMON_FRACTION * n)
    common = {fp for fp, count in frequency.items() if count > limit}
    counting = {s.student_id: s.prints - common for s in submissions}
    holders = defaultdict(list)
    for student, prints in counting.items():
        for fp in prints:
            holders[fp].append(student)
    shared = Counter()
    for students in holders.values():
        if len(students) > 1:
            for pair in combinations(sorted(students), 2):
                shared[pair] += 1
    by_id = {s.student_id: s for s in submissions}
    pairs = []
    for (first, second), count in shared.items():
        if count < min_shared:
            continue
        similarity = 2 * count / (len(counting[first]) + len(counting[second]))
        if similarity < threshold:
            continue
        a, b = by_id[first], by_id[second]
        functions = [name for name in a.code if a.normalised.get(name) and
                     fingerprints(name, a.normalised[name])
                     & fingerprints(name, b.normalised.get(name, ())) - common]
        pairs.append(Pair(first, second, similarity, count, functions))
    pairs.sort(key=lambda pair: (-pair.similarity, -pair.shared, pair.first, pair.second))
    as_reference = []
    if reference is not None:
        for submission in submissions:
            written = [name for name, toks in submission.normalised.items() if toks]
            if written and all(submission.normalised[name] == reference.normalised.get(name)
                               for name in reference.normalised):
                as_reference.append(submission.student_id)
    return Similarity(pairs, sorted(as_reference), len(common), by_id)
