"""The cells of each notebook, one module per notebook (``scripts/make_notebooks.py`` writes them).

``_shared`` holds the cell builders and the cells the notebooks share.
"""
