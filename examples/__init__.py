"""Runnable examples (not part of the installed packages); see each folder's README."""
