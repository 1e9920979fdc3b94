"""``python -m rag.local serve ...``: the server the ``local`` backend starts as a child."""

import sys

from rag.cli import main

sys.exit(main(["local", *sys.argv[1:]]))
