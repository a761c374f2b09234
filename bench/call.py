"""Run one function inside Django and print its result as JSON on the last line of stdout.

Usage: `python -m bench.call package.module:function [str args...]`, with
DJANGO_SETTINGS_MODULE and the rest of the bench environment already set by the caller.
A subprocess keeps the bench process itself free of Django state, and guarantees the
same SECRET_KEY and database as the server under test.
"""

import importlib
import json
import sys

import django


def main(argv: list[str]) -> int:
    if not argv or ":" not in argv[0]:
        print(__doc__, file=sys.stderr)
        return 2
    django.setup()
    module_name, function_name = argv[0].split(":", 1)
    function = getattr(importlib.import_module(module_name), function_name)
    print(json.dumps(function(*argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
