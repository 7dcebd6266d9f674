"""`python -m k8orize APP_DIR --out OUT ...` (same as `k8or k8orize ...`)."""

import sys

from .cli import add_arguments, run


def _main() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m k8orize", description="Level-3 k8orization engine")
    add_arguments(parser)
    return run(parser.parse_args())


sys.exit(_main())
