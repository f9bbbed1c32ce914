"""Loads a function's handler module as Lambda does: its own directory importable (so `app.py` may
split routes into sibling modules), and a unique module name, since every function's file is `app.py`.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from pathlib import Path
from types import ModuleType

_IMPORTING = threading.Lock()  # sys.path is process-wide: one function directory on it at a time


def load_function_module(function_dir: Path, module_path: str = "app") -> ModuleType:
    module_name = "cashback_fn_" + re.sub(r"\W", "_", f"{function_dir.name}_{module_path}")
    if module_name in sys.modules:
        return sys.modules[module_name]
    source = function_dir / (module_path.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    with _IMPORTING:
        sys.modules[module_name] = module
        sys.path.insert(0, str(function_dir))
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]  # the next call tries again, after the fix
            raise
        finally:
            sys.path.remove(str(function_dir))
    return module
