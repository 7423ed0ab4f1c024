"""Renditions of an issued document: one renderer per format over the one document view."""
