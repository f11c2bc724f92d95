"""JSON text that stays valid UTF-8 whatever the file names in it.

File names that are not valid UTF-8 reach Python as lone surrogates (PEP 383),
which no UTF-8 encoder accepts: printing or saving them as JSON crashed. Here
each such character becomes a ``\\udcXX`` escape, which JSON allows and which
``json.loads`` turns back into the same ``str`` (``os.fsencode`` then gives the
original bytes of the name).
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(obj: Any, **dumps_options: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False, **dumps_options)`` with lone surrogates escaped."""
    text = json.dumps(obj, ensure_ascii=False, **dumps_options)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
