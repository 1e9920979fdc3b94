"""Adapters to other libraries, each imported only when used."""
