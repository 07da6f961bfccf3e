"""Text that goes into generated C and C++: the only way names enter code.

Model names follow golden.names, but layer names come from torch/ONNX (and
hand-edited artifacts) and may hold anything: `*/`, quotes, backslashes,
newlines, `??/` trigraphs, non-ASCII. Every string the code generators put
into a comment, a string literal or an identifier goes through one of these
functions (hil/targets/stm32/codegen.py, hil/targets/hls/codegen.py and
graph_top.py); the output is plain printable ASCII that cannot end the
construct it sits in, in C99/C11 and C++14 with or without trigraphs.
"""
from __future__ import annotations

import hashlib
import re
import string

# characters kept as they are in a comment: no '*' or '/' (comment ends and
# starts), no '\\' (line splices), no '?' (trigraphs), no control characters
_COMMENT_SAFE = set(string.ascii_letters + string.digits + " _-.,:;=+()[]{}<>#@!%&|^~'\"$`")
# characters kept as they are inside "...": no '"', '\\', '?' (trigraphs, `??/` is a backslash), and
# no '*' or '/' either, so a literal never holds a comment delimiter even if quoted in a comment
_STRING_SAFE = set(string.ascii_letters + string.digits + " _-.,:;=+()[]{}<>#@!%&|^~'$`")
_IDENT_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# C11 and C++14 keywords (and alternative tokens): a model named `int` must not become `namespace int`
KEYWORDS = frozenset("""
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t char32_t class
    compl const const_cast constexpr continue decltype default delete do double dynamic_cast else enum
    explicit export extern false float for friend goto if inline int long mutable namespace new noexcept
    not not_eq nullptr operator or or_eq private protected public register reinterpret_cast restrict
    return short signed sizeof static static_assert static_cast struct switch template this thread_local
    throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
    xor_eq _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert
    _Thread_local""".split())


def c_comment(text: str) -> str:
    """`text` made safe inside /* ... */ (and a // comment): unsafe characters become '_'."""
    return "".join(ch if ch in _COMMENT_SAFE else "_" for ch in str(text))


def c_string(text: str) -> str:
    """A C/C++ string literal (with its quotes) holding the UTF-8 bytes of `text` exactly;
    every byte outside a safe printable set is a 3-digit octal escape (never greedy)."""
    out = []
    for b in str(text).encode("utf-8"):
        ch = chr(b)
        out.append(ch if ch in _STRING_SAFE else f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def c_identifier(text: str) -> str:
    """A C/C++ identifier for `text`: kept when it is one already (ASCII letters, digits, '_',
    not starting with a digit), else every other character becomes '_', a leading digit gets
    the prefix 'l_', and a short hash of the original keeps distinct texts apart."""
    text = str(text)
    ident = re.sub(r"[^A-Za-z0-9_]", "_", text.encode("ascii", "replace").decode())
    if ident and ident[0].isdigit():
        ident = "l_" + ident
    if not ident:
        ident = "l_"
    if ident in KEYWORDS:
        ident += "_"
    if _IDENT_OK.fullmatch(text) is None and _lossy(text):
        ident += "_" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return ident


def _lossy(text: str) -> bool:
    """True if the plain mapping loses information: anything other than '.' or '-' was replaced
    (dotted torch names like `blocks.0.conv` keep their readable identifiers)."""
    return any(not (ch.isascii() and (ch.isalnum() or ch in "_.-")) for ch in text)
