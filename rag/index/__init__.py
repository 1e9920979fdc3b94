"""The index: Chroma collections plus a manifest that says which records are live.

Layout of an index folder (default ``.rag/``)::

    chroma/                     Chroma's PersistentClient data (unused with a remote server)
    manifest-<key>.json         per corpus: each file's hash, stat stamp and record ids
    records-<key>.npz           per corpus (embedded index only): the committed copy, the
                                live records' text, lines and vectors as the last build
                                committed them
    lock                        taken while building, so two builds never interleave

Records are written under ids that contain the file's content hash, so a new version of
a file never overwrites the old one. The manifest, replaced atomically, is the commit
point: readers only use records the manifest names. A crash before the manifest is
written leaves the previous index in use; records it left behind are deleted by the next
build. Unchanged files (same hash) are never re-embedded, and neither are records an
interrupted build already wrote (same id, text, lines and model).

Readers never write: a question over an up-to-date index takes no lock and leaves the
manifest alone. A question over an embedded index reads its records from the committed
copy, which the build writes after the manifest and which is used only when it holds
exactly the records the manifest names, so it never imports or opens Chroma; Chroma is
read (and its damage found) by builds, and by questions when the copy is missing or
unreadable. Every Chroma call goes through ``rag.faults.StoreFaults``, so a dead or
frozen server, a full disk or damaged files end in a ``RagError``, and ``rebuild``
moves a damaged index aside before building it again.

One module a responsibility (issue 28): ``manifest`` (the manifest's schema, its setup
versions, reading and committing its file), ``records`` (the live records readers get),
``copy`` (the committed copy), ``chroma`` (the client and this corpus's collections),
``lock`` (the build lock), ``build`` (what a build cuts, embeds, writes and deletes),
``groups`` (the groups it cuts and embeds the changed files in, and its progress) and
``store`` (``IndexStore``, which ties them together). ``rag.store`` re-exports the
public names; a test that changes a module's attribute changes it here, in the module
that reads it.
"""
