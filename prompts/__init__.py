"""The prompt templates (*.md); installed as the package rag._prompts."""
