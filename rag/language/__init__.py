"""Language helpers below both the checker (``rag.verify``) and the answer backends:
words and their forms, sentences and clauses, figures, dates and names in a sentence,
what a question asks, where an answer sits. Pure functions over strings; the word lists
are data (``data/``)."""
